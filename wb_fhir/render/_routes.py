"""Where a tie runs: a curve from one node to another that passes through no other node and
crosses as few labels as it can (pure geometry, deterministic).

Each tie first tries a handful of gentle curves (quadratic Béziers bulging by different amounts
to either side). When every one of them meets another node or crosses another label, it is also
routed around them on a grid (A*), the grid path pulled taut against the nodes themselves and
its corners rounded; the cheaper of the two is kept. A path is a chain of cubic Bézier
segments: ``(p0, c1, c2, p1, c1, c2, p2, ...)``.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Point = tuple[float, float]

HIT = 1000.0
"""Cost of meeting a node: more than any number of labels crossed."""
LABEL = 30.0
OWN_LABEL = 4.0
"""Crossing the label of one of the tie's own ends (just below it) matters less."""
_BULGES = (0.0, 0.12, -0.12, 0.25, -0.25, 0.4, -0.4, 0.6, -0.6, 0.85, -0.85)
_CELL = 8.0
_BUCKET = 64.0
_STEP = 10.0
"""Largest gap between the points a curve is checked at (on maps of ordinary size)."""
BIG_MAP = 200
"""Beyond this many nodes a map is routed with less effort (four curves tried, coarser checks,
labels not weighed, no detours): its ties may then touch a node; the picture stays quick."""


@dataclass(frozen=True)
class Disc:
    """Something round a tie must not pass through (a node, with its clearance)."""

    x: float
    y: float
    r: float
    owner: str


@dataclass(frozen=True)
class Rect:
    """A label a tie had better not cross."""

    x0: float
    y0: float
    x1: float
    y1: float
    owner: str


class _Grid:
    """Items bucketed by the squares of the plane they come within ``reach`` of, so that the
    items a short segment can touch are found from the squares of its two ends."""

    def __init__(self, items: Iterable[tuple[tuple[float, float, float, float], object]], reach: float) -> None:
        self.buckets: dict[tuple[int, int], list[int]] = {}
        self.items: list[object] = []
        for (x0, y0, x1, y1), item in items:
            n = len(self.items)
            self.items.append(item)
            for i in range(int((x0 - reach) // _BUCKET), int((x1 + reach) // _BUCKET) + 1):
                for j in range(int((y0 - reach) // _BUCKET), int((y1 + reach) // _BUCKET) + 1):
                    self.buckets.setdefault((i, j), []).append(n)

    def within(self, x0: float, y0: float, x1: float, y1: float) -> list[object]:
        """Items near a rectangle."""
        found: set[int] = set()
        for i in range(int(x0 // _BUCKET), int(x1 // _BUCKET) + 1):
            for j in range(int(y0 // _BUCKET), int(y1 // _BUCKET) + 1):
                found.update(self.buckets.get((i, j), ()))
        return [self.items[n] for n in sorted(found)]


class Obstacles:
    """The nodes and labels of one map, indexed for routing."""

    def __init__(self, discs: Sequence[Disc], rects: Sequence[Rect]) -> None:
        self.big = len(discs) > BIG_MAP
        # Segments stay far shorter than a node is wide, so checking them is exact for the
        # polyline; the polyline follows a gentle curve to well under a pixel.
        self.step = _STEP * (2.5 if self.big else 1.0)
        self.discs = _Grid((((d.x - d.r, d.y - d.r, d.x + d.r, d.y + d.r), d) for d in discs), self.step)
        self.rects = _Grid((((r.x0, r.y0, r.x1, r.y1), r) for r in rects), self.step)

    def discs_within(self, x0: float, y0: float, x1: float, y1: float, ends: tuple[str, str]) -> list[Disc]:
        return [d for d in self.discs.within(x0, y0, x1, y1) if isinstance(d, Disc) and d.owner not in ends]

    def rects_within(self, x0: float, y0: float, x1: float, y1: float) -> list[Rect]:
        return [r for r in self.rects.within(x0, y0, x1, y1) if isinstance(r, Rect)]


# --- geometry --------------------------------------------------------------------------


def bezier_points(path: Sequence[Point], step: float = _STEP) -> list[Point]:
    """Points along a chain of cubic Bézier segments, about ``step`` px apart."""
    out = [path[0]]
    for k in range(0, len(path) - 1, 3):
        p0, c1, c2, p1 = path[k : k + 4]
        length = math.dist(p0, c1) + math.dist(c1, c2) + math.dist(c2, p1)  # >= the arc length
        n = max(2, math.ceil(length / step))
        for i in range(1, n + 1):
            t = i / n
            u = 1 - t
            a, b, c, d = u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t
            out.append((a * p0[0] + b * c1[0] + c * c2[0] + d * p1[0], a * p0[1] + b * c1[1] + c * c2[1] + d * p1[1]))
    return out


def segment_distance(p: Point, a: Point, b: Point) -> float:
    """Distance from point ``p`` to the segment ``a``-``b``."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length2))
    return math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy)


def _segment_meets_rect(a: Point, b: Point, r: Rect) -> bool:
    # Liang-Barsky clipping: does any part of the segment lie inside the rectangle?
    t0, t1 = 0.0, 1.0
    dx, dy = b[0] - a[0], b[1] - a[1]
    for p, q in ((-dx, a[0] - r.x0), (dx, r.x1 - a[0]), (-dy, a[1] - r.y0), (dy, r.y1 - a[1])):
        if p == 0:
            if q < 0:
                return False
        else:
            t = q / p
            if p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
            if t0 > t1:
                return False
    return True


def polyline_hits(points: Sequence[Point], discs: Sequence[Disc]) -> list[Disc]:
    """The discs that a polyline passes through."""
    hit = []
    for d in discs:
        centre = (d.x, d.y)
        if any(segment_distance(centre, a, b) < d.r for a, b in itertools.pairwise(points)):
            hit.append(d)
    return hit


def _scan(
    points: Sequence[Point], obstacles: Obstacles, ends: tuple[str, str], *, labels_too: bool = True
) -> tuple[int, float]:
    """How many nodes a polyline meets, and the cost of the labels it crosses.

    Everything is registered in the squares it comes within one step of, so a segment (at most
    a step long) can only meet what is registered in the square of its first point: the
    polyline is walked in runs of points within one square, each run tested against that
    square's items only.
    """
    hits: set[int] = set()
    crossed: set[int] = set()
    labels = 0.0
    discs, rects = obstacles.discs, obstacles.rects
    cells = [(int(x // _BUCKET), int(y // _BUCKET)) for x, y in points]
    last = len(points) - 1
    start = 0
    while start < last:
        cell = cells[start]
        end = start + 1
        while end < last and cells[end] == cell:
            end += 1
        run = list(itertools.pairwise(points[start : end + 1]))
        for n in discs.buckets.get(cell, ()):
            d = discs.items[n]
            assert isinstance(d, Disc)
            if n not in hits and d.owner not in ends and any(segment_distance((d.x, d.y), a, b) < d.r for a, b in run):
                hits.add(n)
        for n in rects.buckets.get(cell, ()) if labels_too else ():
            r = rects.items[n]
            assert isinstance(r, Rect)
            if n not in crossed and any(_segment_meets_rect(a, b, r) for a, b in run):
                crossed.add(n)
                labels += OWN_LABEL if r.owner in ends else LABEL
        start = end
    return len(hits), labels


def _cost(path: Sequence[Point], obstacles: Obstacles, ends: tuple[str, str], chord: float) -> tuple[float, int]:
    points = bezier_points(path, obstacles.step)
    hits, labels = _scan(points, obstacles, ends, labels_too=not obstacles.big)
    length = sum(math.dist(a, b) for a, b in itertools.pairwise(points))
    return HIT * hits + labels + 8 * length / max(chord, 1.0), hits


# --- routing ---------------------------------------------------------------------------


def _quadratic(a: Point, control: Point, b: Point) -> tuple[Point, ...]:
    c1 = (a[0] + 2 / 3 * (control[0] - a[0]), a[1] + 2 / 3 * (control[1] - a[1]))
    c2 = (b[0] + 2 / 3 * (control[0] - b[0]), b[1] + 2 / 3 * (control[1] - b[1]))
    return (a, c1, c2, b)


def trim(path: Sequence[Point], start_gap: float, end_gap: float) -> tuple[Point, ...]:
    """The path with its ends moved off the node centres along the path, by the given gaps."""
    points = list(path)
    first_dir = next((p for p in points[1:] if math.dist(p, points[0]) > 1e-6), points[-1])
    last_dir = next((p for p in reversed(points[:-1]) if math.dist(p, points[-1]) > 1e-6), points[0])
    points[0] = _towards(points[0], first_dir, start_gap)
    points[-1] = _towards(points[-1], last_dir, end_gap)
    return tuple(points)


def _towards(p: Point, q: Point, distance: float) -> Point:
    d = math.dist(p, q) or 1.0
    return p[0] + (q[0] - p[0]) * distance / d, p[1] + (q[1] - p[1]) * distance / d


def route(a: Point, b: Point, ends: tuple[str, str], obstacles: Obstacles, centre: Point) -> tuple[Point, ...]:
    """The path of a tie between node centres ``a`` and ``b`` (``ends``: their owners)."""
    chord = math.dist(a, b)
    mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
    nx, ny = (a[1] - b[1]) / (chord or 1.0), (b[0] - a[0]) / (chord or 1.0)
    # The first candidate bends gently towards the centre of the map: the usual look.
    candidates = [_quadratic(a, (mx + (centre[0] - mx) * 0.22, my + (centre[1] - my) * 0.22), b)]
    bulges = (0.0, 0.25, -0.25) if obstacles.big else _BULGES
    candidates += [_quadratic(a, (mx + nx * k * chord, my + ny * k * chord), b) for k in bulges]
    best: tuple[float, tuple[Point, ...]] | None = None
    for n, path in enumerate(candidates):
        cost, _ = _cost(path, obstacles, ends, chord)
        cost += 0.0 if n == 0 else 1.0  # ties go to the usual look
        if best is None or cost < best[0]:
            best = (cost, path)
        if cost < LABEL / 2:  # meets nothing, crosses no other label: good enough
            break
    assert best is not None
    if best[0] < LABEL or obstacles.big:
        return best[1]
    # Every curve meets a node or crosses another label: look for a way around them.
    detour = _detour(a, b, ends, obstacles)
    if detour is not None:
        cost, hits = _cost(detour, obstacles, ends, chord)
        if hits == 0 and cost < best[0]:
            return detour
    return best[1]


def _detour(a: Point, b: Point, ends: tuple[str, str], obstacles: Obstacles) -> tuple[Point, ...] | None:
    """A path around every node: A* on a grid, pulled taut, corners rounded."""
    chord = math.dist(a, b)
    margin = max(80.0, 0.6 * chord)
    x0, y0 = min(a[0], b[0]) - margin, min(a[1], b[1]) - margin
    x1, y1 = max(a[0], b[0]) + margin, max(a[1], b[1]) + margin
    cell = max(_CELL, max(x1 - x0, y1 - y0) / 100)  # bounded effort on huge maps
    cols, rows = int((x1 - x0) / cell) + 1, int((y1 - y0) / cell) + 1
    discs = obstacles.discs_within(x0, y0, x1, y1, ends)
    rects = obstacles.rects_within(x0, y0, x1, y1)
    blocked: set[tuple[int, int]] = set()
    for d in discs:
        reach = d.r + cell * 0.75
        for i in range(max(0, int((d.x - reach - x0) / cell)), min(cols, int((d.x + reach - x0) / cell) + 2)):
            for j in range(max(0, int((d.y - reach - y0) / cell)), min(rows, int((d.y + reach - y0) / cell) + 2)):
                if math.hypot(x0 + i * cell - d.x, y0 + j * cell - d.y) < reach:
                    blocked.add((i, j))
    costly: set[tuple[int, int]] = set()
    for r in rects:
        if r.owner in ends:
            continue
        for i in range(max(0, int((r.x0 - x0) / cell)), min(cols, int((r.x1 - x0) / cell) + 2)):
            for j in range(max(0, int((r.y0 - y0) / cell)), min(rows, int((r.y1 - y0) / cell) + 2)):
                costly.add((i, j))

    def cell_of(p: Point) -> tuple[int, int]:
        return round((p[0] - x0) / cell), round((p[1] - y0) / cell)

    start, goal = cell_of(a), cell_of(b)
    blocked -= {start, goal}
    cells = _astar(start, goal, cols, rows, blocked, costly)
    if cells is None:
        return None
    points = [a] + [(x0 + i * cell, y0 + j * cell) for i, j in cells[1:-1]] + [b]
    taut = _pull_taut(points, obstacles, ends)
    return _rounded(taut, obstacles, ends)


def _astar(
    start: tuple[int, int],
    goal: tuple[int, int],
    cols: int,
    rows: int,
    blocked: set[tuple[int, int]],
    costly: set[tuple[int, int]],
) -> list[tuple[int, int]] | None:
    diagonal = math.sqrt(2)
    steps: tuple[tuple[int, int, float], ...] = ((1, 0, 1.0), (-1, 0, 1.0), (0, 1, 1.0), (0, -1, 1.0))
    steps += ((1, 1, diagonal), (1, -1, diagonal), (-1, 1, diagonal), (-1, -1, diagonal))
    best = {start: 0.0}
    came: dict[tuple[int, int], tuple[int, int]] = {}
    queue = [(0.0, 0.0, start)]
    while queue:
        _, g, here = heapq.heappop(queue)
        if here == goal:
            path = [here]
            while here in came:
                here = came[here]
                path.append(here)
            return path[::-1]
        if g > best.get(here, math.inf):
            continue
        for di, dj, step in steps:
            nxt = (here[0] + di, here[1] + dj)
            if not (0 <= nxt[0] < cols and 0 <= nxt[1] < rows) or nxt in blocked:
                continue
            cost = g + step * (6.0 if nxt in costly else 1.0)
            if cost < best.get(nxt, math.inf):
                best[nxt] = cost
                came[nxt] = here
                heuristic = math.hypot(goal[0] - nxt[0], goal[1] - nxt[1])
                heapq.heappush(queue, (cost + heuristic, cost, nxt))
    return None


def _clear(a: Point, b: Point, obstacles: Obstacles, ends: tuple[str, str]) -> bool:
    n = max(1, math.ceil(math.dist(a, b) / obstacles.step))
    points = [_lerp(a, b, k / n) for k in range(n + 1)]
    return _scan(points, obstacles, ends, labels_too=False)[0] == 0


def _pull_taut(points: Sequence[Point], obstacles: Obstacles, ends: tuple[str, str]) -> list[Point]:
    """Fewer corners: from each kept point, go on to the last point still in clear sight."""
    out = [points[0]]
    i = 0
    while i < len(points) - 1:
        j = i + 1
        while j + 1 < len(points) and _clear(points[i], points[j + 1], obstacles, ends):
            j += 1
        out.append(points[j])
        i = j
    return out


def _rounded(points: Sequence[Point], obstacles: Obstacles, ends: tuple[str, str]) -> tuple[Point, ...]:
    """Cubic segments through the corners of a polyline, each corner rounded while it stays clear."""
    if len(points) == 2:
        a, b = points
        return (a, _lerp(a, b, 1 / 3), _lerp(a, b, 2 / 3), b)
    path: list[Point] = [points[0]]
    here = points[0]
    for k in range(1, len(points) - 1):
        corner, nxt = points[k], points[k + 1]
        radius = min(40.0, math.dist(here, corner) / 2, math.dist(corner, nxt) / 2)
        while True:
            enter = _towards(corner, here, radius)
            leave = _towards(corner, nxt, radius)
            curve = _quadratic(enter, corner, leave)
            if radius < 1.0 or _scan(bezier_points(curve, 3.0), obstacles, ends, labels_too=False)[0] == 0:
                break
            radius /= 2
        path += [_lerp(here, enter, 1 / 3), _lerp(here, enter, 2 / 3), enter, *curve[1:]]
        here = leave
    end = points[-1]
    path += [_lerp(here, end, 1 / 3), _lerp(here, end, 2 / 3), end]
    return tuple(path)


def _lerp(a: Point, b: Point, t: float) -> Point:
    return a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t
