"""Network measures a practitioner cares about, computed from a map (pure).

Sizes, balance and shares count *current* connections only; lost and wished-for
connections are counted on their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from wb_fhir.model import WellbeingMap
from wb_fhir.terminology import Category, Impact, Kind, Status, TieType

POSITIVE = frozenset({Impact.POSITIVE, Impact.VERY_POSITIVE})
NEGATIVE = frozenset({Impact.NEGATIVE, Impact.VERY_NEGATIVE})
FAMILY = frozenset({Category.FAMILY, Category.PARTNER})


@dataclass(frozen=True)
class NetworkMeasures:
    """Derived measures of one map."""

    size: int
    by_kind: dict[Kind, int]
    by_ring: dict[int, int]
    by_status: dict[Status, int]
    by_impact: dict[Impact, int]
    positive: int
    negative: int
    mixed: int
    practitioner_in_inner_circle: bool
    family_or_home_based: int
    time_at_home: int | None

    @property
    def inner_circle(self) -> int:
        return self.by_ring.get(1, 0)

    @property
    def family_or_home_share(self) -> float | None:
        """Share (0-1) of current connections that are family or home based."""
        return self.family_or_home_based / self.size if self.size else None

    @property
    def balance(self) -> int:
        """Positive minus negative current connections."""
        return self.positive - self.negative


def measure(wmap: WellbeingMap) -> NetworkMeasures:
    """Compute the network measures of a map."""
    current = [c for c in wmap.connections if c.status is Status.CURRENT]
    by_kind = {k: sum(1 for c in current if c.kind is k) for k in Kind}
    by_ring = {r: sum(1 for c in current if c.ring == r) for r in range(1, len(wmap.rings) + 1)}
    by_status = {s: sum(1 for c in wmap.connections if c.status is s) for s in Status}
    by_impact = {i: sum(1 for c in current if c.impact is i) for i in Impact}
    homes = {c.id for c in current if c.kind is Kind.PLACE and c.category is Category.HOME}
    at_home = {t.from_id for t in wmap.ties if t.type is TieType.TAKES_PLACE_AT and t.to_id in homes}
    family_or_home = sum(
        1 for c in current if (c.kind is Kind.PERSON and c.category in FAMILY) or c.id in homes or c.id in at_home
    )
    return NetworkMeasures(
        size=len(current),
        by_kind=by_kind,
        by_ring=by_ring,
        by_status=by_status,
        by_impact=by_impact,
        positive=sum(by_impact[i] for i in POSITIVE),
        negative=sum(by_impact[i] for i in NEGATIVE),
        mixed=by_impact[Impact.MIXED],
        practitioner_in_inner_circle=any(c.is_practitioner and c.ring == 1 for c in current),
        family_or_home_based=family_or_home,
        time_at_home=wmap.time_at_home,
    )
