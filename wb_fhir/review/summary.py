"""The review summary: each map large, one legend, what changed, goals, sign-posts, measures.

Three steps, as for every picture: :func:`review_context` gathers plain values (pure),
:func:`review_html` fills ``templates/review.html.j2`` (autoescaped; the drawings are inlined as
the renderer draws and escapes them), :func:`html_to_pdf` prints that page on A4.

Printing: WeasyPrint lays out the page but draws SVG text glyph by glyph, without shaping, so
it is handed empty boxes where the drawings go; each drawing is then drawn by the map renderer
(librsvg, shaped text, colour emoji) into a PDF of its own and laid into its box (pypdf): the
maps stay vector drawings, sharp at any zoom, their text selectable.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from wb_fhir._resources import document_templates
from wb_fhir.errors import WbFhirError
from wb_fhir.model import WellbeingMap
from wb_fhir.review.compare import ConnectionChange, MapChanges, compare, measures_over, order_maps
from wb_fhir.review.text import GOAL_TEXT, connection_line, goal_line, measure_trend, measure_value, signpost_line
from wb_fhir.terminology import FOLLOW_UP_DAYS, SignpostStatus, TieType, display

TEMPLATE = "review.html.j2"
LABEL_LIMIT = 60
"""Characters of a label shown in the summary's text (the drawings wrap or key the whole label;
the record keeps it): a page of tables stays readable and quick to print, whatever a label holds."""
MM_PER_PX = 25.4 / 96
PT_PER_PX = 0.75
MAP_BOX_MM = {"tall": (186.0, 232.0), "wide": (273.0, 160.0)}
"""Largest box a map is printed in: one map a page, portrait or landscape by its shape."""
LEGEND_BOX_MM = (186.0, 90.0)


@dataclass(frozen=True)
class Drawing:
    """A picture inlined in the page, and the box it is printed in (mm)."""

    id: str
    svg: Markup
    width: float
    height: float
    box: tuple[float, float]


@dataclass(frozen=True)
class Panel:
    """One map of the review, drawn."""

    date: str
    drawing: Drawing
    highlighted: int
    wide: bool
    home: str


def _short(text: str) -> str:
    from wb_fhir.render._text import clean, clusters

    pieces = clusters(clean(text))
    return text if len(pieces) <= LABEL_LIMIT else "".join(pieces[:LABEL_LIMIT]).rstrip() + "…"


_SIZE = re.compile(r'<svg[^>]*?\bwidth="([\d.]+)" height="([\d.]+)"')
_ID = re.compile(r'\bid="([^"]+)"')


def _drawing(svg: str, prefix: str, box: tuple[float, float]) -> Drawing:
    found = _SIZE.search(svg)
    assert found is not None, "the renderer always sizes its SVG"
    width, height = float(found.group(1)), float(found.group(2))
    scale = min(box[0] / (width * MM_PER_PX), box[1] / (height * MM_PER_PX))
    fitted = (round(width * MM_PER_PX * scale, 2), round(height * MM_PER_PX * scale, 2))
    return Drawing(f"{prefix}drawing", _inline(svg, prefix), width, height, fitted)


def _inline(svg: str, prefix: str) -> Markup:
    """The SVG ready to sit in a page beside others: no XML declaration, ids made unique."""
    # The renderer escapes every label; only its declaration has no place inside HTML, and
    # two maps on one page would otherwise share ids (broken aria-labelledby and url(#...)).
    text = svg.lstrip()
    if text.startswith("<?xml"):
        text = text[text.index("?>") + 2 :]
    for name in sorted(set(_ID.findall(text)), key=len, reverse=True):
        token = re.escape(name)
        text = re.sub(rf'(\bid="|#){token}(?=["\)])', rf"\g<1>{prefix}{name}", text)
        text = re.sub(
            rf'(\baria-(?:labelledby|describedby)="[^"]*?)(?<![\w-]){token}(?![\w-])',
            rf"\g<1>{prefix}{name}",
            text,
        )
    return Markup(text.strip())  # noqa: S704 - SVG from our own escaping renderer


def _panels(maps: Sequence[WellbeingMap], steps: Sequence[MapChanges]) -> list[Panel]:
    from wb_fhir.render import RenderOptions, render_svg
    from wb_fhir.render.layout import format_date

    panels = []
    for i, wmap in enumerate(maps):
        highlight = steps[i - 1].highlight if i else {}
        svg = render_svg(wmap, RenderOptions(highlight=highlight, legend=False))
        found = _SIZE.search(svg)
        assert found is not None
        wide = float(found.group(1)) > 1.2 * float(found.group(2))
        drawing = _drawing(svg, f"m{i + 1}-", MAP_BOX_MM["wide" if wide else "tall"])
        home = f"{wmap.time_at_home}% of the waking day at home" if wmap.time_at_home is not None else ""
        panels.append(Panel(format_date(wmap.date), drawing, len(highlight), wide, home))
    return panels


def _legend(steps: Sequence[MapChanges], maps: Sequence[WellbeingMap]) -> Drawing:
    from wb_fhir.render import HIGHLIGHTS, legend_svg

    marks = sorted({HIGHLIGHTS[change][0] for step in steps for change in step.highlight.values()})
    svg = legend_svg(marks, ties=any(m.ties for m in maps))
    return _drawing(svg, "legend-", LEGEND_BOX_MM)


def _step_rows(step: MapChanges, assets: Mapping[str, str], labels: dict[str, str]) -> dict[str, Any]:
    def conn(c: ConnectionChange) -> dict[str, Any]:
        return {
            "label": _short(c.label),
            "kind": display(c.kind),
            "what": connection_line(c, LABEL_LIMIT),
            "css": c.headline.value,
            "matched_by": c.matched_by,
        }

    return {
        "old_date": _date(step.old_date),
        "new_date": _date(step.new_date),
        "notes": list(step.notes),
        "connections": [conn(c) for c in step.connections],
        "ties": [
            {
                "what": "added" if t.change.value == "added" else "gone",
                "text": f"{_short(t.from_label)} {display(TieType(t.type)).lower()} {_short(t.to_label)}",
            }
            for t in step.ties
        ],
        "goals": [
            {
                "description": _short(g.description),
                "what": ", ".join(GOAL_TEXT[c] for c in g.changes) or "no change",
                "line": goal_line(g),
            }
            for g in step.goals
        ],
        "signposts": [
            {
                "asset": asset_name(s.asset, assets),
                "reason": _short(labels.get(s.reason, s.reason)),
                "line": signpost_line(s),
            }
            for s in step.signposts
        ],
    }


def asset_name(asset_id: str, asset_names: Mapping[str, str]) -> str:
    """The name of a community asset (``{asset id: name}``), or its id when the names lack it."""
    name = asset_names.get(asset_id)
    return _short(name) if name and name.strip() else asset_id


def follow_up_context(newest: WellbeingMap, asset_names: Mapping[str, str]) -> dict[str, Any]:
    """The sign-post follow-up block: each sign-post of the newest map as it stood on its date."""
    from wb_fhir.assets.followup import FollowUpState, follow_ups

    rows = follow_ups(newest, asset_names=asset_names)
    state_text = {
        FollowUpState.FOLLOWED_UP: "followed up",
        FollowUpState.OPEN: "check by",
        FollowUpState.DUE: "due",
        FollowUpState.OVERDUE: "overdue since",
    }
    return {
        "rows": [
            {
                "asset": r.asset_name,
                "reason": r.reason_label,
                "status": f"{display(r.status)} since {_date(r.since)}",
                "note": r.note if r.status is SignpostStatus.DECLINED else None,
                "steps": "; ".join(f"{display(status).lower()} {_date(day)}" for status, day in r.steps) or "-",
                "state": state_text[r.state],
                "when": _date(r.due),
            }
            for r in rows
        ],
        "followed_up": sum(r.state is FollowUpState.FOLLOWED_UP for r in rows),
        "of": _count(len(rows), "sign-post", "sign-posts"),
        "overdue": sum(r.state is FollowUpState.OVERDUE for r in rows),
        "days": FOLLOW_UP_DAYS,
    }


def _date(value: Any) -> str:
    from wb_fhir.render.layout import format_date

    return format_date(value) if value is not None else ""


def _goals(newest: WellbeingMap) -> list[dict[str, Any]]:
    out = []
    for g in newest.goals:
        done = sum(m.done for m in g.milestones)
        out.append(
            {
                "description": _short(g.description),
                "status": display(g.status),
                "target": _date(g.target),
                "done": done,
                "total": len(g.milestones),
                "percent": round(100 * done / len(g.milestones)) if g.milestones else None,
                "milestones": [
                    {
                        "description": _short(m.description),
                        "done": m.done,
                        "when": (f"done {_date(m.done_on)}" if m.done_on else "done")
                        if m.done
                        else (f"due {_date(m.due)}" if m.due else ""),
                    }
                    for m in g.milestones
                ],
            }
        )
    return out


def review_context(
    maps: Sequence[WellbeingMap],
    names: Sequence[str] | None = None,
    *,
    asset_names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Everything the review template shows, as plain values, maps put in date order.

    ``asset_names`` (``{asset id: name}``) shows community assets by name; by default the names
    of the local asset directory (:func:`wb_fhir.assets.local_asset_names`); an asset they lack
    shows as its id.
    """
    from wb_fhir.assets import local_asset_names
    from wb_fhir.render import describe

    assets = local_asset_names() if asset_names is None else asset_names

    order = order_maps(maps, names)
    ordered = [maps[i] for i in order]
    steps = compare(ordered)
    newest = ordered[-1]
    labels = {c.id: c.label for c in newest.connections} | {g.id: g.description for g in newest.goals}
    changed = sum(len(s.connections) for s in steps)
    milestones_done = sum(m.done for g in newest.goals for m in g.milestones)
    milestones = sum(len(g.milestones) for g in newest.goals)
    return {
        "person": _short(newest.display_name),
        "dates": [_date(m.date) for m in ordered],
        "last_date": _date(newest.date),
        "practitioners": ", ".join(
            _short(p.display + (f" ({p.role})" if p.role else "")) for p in newest.practitioners
        ),
        "panels": _panels(ordered, steps),
        "legend": _legend(steps, ordered),
        "glance": {
            "changed": _count(changed, "connection changed", "connections changed"),
            "goals": _count(len(newest.goals), "goal", "goals"),
            "milestones": f"{milestones_done} of {milestones} milestones done" if milestones else "",
            "signposts": _count(len(newest.signposts), "sign-post", "sign-posts"),
        },
        "steps": [_step_rows(s, assets, labels) for s in steps],
        "measures": [
            {"label": m.label, "figures": [measure_value(v) for v in m.values], "trend": measure_trend(m)}
            for m in measures_over(ordered)
        ],
        "goals": _goals(newest),
        "follow_up": follow_up_context(newest, assets),
        "description": [p for p in describe(newest, label_limit=LABEL_LIMIT).split("\n") if p.strip()],
        "reflections": newest.reflections,
        "next_review": _date(newest.next_review),
        "unchanged": all(s.unchanged for s in steps),
    }


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def review_html(
    maps: Sequence[WellbeingMap], names: Sequence[str] | None = None, *, asset_names: Mapping[str, str] | None = None
) -> str:
    """The review summary as one self-contained HTML page (no scripts, no external resources)."""
    return document_templates().get_template(TEMPLATE).render(**review_context(maps, names, asset_names=asset_names))


# --- printing --------------------------------------------------------------------------

_DRAWING = re.compile(
    r'<div class="drawing" id="(?P<id>[^"]+)" data-box="(?P<w>[\d.]+) (?P<h>[\d.]+)"[^>]*>\s*'
    r"(?P<svg><svg\b.*?</svg>)\s*</div>",
    re.DOTALL,
)


@dataclass(frozen=True)
class _Slot:
    id: str
    svg: bytes
    width_mm: float
    height_mm: float


def _slots(html: str) -> tuple[str, list[_Slot]]:
    """The page with each drawing replaced by an empty box of its printed size, and the drawings."""
    slots: list[_Slot] = []

    def empty(match: re.Match[str]) -> str:
        w, h = float(match["w"]), float(match["h"])
        slots.append(_Slot(match["id"], match["svg"].encode("utf-8"), w, h))
        return f'<div class="drawing" id="{match["id"]}" style="width: {w}mm; height: {h}mm"></div>'

    return _DRAWING.sub(empty, html), slots


def html_to_pdf(html: str) -> bytes:
    """Print an HTML page of ours to PDF (A4, by its print CSS), its drawings drawn by the renderer."""
    try:
        import weasyprint  # type: ignore[import-untyped]
    except (ImportError, OSError) as exc:  # OSError: the pango libraries are missing
        raise WbFhirError(f"PDF output needs WeasyPrint and its pango libraries: {exc}") from None

    def no_fetch(url: str, *args: Any, **kwargs: Any) -> Any:
        # The page is self-contained; refuse anything that would reach outside it.
        raise ValueError(f"external resource refused: {url[:40]}")

    # Font-subsetting notices are for whoever installs the libraries, not for each user.
    for library in ("weasyprint", "fontTools", "pypdf"):
        logging.getLogger(library).setLevel(logging.ERROR)
    page_html, slots = _slots(html)
    document = weasyprint.HTML(string=page_html, url_fetcher=no_fetch).render()
    where: dict[str, tuple[int, float, float]] = {}
    for number, page in enumerate(document.pages):
        for name, corners in page.anchors.items():  # (x1, y1, x2, y2) in CSS px (older WeasyPrint: x, y)
            where.setdefault(name, (number, corners[0], corners[1]))
    pdf = bytes(document.write_pdf())
    return _lay_in(pdf, [(slot, where[slot.id]) for slot in slots if slot.id in where])


def _lay_in(pdf: bytes, placed: Sequence[tuple[_Slot, tuple[int, float, float]]]) -> bytes:
    """Each drawing, drawn by the renderer, laid into its box of the printed page."""
    if not placed:
        return pdf
    from pypdf import PdfReader, PdfWriter, Transformation

    from wb_fhir.render.raster import placement, svg_to_pdf

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    for slot, (number, x, y) in placed:
        size = _SIZE.search(slot.svg.decode("utf-8"))
        assert size is not None, "the renderer always sizes its SVG"
        width, height = float(size.group(1)), float(size.group(2))
        box = _Box(width, height)
        drawing = svg_to_pdf(slot.svg, width, height, placement(box, None))
        source = PdfReader(io.BytesIO(drawing)).pages[0]
        page = writer.pages[number]
        page_h = float(page.mediabox.height)
        scale = slot.width_mm / 25.4 * 72 / (width * PT_PER_PX)
        left = x * PT_PER_PX
        bottom = page_h - y * PT_PER_PX - height * PT_PER_PX * scale
        page.merge_transformed_page(source, Transformation().scale(scale).translate(left, bottom))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@dataclass(frozen=True)
class _Box:
    width: float
    height: float


def review_pdf(
    maps: Sequence[WellbeingMap], names: Sequence[str] | None = None, *, asset_names: Mapping[str, str] | None = None
) -> bytes:
    """The review summary as an A4 PDF."""
    return html_to_pdf(review_html(maps, names, asset_names=asset_names))
