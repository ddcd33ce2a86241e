"""The live map of a draft: checked by the library, drawn by the same code as ``wb-fhir render``.

Besides the SVG, the editor gets the geometry it needs to turn a drop point into a ring and a
click into a connection: the centre, each band's radii, each node's position (all in the SVG's
own coordinates).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from wb_fhir.errors import InputError
from wb_fhir.mapfile import map_from_data
from wb_fhir.model import WellbeingMap
from wb_fhir.render import describe, layout_map, render_svg
from wb_fhir.web.words import PlainProblem, plain


@dataclass(frozen=True)
class Preview:
    """A draft checked and drawn (``map`` is what was drawn; None when nothing could be)."""

    map: WellbeingMap | None
    svg: str | None
    geometry: dict[str, Any] | None
    problems: list[PlainProblem]

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": not self.problems,
            "svg": self.svg,
            "geometry": self.geometry,
            "description": describe(self.map) if self.map is not None else None,
            "problems": [p.to_json() for p in self.problems],
        }


def inline_svg(svg: str) -> str:
    """SVG text ready to sit inside an HTML page (no XML declaration)."""
    return svg.split("?>", 1)[1].lstrip() if svg.startswith("<?xml") else svg


def geometry(wmap: WellbeingMap) -> dict[str, Any]:
    """Where the rings and the connections are on the drawn map."""
    layout = layout_map(wmap)
    return {
        "width": layout.width,
        "height": layout.height,
        "cx": layout.cx,
        "cy": layout.cy,
        "me": layout.me_r,
        "bands": [{"ring": b.index, "inner": b.inner, "outer": b.outer, "lost": b.lost} for b in layout.bands],
        "nodes": [{"id": n.connection.id, "x": n.x, "y": n.y} for n in layout.nodes],
    }


def check(data: Any, assets: Collection[str] | None = None) -> tuple[WellbeingMap | None, list[PlainProblem]]:
    """The map, or the problems the library finds with it, each with its place in words."""
    try:
        return map_from_data(data, assets=assets), []
    except InputError as exc:
        return None, plain(exc.problems, data)


def drawable(data: Any, problems: list[PlainProblem]) -> Any:
    """What of a draft with problems can still be drawn: the parts without problems.

    The drawing shows connections and ties only, so goals and sign-posts are left out, as is
    anything with a problem; the person stands in for whoever the record will name.
    """
    if not isinstance(data, dict):
        return None
    bad = {p.path for p in problems}

    def has_problem(prefix: str) -> bool:
        return any(b == prefix or b.startswith((prefix + ".", prefix + "[")) for b in bad)

    subject: dict[str, Any] = {"fhir_id": "Patient/draft"}
    given = data.get("subject")
    if isinstance(given, dict) and isinstance(given.get("display"), str) and not has_problem("subject.display"):
        subject["display"] = given["display"]
    out: dict[str, Any] = {"subject": subject, "date": data.get("date")}
    if has_problem("date") or not isinstance(data.get("date"), str):
        out["date"] = date.today().isoformat()
    for key in ("time_at_home", "rings"):
        if key in data and not has_problem(key):
            out[key] = data[key]
    connections: list[Any] = data["connections"] if isinstance(data.get("connections"), list) else []
    kept = [c for i, c in enumerate(connections) if not has_problem(f"connections[{i}]")]
    ids = {c.get("id") for c in kept if isinstance(c, dict)}
    if kept:
        out["connections"] = kept
    ties: list[Any] = data["ties"] if isinstance(data.get("ties"), list) else []
    kept_ties = [
        t
        for i, t in enumerate(ties)
        if not has_problem(f"ties[{i}]") and isinstance(t, dict) and t.get("from") in ids and t.get("to") in ids
    ]
    if kept_ties:
        out["ties"] = kept_ties
    return out


def preview(data: Any, assets: Collection[str] | None = None) -> Preview:
    """Check a draft and draw it; with problems, draw the parts without problems."""
    wmap, problems = check(data, assets)
    if wmap is not None:
        return Preview(wmap, inline_svg(render_svg(wmap)), geometry(wmap), [])
    partial, _ = check(drawable(data, problems))
    if partial is None:
        return Preview(None, None, None, problems)
    return Preview(partial, inline_svg(render_svg(partial)), geometry(partial), problems)
