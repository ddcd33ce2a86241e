"""The population measures, exact, from the rows the engines return (pure).

Definitions (DESIGN.md, "Population measures"): a person is one subject; cross-sectional
measures use each person's latest map (by date; equal dates: the later map id in sort order);
current connections have status ``current``. Medians and quartiles are the linear
interpolation between closest ranks (as ``statistics.quantiles(method="inclusive")`` and
most statistics packages by default).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from wb_fhir.report.queries import PER_MAP, per_map_sql, queries
from wb_fhir.terminology import Impact, Kind, Role

TIME_AT_HOME_BANDS: tuple[tuple[str, int, int], ...] = (
    ("0-25", 0, 25),
    ("26-50", 26, 50),
    ("51-75", 51, 75),
    ("76-100", 76, 100),
)
CHANGES = ("network_size", "inner_circle", "time_at_home", "negative_share")


class Engine(Protocol):
    """What the measures need of an engine: SQL over the flat tables."""

    name: str

    def query(self, sql: str) -> list[tuple[Any, ...]]: ...

    def materialize(self, name: str, sql: str) -> None: ...


@dataclass(frozen=True)
class Share:
    """``count`` of ``denominator``."""

    count: int
    denominator: int


@dataclass(frozen=True)
class Spread:
    """A distribution of whole numbers, as value -> how many."""

    histogram: Mapping[int, int] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return sum(self.histogram.values())

    def quantile(self, p: float) -> float | None:
        """The ``p`` quantile (0-1), interpolated between closest ranks; None when empty."""
        n = self.n
        if n == 0:
            return None
        h = (n - 1) * p
        lo = math.floor(h)
        below, above = self._at(lo), self._at(min(lo + 1, n - 1))
        return float(below + (h - lo) * (above - below))

    def _at(self, rank: int) -> int:
        seen = 0
        for value in sorted(self.histogram):
            seen += self.histogram[value]
            if rank < seen:
                return value
        raise IndexError(rank)

    @property
    def median(self) -> float | None:
        return self.quantile(0.5)

    def count_between(self, low: int, high: int) -> int:
        return sum(n for v, n in self.histogram.items() if low <= v <= high)


@dataclass(frozen=True)
class Change:
    """First map against latest, for people with two or more: how many went up, stayed, went down."""

    up: int = 0
    same: int = 0
    down: int = 0
    differences: Spread | None = None

    @property
    def people(self) -> int:
        return self.up + self.same + self.down


@dataclass(frozen=True)
class PopulationMeasures:
    """Every measure of the report, exact (before disclosure control)."""

    since: date | None
    until: date | None
    people: int
    maps: int
    practitioner_in_inner_circle: Share
    more_than_half_waking_time_at_home: Share
    family_or_home_based: Share
    network_size: Spread
    size_by_kind: Mapping[str, Spread]
    rings: Mapping[int, Mapping[str, int]]
    impact: Mapping[str, int]
    current_connections: int
    practitioners: int
    roles: Mapping[str, int]
    time_at_home: Spread
    lost: tuple[int, int]
    wished_for: tuple[int, int]
    change_people: int
    change: Mapping[str, Change]


def _histogram(rows: Iterable[tuple[Any, ...]], what: str) -> Spread:
    return Spread({int(v): int(n) for w, v, n in rows if w == what and v is not None})


def _change(rows: list[tuple[Any, ...]], what: str, with_differences: bool = True) -> Change:
    values = _histogram(rows, what)
    return Change(
        up=sum(n for v, n in values.histogram.items() if v > 0),
        same=values.histogram.get(0, 0),
        down=sum(n for v, n in values.histogram.items() if v < 0),
        differences=values if with_differences else None,
    )


def compute(
    engine: Engine,
    *,
    since: date | None = None,
    until: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> PopulationMeasures:
    """Run the report's queries on an engine whose flat tables are loaded."""
    engine.materialize(PER_MAP, per_map_sql(since, until))
    sql = queries()
    results: dict[str, list[tuple[Any, ...]]] = {}
    for name, statement in sql.items():
        if progress:
            progress(name)
        results[name] = engine.query(statement)
    (people, maps, prac, tah_den, tah, fam_den, fam, lost, lost_people, wished, wished_people) = (
        int(v) for v in results["totals"][0]
    )
    sizes = results["sizes"]
    rings: dict[int, dict[str, int]] = {}
    for ring, kind, n in results["rings"]:
        if ring is not None and kind in Kind.__members__.values():
            rings.setdefault(int(ring), {k.value: 0 for k in Kind})[str(kind)] = int(n)
    impact = {str(i): int(n) for i, n in results["impact"] if i is not None}
    change_rows = results["change"]
    roles = {str(k): int(n) for k, n in results["roles"]}
    return PopulationMeasures(
        since=since,
        until=until,
        people=people,
        maps=maps,
        practitioner_in_inner_circle=Share(prac, people),
        more_than_half_waking_time_at_home=Share(tah, tah_den),
        family_or_home_based=Share(fam, fam_den),
        network_size=_histogram(sizes, "all"),
        size_by_kind={k.value: _histogram(sizes, k.value) for k in Kind},
        rings=dict(sorted(rings.items())),
        impact={i.value: impact.get(i.value, 0) for i in Impact},
        current_connections=sum(int(n) for _, n in results["impact"]),
        practitioners=int(results["practitioners"][0][0]),
        roles={r.value: roles.get(r.value, 0) for r in Role},
        time_at_home=_histogram(sizes, "time_at_home"),
        lost=(lost, lost_people),
        wished_for=(wished, wished_people),
        change_people=sum(int(n) for w, _, n in change_rows if w == "people"),
        change={
            "network_size": _change(change_rows, "network_size"),
            "inner_circle": _change(change_rows, "inner_circle"),
            "time_at_home": _change(change_rows, "time_at_home"),
            "negative_share": _change(change_rows, "negative_share", with_differences=False),
        },
    )
