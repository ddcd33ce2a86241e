"""The map file: loading, saving, and every problem a hand-written file can have."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from wb_fhir.errors import InputError, Problem
from wb_fhir.mapfile import dumps_map, load_map, map_from_data, map_to_data, nhs_number_valid, save_map
from wb_fhir.model import WellbeingMap
from wb_fhir.terminology import Disclosure, Kind, Status

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p for p in (ROOT / "examples").rglob("*.yaml") if p.name != "assets.yaml")

GOOD: dict[str, Any] = {
    "subject": {"nhs_number": "9434765919", "display": "Sam"},
    "date": "2026-11-20",
    "practitioners": [{"display": "Alex Jones", "role": "CPN"}],
    "time_at_home": 75,
    "connections": [
        {"id": "mum", "kind": "person", "label": "Mum", "category": "family", "ring": 1, "impact": "negative"},
        {"id": "gp", "kind": "person", "label": "GP", "category": "practitioner", "ring": 2, "impact": "neutral"},
        {
            "id": "cpn",
            "kind": "person",
            "label": "CPN",
            "category": "practitioner",
            "ring": 1,
            "impact": "positive",
            "roles": ["bridge-builder"],
        },
        {"id": "gym", "kind": "place", "label": "Gym", "category": "sport-leisure", "ring": 2, "impact": "positive"},
        {"id": "home", "kind": "place", "label": "Home", "category": "home", "ring": 1, "impact": "mixed"},
        {"id": "reading", "kind": "activity", "label": "Reading", "category": "hobby", "ring": 1, "impact": "positive"},
    ],
    "ties": [
        {"from": "mum", "to": "gp", "type": "knows"},
        {"from": "cpn", "to": "gym", "type": "bridged"},
        {"from": "reading", "to": "home", "type": "takes-place-at"},
    ],
    "goals": [
        {
            "id": "book-club",
            "description": "Join a book club",
            "about": ["reading"],
            "supporters": ["cpn"],
            "status": "active",
            "milestones": [{"description": "Find two clubs", "due": "2026-12-15", "done": False}],
        }
    ],
    "signposts": [{"asset": "library-book-club", "reason": "book-club", "status": "suggested"}],
}


def problems_of(data: Any, **kwargs: Any) -> list[str]:
    with pytest.raises(InputError) as info:
        map_from_data(data, **kwargs)
    return [str(p) for p in info.value.problems]


def changed(path: str, value: Any) -> dict[str, Any]:
    """GOOD with the value at a dotted path (list indexes as numbers) replaced or deleted."""
    data = copy.deepcopy(GOOD)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    target: Any = data
    for part in parents:
        target = target[part]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return data


DELETE = object()


def test_good_map_builds() -> None:
    wmap = map_from_data(GOOD)
    assert wmap.subject.nhs_number == "9434765919"
    assert [c.id for c in wmap.connections] == ["mum", "gp", "cpn", "gym", "home", "reading"]
    assert wmap.connection("gym").kind is Kind.PLACE
    assert wmap.goal("book-club").milestones[0].id == "m1"
    assert wmap.connections[0].status is Status.CURRENT


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("time_at_home", "lots", "time_at_home: must be a whole number, not 'lots'"),
        ("time_at_home", 120, "time_at_home: 120 is out of range (0..100)"),
        ("time_at_home", -1, "time_at_home: -1 is out of range (0..100)"),
        ("connections.0.ring", 7, "connections[0].ring: 7 is not one of 1..3"),
        ("connections.0.ring", 0, "connections[0].ring: 0 is not one of 1..3"),
        ("connections.0.ring", "1", "connections[0].ring: must be a whole number, not '1'"),
        (
            "connections.0.impact",
            "great",
            "connections[0].impact: 'great' is not one of: very-positive, positive, neutral, mixed, negative, "
            "very-negative",
        ),
        (
            "connections.3.category",
            "family",
            "connections[3].category: 'family' is not a category of a place (one of: home, work, education, "
            "health-service, sport-leisure, faith, community, library, shop, park, online, other)",
        ),
        ("connections.0.kind", "pet", "connections[0].kind: 'pet' is not one of: person, place, activity"),
        ("connections.0.label", "", "connections[0].label: must not be empty"),
        ("connections.0.label", "   ", "connections[0].label: must not be empty"),
        (
            "connections.0.label",
            True,
            "connections[0].label: must be text, not true (a yes/no value: quote it in YAML if you meant text)",
        ),
        (
            "connections.0.id",
            "my mum",
            "connections[0].id: 'my mum' is not a valid id (letters, digits, '-', '_', '.'; up to 64)",
        ),
        (
            "connections.0.colour",
            "red",
            "connections[0].colour: unknown key (allowed here: category, confirmed, "
            "fhir_id, frequency, id, impact, kind, knows_about_mental_health, label, notes, ring, roles, status)",
        ),
        ("connections.0.label", DELETE, "connections[0].label: is required but missing"),
        ("subject", {"display": "Sam"}, "subject: needs nhs_number or fhir_id (or both)"),
        ("subject.nhs_number", "943476591", "subject.nhs_number: '943476591' is not an NHS number (ten digits)"),
        (
            "subject.fhir_id",
            "Practitioner/1",
            "subject.fhir_id: 'Practitioner/1' is not a reference of the right type (Type/id)",
        ),
        ("date", "20/11/2026", "date: '20/11/2026' is not a date (YYYY-MM-DD)"),
        ("date", DELETE, "date: is required but missing"),
        ("rings", [], "rings: must have at least 1 entry"),
        (
            "ties.0.type",
            "hates",
            "ties[0].type: 'hates' is not one of: knows, bridged, met-at, takes-place-at, supports",
        ),
        (
            "goals.0.status",
            "done",
            "goals[0].status: 'done' is not one of: proposed, active, on-hold, achieved, abandoned",
        ),
        (
            "signposts.0.status",
            "maybe",
            "signposts[0].status: 'maybe' is not one of: suggested, agreed, referred, attended, declined",
        ),
        (
            "connections.2.roles",
            ["hero"],
            "connections[2].roles[0]: 'hero' is not one of: bridge-builder, "
            "skill-builder, motivator, navigator, network-member",
        ),
        ("connections.2.roles", ["motivator", "motivator"], "connections[2].roles: has an entry more than once"),
        ("connections", {"mum": 1}, "connections: must be a list, not a mapping"),
        ("practitioners.0.display", DELETE, "practitioners[0].display: is required but missing"),
    ],
)
def test_schema_problems_name_the_place(path: str, value: Any, expected: str) -> None:
    assert expected in problems_of(changed(path, value))


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("subject.nhs_number", "9434765918", "subject.nhs_number: '9434765918' fails the NHS number check digit"),
        ("date", "2026-02-30", "date: '2026-02-30' is not a real date"),
        ("goals.0.milestones.0.due", "2026-13-01", "goals[0].milestones[0].due: '2026-13-01' is not a real date"),
        ("connections.1.id", "mum", "connections[1].id: 'mum' is used by another connection"),
        ("ties.0.to", "dad", "ties[0].to: 'dad' names no connection"),
        ("ties.0.to", "mum", "ties[0]: a tie from 'mum' to itself"),
        (
            "ties.1",
            {"from": "gym", "to": "cpn", "type": "bridged"},
            "ties[1].type: a 'bridged' tie goes from a person to anything, not from a place to a person",
        ),
        (
            "ties.0",
            {"from": "mum", "to": "gym", "type": "knows"},
            "ties[0].type: a 'knows' tie goes from a person to a person, not from a person to a place",
        ),
        ("goals.0.about", ["reading", "cat"], "goals[0].about[1]: 'cat' names no connection"),
        ("goals.0.supporters", ["gym"], "goals[0].supporters[0]: 'gym' is a place, not a person"),
        ("goals.0.id", "gym", "goals[0].id: 'gym' is already the id of a connection"),
        ("signposts.0.reason", "nothing", "signposts[0].reason: 'nothing' names no connection or goal"),
        (
            "connections.3.knows_about_mental_health",
            "yes",
            "connections[3].knows_about_mental_health: is for people only",
        ),
        (
            "connections.0.roles",
            ["motivator"],
            "connections[0].roles: is for practitioners only (kind person, category practitioner)",
        ),
        (
            "goals.0.milestones.0",
            {"description": "x", "done": False, "done_on": "2026-11-01"},
            "goals[0].milestones[0].done_on: is set but the milestone is not done",
        ),
        ("next_review", "2026-01-01", "next_review: is before the date of the map"),
    ],
)
def test_rule_problems_name_the_place(path: str, value: Any, expected: str) -> None:
    assert expected in problems_of(changed(path, value))


def test_rings_out_of_range_with_custom_rings() -> None:
    data = changed("rings", ["Close", "Far"])
    data["connections"][0]["ring"] = 3
    assert "connections[0].ring: 3 is not one of 1..2 (the map has 2 rings)" in problems_of(data)


def test_duplicate_tie_and_duplicate_signpost() -> None:
    data = copy.deepcopy(GOOD)
    data["ties"].append(dict(data["ties"][0]))
    data["signposts"].append(dict(data["signposts"][0]))
    found = problems_of(data)
    assert "ties[3]: the same tie is listed twice" in found
    assert "signposts[1]: the same sign-post is listed twice" in found


def test_every_problem_is_reported_at_once() -> None:
    data = copy.deepcopy(GOOD)
    data["time_at_home"] = 101
    data["connections"][0]["ring"] = 9
    data["connections"][1]["impact"] = "meh"
    data["connections"][2]["shoe_size"] = 9
    found = problems_of(data)
    assert len(found) == 4
    # in the order of the file
    assert [p.split(":")[0] for p in found] == [
        "time_at_home",
        "connections[0].ring",
        "connections[1].impact",
        "connections[2].shoe_size",
    ]


def test_asset_directory_checks_signposts() -> None:
    found = problems_of(GOOD, assets={"green-gym"})
    assert found == ["signposts[0].asset: 'library-book-club' is not in the community asset directory"]
    assert map_from_data(GOOD, assets={"library-book-club"}).signposts[0].asset == "library-book-club"


def test_top_level_must_be_a_mapping() -> None:
    assert problems_of(["a", "b"]) == ["a map file holds a mapping of keys to values, not a list"]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.yaml", b"", "the file is empty"),
        ("blank.yaml", b"\n   \n", "the file is empty"),
        ("binary.yaml", b"\x89PNG\r\n\x1a\n\x00\x00", "is a binary file, not YAML or JSON text"),
        ("latin1.yaml", "subject: {display: Jos\xe9}".encode("latin-1"), "is not UTF-8 text (byte 22)"),
        ("broken.yaml", b"subject: {nhs_number: '9434765919'\ndate: [", "not valid YAML"),
        ("tabs.yaml", b"subject:\n\t- x\n", "not valid YAML"),
        ("dupe.yaml", b"date: 2026-01-01\ndate: 2026-01-02\n", "duplicate key 'date'"),
        ("broken.json", b'{"subject": ', "line 1, column 13: not valid JSON"),
        ("dupe.json", b'{"date": "2026-01-01", "date": "2026-01-02"}', "duplicate key 'date'"),
        ("scalar.yaml", b"just some words\n", "a map file holds a mapping of keys to values, not 'just some words'"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, content: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        load_map(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_map(tmp_path / "nope.yaml")


def test_yaml_spellings_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "sam.yaml"
    path.write_text(
        "subject: {nhs_number: 9434765919}\n"
        "date: 2026-11-20\n"
        "connections:\n"
        "  - {id: mum, kind: person, label: Mum, category: family, ring: 1, impact: positive,"
        " knows_about_mental_health: yes}\n"
        "  - {id: dad, kind: person, label: Dad, category: family, ring: 1, impact: positive,"
        " knows_about_mental_health: no}\n",
        encoding="utf-8",
    )
    wmap = load_map(path)
    assert wmap.subject.nhs_number == "9434765919"
    assert wmap.connection("mum").knows_about_mental_health is Disclosure.YES
    assert wmap.connection("dad").knows_about_mental_health is Disclosure.NO


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_save_then_load_gives_the_same_map(example: Path, suffix: str, tmp_path: Path) -> None:
    wmap = load_map(example)
    out = tmp_path / f"copy{suffix}"
    save_map(wmap, out)
    assert load_map(out) == wmap
    assert map_from_data(map_to_data(wmap)) == wmap


def test_saved_json_is_plain_json(tmp_path: Path) -> None:
    wmap = map_from_data(GOOD)
    data = json.loads(dumps_map(wmap, "json"))
    assert data["date"] == "2026-11-20"
    assert data["subject"]["nhs_number"] == "9434765919"


def test_markup_and_unicode_labels_survive(tmp_path: Path) -> None:
    data = changed("connections.0.label", "<script>alert('x')</script> & “Mum” 👩 مرحبا")
    wmap = map_from_data(data)
    out = tmp_path / "m.yaml"
    save_map(wmap, out)
    assert load_map(out).connection("mum").label == "<script>alert('x')</script> & “Mum” 👩 مرحبا"


def test_failed_save_leaves_no_partial_file(tmp_path: Path) -> None:
    wmap = map_from_data(GOOD)
    with pytest.raises(InputError, match="the folder to write into does not exist"):
        save_map(wmap, tmp_path / "missing" / "m.yaml")
    assert list(tmp_path.iterdir()) == []


def test_map_id_is_stable_and_overridable() -> None:
    a = map_from_data(GOOD)
    b = map_from_data(copy.deepcopy(GOOD))
    assert a.id == b.id
    assert a.id != map_from_data(changed("date", "2026-11-21")).id
    own = "0b7e4c2a-3f7e-4f0e-9a55-0d2b1c7e9f10"
    assert map_from_data(changed("id", own)).id == own
    assert map_to_data(map_from_data(changed("id", own)))["id"] == own
    assert "id" not in map_to_data(a)


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("9434765919", True),
        ("9434765918", False),
        ("4010232137", True),
        ("1234567890", False),
        ("943476591", False),
        ("94347659a9", False),
        ("0000000000", True),
    ],
)
def test_nhs_number_check_digit(number: str, valid: bool) -> None:
    assert nhs_number_valid(number) is valid


def test_problem_text() -> None:
    assert str(Problem("a.b", "bad")) == "a.b: bad"
    assert str(Problem("", "bad")) == "bad"


def test_map_is_immutable() -> None:
    wmap: WellbeingMap = map_from_data(GOOD)
    with pytest.raises(AttributeError):
        wmap.time_at_home = 3  # type: ignore[misc]
    assert isinstance(wmap.connections, tuple)
