"""Disclosure control and the report's JSON (pure).

NHS Digital's rule for published aggregates: a count from 1 to 7 is suppressed (shown as
``"*"``, and so is any percentage or median that rests on it), every other count is rounded
to the nearest 5, and percentages are computed from the rounded counts. Zero stays zero.
With ``suppress=False`` (a team's own audit) every figure is exact.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from wb_fhir.report.measures import TIME_AT_HOME_BANDS, Change, PopulationMeasures, Share, Spread

SUPPRESSED = "*"
SUPPRESS_FROM, SUPPRESS_TO, ROUND_TO = 1, 7, 5
RULE = (
    "NHS Digital disclosure control: counts from 1 to 7 are suppressed (*), other counts are rounded "
    "to the nearest 5, and percentages are computed from the rounded counts"
)
NO_RULE = "no disclosure control: exact counts, for the team's own audit only"

Figure = int | float | str | None


def protect(count: int, suppress: bool = True) -> int | str:
    """A count as it may be published: ``"*"`` for 1-7, else rounded to the nearest 5."""
    if not suppress:
        return count
    if SUPPRESS_FROM <= count <= SUPPRESS_TO:
        return SUPPRESSED
    # Whole numbers never fall half-way between two multiples of 5.
    return ROUND_TO * round(count / ROUND_TO)


def percent(count: int | str, denominator: int | str) -> float | str | None:
    """``count`` of ``denominator`` in percent, one decimal, half away from zero."""
    if count == SUPPRESSED or denominator == SUPPRESSED:
        return SUPPRESSED
    assert isinstance(count, int) and isinstance(denominator, int)
    if denominator == 0:
        return None
    exact = Decimal(100 * count) / Decimal(denominator)
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def share(value: Share, suppress: bool = True) -> dict[str, Figure]:
    count, denominator = protect(value.count, suppress), protect(value.denominator, suppress)
    return {"count": count, "denominator": denominator, "percent": percent(count, denominator)}


def _figure(value: float | None, n: int, suppress: bool) -> float | str | None:
    # A median of one to seven people would tell about those few.
    if value is None:
        return None
    return SUPPRESSED if suppress and SUPPRESS_FROM <= n <= SUPPRESS_TO else value


def spread(value: Spread, suppress: bool = True) -> dict[str, Any]:
    q1, q3 = value.quantile(0.25), value.quantile(0.75)
    quartiles = None if q1 is None or q3 is None else [q1, q3]
    hidden = suppress and SUPPRESS_FROM <= value.n <= SUPPRESS_TO
    return {
        "median": _figure(value.median, value.n, suppress),
        "quartiles": SUPPRESSED if hidden and quartiles else quartiles,
    }


def change(value: Change, suppress: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        direction: share(Share(getattr(value, direction), value.people), suppress)
        for direction in ("up", "same", "down")
    }
    if value.differences is not None:
        out["median_difference"] = _figure(value.differences.median, value.differences.n, suppress)
    return out


def report_json(m: PopulationMeasures, *, suppress: bool = True) -> dict[str, Any]:
    """The report as one JSON object with stable keys (documented in docs/report.md)."""

    def count(n: int) -> int | str:
        return protect(n, suppress)

    return {
        "disclosure_control": RULE if suppress else NO_RULE,
        "suppressed": suppress,
        "period": {
            "since": m.since.isoformat() if m.since else None,
            "until": m.until.isoformat() if m.until else None,
        },
        "people": count(m.people),
        "maps": count(m.maps),
        "practitioner_in_inner_circle": share(m.practitioner_in_inner_circle, suppress),
        "more_than_half_waking_time_at_home": share(m.more_than_half_waking_time_at_home, suppress),
        "family_or_home_based": share(m.family_or_home_based, suppress),
        "network_size": {
            "people": count(m.network_size.n),
            **spread(m.network_size, suppress),
            "by_kind": {kind: spread(s, suppress) for kind, s in m.size_by_kind.items()},
        },
        "rings": {str(ring): {kind: count(n) for kind, n in kinds.items()} for ring, kinds in m.rings.items()},
        "impact": {i: share(Share(n, m.current_connections), suppress) for i, n in m.impact.items()},
        "roles": {r: share(Share(n, m.practitioners), suppress) for r, n in m.roles.items()},
        "time_at_home": {
            "recorded": count(m.time_at_home.n),
            "median": _figure(m.time_at_home.median, m.time_at_home.n, suppress),
            "bands": {name: count(m.time_at_home.count_between(lo, hi)) for name, lo, hi in TIME_AT_HOME_BANDS},
        },
        "lost": {"connections": count(m.lost[0]), "people": share(Share(m.lost[1], m.people), suppress)},
        "wished_for": {
            "connections": count(m.wished_for[0]),
            "people": share(Share(m.wished_for[1], m.people), suppress),
        },
        "change": {
            "people": count(m.change_people),
            **{name: change(c, suppress) for name, c in m.change.items()},
        },
    }
