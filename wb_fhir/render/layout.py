"""Where everything of a concentric map goes: geometry, data in, positions out.

"Me" sits at the centre; each ring label of the map is a band around it (ring 1 the closest);
connections sit on their ring, in one sector per kind (people, places, activities, clockwise
from the top), spread over one to four tracks so that nothing overlaps. Lost connections sit
apart in a faded outer band labelled "Lost"; wished-for ones stay on their ring (drawn dashed).

The layout grows the rings until no box overlaps another (checked, not hoped for); a label
becomes a numbered key, listed beside the map, only when it cannot be placed: too long for
three lines, or in a band so crowded that keeping it would grow the map past ``MAX_RADIUS``.
Ties are routed around the nodes (``_routes``). Text is measured by Pango as it is drawn
(``_text``). The result is plain frozen data; the SVG template only draws what it is given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from wb_fhir.errors import InputError, Problem
from wb_fhir.measures import measure
from wb_fhir.model import Connection, Tie, WellbeingMap
from wb_fhir.render import _routes, _text
from wb_fhir.render._options import HIGHLIGHTS, MARK_LEGEND, RenderOptions
from wb_fhir.terminology import CATEGORIES_BY_KIND, IMPACT_WEIGHT, Impact, Kind, Status, TieType, display

# Sizes in CSS px.
MARGIN = 24
NODE_R = 12
NODE_REACH = 16
"""Half the width of the widest node shape (a square's corner): a tie keeps this far away."""
TIE_GAP = 3
ME_R = 30
LABEL_SIZE = 11
LABEL_LINE = 13
LABEL_MAX_W = 112
LABEL_MAX_LINES = 3
KEY_SIZE = 10
MARK_SIZE = 15
"""Size of a change mark: readable at 100 % when a map fills an A4 page."""
GAP = 6
MAX_TRACKS = 4
MAX_RADIUS = 640
"""Beyond this outer radius (or 110 px a band), labels that cannot be placed become numbered keys."""
PANEL_W = 300
KEY_COL_W = 250
KEY_LINE = 14
KEY_MAX_LINES = 8
HEADER_MIN_W = 640
TITLE_MAX_LINES = 2
SUBTITLE_MAX_LINES = 3
SECTOR_ORDER = (Kind.PERSON, Kind.PLACE, Kind.ACTIVITY)
SECTOR_NAMES = {Kind.PERSON: "People", Kind.PLACE: "Places", Kind.ACTIVITY: "Activities"}
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_PHASES = (0.5, 0.32, 0.68, 0.41, 0.59, 0.5, 0.36)
_MAX_ATTEMPTS = 40


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle (top-left corner, width, height)."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def union(self, other: Box) -> Box:
        x, y = min(self.x, other.x), min(self.y, other.y)
        return Box(x, y, max(self.right, other.right) - x, max(self.bottom, other.bottom) - y)


@dataclass(frozen=True)
class TextLine:
    """One line of text: ``y`` is the baseline, ``anchor`` an SVG text-anchor.

    ``direction`` is the text's own ("rtl" for Arabic, Urdu, Hebrew), and ``anchor`` is read
    the SVG way: "start" is the right end of a right-to-left line. ``lang`` names the language
    of a text in another script than English (for screen readers and the choice of font).
    """

    x: float
    y: float
    text: str
    size: float
    anchor: str = "start"
    bold: bool = False
    style: str = "body"
    direction: str = "ltr"
    lang: str | None = None

    @property
    def width(self) -> float:
        return _text.width(self.text, self.size, bold=self.bold)

    @property
    def box(self) -> Box:
        w = self.width
        anchor = self.anchor
        if self.direction == "rtl" and anchor != "middle":
            anchor = "end" if anchor == "start" else "start"
        left = {"start": self.x, "middle": self.x - w / 2, "end": self.x - w}[anchor]
        return Box(left, self.y - self.size * 0.93, w, self.size * 1.18)


def text_line(x: float, y: float, text: str, size: float, anchor: str = "start", **kw: Any) -> TextLine:
    """A TextLine whose direction and language are read from its text."""
    return TextLine(x, y, text, size, anchor, direction=_text.direction(text), lang=_text.language(text), **kw)


@dataclass(frozen=True)
class Band:
    """The band of one ring (``index`` 1..6), or of the lost connections (``lost``)."""

    index: int
    label: TextLine
    inner: float
    outer: float
    lost: bool = False


@dataclass(frozen=True)
class Sector:
    """The angles (degrees clockwise from the top) that one kind of connection occupies."""

    kind: Kind
    start: float
    end: float
    label: TextLine
    divider: tuple[tuple[float, float], tuple[float, float]] | None
    """The line that starts the sector (None when it is the only one)."""


@dataclass(frozen=True)
class NodePlacement:
    """Where one connection is drawn, and what is written by it."""

    connection: Connection
    x: float
    y: float
    angle: float
    radius: float
    band: int
    box: Box
    label: tuple[TextLine, ...]
    label_box: Box | None
    key: int | None
    highlight: str | None
    tag: TextLine | None

    @property
    def boxes(self) -> tuple[Box, ...]:
        return (self.box,) if self.label_box is None else (self.box, self.label_box)

    @property
    def reach(self) -> float:
        """How far from its centre the node's drawing goes (shape, practitioner badge, halo)."""
        reach = float(NODE_REACH)
        if self.connection.is_practitioner:
            reach = max(reach, 11 * math.sqrt(2) + 6)
        if self.highlight is not None:
            reach = max(reach, 18.0)
        return reach


Point = tuple[float, float]


@dataclass(frozen=True)
class TiePlacement:
    """A tie drawn as a chain of cubic Bézier segments ``(p0, c1, c2, p1, c1, c2, p2...)``
    from one node to the other; ``arrow`` for bridged ties."""

    tie: Tie
    path: tuple[Point, ...]
    arrow: tuple[Point, ...]
    faded: bool

    @property
    def start(self) -> Point:
        return self.path[0]

    @property
    def end(self) -> Point:
        return self.path[-1]

    @property
    def svg_path(self) -> str:
        """The path as SVG path data."""

        def pt(p: Point) -> str:
            return f"{_num(p[0])},{_num(p[1])}"

        parts = [f"M{pt(self.path[0])}"]
        for k in range(1, len(self.path), 3):
            parts.append("C" + " ".join(pt(p) for p in self.path[k : k + 3]))
        return " ".join(parts)


def _num(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


@dataclass(frozen=True)
class LegendItem:
    """One entry of the legend: a sample (``sample`` kind and ``value``) and its text."""

    sample: str
    value: str
    x: float
    y: float
    text: TextLine


@dataclass(frozen=True)
class KeyEntry:
    """One entry of the numbered key list beside a crowded map: the number, then the label
    over as many lines as it needs (up to ``KEY_MAX_LINES``)."""

    key: int
    number: TextLine
    lines: tuple[TextLine, ...]

    @property
    def boxes(self) -> tuple[Box, ...]:
        return (self.number.box, *(line.box for line in self.lines))


@dataclass(frozen=True)
class HomeBar:
    """The share of the waking day spent at home, as a bar."""

    x: float
    y: float
    w: float
    h: float
    share: int


@dataclass(frozen=True)
class Layout:
    """Every position of a rendered map."""

    width: float
    height: float
    cx: float
    cy: float
    me_r: float
    me_label: TextLine
    bands: tuple[Band, ...]
    sectors: tuple[Sector, ...]
    nodes: tuple[NodePlacement, ...]
    ties: tuple[TiePlacement, ...]
    header: tuple[TextLine, ...]
    panel: tuple[TextLine, ...]
    legend: tuple[LegendItem, ...]
    keys: tuple[KeyEntry, ...]
    home_bar: HomeBar | None
    notice: TextLine | None
    fixed_boxes: tuple[Box, ...] = field(default=())
    """Boxes nothing else may overlap: "Me", ring and sector labels, the notice."""


def format_date(d: date) -> str:
    """A date the way people in the UK write it (20 November 2026), whatever the locale."""
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def plural(n: int, one: str, many: str) -> str:
    """``1 activity``, ``3 activities``."""
    return f"{n} {one if n == 1 else many}"


# --- planning ------------------------------------------------------------------------


@dataclass
class _Item:
    connection: Connection
    text_lines: tuple[str, ...] | None  # None: drawn with a numbered key
    band: int
    kind: Kind
    key: int | None = None
    text_width: float = 0.0

    def __post_init__(self) -> None:
        self.lines = self.text_lines

    @property
    def lines(self) -> tuple[str, ...] | None:
        return self.text_lines

    @lines.setter
    def lines(self, value: tuple[str, ...] | None) -> None:
        self.text_lines = value
        if value is None:
            self.text_width = _text.width("000", KEY_SIZE, bold=True)
        else:
            self.text_width = max(_text.width(line, LABEL_SIZE) for line in value)

    def footprint(self) -> float:
        """Arc length the node needs on its track."""
        return max(self.text_width + 4, 2 * NODE_R + 14) + GAP

    def label_extent(self) -> float:
        """How far the node's label reaches below its centre."""
        n = 1 if self.lines is None else len(self.lines)
        return NODE_R + 4 + n * LABEL_LINE + 2


def _sort_key(c: Connection) -> tuple[int, int, str, str]:
    return (CATEGORIES_BY_KIND[c.kind].index(c.category), -IMPACT_WEIGHT[c.impact], c.label.casefold(), c.id)


def _plan_items(wmap: WellbeingMap) -> list[_Item]:
    lost_band = len(wmap.rings) + 1
    items = []
    for c in sorted(wmap.connections, key=_sort_key):
        lines = _text.wrap(_text.clean(c.label), LABEL_MAX_W, LABEL_SIZE, LABEL_MAX_LINES)
        band = lost_band if c.status is Status.LOST else c.ring
        items.append(_Item(c, lines if lines else None, band, c.kind))
    return items


def _sector_spans(items: Sequence[_Item]) -> dict[Kind, tuple[float, float]]:
    demand = {k: sum(i.footprint() for i in items if i.kind is k) for k in SECTOR_ORDER}
    total = sum(demand.values())
    weights = {k: max(d, 0.14 * total) for k, d in demand.items() if d > 0}
    spans: dict[Kind, tuple[float, float]] = {}
    start = 0.0
    for k in SECTOR_ORDER:
        if k in weights:
            end = start + 360.0 * weights[k] / sum(weights.values())
            spans[k] = (start, end)
            start = end
    if spans:  # the last sector closes the circle exactly, whatever the rounding
        last = list(spans)[-1]
        spans[last] = (spans[last][0], 360.0)
    return spans


@dataclass(frozen=True)
class _BandPlan:
    index: int
    inner: float
    outer: float
    first_track: float
    tracks: int
    track_gap: float


_Groups = dict[tuple[int, Kind], tuple[float, float]]
"""(band, kind) -> (arc length its nodes need, how far its labels reach below a node)."""


def _groups(items: Sequence[_Item]) -> _Groups:
    groups: _Groups = {}
    for i in items:
        demand, extent = groups.get((i.band, i.kind), (0.0, 0.0))
        groups[(i.band, i.kind)] = (demand + i.footprint(), max(extent, i.label_extent()))
    return groups


def _band_plans(
    groups: _Groups, bands: Sequence[int], spans: dict[Kind, tuple[float, float]], stretch: dict[int, float]
) -> list[_BandPlan]:
    plans = []
    inner = float(ME_R + 8)
    for band in bands:
        extents = [groups[(band, k)][1] for k in spans if (band, k) in groups]
        extent = max(extents, default=NODE_R + 4 + 2 * LABEL_LINE + 2) + 4
        track_gap = extent + NODE_R + 12
        grow = stretch.get(band, 1.0)
        best: _BandPlan | None = None
        demands = [(groups[(band, k)][0], math.radians(b - a)) for k, (a, b) in spans.items() if (band, k) in groups]
        for tracks in range(1, MAX_TRACKS + 1):
            need = inner + (grow - 1) * 60
            for demand, angle in demands:
                if demand:
                    need = max(need, grow * demand / tracks / angle - extent)
            first = need + extent
            outer = first + (tracks - 1) * track_gap + extent
            if best is None or outer < best.outer - 1:
                best = _BandPlan(band, inner, outer, first, tracks, track_gap)
        assert best is not None
        plans.append(best)
        inner = best.outer
    return plans


def _polar(cx: float, cy: float, r: float, angle: float) -> tuple[float, float]:
    a = math.radians(angle)
    return cx + r * math.sin(a), cy - r * math.cos(a)


def _node(item: _Item, x: float, y: float, angle: float, radius: float, highlight: str | None) -> NodePlacement:
    box = Box(x - NODE_R - 3, y - NODE_R - 9, 2 * NODE_R + 12, 2 * NODE_R + 12)
    tag = None
    if highlight is not None:
        tag = TextLine(x - NODE_R - 12, y + 5, HIGHLIGHTS[highlight][0], MARK_SIZE, "middle", True, "tag")
        box = box.union(tag.box).union(Box(tag.x - 10, tag.y - 15, 20, 20))  # the mark sits on a white disc
    top = y + NODE_R + 4
    if item.lines is None:
        lines: tuple[TextLine, ...] = (TextLine(x, top + KEY_SIZE, str(item.key), KEY_SIZE, "middle", True, "key"),)
    else:
        lines = tuple(
            text_line(x, top + LABEL_SIZE + n * LABEL_LINE, text, LABEL_SIZE, "middle", style="label")
            for n, text in enumerate(item.lines)
        )
    label_box = lines[0].box
    for line in lines[1:]:
        label_box = label_box.union(line.box)
    label_box = Box(label_box.x - 2, label_box.y - 1, label_box.w + 4, label_box.h + 2)
    return NodePlacement(
        item.connection, x, y, angle, radius, item.band, box, lines, label_box, item.key, highlight, tag
    )


def _place(
    items: Sequence[_Item],
    plans: Sequence[_BandPlan],
    spans: dict[Kind, tuple[float, float]],
    cx: float,
    cy: float,
    highlight: dict[str, str],
) -> list[NodePlacement]:
    nodes = []
    groups: dict[tuple[int, Kind], list[_Item]] = {}
    for item in items:
        groups.setdefault((item.band, item.kind), []).append(item)
    for plan in plans:
        phase = _PHASES[(plan.index - 1) % len(_PHASES)]
        for kind, (a, b) in spans.items():
            members = groups.get((plan.index, kind), [])
            step = (b - a) / len(members) if members else 0
            for n, item in enumerate(members):
                angle = a + (n + (phase if len(members) == 1 else 0.5)) * step
                radius = plan.first_track + (n % plan.tracks) * plan.track_gap
                x, y = _polar(cx, cy, radius, angle)
                nodes.append(_node(item, x, y, angle, radius, highlight.get(item.connection.id)))
    return nodes


def overlapping(boxes: Sequence[Box]) -> list[tuple[int, int]]:
    """The indexes of every pair of boxes that overlap (a sweep along x)."""
    edges = [(b.x, b.y, b.x + b.w, b.y + b.h) for b in boxes]
    order = sorted(range(len(edges)), key=lambda n: edges[n])
    pairs = []
    for pos, i in enumerate(order):
        _, ay, ar, ab = edges[i]
        for j in order[pos + 1 :]:
            bx, by, _, bb = edges[j]
            if bx >= ar:
                break
            if ay < bb and by < ab:
                pairs.append((min(i, j), max(i, j)))
    return pairs


def _ring_label(text: str, cx: float, cy: float, outer: float, lost: bool) -> TextLine:
    # A long ring name is cut: it would otherwise run over the sector labels.
    y = cy - outer + 15
    shown = _text.truncate(text, min(260.0, max(80.0, 1.6 * outer)), 11, bold=True)
    return text_line(cx, y, shown, 11, "middle", bold=True, style="lost-ring" if lost else "ring")


def _sector_label(kind: Kind, a: float, b: float, cx: float, cy: float, outer: float) -> TextLine:
    mid = (a + b) / 2
    x, y = _polar(cx, cy, outer + 14, mid)
    s, c = math.sin(math.radians(mid)), math.cos(math.radians(mid))
    anchor = "start" if s > 0.3 else "end" if s < -0.3 else "middle"
    return TextLine(
        x, y + (12 if c < -0.2 else 4 if abs(c) <= 0.2 else -2), SECTOR_NAMES[kind].upper(), 11, anchor, True, "sector"
    )


# --- the layout ----------------------------------------------------------------------


def layout_map(wmap: WellbeingMap, options: RenderOptions | None = None) -> Layout:
    """Lay out ``wmap``: positions of every ring, node, label, tie, legend entry and text."""
    options = options or RenderOptions()
    ids = {c.id for c in wmap.connections}
    unknown = [
        Problem(f"options.highlight[{cid}]", "no connection has this id") for cid in options.highlight if cid not in ids
    ]
    if unknown:
        raise InputError(unknown)
    highlight = dict(options.highlight)

    items = _plan_items(wmap)
    has_lost = any(i.band > len(wmap.rings) for i in items)
    band_ids = list(range(1, len(wmap.rings) + 1)) + ([len(wmap.rings) + 1] if has_lost else [])
    band_names = [*(_text.clean(r) for r in wmap.rings), "Lost"]
    spans = _sector_spans(items)

    limit = max(MAX_RADIUS, ME_R + 8 + 110 * len(band_ids))
    _key_until_it_fits(items, band_ids, spans, limit)
    _number_keys(items)
    groups = _groups(items)
    outer_estimate = _band_plans(groups, band_ids, spans, {})[-1].outer
    header = _header(wmap, options, max(HEADER_MIN_W, 2 * outer_estimate + 168 + PANEL_W))
    top = header[-1].y + 24
    if not options.legend:  # compact: the time at home goes under the title, the map right beside it
        top += 64
    stretch: dict[int, float] = {}
    for _attempt in range(_MAX_ATTEMPTS):
        plans = _band_plans(groups, band_ids, spans, stretch)
        outer = plans[-1].outer
        half = outer + 44
        cx, cy = MARGIN + half + 40, top + half
        bands = tuple(
            Band(
                p.index,
                _ring_label(band_names[p.index - 1], cx, cy, p.outer, p.index > len(wmap.rings)),
                p.inner,
                p.outer,
                p.index > len(wmap.rings),
            )
            for p in plans
        )
        sectors = tuple(
            Sector(
                k,
                a,
                b,
                _sector_label(k, a, b, cx, cy, outer),
                (_polar(cx, cy, ME_R + 4, a), _polar(cx, cy, outer, a)) if len(spans) > 1 else None,
            )
            for k, (a, b) in spans.items()
        )
        me_label = TextLine(cx, cy + 6, "Me", 17, "middle", True, "me")
        notice = (
            TextLine(cx, cy + ME_R + 30, "No connections recorded yet", 13, "middle", False, "notice")
            if not items
            else None
        )
        fixed = [Box(cx - ME_R, cy - ME_R, 2 * ME_R, 2 * ME_R)]
        fixed += [b.label.box for b in bands] + [s.label.box for s in sectors]
        fixed += [notice.box] if notice else []
        nodes = _place(items, plans, spans, cx, cy, highlight)
        owners = [0] * len(fixed) + [n.band for n in nodes for _ in n.boxes]
        clashes = overlapping([*fixed, *(b for n in nodes for b in n.boxes)])
        if not clashes:
            break
        # Push the outer band of each clash outwards: more arc, and more room from the band inside.
        for band in {max(owners[i], owners[j]) for i, j in clashes}:
            stretch[band] = stretch.get(band, 1.0) * 1.15
    ties = _ties(wmap, nodes, bands, sectors, cx, cy)
    map_right = cx + half + 40
    panel, legend, home_bar, keys, panel_bottom, right = _panel(
        wmap, options, items, map_right + 8, top, cy + half, header[-1].y
    )
    width = max(right, map_right, max(t.box.right for t in header)) + MARGIN
    height = max(cy + half, panel_bottom) + MARGIN
    return Layout(
        width=math.ceil(width),
        height=math.ceil(height),
        cx=cx,
        cy=cy,
        me_r=ME_R,
        me_label=me_label,
        bands=bands,
        sectors=sectors,
        nodes=tuple(nodes),
        ties=ties,
        header=header,
        panel=panel,
        legend=legend,
        keys=keys,
        home_bar=home_bar,
        notice=notice,
        fixed_boxes=tuple(fixed),
    )


def _number_keys(items: Sequence[_Item]) -> None:
    n = 0
    for item in sorted(items, key=lambda i: (i.band, SECTOR_ORDER.index(i.kind))):
        if item.lines is None:
            n += 1
            item.key = n
        else:
            item.key = None


def _key_until_it_fits(
    items: Sequence[_Item], bands: Sequence[int], spans: dict[Kind, tuple[float, float]], limit: float
) -> None:
    """Turn labels into numbered keys until the map's outer radius is within ``limit``: each
    round, a third of the widest labels of the band and sector whose keys shrink the map most
    (outer bands first on a tie)."""
    if _band_plans(_groups(items), bands, spans, {})[-1].outer <= limit:
        return
    every_key = [_Item(i.connection, None, i.band, i.kind) for i in items]
    if _band_plans(_groups(every_key), bands, spans, {})[-1].outer > limit:
        for i in items:  # too many connections for any label: one key each, at once
            i.lines = None
        return
    while True:
        groups = _groups(items)
        if _band_plans(groups, bands, spans, {})[-1].outer <= limit:
            return
        labelled: dict[tuple[int, Kind], list[_Item]] = {}
        for i in items:
            if i.lines is not None:
                labelled.setdefault((i.band, i.kind), []).append(i)
        if not labelled:
            return
        best: tuple[float, list[_Item]] | None = None
        for band, kind in sorted(labelled, key=lambda g: (-g[0], SECTOR_ORDER.index(g[1]))):
            members = sorted(labelled[(band, kind)], key=lambda i: (-i.text_width, i.connection.id))
            chosen = members[: max(1, len(members) // 3)]
            keyed = [_Item(i.connection, None, i.band, i.kind) for i in chosen]
            chosen_ids = {id(i) for i in chosen}
            trial = _groups([i for i in items if i.band == band and i.kind is kind and id(i) not in chosen_ids] + keyed)
            outer = _band_plans({**groups, **trial}, bands, spans, {})[-1].outer
            if best is None or outer < best[0] - 0.5:
                best = (outer, chosen)
        assert best is not None
        for i in best[1]:
            i.lines = None


def _ties(
    wmap: WellbeingMap,
    nodes: Sequence[NodePlacement],
    bands: Sequence[Band],
    sectors: Sequence[Sector],
    cx: float,
    cy: float,
) -> tuple[TiePlacement, ...]:
    if not wmap.ties:
        return ()
    at = {n.connection.id: n for n in nodes}
    discs = [_routes.Disc(n.x, n.y, n.reach + TIE_GAP, n.connection.id) for n in nodes]
    discs.append(_routes.Disc(cx, cy, ME_R + TIE_GAP, "\0me"))
    rects = [
        _routes.Rect(n.label_box.x, n.label_box.y, n.label_box.right, n.label_box.bottom, n.connection.id)
        for n in nodes
        if n.label_box is not None
    ]
    rects += [
        _routes.Rect(b.x, b.y, b.right, b.bottom, "\0fixed")
        for b in (*(band.label.box for band in bands), *(s.label.box for s in sectors))
    ]
    obstacles = _routes.Obstacles(discs, rects)
    out = []
    for tie in sorted(wmap.ties, key=lambda t: t.id):
        a, b = at[tie.from_id], at[tie.to_id]
        path = _routes.route((a.x, a.y), (b.x, b.y), (tie.from_id, tie.to_id), obstacles, (cx, cy))
        path = _routes.trim(path, NODE_R + 2, NODE_R + 3)
        arrow: tuple[Point, ...] = ()
        if tie.type is TieType.BRIDGED:
            end, before = path[-1], path[-2]
            ux, uy = _unit(end, before)
            base = (end[0] + ux * 9, end[1] + uy * 9)
            arrow = (end, (base[0] - uy * 4.5, base[1] + ux * 4.5), (base[0] + uy * 4.5, base[1] - ux * 4.5))
        faded = not (a.connection.is_current and b.connection.is_current)
        out.append(TiePlacement(tie, path, arrow, faded))
    return tuple(out)


def _unit(p: tuple[float, float], q: tuple[float, float]) -> tuple[float, float]:
    dx, dy = q[0] - p[0], q[1] - p[1]
    d = math.hypot(dx, dy) or 1.0
    return dx / d, dy / d


# --- header and panel ----------------------------------------------------------------


def _header(wmap: WellbeingMap, options: RenderOptions, max_w: float) -> tuple[TextLine, ...]:
    lines: list[TextLine] = []
    y = float(MARGIN)
    for n, text in enumerate(_text.wrap_all(_text.clean(wmap.display_name), max_w, 24, TITLE_MAX_LINES, bold=True)):
        y += 22 if n == 0 else 28
        lines.append(_start_line(MARGIN, y, text, 24, max_w, bold=True, style="title"))
    sub = f"Wellbeing network map, {format_date(wmap.date)}"
    if wmap.practitioners:
        people = "; ".join(_text.clean(p.display + (f" ({p.role})" if p.role else "")) for p in wmap.practitioners)
        sub += f". With {people}"
    for n, text in enumerate(_text.wrap_all(sub, max_w, 13, SUBTITLE_MAX_LINES)):
        y += 22 if n == 0 else 17
        lines.append(_start_line(MARGIN, y, text, 13, max_w, style="subtitle"))
    if options.show_nhs_number and wmap.subject.nhs_number:
        nhs = wmap.subject.nhs_number
        y += 18
        lines.append(TextLine(MARGIN, y, f"NHS number {nhs[:3]} {nhs[3:6]} {nhs[6:]}", 13, style="subtitle"))
    return tuple(lines)


def _start_line(x: float, y: float, text: str, size: float, column: float, **kw: Any) -> TextLine:
    """A line at the start of a column ``column`` px wide: its left edge, or its right edge
    when the text runs right to left."""
    line = text_line(x, y, text, size, "start", **kw)
    return replace(line, x=x + column) if line.direction == "rtl" else line


def _panel(
    wmap: WellbeingMap,
    options: RenderOptions,
    items: Sequence[_Item],
    x: float,
    top: float,
    map_bottom: float,
    header_bottom: float,
) -> tuple[tuple[TextLine, ...], tuple[LegendItem, ...], HomeBar | None, tuple[KeyEntry, ...], float, float]:
    """The panel beside the map: time at home, size, legend and key list. Without the legend
    the time at home and the size go under the title instead, and only a key list is beside."""
    texts: list[TextLine] = []
    legend: list[LegendItem] = []
    map_x = x
    if not options.legend:
        x = MARGIN
    y = (top if options.legend else header_bottom) + 4

    def heading(text: str) -> None:
        nonlocal y
        y += 28
        texts.append(TextLine(x, y, text, 13, bold=True, style="heading"))
        y += 4

    heading("Waking day at home")
    home_bar = None
    if wmap.time_at_home is None:
        y += 16
        texts.append(TextLine(x, y, "Not recorded", 11, style="muted"))
    else:
        home_bar = HomeBar(x, y + 4, 180, 14, wmap.time_at_home)
        texts.append(TextLine(x + 190, y + 15, f"{wmap.time_at_home}%", 13, bold=True))
        y += 18
    y += 18
    texts.append(
        TextLine(x, y, plural(measure(wmap).size, "current connection", "current connections"), 11, style="muted")
    )

    right = x + 230
    if options.legend:
        marks = [HIGHLIGHTS[change][0] for change in options.highlight.values()]
        y = legend_entries(x, y, texts, legend, marks, bool(wmap.ties))
        right = x + PANEL_W
    else:
        x, y = map_x, top + 4

    keys: list[KeyEntry] = []
    keyed = sorted((i for i in items if i.key is not None), key=lambda i: i.key or 0)
    if keyed:
        heading("Key")
        keys, y, right = _key_list(keyed, x, y, max(map_bottom, y + 200))
    right = max([right, *(t.box.right for t in texts), *(i.text.box.right for i in legend)])
    return tuple(texts), tuple(legend), home_bar, tuple(keys), y, right


_Group = tuple[str, list[tuple[str, str, str]]]


def _legend_groups(marks: Sequence[str], ties: bool) -> list[_Group]:
    groups: list[_Group] = [
        ("Shape: kind", [("kind", k.value, display(k)) for k in SECTOR_ORDER]),
        ("Colour and sign: impact on wellbeing", [("impact", i.value, display(i)) for i in Impact]),
        (
            "Outline: status",
            [
                ("status", "current", "Current"),
                ("status", "wished-for", "Hoped for (dashed)"),
                ("status", "lost", "Lost (faded, outer band)"),
                ("badge", "practitioner", "Practitioner"),
            ],
        ),
    ]
    if marks:
        used = [("highlight", mark, meaning) for mark, meaning in MARK_LEGEND.items() if mark in marks]
        groups.append(("Change since the last map", used))
    if ties:
        groups.append(("Lines: ties", [("tie", t.value, display(t)) for t in TieType]))
    return groups


def _place_group(group: _Group, x: float, y: float, texts: list[TextLine], legend: list[LegendItem]) -> float:
    heading, entries = group
    y += 28
    texts.append(TextLine(x, y, heading, 13, bold=True, style="heading"))
    y += 4
    for sample, value, text in entries:
        y += 20
        legend.append(LegendItem(sample, value, x + 12, y - 4, TextLine(x + 32, y, text, 11)))
    return y


def legend_entries(
    x: float, y: float, texts: list[TextLine], legend: list[LegendItem], marks: Sequence[str], ties: bool
) -> float:
    """Append the legend's headings and entries below ``y`` (the change ``marks`` in use; ties
    when the map has any); the new bottom."""
    for group in _legend_groups(marks, ties):
        y = _place_group(group, x, y, texts, legend)
    return y


@dataclass(frozen=True)
class LegendLayout:
    """A legend on its own, in columns (the review summary prints one for all its maps)."""

    width: float
    height: float
    texts: tuple[TextLine, ...]
    items: tuple[LegendItem, ...]


def layout_legend(marks: Sequence[str], ties: bool, *, columns: int = 3, column_w: float = 270) -> LegendLayout:
    """The legend of maps using the change ``marks`` (and ties, if any), group after group in
    up to ``columns`` columns of about equal height."""
    groups = _legend_groups(marks, ties)
    heights = [32 + 20 * len(entries) for _, entries in groups]
    target = sum(heights) / columns
    texts: list[TextLine] = []
    legend: list[LegendItem] = []
    column, y, bottom = 0, 0.0, 0.0
    for group, height in zip(groups, heights, strict=True):
        if y > 0 and y + height / 2 > target and column < columns - 1:
            column, y = column + 1, 0.0
        y = _place_group(group, 12 + column * column_w, y, texts, legend)
        bottom = max(bottom, y)
    return LegendLayout((column + 1) * column_w + 12, bottom + 12, tuple(texts), tuple(legend))


def _key_list(keyed: Sequence[_Item], x: float, y: float, bottom: float) -> tuple[list[KeyEntry], float, float]:
    """The numbered key list in columns of ``KEY_COL_W`` px, each label wrapped (a hanging
    indent after its number) and cut only past ``KEY_MAX_LINES`` lines."""
    number_w = _text.width(f"{keyed[-1].key}", 11, bold=True) + 6
    text_w = KEY_COL_W - 12 - number_w
    entries: list[KeyEntry] = []
    column, row_y, lowest = 0, y, y
    for item in keyed:
        label = _text.clean(item.connection.label)
        wrapped = _text.wrap_all(label, text_w, 11, KEY_MAX_LINES)
        height = KEY_LINE * len(wrapped)
        if row_y + height > bottom and row_y > y:
            column, row_y = column + 1, y
        left = x + column * KEY_COL_W
        base = row_y + KEY_LINE
        lines = tuple(
            _start_line(left + number_w, base + n * KEY_LINE, text, 11, text_w) for n, text in enumerate(wrapped)
        )
        number = TextLine(left, base, str(item.key), 11, bold=True)
        entries.append(KeyEntry(item.key or 0, number, lines))
        row_y += height + 3
        lowest = max(lowest, row_y)
    return entries, lowest, x + (column + 1) * KEY_COL_W
