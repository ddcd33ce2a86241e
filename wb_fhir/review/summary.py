"""The review summary: maps side by side, what changed, goal progress, measures (HTML, PDF).

Three steps, as for every picture: :func:`review_context` gathers plain values (pure),
:func:`review_html` fills ``templates/review.html.j2`` (autoescaped; the map SVGs are inlined as
drawn, and escaped by, the renderer), :func:`review_pdf` prints that HTML on A4 with WeasyPrint.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

import jinja2
from markupsafe import Markup

from wb_fhir._resources import data_dir
from wb_fhir.errors import WbFhirError
from wb_fhir.model import WellbeingMap
from wb_fhir.review.compare import (
    Change,
    ConnectionChange,
    MapChanges,
    compare,
    measures_over,
    order_maps,
)
from wb_fhir.review.text import (
    GOAL_TEXT,
    connection_line,
    goal_line,
    measure_trend,
    measure_value,
    signpost_line,
)
from wb_fhir.terminology import FOLLOW_UP_DAYS, SignpostStatus, TieType, display

TEMPLATE = "review.html.j2"

# Our change kinds in the renderer's words, most telling first; a connection is drawn with the
# first of its changes the renderer knows (it validates the kinds it is given).
RENDER_HIGHLIGHT: dict[Change, tuple[str, ...]] = {
    Change.ADDED: ("added",),
    Change.BECAME_LOST: ("became-lost",),
    Change.BECAME_WISHED_FOR: ("became-wished-for",),
    Change.BECAME_CURRENT: ("became-current", "added"),
    Change.MOVED_CLOSER: ("closer", "moved-closer"),
    Change.MOVED_FURTHER: ("further", "moved-further"),
    Change.IMPACT_BETTER: ("better", "impact-better"),
    Change.IMPACT_WORSE: ("worse", "impact-worse"),
}
_PRIORITY = tuple(RENDER_HIGHLIGHT)


def render_highlight(changes: MapChanges, supported: Sequence[str]) -> dict[str, str]:
    """``{connection id: renderer's change kind}`` for the newer map of ``changes``."""
    out: dict[str, str] = {}
    for c in changes.connections:
        if Change.REMOVED in c.kinds:
            continue
        for change in (k for k in _PRIORITY if k in c.kinds):
            names = [n for n in RENDER_HIGHLIGHT[change] if n in supported]
            if names:
                out[c.id] = names[0]
                break
    return out


@dataclass(frozen=True)
class Panel:
    """One map of the review, drawn."""

    date: str
    svg: Markup
    highlighted: int  # connections highlighted on it


def _panels(maps: Sequence[WellbeingMap], steps: Sequence[MapChanges]) -> list[Panel]:
    from wb_fhir.render import HIGHLIGHTS, RenderOptions, render_svg

    panels = [Panel(maps[0].date.isoformat(), _inline(render_svg(maps[0]), "m1-"), 0)]
    for i, (wmap, step) in enumerate(zip(maps[1:], steps, strict=True), start=2):
        highlight = render_highlight(step, list(HIGHLIGHTS))
        svg = render_svg(wmap, RenderOptions(highlight=highlight))
        panels.append(Panel(wmap.date.isoformat(), _inline(svg, f"m{i}-"), len(highlight)))
    return panels


_ID = re.compile(r'\bid="([^"]+)"')


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
    return Markup(text)  # noqa: S704 - SVG from our own escaping renderer


def _step_rows(step: MapChanges, asset_names: Mapping[str, str]) -> dict[str, Any]:
    def conn(c: ConnectionChange) -> dict[str, Any]:
        return {
            "label": c.label,
            "kind": display(c.kind),
            "what": connection_line(c),
            "css": c.headline.value,
            "matched_by": c.matched_by,
        }

    return {
        "old_date": step.old_date.isoformat(),
        "new_date": step.new_date.isoformat(),
        "notes": list(step.notes),
        "connections": [conn(c) for c in step.connections],
        "ties": [
            {
                "what": "added" if t.change is Change.ADDED else "gone",
                "text": f"{t.from_label} {display(TieType(t.type)).lower()} {t.to_label}",
            }
            for t in step.ties
        ],
        "goals": [
            {
                "description": g.description,
                "what": ", ".join(GOAL_TEXT[c] for c in g.changes) or "no change",
                "line": goal_line(g),
            }
            for g in step.goals
        ],
        "signposts": [
            {"asset": s.asset, "name": asset_names.get(s.asset, s.asset), "reason": s.reason, "line": signpost_line(s)}
            for s in step.signposts
        ],
    }


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


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
                "status": f"{display(r.status)} since {r.since.isoformat()}",
                "note": r.note if r.status is SignpostStatus.DECLINED else None,
                "steps": "; ".join(f"{display(status).lower()} {day.isoformat()}" for status, day in r.steps) or "-",
                "state": state_text[r.state],
                "when": r.due.isoformat() if r.due else "",
            }
            for r in rows
        ],
        "followed_up": sum(r.state is FollowUpState.FOLLOWED_UP for r in rows),
        "overdue": sum(r.state is FollowUpState.OVERDUE for r in rows),
        "days": FOLLOW_UP_DAYS,
    }


def review_context(
    maps: Sequence[WellbeingMap],
    names: Sequence[str] | None = None,
    *,
    asset_names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Everything the review template shows, as plain values, maps put in date order.

    ``asset_names`` (``{asset id: name}``) shows community assets by name; by default the names
    of the local asset directory (:func:`wb_fhir.assets.local_asset_names`).
    """
    from wb_fhir.assets import local_asset_names
    from wb_fhir.render import describe

    assets = local_asset_names() if asset_names is None else asset_names

    order = order_maps(maps, names)
    ordered = [maps[i] for i in order]
    steps = compare(ordered)
    newest = ordered[-1]
    measures = measures_over(ordered)
    goals = [
        {
            "description": g.description,
            "status": display(g.status),
            "done": sum(m.done for m in g.milestones),
            "total": len(g.milestones),
            "percent": round(100 * sum(m.done for m in g.milestones) / len(g.milestones)) if g.milestones else None,
            "milestones": [
                {
                    "description": m.description,
                    "done": m.done,
                    "when": _day(m.done_on or m.due),
                }
                for m in g.milestones
            ],
        }
        for g in newest.goals
    ]
    return {
        "person": newest.display_name,
        "dates": [m.date.isoformat() for m in ordered],
        "practitioners": ", ".join(p.display + (f" ({p.role})" if p.role else "") for p in newest.practitioners),
        "panels": _panels(ordered, steps),
        "steps": [_step_rows(s, assets) for s in steps],
        "follow_up": follow_up_context(newest, assets),
        "measures": [
            {
                "label": m.label,
                "figures": [measure_value(v) for v in m.values],
                "trend": measure_trend(m),
            }
            for m in measures
        ],
        "goals": goals,
        "description": [p for p in describe(newest).split("\n") if p.strip()],
        "reflections": newest.reflections,
        "next_review": newest.next_review.isoformat() if newest.next_review else None,
        "unchanged": all(s.unchanged for s in steps),
    }


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(data_dir("templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def review_html(
    maps: Sequence[WellbeingMap], names: Sequence[str] | None = None, *, asset_names: Mapping[str, str] | None = None
) -> str:
    """The review summary as one self-contained HTML page (no scripts, no external resources)."""
    return _environment().get_template(TEMPLATE).render(**review_context(maps, names, asset_names=asset_names))


def html_to_pdf(html: str) -> bytes:
    """Print an HTML page of ours to PDF (A4, by its print CSS)."""
    try:
        import weasyprint  # type: ignore[import-untyped]
    except (ImportError, OSError) as exc:  # OSError: the pango libraries are missing
        raise WbFhirError(f"PDF output needs WeasyPrint and its pango libraries: {exc}") from None

    def no_fetch(url: str, *args: Any, **kwargs: Any) -> Any:
        # The page is self-contained; refuse anything that would reach outside it.
        raise ValueError(f"external resource refused: {url[:40]}")

    # Font-subsetting notices are for whoever installs the libraries, not for each user.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return bytes(weasyprint.HTML(string=html, url_fetcher=no_fetch).write_pdf())


def review_pdf(maps: Sequence[WellbeingMap], names: Sequence[str] | None = None) -> bytes:
    """The review summary as an A4 PDF."""
    return html_to_pdf(review_html(maps, names))
