"""PNG and PDF of a map, drawn from its SVG by cairosvg; byte-identical for the same input.

Cairo stamps PDFs with the time of creation; the stamp is set to the map's date instead, so
that rendering the same map twice gives the same bytes.
"""

from __future__ import annotations

import io
from typing import Any

import cairocffi  # type: ignore[import-untyped]
from cairosvg.surface import PDFSurface, PNGSurface

from wb_fhir.errors import InputError
from wb_fhir.model import WellbeingMap
from wb_fhir.render._options import Rendering, RenderOptions
from wb_fhir.render.layout import format_date, layout_map
from wb_fhir.render.svg import svg_from_layout

FORMATS: dict[str, tuple[str, str]] = {
    "svg": ("image/svg+xml", ".svg"),
    "png": ("image/png", ".png"),
    "pdf": ("application/pdf", ".pdf"),
}
"""Output formats: content type and file suffix."""


class _DatedPDFSurface(PDFSurface):  # type: ignore[misc]
    """A cairosvg PDF surface whose creation date is fixed (cairosvg has no option for it)."""

    created = "2000-01-01T00:00:00Z"

    def _create_surface(self, width: float, height: float) -> tuple[Any, float, float]:
        surface, width, height = super()._create_surface(width, height)
        surface.set_metadata(cairocffi.PDF_METADATA_CREATE_DATE, self.created)
        surface.set_metadata(cairocffi.PDF_METADATA_CREATOR, "wb-fhir")
        return surface, width, height


def render_png(wmap: WellbeingMap, options: RenderOptions | None = None) -> bytes:
    """The map as a PNG image, at ``options.scale`` (or ``options.dpi``)."""
    options = options or RenderOptions()
    svg = svg_from_layout(wmap, layout_map(wmap, options))
    out = io.BytesIO()
    PNGSurface.convert(svg.encode("utf-8"), write_to=out, scale=options.raster_scale, unsafe=False)
    return out.getvalue()


def render_pdf(wmap: WellbeingMap, options: RenderOptions | None = None) -> bytes:
    """The map as a one-page PDF, fitted to ``options.page`` (landscape for wide maps)."""
    options = options or RenderOptions()
    svg = svg_from_layout(wmap, layout_map(wmap, options), page=options.page)
    out = io.BytesIO()

    class _Surface(_DatedPDFSurface):
        created = f"{wmap.date.isoformat()}T00:00:00Z"

    _Surface.convert(svg.encode("utf-8"), write_to=out, unsafe=False)
    return out.getvalue()


def render(wmap: WellbeingMap, fmt: str, options: RenderOptions | None = None) -> bytes:
    """The map in ``fmt`` ("svg", "png" or "pdf") as bytes."""
    options = options or RenderOptions()
    if fmt == "svg":
        return svg_from_layout(wmap, layout_map(wmap, options)).encode("utf-8")
    if fmt == "png":
        return render_png(wmap, options)
    if fmt == "pdf":
        return render_pdf(wmap, options)
    raise InputError(f"cannot render as {fmt!r}: use one of {', '.join(FORMATS)}")


def renderings(wmap: WellbeingMap, options: RenderOptions | None = None) -> list[Rendering]:
    """SVG, PNG and PDF of the map, titled for a DocumentReference attachment."""
    options = options or RenderOptions()
    title = f"Wellbeing network map, {format_date(wmap.date)}"
    return [
        Rendering(content_type, render(wmap, fmt, options), f"{title} ({fmt.upper()})", suffix)
        for fmt, (content_type, suffix) in FORMATS.items()
    ]
