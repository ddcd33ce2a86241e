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
    """One sign-post, as it stands on a day."""

    where: str
    """Where it was read: a map file, or ``ServiceRequest/id`` on a server."""
    asset: str
    asset_name: str
    reason: str
    reason_label: str
    status: SignpostStatus
    since: date
    """The date of its current status."""
    due: date | None
    """When to check on it (open sign-posts only)."""
    state: FollowUpState
    steps: tuple[tuple[SignpostStatus, date], ...] = ()
    """The recorded steps, oldest first."""
    note: str | None = None
    nhs_number: str | None = None
    person: str | None = None

    def to_json(self, *, personal: bool = False) -> dict[str, Any]:
        """Plain data; the person's NHS number and name only when ``personal``."""
        out: dict[str, Any] = {
            "where": self.where,
            "asset": self.asset,
            "asset_name": self.asset_name,
            "reason": self.reason,
            "reason_label": self.reason_label,
            "status": self.status.value,
            "since": self.since.isoformat(),
            "due": self.due.isoformat() if self.due else None,
            "state": self.state.value,
            "steps": [{"status": status.value, "date": day.isoformat()} for status, day in self.steps],
            "note": self.note,
        }
        if personal:
            out["nhs_number"] = self.nhs_number
            out["person"] = self.person
        return out

    def line(self) -> str:
        """The sign-post in words: where it stands and since when."""
        text = (
            f"{self.asset_name} for {self.reason_label}: {display(self.status).lower()} since {self.since.isoformat()}"
        )
        if self.status is SignpostStatus.DECLINED and self.note:
            text += f" ({self.note})"
        if self.state is FollowUpState.OVERDUE and self.due:
            text += f"; overdue since {self.due.isoformat()}"
        elif self.due:
            text += f"; check by {self.due.isoformat()}"
        return text


def due_state(due: date, on: date) -> FollowUpState:
    """Where something due on ``due`` stands on the day ``on``: open before, due that day, overdue after."""
    return FollowUpState.OVERDUE if due < on else FollowUpState.DUE if due == on else FollowUpState.OPEN


def state_on(
    status: SignpostStatus, since: date, follow_up_by: date | None, on: date
) -> tuple[date | None, FollowUpState]:
    """The due date and the state of a sign-post with this status, since this date, on the day ``on``."""
    if status in FOLLOWED_UP:
        return None, FollowUpState.FOLLOWED_UP
    # near the end of the calendar (a map dated 9999-12-31) the due date is the last day there is
    due = follow_up_by or (
        since + timedelta(days=FOLLOW_UP_DAYS) if since <= date.max - timedelta(days=FOLLOW_UP_DAYS) else date.max
    )
    return due, due_state(due, on)


def _label(wmap: WellbeingMap, reason: str) -> str:
    labels = {c.id: c.label for c in wmap.connections} | {g.id: g.description for g in wmap.goals}
    return labels.get(reason, reason)


def follow_up(
    wmap: WellbeingMap, s: Signpost, *, on: date, asset_names: Mapping[str, str] | None = None, where: str = ""
) -> FollowUp:
    """Where one sign-post of a map stands on the day ``on``."""
    since = s.step_date(s.status) or s.date or wmap.date
    due, state = state_on(s.status, since, s.follow_up, on)
    steps = tuple((status, day) for status in SignpostStatus if (day := s.step_date(status)) is not None)
    return FollowUp(
        where=where,
        asset=s.asset,
        asset_name=(asset_names or {}).get(s.asset, s.asset),
        reason=s.reason,
        reason_label=_label(wmap, s.reason),
        status=s.status,
        since=since,
        due=due,
        state=state,
        steps=steps,
        note=s.note,
        nhs_number=wmap.subject.nhs_number,
        person=wmap.subject.display,
    )


def follow_ups(
    wmap: WellbeingMap, *, on: date | None = None, asset_names: Mapping[str, str] | None = None, where: str = ""
) -> list[FollowUp]:
    """Every sign-post of a map, as it stands on ``on`` (the map's date by default)."""
    day = on or wmap.date
    return [follow_up(wmap, s, on=day, asset_names=asset_names, where=where) for s in wmap.signposts]


def latest_per_person(maps: Iterable[WellbeingMap]) -> list[WellbeingMap]:
    """The newest map of each person (equal dates: the later map id), in the order people first appear."""
    latest: dict[str, WellbeingMap] = {}
    for m in maps:
        key = m.subject.key
        if key not in latest or (m.date, m.id) > (latest[key].date, latest[key].id):
            latest[key] = m
    return list(latest.values())
