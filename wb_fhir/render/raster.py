"""PNG and PDF of a map: the SVG drawn once by librsvg into a PDF, the PNG rasterised from it.

Why this way (measured side by side in docs/render.md): librsvg lays text out with Pango, so
every script is shaped (Arabic joined, Indic conjuncts formed), bidi runs right to left, and
fonts fall back per character, colour emoji included; but on a raster surface librsvg turns
text into outlines, which loses the colours of emoji. Into a PDF it writes real text (colour
emoji as images, fonts embedded, text selectable). PDFium then rasterises that page for the
PNG, exactly, at the scale asked for.

One layout, one SVG, one PDF per map, whatever the formats asked for (:func:`renderings`).
Cairo's creation date is set to the map's date, so the same map gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from wb_fhir.errors import InputError
from wb_fhir.model import WellbeingMap
from wb_fhir.render import _native
from wb_fhir.render._options import CSS_PX_PER_INCH, PAGES_MM, Rendering, RenderOptions
from wb_fhir.render.layout import format_date, layout_map
from wb_fhir.render.svg import svg_from_layout

FORMATS: dict[str, tuple[str, str]] = {
    "svg": ("image/svg+xml", ".svg"),
    "png": ("image/png", ".png"),
    "pdf": ("application/pdf", ".pdf"),
}
"""Output formats: content type and file suffix."""
PDF_MARGIN_MM = 10
PT_PER_MM = 72 / 25.4
PT_PER_PX = 72 / CSS_PX_PER_INCH
PNG_COMPRESSION = 3
"""zlib level of PNG output: most of the size of level 9 at a fraction of its time."""


@dataclass(frozen=True)
class Placement:
    """Where the drawing sits on the PDF page: page size and the drawing's box, in points."""

    page_w: float
    page_h: float
    x: float
    y: float
    scale: float
    """Points per CSS px of the drawing."""


class Sized(Protocol):
    """Anything with a size in CSS px, such as a :class:`Layout`."""

    @property
    def width(self) -> float: ...

    @property
    def height(self) -> float: ...


def placement(layout: Sized, page: str | None) -> Placement:
    """A page of ``page`` paper (landscape for wide maps) with the drawing fitted inside a
    10 mm margin, or, with no paper, a page exactly the size of the drawing."""
    if page is None:
        return Placement(layout.width * PT_PER_PX, layout.height * PT_PER_PX, 0.0, 0.0, PT_PER_PX)
    short, long = PAGES_MM[page]
    w_mm, h_mm = (long, short) if layout.width >= layout.height else (short, long)
    page_w, page_h = w_mm * PT_PER_MM, h_mm * PT_PER_MM
    margin = PDF_MARGIN_MM * PT_PER_MM
    scale = min((page_w - 2 * margin) / layout.width, (page_h - 2 * margin) / layout.height)
    return Placement(page_w, page_h, (page_w - layout.width * scale) / 2, (page_h - layout.height * scale) / 2, scale)


def svg_to_pdf(
    svg: bytes, width: float, height: float, where: Placement, *, created: str = "2000-01-01T00:00:00Z", title: str = ""
) -> bytes:
    """One PDF page with the SVG (``width`` x ``height`` CSS px) drawn by librsvg at ``where``,
    dated ``created`` (not the time of drawing, so that the same input gives the same bytes)."""
    import cairocffi

    out = io.BytesIO()
    surface = cairocffi.PDFSurface(out, where.page_w, where.page_h)
    surface.set_metadata(cairocffi.PDF_METADATA_CREATE_DATE, created)
    surface.set_metadata(cairocffi.PDF_METADATA_CREATOR, "wb-fhir")
    if title:
        surface.set_metadata(cairocffi.PDF_METADATA_TITLE, title)
    context = cairocffi.Context(surface)
    context.translate(where.x, where.y)
    context.scale(where.scale, where.scale)
    _native.draw_svg(svg, context, width, height)
    surface.finish()
    return out.getvalue()


def pdf_to_png(
    pdf: bytes, where: Placement, width: float, height: float, scale: float
) -> tuple[bytes, tuple[int, int]]:
    """The drawing's box of a one-page PDF as a PNG, ``scale`` pixels per CSS px."""
    import pypdfium2
    from PIL import Image

    pixels_w, pixels_h = max(1, round(width * scale)), max(1, round(height * scale))
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        zoom = scale / where.scale  # pixels per point
        left = where.x
        bottom = where.page_h - where.y - height * where.scale
        right = where.page_w - where.x - width * where.scale
        top = where.y
        bitmap = page.render(
            scale=zoom,
            crop=(left, bottom, right, top),
            fill_color=(255, 255, 255, 255),
            prefer_bgrx=True,
            draw_annots=False,
            may_draw_forms=False,
        )
        image = Image.frombuffer("RGB", (bitmap.width, bitmap.height), bitmap.buffer, "raw", "BGRX", bitmap.stride, 1)
        if image.size != (pixels_w, pixels_h):  # rounding at the crop's edges
            exact = Image.new("RGB", (pixels_w, pixels_h), "white")
            exact.paste(image, (0, 0))
            image = exact
        out = io.BytesIO()
        image.save(out, "PNG", compress_level=PNG_COMPRESSION)
        page.close()
        bitmap.close()
    finally:
        document.close()
    return out.getvalue(), (pixels_w, pixels_h)


def _title(wmap: WellbeingMap) -> str:
    return f"Wellbeing network map, {format_date(wmap.date)}"


def renderings(
    wmap: WellbeingMap, options: RenderOptions | None = None, formats: Iterable[str] = tuple(FORMATS)
) -> list[Rendering]:
    """The map in each of ``formats`` ("svg", "png", "pdf"; all three by default), in that
    order, titled for a DocumentReference attachment: laid out and drawn once for them all."""
    options = options or RenderOptions()
    wanted = list(dict.fromkeys(formats))
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown:
        raise InputError(f"cannot render as {unknown[0]!r}: use one of {', '.join(FORMATS)}")
    layout = layout_map(wmap, options)
    svg = svg_from_layout(wmap, layout).encode("utf-8")
    title = _title(wmap)
    out: dict[str, Rendering] = {}
    if "svg" in wanted:
        out["svg"] = Rendering("image/svg+xml", svg, f"{title} (SVG)", ".svg")
    if "png" in wanted or "pdf" in wanted:
        where = placement(layout, options.page)
        created = f"{wmap.date.isoformat()}T00:00:00Z"
        pdf = svg_to_pdf(svg, layout.width, layout.height, where, created=created, title=title)
        if "pdf" in wanted:
            size = (round(where.page_w), round(where.page_h))
            out["pdf"] = Rendering("application/pdf", pdf, f"{title} (PDF)", ".pdf", size)
        if "png" in wanted:
            scale = options.pixel_scale(layout.width, layout.height)
            png, pixels = pdf_to_png(pdf, where, layout.width, layout.height, scale)
            out["png"] = Rendering(
                "image/png", png, f"{title} (PNG)", ".png", pixels, scaled_down=scale < options.raster_scale
            )
    return [out[f] for f in FORMATS if f in out]


def render(wmap: WellbeingMap, fmt: str, options: RenderOptions | None = None) -> bytes:
    """The map in ``fmt`` ("svg", "png" or "pdf") as bytes."""
    return renderings(wmap, options, (fmt,))[0].data


def render_png(wmap: WellbeingMap, options: RenderOptions | None = None) -> bytes:
    """The map as a PNG image, at ``options.scale`` (or ``options.dpi``) within ``options.max_size``."""
    return render(wmap, "png", options)


def render_pdf(wmap: WellbeingMap, options: RenderOptions | None = None) -> bytes:
    """The map as a one-page PDF, fitted to ``options.page`` (landscape for wide maps)."""
    return render(wmap, "pdf", options)
