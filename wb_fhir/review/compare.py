"""What changed between maps of the same person (pure).

:func:`compare` puts two or more maps in date order and compares each with the next;
:func:`compare_pair` compares two. Connections are matched by their stable id; a connection
whose id is new is matched to one that disappeared when both have the same kind and the same
label (ignoring case and spacing), and the result says so (``matched_by="label"``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from wb_fhir.errors import InputError, Problem
from wb_fhir.measures import NetworkMeasures, measure
from wb_fhir.model import Connection, Goal, Signpost, Subject, WellbeingMap
from wb_fhir.terminology import (
    IMPACT_WEIGHT,
    Category,
    Disclosure,
    Frequency,
    GoalStatus,
    Impact,
    Kind,
    Role,
    SignpostStatus,
    Status,
    display,
)


class Change(StrEnum):
    """One kind of change of a connection between two maps."""

    ADDED = "added"
    REMOVED = "removed"  # gone from the map altogether
    BECAME_LOST = "became-lost"
    BECAME_WISHED_FOR = "became-wished-for"
    BECAME_CURRENT = "became-current"
    MOVED_CLOSER = "moved-closer"
    MOVED_FURTHER = "moved-further"
    IMPACT_BETTER = "impact-better"
    IMPACT_WORSE = "impact-worse"
    IMPACT_CHANGED = "impact-changed"  # re-rated at the same weight (mixed <-> neutral)
    KIND = "kind"
    LABEL = "label"
    CATEGORY = "category"
    FREQUENCY = "frequency"
    DISCLOSURE = "disclosure"
    ROLES = "roles"


CHANGE_TEXT: dict[Change, str] = {
    Change.ADDED: "added",
    Change.REMOVED: "gone from the map",
    Change.BECAME_LOST: "became lost",
    Change.BECAME_WISHED_FOR: "now hoped for",
    Change.BECAME_CURRENT: "became current",
    Change.MOVED_CLOSER: "moved closer",
    Change.MOVED_FURTHER: "moved further",
    Change.IMPACT_BETTER: "impact better",
    Change.IMPACT_WORSE: "impact worse",
    Change.IMPACT_CHANGED: "impact re-rated",
    Change.KIND: "kind changed",
    Change.LABEL: "renamed",
    Change.CATEGORY: "category changed",
    Change.FREQUENCY: "frequency changed",
    Change.DISCLOSURE: "knows about mental health changed",
    Change.ROLES: "roles changed",
}
"""Plain words for each change, for tables and narratives."""

# The one change a picture shows per connection: the most telling comes first.
_HIGHLIGHT_ORDER: tuple[Change, ...] = (
    Change.ADDED,
    Change.BECAME_LOST,
    Change.BECAME_WISHED_FOR,
    Change.BECAME_CURRENT,
    Change.MOVED_CLOSER,
    Change.MOVED_FURTHER,
    Change.IMPACT_BETTER,
    Change.IMPACT_WORSE,
)


class GoalChange(StrEnum):
    """One kind of change of a goal between two maps."""

    NEW = "new"
    CLOSED = "closed"  # became achieved or abandoned
    REOPENED = "reopened"
    STATUS = "status"
    MILESTONE_DONE = "milestone-done"
    MILESTONE_ADDED = "milestone-added"
    REMOVED = "removed"


class SignpostChange(StrEnum):
    """One kind of change of a sign-post between two maps."""

    NEW = "new"
    STATUS = "status"
    REMOVED = "removed"


CLOSED_GOAL = frozenset({GoalStatus.ACHIEVED, GoalStatus.ABANDONED})
CLOSED_SIGNPOST = frozenset({SignpostStatus.ATTENDED, SignpostStatus.DECLINED})

Value = str | int | bool | float | None


@dataclass(frozen=True)
class FieldChange:
    """One change of one connection, with the values before and after (codes as text)."""

    change: Change
    before: Value | tuple[str, ...] = None
    after: Value | tuple[str, ...] = None

    def to_json(self) -> dict[str, Any]:
        return {"change": self.change.value, "before": _plain(self.before), "after": _plain(self.after)}


@dataclass(frozen=True)
class ConnectionChange:
    """How one connection changed; ``id`` is its id on the newer map (older if removed)."""

    id: str
    label: str
    kind: Kind
    changes: tuple[FieldChange, ...]
    matched_by: str = "id"  # "id", "label" (kind + label fallback), or "" (added or removed)
    old_id: str | None = None

    @property
    def kinds(self) -> tuple[Change, ...]:
        return tuple(c.change for c in self.changes)

    @property
    def headline(self) -> Change:
        """The one change to highlight on a picture."""
        for change in _HIGHLIGHT_ORDER:
            if change in self.kinds:
                return change
        return self.changes[0].change

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "old_id": self.old_id,
            "label": self.label,
            "kind": self.kind.value,
            "matched_by": self.matched_by,
            "changes": [c.to_json() for c in self.changes],
        }


@dataclass(frozen=True)
class TieChange:
    """A tie added or gone (``change`` is ADDED or REMOVED); ends are newer-map ids."""

    change: Change
    from_id: str
    from_label: str
    to_id: str
    to_label: str
    type: str

    def to_json(self) -> dict[str, Any]:
        return {
            "change": self.change.value,
            "from": self.from_id,
            "to": self.to_id,
            "type": self.type,
        }


@dataclass(frozen=True)
class Measure:
    """One network measure over the maps compared, oldest first."""

    name: str
    label: str
    values: tuple[Value, ...]

    @property
    def before(self) -> Value:
        return self.values[0]

    @property
    def after(self) -> Value:
        return self.values[-1]

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "values": list(self.values)}


@dataclass(frozen=True)
class GoalProgress:
    """How one goal changed, and where it stands on the newer map."""

    id: str
    description: str
    changes: tuple[GoalChange, ...]
    status_before: GoalStatus | None
    status_after: GoalStatus | None
    milestones_done: int
    milestones_total: int
    completed: tuple[str, ...] = ()  # milestones done since the older map (descriptions)
    added_milestones: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "description": self.description,
            "changes": [c.value for c in self.changes],
            "status_before": self.status_before.value if self.status_before else None,
            "status_after": self.status_after.value if self.status_after else None,
            "milestones_done": self.milestones_done,
            "milestones_total": self.milestones_total,
            "completed": list(self.completed),
            "added_milestones": list(self.added_milestones),
        }


@dataclass(frozen=True)
class SignpostProgress:
    """How one sign-post changed (``id`` is ``asset--reason``)."""

    id: str
    asset: str
    reason: str
    change: SignpostChange
    status_before: SignpostStatus | None
    status_after: SignpostStatus | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "asset": self.asset,
            "reason": self.reason,
            "change": self.change.value,
            "status_before": self.status_before.value if self.status_before else None,
            "status_after": self.status_after.value if self.status_after else None,
        }


@dataclass(frozen=True)
class MapChanges:
    """Everything that changed from an older map to a newer map of the same person."""

    old_date: date
    new_date: date
    connections: tuple[ConnectionChange, ...]
    ties: tuple[TieChange, ...]
    measures: tuple[Measure, ...]
    goals: tuple[GoalProgress, ...]
    signposts: tuple[SignpostProgress, ...]
    notes: tuple[str, ...] = ()  # how the comparison was made (fall-back matches)

    @property
    def highlight(self) -> dict[str, str]:
        """``{connection id on the newer map: change}`` for the renderer (removed ones are not on it)."""
        return {c.id: c.headline.value for c in self.connections if Change.REMOVED not in c.kinds}

    @property
    def unchanged(self) -> bool:
        return not (
            self.connections
            or self.ties
            or any(m.changed for m in self.measures)
            or any(g.changes for g in self.goals)
            or self.signposts
        )

    def to_json(self) -> dict[str, Any]:
        """Plain data for machines (codes as text, dates ISO 8601)."""
        return {
            "old_date": self.old_date.isoformat(),
            "new_date": self.new_date.isoformat(),
            "notes": list(self.notes),
            "connections": [c.to_json() for c in self.connections],
            "ties": [t.to_json() for t in self.ties],
            "measures": [m.to_json() for m in self.measures],
            "goals": [g.to_json() for g in self.goals],
            "signposts": [s.to_json() for s in self.signposts],
        }


# --- comparing -------------------------------------------------------------------------


def same_person(a: Subject, b: Subject) -> bool:
    """True when two subjects share an identifier and none of their identifiers disagree."""
    pairs = [(a.nhs_number, b.nhs_number), (a.fhir_id, b.fhir_id)]
    known = [(x, y) for x, y in pairs if x and y]
    return bool(known) and all(x == y for x, y in known)


def order_maps(maps: Sequence[WellbeingMap], names: Sequence[str] | None = None) -> list[int]:
    """Indexes of ``maps`` oldest first, after checking they can be compared.

    Refuses maps of different people and two different maps of the same day (a person has
    one map a day: both would be the same record). The very same map twice is allowed.
    ``names`` (usually file names) say which inputs are meant in errors.
    """
    labels = list(names) if names is not None else [f"map {i + 1}" for i in range(len(maps))]
    if len(maps) < 2:
        raise InputError("a comparison needs at least two maps")
    problems: list[Problem] = []
    for i, other in enumerate(maps[1:], start=1):
        if not same_person(maps[0].subject, other.subject):
            problems.append(Problem("", f"{labels[0]} and {labels[i]} are maps of different people"))
    if problems:
        raise InputError(problems)
    order = sorted(range(len(maps)), key=lambda i: maps[i].date)
    for a, b in itertools.pairwise(order):
        if maps[a].date == maps[b].date and maps[a] != maps[b]:
            problems.append(
                Problem(
                    "", f"{labels[a]} and {labels[b]} are both dated {maps[a].date}: compare maps of different days"
                )
            )
    if problems:
        raise InputError(problems)
    return order


def compare(maps: Sequence[WellbeingMap], names: Sequence[str] | None = None) -> tuple[MapChanges, ...]:
    """The changes from each map to the next, oldest first (see :func:`order_maps`)."""
    order = order_maps(maps, names)
    ordered = [maps[i] for i in order]
    return tuple(compare_pair(a, b) for a, b in itertools.pairwise(ordered))


def compare_pair(old: WellbeingMap, new: WellbeingMap, names: Sequence[str] | None = None) -> MapChanges:
    """What changed from ``old`` to ``new`` (checked as by :func:`order_maps`; given in any order)."""
    order = order_maps([old, new], names)
    if order[0] == 1:
        old, new = new, old
    matches, fallback = _match(old, new)
    notes = tuple(
        f"{new.connection(n).kind.value} {new.connection(n).label!r}: matched by kind and label "
        f"(id {o!r} on the older map, {n!r} on the newer)"
        for o, n in fallback
    )
    to_new = dict(matches)
    return MapChanges(
        old_date=old.date,
        new_date=new.date,
        connections=_connection_changes(old, new, to_new, {n for _, n in fallback}),
        ties=_tie_changes(old, new, to_new),
        measures=measures_over((old, new)),
        goals=_goal_changes(old, new),
        signposts=_signpost_changes(old, new),
        notes=notes,
    )


def _normal_label(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _match(old: WellbeingMap, new: WellbeingMap) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Pairs (old id, new id) of the same connection, and those of them matched by label."""
    new_ids = {c.id for c in new.connections}
    old_ids = {c.id for c in old.connections}
    matches = [(c.id, c.id) for c in old.connections if c.id in new_ids]
    by_label: dict[tuple[Kind, str], list[str]] = {}
    for c in new.connections:
        if c.id not in old_ids:
            by_label.setdefault((c.kind, _normal_label(c.label)), []).append(c.id)
    gone: dict[tuple[Kind, str], list[str]] = {}
    for c in old.connections:
        if c.id not in new_ids:
            gone.setdefault((c.kind, _normal_label(c.label)), []).append(c.id)
    # Only one-to-one matches count: two "Friend"s cannot be told apart by label.
    fallback = [(o[0], by_label[key][0]) for key, o in gone.items() if len(o) == 1 and len(by_label.get(key, [])) == 1]
    return matches + fallback, fallback


def _connection_changes(
    old: WellbeingMap, new: WellbeingMap, to_new: dict[str, str], by_label: set[str]
) -> tuple[ConnectionChange, ...]:
    out: list[ConnectionChange] = []
    to_old = {n: o for o, n in to_new.items()}
    for c in new.connections:
        if c.id not in to_old:
            out.append(ConnectionChange(c.id, c.label, c.kind, (FieldChange(Change.ADDED, after=c.status.value),)))
            continue
        before = old.connection(to_old[c.id])
        changes = _field_changes(before, c)
        if changes:
            out.append(
                ConnectionChange(
                    c.id,
                    c.label,
                    c.kind,
                    changes,
                    matched_by="label" if c.id in by_label else "id",
                    old_id=before.id,
                )
            )
    for c in old.connections:
        if c.id not in to_new:
            out.append(ConnectionChange(c.id, c.label, c.kind, (FieldChange(Change.REMOVED, before=c.status.value),)))
    return tuple(out)


_STATUS_CHANGE = {Status.LOST: Change.BECAME_LOST, Status.WISHED_FOR: Change.BECAME_WISHED_FOR}


def _field_changes(a: Connection, b: Connection) -> tuple[FieldChange, ...]:
    out: list[FieldChange] = []
    if a.status is not b.status:
        out.append(FieldChange(_STATUS_CHANGE.get(b.status, Change.BECAME_CURRENT), a.status.value, b.status.value))
    if a.ring != b.ring:
        out.append(FieldChange(Change.MOVED_CLOSER if b.ring < a.ring else Change.MOVED_FURTHER, a.ring, b.ring))
    if a.impact is not b.impact:
        delta = IMPACT_WEIGHT[b.impact] - IMPACT_WEIGHT[a.impact]
        kind = Change.IMPACT_BETTER if delta > 0 else Change.IMPACT_WORSE if delta < 0 else Change.IMPACT_CHANGED
        out.append(FieldChange(kind, a.impact.value, b.impact.value))
    if _normal_label(a.label) != _normal_label(b.label):  # case and spacing are not a rename
        out.append(FieldChange(Change.LABEL, a.label, b.label))
    simple: list[tuple[Change, Callable[[Connection], Value]]] = [
        (Change.KIND, lambda c: c.kind.value),
        (Change.CATEGORY, lambda c: c.category.value),
        (Change.FREQUENCY, lambda c: c.frequency.value if c.frequency else None),
        (Change.DISCLOSURE, lambda c: c.knows_about_mental_health.value if c.knows_about_mental_health else None),
    ]
    for change, get in simple:
        if get(a) != get(b):
            out.append(FieldChange(change, get(a), get(b)))
    if set(a.roles) != set(b.roles):
        out.append(FieldChange(Change.ROLES, tuple(r.value for r in a.roles), tuple(r.value for r in b.roles)))
    return tuple(out)


def _tie_changes(old: WellbeingMap, new: WellbeingMap, to_new: dict[str, str]) -> tuple[TieChange, ...]:
    # Old ties are moved into the newer map's ids, so a re-identified connection keeps its ties.
    before = {(to_new.get(t.from_id, t.from_id), t.type.value, to_new.get(t.to_id, t.to_id)) for t in old.ties}
    after = {(t.from_id, t.type.value, t.to_id) for t in new.ties}
    labels = {c.id: c.label for c in old.connections} | {c.id: c.label for c in new.connections}
    labels |= {to_new[c.id]: c.label for c in old.connections if c.id in to_new and to_new[c.id] not in labels}

    def tie(change: Change, key: tuple[str, str, str]) -> TieChange:
        return TieChange(change, key[0], labels.get(key[0], key[0]), key[2], labels.get(key[2], key[2]), key[1])

    ordered_new = [(t.from_id, t.type.value, t.to_id) for t in new.ties]
    ordered_old = [(to_new.get(t.from_id, t.from_id), t.type.value, to_new.get(t.to_id, t.to_id)) for t in old.ties]
    return tuple(
        [tie(Change.ADDED, k) for k in ordered_new if k not in before]
        + [tie(Change.REMOVED, k) for k in ordered_old if k not in after]
    )


_MEASURES: tuple[tuple[str, str, Callable[[NetworkMeasures], Value]], ...] = (
    ("size", "Current connections", lambda m: m.size),
    ("size-person", "People", lambda m: m.by_kind[Kind.PERSON]),
    ("size-place", "Places", lambda m: m.by_kind[Kind.PLACE]),
    ("size-activity", "Activities", lambda m: m.by_kind[Kind.ACTIVITY]),
    ("inner-circle", "In the inner circle", lambda m: m.inner_circle),
    ("positive", "Positive", lambda m: m.positive),
    ("negative", "Negative", lambda m: m.negative),
    ("mixed", "Mixed", lambda m: m.mixed),
    ("balance", "Balance (positive minus negative)", lambda m: m.balance),
    ("lost", "Lost", lambda m: m.by_status[Status.LOST]),
    ("wished-for", "Hoped for", lambda m: m.by_status[Status.WISHED_FOR]),
    ("practitioner-in-inner-circle", "Practitioner in the inner circle", lambda m: m.practitioner_in_inner_circle),
    (
        "family-home-share",
        "Family or home based (%)",
        lambda m: round(100 * m.family_or_home_share) if m.family_or_home_share is not None else None,
    ),
    ("time-at-home", "Waking time at home (%)", lambda m: m.time_at_home),
)


def measures_over(maps: Sequence[WellbeingMap]) -> tuple[Measure, ...]:
    """The network measures of each map (in the order given), one row per measure."""
    figures = [measure(m) for m in maps]
    return tuple(Measure(name, label, tuple(get(f) for f in figures)) for name, label, get in _MEASURES)


def _goal_changes(old: WellbeingMap, new: WellbeingMap) -> tuple[GoalProgress, ...]:
    before = {g.id: g for g in old.goals}
    after_ids = {g.id for g in new.goals}
    out = [_goal_progress(before.get(g.id), g) for g in new.goals]
    out += [
        GoalProgress(
            g.id,
            g.description,
            (GoalChange.REMOVED,),
            g.status,
            None,
            sum(m.done for m in g.milestones),
            len(g.milestones),
        )
        for g in old.goals
        if g.id not in after_ids
    ]
    return tuple(out)


def _goal_progress(a: Goal | None, b: Goal) -> GoalProgress:
    changes: list[GoalChange] = []
    done_before = {m.id for m in a.milestones if m.done} if a else set()
    known_before = {m.id for m in a.milestones} if a else set()
    if a is None:
        changes.append(GoalChange.NEW)
    elif a.status is not b.status:
        if b.status in CLOSED_GOAL and a.status not in CLOSED_GOAL:
            changes.append(GoalChange.CLOSED)
        elif a.status in CLOSED_GOAL and b.status not in CLOSED_GOAL:
            changes.append(GoalChange.REOPENED)
        else:
            changes.append(GoalChange.STATUS)
    completed = tuple(m.description for m in b.milestones if m.done and m.id not in done_before)
    added = tuple(m.description for m in b.milestones if m.id not in known_before) if a else ()
    if completed:
        changes.append(GoalChange.MILESTONE_DONE)
    if added:
        changes.append(GoalChange.MILESTONE_ADDED)
    return GoalProgress(
        b.id,
        b.description,
        tuple(changes),
        a.status if a else None,
        b.status,
        sum(m.done for m in b.milestones),
        len(b.milestones),
        completed,
        added,
    )


def _signpost_changes(old: WellbeingMap, new: WellbeingMap) -> tuple[SignpostProgress, ...]:
    before: dict[str, Signpost] = {s.id: s for s in old.signposts}
    after_ids = {s.id for s in new.signposts}
    out: list[SignpostProgress] = []
    for s in new.signposts:
        was = before.get(s.id)
        if was is None:
            out.append(SignpostProgress(s.id, s.asset, s.reason, SignpostChange.NEW, None, s.status))
        elif was.status is not s.status:
            out.append(SignpostProgress(s.id, s.asset, s.reason, SignpostChange.STATUS, was.status, s.status))
    out += [
        SignpostProgress(s.id, s.asset, s.reason, SignpostChange.REMOVED, s.status, None)
        for s in old.signposts
        if s.id not in after_ids
    ]
    return tuple(out)


def _plain(value: Value | tuple[str, ...]) -> Any:
    return list(value) if isinstance(value, tuple) else value


def code_text(value: Value | tuple[str, ...], change: Change) -> str:
    """A value of a change in words (codes by their display)."""
    enums: dict[Change, type[StrEnum]] = {
        Change.CATEGORY: Category,
        Change.FREQUENCY: Frequency,
        Change.DISCLOSURE: Disclosure,
        Change.IMPACT_BETTER: Impact,
        Change.IMPACT_WORSE: Impact,
        Change.IMPACT_CHANGED: Impact,
        Change.BECAME_LOST: Status,
        Change.BECAME_WISHED_FOR: Status,
        Change.BECAME_CURRENT: Status,
        Change.ADDED: Status,
        Change.REMOVED: Status,
        Change.KIND: Kind,
    }
    if value is None:
        return "-"
    if isinstance(value, tuple):
        return ", ".join(display(Role(v)) for v in value) or "none"
    enum = enums.get(change)
    if enum is not None and isinstance(value, str):
        return display(enum(value))
    return str(value)
