"""SVG of a map: the layout's positions poured into the ``templates/map.svg.j2`` template.

The template environment escapes everything (autoescape on); texts from a map reach it only
as template values, so markup in a label shows as text. Colours come from the Okabe-Ito
palette, which stays distinct for the common colour vision deficiencies, and every impact is
also written as a glyph so that greyscale prints read the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import jinja2
import markupsafe

from wb_fhir._resources import template_environment
from wb_fhir.model import Connection, WellbeingMap
from wb_fhir.render import _text
from wb_fhir.render._options import HIGHLIGHTS, RenderOptions
from wb_fhir.render.describe import describe
from wb_fhir.render.layout import Layout, NodePlacement, format_date, layout_legend, layout_map
from wb_fhir.terminology import IMPACT_GLYPH, Impact, display

IMPACT_FILL: dict[Impact, str] = {
    Impact.VERY_POSITIVE: "#0072B2",
    Impact.POSITIVE: "#56B4E9",
    Impact.NEUTRAL: "#E4E4E4",
    Impact.MIXED: "#F0E442",
    Impact.NEGATIVE: "#E69F00",
    Impact.VERY_NEGATIVE: "#D55E00",
}
"""Fill of a node by impact: blue for good, orange for harm, grey and yellow in between."""
IMPACT_INK: dict[Impact, str] = {
    i: "#FFFFFF" if i in (Impact.VERY_POSITIVE, Impact.VERY_NEGATIVE) else "#111111" for i in Impact
}
"""Colour of the glyph on each fill (contrast at least 4.5:1)."""
TEXT_INK = {
    "muted": "#555555",
    "ring": "#44515E",
    "lost-ring": "#777777",
    "sector": "#5A6672",
    "notice": "#333333",
    "subtitle": "#333333",
}
"""Colour of text by its layout style (anything else is near-black)."""
TEMPLATE = "map.svg.j2"
LEGEND_TEMPLATE = "legend.svg.j2"


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = template_environment(keep_trailing_newline=True)
    env.filters["n"] = _number
    env.globals["text_ink"] = TEXT_INK
    env.globals["font_for"] = _text.font_family_css
    env.globals["fill"] = {i.value: f for i, f in IMPACT_FILL.items()}
    env.globals["ink"] = {i.value: f for i, f in IMPACT_INK.items()}
    env.globals["glyph"] = {i.value: g for i, g in IMPACT_GLYPH.items()}
    return env


def _number(value: float) -> markupsafe.Markup:
    """A coordinate with at most two decimals and no trailing zeros (stable, compact)."""
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    # Safe: the text is made of digits, "-" and "." only; skipping the escape halves render time.
    return markupsafe.Markup("0" if text == "-0" else text)  # noqa: S704


def node_title(node: NodePlacement, ring_names: tuple[str, ...]) -> str:
    """Everything about one connection, in words (the node's SVG ``<title>``)."""
    c: Connection = node.connection
    ring = ring_names[c.ring - 1] if c.ring <= len(ring_names) else str(c.ring)
    parts = [
        _text.clean(c.label),
        f"{display(c.kind).lower()}, {display(c.category).lower()}",
        f"ring {c.ring} ({_text.clean(ring)})",
        f"impact {display(c.impact).lower()} ({IMPACT_GLYPH[c.impact]})",
    ]
    if c.frequency is not None:
        parts.append(f"contact {display(c.frequency).lower()}")
    parts.append(display(c.status).lower())
    if c.knows_about_mental_health is not None:
        parts.append(f"knows about mental health: {display(c.knows_about_mental_health).lower()}")
    if c.roles:
        parts.append("roles: " + ", ".join(display(r).lower() for r in c.roles))
    if node.key is not None:
        parts.append(f"key {node.key}")
    if node.highlight is not None:
        parts.append(f"change: {HIGHLIGHTS[node.highlight][1]}")
    return "; ".join(parts)


def svg_from_layout(wmap: WellbeingMap, layout: Layout) -> str:
    """The SVG text of a laid-out map."""
    ring_names = tuple(wmap.rings)
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            layout=layout,
            title=f"{_text.clean(wmap.display_name)}: wellbeing network map, {format_date(wmap.date)}",
            description=_text.clean(describe(wmap)),
            font_family=_text.FONT_FAMILY_CSS,
            nodes=[(node, node_title(node, ring_names)) for node in layout.nodes],
        )
    )


def legend_svg(marks: Sequence[str] = (), *, ties: bool = True, columns: int = 3) -> str:
    """The legend alone, as SVG: shapes, colours, statuses, the change ``marks`` given (as
    drawn beside changed nodes), and the lines of ties."""
    legend = layout_legend(marks, ties, columns=columns)
    return _environment().get_template(LEGEND_TEMPLATE).render(legend=legend, font_family=_text.FONT_FAMILY_CSS)


def render_svg(wmap: WellbeingMap, options: RenderOptions | None = None) -> str:
    """The concentric map of ``wmap`` as SVG text (UTF-8, no scripts, no external references)."""
    options = options or RenderOptions()
    return svg_from_layout(wmap, layout_map(wmap, options))
