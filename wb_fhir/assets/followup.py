"""Were sign-posts followed up? Which are open, due or overdue (pure).

A sign-post is *followed up* once it reached attended or declined. An open one (suggested,
agreed, referred) is *due* on its follow-up date, or, without one, :data:`FOLLOW_UP_DAYS`
after its last step (the step's date, else the sign-post's date, else the map's date: the
status held on the day of the map), and *overdue* the day after.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from wb_fhir.model import Signpost, WellbeingMap
from wb_fhir.terminology import FOLLOW_UP_DAYS, SignpostStatus, display

FOLLOWED_UP = frozenset({SignpostStatus.ATTENDED, SignpostStatus.DECLINED})


class FollowUpState(StrEnum):
    """Where a sign-post stands on a given day."""

    FOLLOWED_UP = "followed-up"
    OPEN = "open"
    DUE = "due"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class FollowUp:
    """One sign-post of one map, as it stands on a day."""

    wmap: WellbeingMap
    signpost: Signpost
    asset_name: str
    reason_label: str
    since: date
    """The date of its current status."""
    due: date | None
    """When to check on it (open sign-posts only)."""
    state: FollowUpState

    @property
    def steps(self) -> list[tuple[SignpostStatus, date]]:
        """The recorded steps, oldest first."""
        s = self.signpost
        return [(status, day) for status in SignpostStatus if (day := s.step_date(status)) is not None]

    def to_json(self) -> dict[str, Any]:
        s = self.signpost
        return {
            "asset": s.asset,
            "asset_name": self.asset_name,
            "reason": s.reason,
            "reason_label": self.reason_label,
            "status": s.status.value,
            "since": self.since.isoformat(),
            "due": self.due.isoformat() if self.due else None,
            "state": self.state.value,
            "steps": [{"status": status.value, "date": day.isoformat()} for status, day in self.steps],
            "note": s.note,
            "map_date": self.wmap.date.isoformat(),
        }

    def line(self) -> str:
        """The sign-post in words: where it stands and since when."""
        s = self.signpost
        text = f"{self.asset_name} for {self.reason_label}: {display(s.status).lower()} since {self.since.isoformat()}"
        if s.status is SignpostStatus.DECLINED and s.note:
            text += f" ({s.note})"
        if self.state is FollowUpState.OVERDUE and self.due:
            text += f"; overdue since {self.due.isoformat()}"
        elif self.due:
            text += f"; check by {self.due.isoformat()}"
        return text


def _label(wmap: WellbeingMap, reason: str) -> str:
    labels = {c.id: c.label for c in wmap.connections} | {g.id: g.description for g in wmap.goals}
    return labels.get(reason, reason)


def follow_up(wmap: WellbeingMap, s: Signpost, *, on: date, asset_names: Mapping[str, str] | None = None) -> FollowUp:
    """Where one sign-post of a map stands on the day ``on``."""
    since = s.step_date(s.status) or s.date or wmap.date
    if s.status in FOLLOWED_UP:
        due, state = None, FollowUpState.FOLLOWED_UP
    else:
        due = s.follow_up or since + timedelta(days=FOLLOW_UP_DAYS)
        state = FollowUpState.OVERDUE if due < on else FollowUpState.DUE if due == on else FollowUpState.OPEN
    name = (asset_names or {}).get(s.asset, s.asset)
    return FollowUp(wmap, s, name, _label(wmap, s.reason), since, due, state)


def follow_ups(
    wmap: WellbeingMap, *, on: date | None = None, asset_names: Mapping[str, str] | None = None
) -> list[FollowUp]:
    """Every sign-post of a map, as it stands on ``on`` (the map's date by default)."""
    day = on or wmap.date
    return [follow_up(wmap, s, on=day, asset_names=asset_names) for s in wmap.signposts]


def latest_per_person(maps: Iterable[WellbeingMap]) -> list[WellbeingMap]:
    """The newest map of each person (equal dates: the later map id), in the order people first appear."""
    latest: dict[str, WellbeingMap] = {}
    for m in maps:
        key = m.subject.key
        if key not in latest or (m.date, m.id) > (latest[key].date, latest[key].id):
            latest[key] = m
    return list(latest.values())
