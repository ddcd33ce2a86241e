"""Change detection between two maps: one crafted pair per kind of change."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from wb_fhir.errors import InputError
from wb_fhir.mapfile import load_map
from wb_fhir.model import Connection, Goal, Milestone, Signpost, Subject, Tie, WellbeingMap
from wb_fhir.review.compare import (
    Change,
    GoalChange,
    SignpostChange,
    compare,
    compare_pair,
    same_person,
)
from wb_fhir.review.text import format_changes
from wb_fhir.terminology import (
    Category,
    Disclosure,
    Frequency,
    GoalStatus,
    Impact,
    Kind,
    Role,
    SignpostStatus,
    Status,
    TieType,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "review"
SUBJECT = Subject(nhs_number="9434765919", display="Sam")

MUM = Connection("mum", Kind.PERSON, "Mum", Category.FAMILY, 1, Impact.POSITIVE, Frequency.DAILY)
GP = Connection(
    "gp",
    Kind.PERSON,
    "GP",
    Category.PRACTITIONER,
    2,
    Impact.NEUTRAL,
    knows_about_mental_health=Disclosure.YES,
    roles=(Role.NAVIGATOR,),
)
GYM = Connection("gym", Kind.PLACE, "Gym", Category.SPORT_LEISURE, 2, Impact.POSITIVE)


def base(**kw: object) -> WellbeingMap:
    fields: dict[str, object] = {
        "subject": SUBJECT,
        "date": date(2026, 1, 10),
        "connections": (MUM, GP, GYM),
        "ties": (Tie("mum", "gp", TieType.KNOWS),),
    }
    fields.update(kw)
    return WellbeingMap(**fields)  # type: ignore[arg-type]


def later(old: WellbeingMap, **kw: object) -> WellbeingMap:
    return replace(old, id="", date=date(2026, 7, 10), **kw)  # type: ignore[arg-type]


def with_connection(wmap: WellbeingMap, cid: str, **kw: object) -> tuple[Connection, ...]:
    return tuple(replace(c, **kw) if c.id == cid else c for c in wmap.connections)  # type: ignore[arg-type]


def only_change(old: WellbeingMap, new: WellbeingMap) -> tuple[str, tuple[Change, ...]]:
    changes = compare_pair(old, new)
    assert len(changes.connections) == 1, changes.connections
    c = changes.connections[0]
    return c.id, c.kinds


def test_same_map_has_no_changes() -> None:
    old = base()
    changes = compare_pair(old, later(old))
    assert changes.unchanged
    assert changes.connections == () and changes.ties == ()


def test_added() -> None:
    old = base()
    cafe = Connection("cafe", Kind.PLACE, "Café", Category.SHOP, 3, Impact.POSITIVE)
    assert only_change(old, later(old, connections=(*old.connections, cafe))) == ("cafe", (Change.ADDED,))


def test_removed_from_the_map() -> None:
    old = base(ties=())
    new = later(old, connections=(MUM, GP))
    cid, kinds = only_change(old, new)
    assert (cid, kinds) == ("gym", (Change.REMOVED,))
    assert "gym" not in compare_pair(old, new).highlight


def test_became_lost() -> None:
    old = base()
    assert only_change(old, later(old, connections=with_connection(old, "gym", status=Status.LOST))) == (
        "gym",
        (Change.BECAME_LOST,),
    )


def test_became_wished_for() -> None:
    old = base()
    new = later(old, connections=with_connection(old, "gym", status=Status.WISHED_FOR))
    assert only_change(old, new) == ("gym", (Change.BECAME_WISHED_FOR,))


def test_became_current() -> None:
    old = base(connections=with_connection(base(), "gym", status=Status.WISHED_FOR))
    new = later(old, connections=with_connection(old, "gym", status=Status.CURRENT))
    assert only_change(old, new) == ("gym", (Change.BECAME_CURRENT,))


def test_moved_closer() -> None:
    old = base()
    changes = compare_pair(old, later(old, connections=with_connection(old, "gym", ring=1)))
    (c,) = changes.connections
    assert c.kinds == (Change.MOVED_CLOSER,)
    assert (c.changes[0].before, c.changes[0].after) == (2, 1)


def test_moved_further() -> None:
    old = base()
    assert only_change(old, later(old, connections=with_connection(old, "mum", ring=3))) == (
        "mum",
        (Change.MOVED_FURTHER,),
    )


def test_impact_better_by_weight() -> None:
    old = base()
    new = later(old, connections=with_connection(old, "gp", impact=Impact.VERY_POSITIVE))
    assert only_change(old, new) == ("gp", (Change.IMPACT_BETTER,))


def test_impact_worse_by_weight() -> None:
    old = base()
    new = later(old, connections=with_connection(old, "mum", impact=Impact.MIXED))
    assert only_change(old, new) == ("mum", (Change.IMPACT_WORSE,))


def test_impact_same_weight_is_a_re_rating() -> None:
    old = base()
    new = later(old, connections=with_connection(old, "gp", impact=Impact.MIXED))
    assert only_change(old, new) == ("gp", (Change.IMPACT_CHANGED,))


def test_category_change() -> None:
    old = base()
    new = later(old, connections=with_connection(old, "gym", category=Category.COMMUNITY))
    changes = compare_pair(old, new)
    (c,) = changes.connections
    assert c.kinds == (Change.CATEGORY,)
    assert (c.changes[0].before, c.changes[0].after) == ("sport-leisure", "community")


def test_frequency_change() -> None:
    old = base()
    new = later(old, connections=with_connection(old, "mum", frequency=Frequency.WEEKLY))
    assert only_change(old, new) == ("mum", (Change.FREQUENCY,))


def test_disclosure_change() -> None:
    old = base()
    new = later(old, connections=with_connection(old, "mum", knows_about_mental_health=Disclosure.PARTLY))
    assert only_change(old, new) == ("mum", (Change.DISCLOSURE,))


def test_roles_change_ignores_order_but_not_content() -> None:
    old = base(connections=with_connection(base(), "gp", roles=(Role.NAVIGATOR, Role.MOTIVATOR)))
    reordered = later(old, connections=with_connection(old, "gp", roles=(Role.MOTIVATOR, Role.NAVIGATOR)))
    assert compare_pair(old, reordered).connections == ()
    new = later(old, connections=with_connection(old, "gp", roles=(Role.BRIDGE_BUILDER,)))
    changes = compare_pair(old, new)
    (c,) = changes.connections
    assert c.kinds == (Change.ROLES,)
    assert c.changes[0].after == ("bridge-builder",)


def test_label_change_by_id() -> None:
    old = base()
    new = later(old, connections=with_connection(old, "gym", label="Leisure centre"))
    assert only_change(old, new) == ("gym", (Change.LABEL,))
    assert compare_pair(old, new).connections[0].changes[0].after == "Leisure centre"


def test_fallback_match_by_kind_and_label_says_so() -> None:
    old = base()
    renamed = replace(GYM, id="the-gym", label="  GYM ", ring=1)
    new = later(old, connections=(MUM, GP, renamed), ties=(Tie("mum", "gp", TieType.KNOWS),))
    changes = compare_pair(old, new)
    (c,) = changes.connections
    assert (c.id, c.old_id, c.matched_by, c.kinds) == ("the-gym", "gym", "label", (Change.MOVED_CLOSER,))
    assert len(changes.notes) == 1 and "matched by kind and label" in changes.notes[0]
    assert "'gym'" in changes.notes[0] and "'the-gym'" in changes.notes[0]


def test_fallback_needs_the_same_kind_and_a_unique_label() -> None:
    old = base()
    as_activity = Connection("gym2", Kind.ACTIVITY, "Gym", Category.SPORT_LEISURE, 2, Impact.POSITIVE)
    new = later(old, connections=(MUM, GP, as_activity))
    kinds = sorted(c.kinds[0] for c in compare_pair(old, new).connections)
    assert kinds == [Change.ADDED, Change.REMOVED]
    assert compare_pair(old, new).notes == ()


def test_fallback_carries_ties_across_the_new_id() -> None:
    old = base(ties=(Tie("gp", "gym", TieType.BRIDGED),))
    new = later(old, connections=(MUM, GP, replace(GYM, id="gym-2")), ties=(Tie("gp", "gym-2", TieType.BRIDGED),))
    changes = compare_pair(old, new)
    assert changes.connections == () and changes.ties == ()


def test_ties_added_and_gone() -> None:
    old = base()
    new = later(old, ties=(Tie("gp", "gym", TieType.BRIDGED),))
    changes = compare_pair(old, new)
    assert [(t.change, t.from_id, t.type, t.to_id) for t in changes.ties] == [
        (Change.ADDED, "gp", "bridged", "gym"),
        (Change.REMOVED, "mum", "knows", "gp"),
    ]


def test_measures_before_and_after() -> None:
    old = base(time_at_home=80)
    new = later(old, connections=with_connection(old, "gp", ring=1, status=Status.CURRENT), time_at_home=60)
    measures = {m.name: m for m in compare_pair(old, new).measures}
    assert (measures["inner-circle"].before, measures["inner-circle"].after) == (1, 2)
    assert (measures["practitioner-in-inner-circle"].before, measures["practitioner-in-inner-circle"].after) == (
        False,
        True,
    )
    assert (measures["time-at-home"].before, measures["time-at-home"].after) == (80, 60)
    assert not measures["size"].changed and measures["size-person"].after == 2


GOAL = Goal(
    "walk",
    "Walk twice a week",
    GoalStatus.ACTIVE,
    about=("gym",),
    milestones=(Milestone("m1", "Walk once"), Milestone("m2", "Walk twice")),
)


def test_goal_milestone_completed() -> None:
    old = base(goals=(GOAL,))
    done = replace(GOAL, milestones=(replace(GOAL.milestones[0], done=True), GOAL.milestones[1]))
    (g,) = compare_pair(old, later(old, goals=(done,))).goals
    assert g.changes == (GoalChange.MILESTONE_DONE,)
    assert (g.milestones_done, g.milestones_total, g.completed) == (1, 2, ("Walk once",))


def test_goal_closed_and_reopened() -> None:
    old = base(goals=(GOAL,))
    achieved = replace(GOAL, status=GoalStatus.ACHIEVED)
    (g,) = compare_pair(old, later(old, goals=(achieved,))).goals
    assert g.changes == (GoalChange.CLOSED,) and g.status_after is GoalStatus.ACHIEVED
    (g,) = compare_pair(base(goals=(achieved,)), later(old, goals=(GOAL,))).goals
    assert g.changes == (GoalChange.REOPENED,)


def test_goal_status_change_between_open_statuses() -> None:
    old = base(goals=(GOAL,))
    (g,) = compare_pair(old, later(old, goals=(replace(GOAL, status=GoalStatus.ON_HOLD),))).goals
    assert (g.changes, g.status_before, g.status_after) == ((GoalChange.STATUS,), GoalStatus.ACTIVE, GoalStatus.ON_HOLD)


def test_goal_new_and_removed() -> None:
    old = base(goals=(GOAL,))
    other = Goal("club", "Join a club")
    goals = compare_pair(old, later(old, goals=(other,))).goals
    assert [(g.id, g.changes) for g in goals] == [("club", (GoalChange.NEW,)), ("walk", (GoalChange.REMOVED,))]


def test_goal_milestone_added() -> None:
    old = base(goals=(GOAL,))
    more = replace(GOAL, milestones=(*GOAL.milestones, Milestone("m3", "Walk with a friend")))
    (g,) = compare_pair(old, later(old, goals=(more,))).goals
    assert g.changes == (GoalChange.MILESTONE_ADDED,) and g.added_milestones == ("Walk with a friend",)


def test_signpost_new_status_and_removed() -> None:
    s1 = Signpost("green-gym", "gym")
    s2 = Signpost("library", "mum")
    old = base(signposts=(s1, s2))
    new = later(old, signposts=(replace(s1, status=SignpostStatus.REFERRED), Signpost("choir", "mum")))
    got = [(s.id, s.change, s.status_before, s.status_after) for s in compare_pair(old, new).signposts]
    assert got == [
        ("green-gym--gym", SignpostChange.STATUS, SignpostStatus.SUGGESTED, SignpostStatus.REFERRED),
        ("choir--mum", SignpostChange.NEW, None, SignpostStatus.SUGGESTED),
        ("library--mum", SignpostChange.REMOVED, SignpostStatus.SUGGESTED, None),
    ]


def test_different_people_are_refused_naming_the_files_only() -> None:
    other = base(subject=Subject(nhs_number="9000000009", display="Jordan"))
    with pytest.raises(InputError) as info:
        compare_pair(base(), later(other), names=("a.yaml", "b.yaml"))
    assert str(info.value) == "a.yaml and b.yaml are maps of different people"


def test_same_person_needs_a_shared_identifier_and_no_disagreement() -> None:
    assert same_person(Subject(nhs_number="9434765919"), Subject(nhs_number="9434765919", fhir_id="Patient/1"))
    assert not same_person(Subject(nhs_number="9434765919"), Subject(fhir_id="Patient/1"))
    assert not same_person(
        Subject(nhs_number="9434765919", fhir_id="Patient/1"), Subject(nhs_number="9434765919", fhir_id="Patient/2")
    )


def test_two_different_maps_of_one_day_are_refused() -> None:
    old = base()
    same_day = replace(old, time_at_home=50)
    with pytest.raises(InputError, match=r"^a.yaml and b.yaml are both dated 2026-01-10"):
        compare_pair(old, same_day, names=("a.yaml", "b.yaml"))
    assert compare_pair(old, old).unchanged


def test_order_is_by_date_whatever_the_order_given() -> None:
    old = base()
    new = later(old, connections=with_connection(old, "gym", ring=1))
    changes = compare_pair(new, old)
    assert (changes.old_date, changes.new_date) == (old.date, new.date)
    assert changes.connections[0].kinds == (Change.MOVED_CLOSER,)


def test_three_maps_give_two_steps_oldest_first() -> None:
    a = base()
    b = later(a, connections=with_connection(a, "gym", ring=1))
    c = replace(b, id="", date=date(2027, 1, 10), connections=with_connection(b, "gym", ring=3))
    steps = compare([c, a, b])
    assert [(s.old_date, s.new_date) for s in steps] == [(a.date, b.date), (b.date, c.date)]
    assert [s.connections[0].kinds for s in steps] == [(Change.MOVED_CLOSER,), (Change.MOVED_FURTHER,)]


def test_review_pair_example() -> None:
    old = load_map(EXAMPLES / "jordan-2026-05-14.yaml")
    new = load_map(EXAMPLES / "jordan-2026-11-12.yaml")
    changes = compare_pair(old, new)
    assert changes.highlight == {
        "mum": "impact-better",
        "cpn": "moved-closer",
        "ex-colleague": "became-lost",
        "sue": "added",
        "betting-shop": "became-lost",
        "green-gym": "added",
        "tv": "moved-further",
        "gardening": "became-current",
    }
    goals = {g.id: g for g in changes.goals}
    assert goals["get-outside"].changes == (GoalChange.CLOSED, GoalChange.MILESTONE_DONE)
    assert goals["evening-class"].changes == (GoalChange.NEW,)
    data = json.loads(json.dumps(changes.to_json()))
    assert data["old_date"] == "2026-05-14" and len(data["connections"]) == 8
    text = format_changes(changes)
    assert "CPN bridged to Community garden" in text
    assert "Practitioner in the inner circle   no  yes  no -> yes" in text
