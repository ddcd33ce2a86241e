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


# --- every problem in one run, in the order of the file ------------------------------------


def _readme_block(readme: str, after: str, fence: str) -> str:
    start = readme.index(f"```{fence}\n", readme.index(after)) + len(fence) + 4
    return readme[start : readme.index("```", start)]


def test_readme_validate_example_is_real(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's bad sam.yaml, through `wb-fhir validate`, gives exactly the output it shows."""
    from click.testing import CliRunner

    from wb_fhir.cli import main

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (tmp_path / "sam.yaml").write_text(_readme_block(readme, "This `sam.yaml` has", "yaml"), encoding="utf-8")
    shown = _readme_block(readme, "`wb-fhir validate sam.yaml` says", "text")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate", "sam.yaml"], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == shown


def test_structural_and_cross_reference_problems_in_one_run() -> None:
    data = copy.deepcopy(GOOD)
    data["connections"][0]["impact"] = "meh"  # schema
    data["connections"].append({**data["connections"][0], "impact": "positive"})  # rule: duplicate id
    data["ties"][0]["type"] = "hates"  # schema
    data["ties"][1]["to"] = "nobody"  # rule
    data["goals"][0]["supporters"] = ["gym"]  # rule
    data["goals"][0]["status"] = "done"  # schema
    assert problems_of(data) == [
        "connections[0].impact: 'meh' is not one of: very-positive, positive, neutral, mixed, negative, very-negative",
        "connections[6].id: 'mum' is used by another connection",
        "ties[0].type: 'hates' is not one of: knows, bridged, met-at, takes-place-at, supports",
        "ties[1].to: 'nobody' names no connection",
        "goals[0].supporters[0]: 'gym' is a place, not a person",
        "goals[0].status: 'done' is not one of: proposed, active, on-hold, achieved, abandoned",
    ]


def test_a_value_the_schema_refuses_is_not_reported_again_by_the_rules() -> None:
    data = changed("connections.0.ring", 7)
    data["connections"][1]["kind"] = "pet"
    data["connections"].append("not a connection")
    data["ties"].append({"from": "gp", "to": "mum"})
    assert problems_of(data) == [
        "connections[0].ring: 7 is not one of 1..3",
        "connections[1].kind: 'pet' is not one of: person, place, activity",
        "connections[6]: must be a mapping of keys to values, not 'not a connection'",
        "ties[3].type: is required but missing",
    ]


def test_problems_are_capped_with_a_count() -> None:
    data = copy.deepcopy(GOOD)
    data["connections"] = [
        {"id": f"c{n}", "kind": "person", "label": "x", "category": "friend", "ring": 9, "impact": "bad"}
        for n in range(150)
    ]
    data["ties"] = data["goals"] = data["signposts"] = []
    found = problems_of(data)
    assert len(found) == 201
    assert found[:2] == [
        "connections[0].ring: 9 is not one of 1..3",
        "connections[0].impact: 'bad' is not one of: very-positive, positive, neutral, mixed, negative, very-negative",
    ]
    assert found[-1] == "... and 100 more problems"


# --- hostile values ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            "connections.0.label",
            "Mum\x00",
            "connections[0].label: contains the control character U+0000, which a map file cannot hold",
        ),
        (
            "connections.0.label",
            "\x1b[31mMum",
            "connections[0].label: contains the control character U+001B, which a map file cannot hold",
        ),
        (
            "connections.0.notes",
            "a\x85b",
            "connections[0].notes: contains the control character U+0085, which a map file cannot hold",
        ),
        (
            "subject.display",
            "Sam\ud800",
            "subject.display: contains a lone surrogate (U+D800), which is not a character",
        ),
        ("goals.0.description", "x\uffff", "goals[0].description: contains U+FFFF, which is not a character"),
        ("connections.0.ring", 1.5, "connections[0].ring: must be a whole number, not 1.5"),
        ("connections.0.ring", float("nan"), "connections[0].ring: must be a whole number, not nan"),
        ("connections.0.ring", float("inf"), "connections[0].ring: must be a whole number, not inf"),
        (
            "connections.0.ring",
            True,
            "connections[0].ring: must be a whole number, not true (a yes/no value: quote it in YAML if you meant",
        ),
        ("connections.0.ring", 4.0, "connections[0].ring: 4 is not one of 1..3 (the map has 3 rings)"),
        ("time_at_home", 1e300, "time_at_home: 1e+300 is out of range (0..100)"),
        ("time_at_home", "1:10", "time_at_home: must be a whole number, not '1:10'"),
        ("time_at_home", 10**30, "time_at_home: is a number of about 31 digits; a number has at most 20 digits"),
        ("connections.0.label", "x" * 5000, "connections[0].label: is too long: 5,000 characters (at most 200)"),
        (
            "connections.0.id",
            "x" * 5000,
            "connections[0].id: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...",
        ),
        ("date", (2026, 1, 1), "date: is a tuple, which a map file cannot hold"),
        ("subject", {"nhs_number": "9434765919", 7: "x"}, "subject: has the key 7: keys must be text"),
    ],
)
def test_hostile_values_name_the_place(path: str, value: Any, expected: str) -> None:
    assert any(p.startswith(expected) for p in problems_of(changed(path, value))), problems_of(changed(path, value))


def test_text_problems_do_not_hide_the_others() -> None:
    data = changed("connections.0.label", "Mum\x07")
    data["connections"][1]["impact"] = "meh"
    data["ties"][0]["to"] = "nobody"
    assert [p.split(":")[0] for p in problems_of(data)] == [
        "connections[0].label",
        "connections[1].impact",
        "ties[0].to",
    ]


def test_odd_keys_are_shown_quoted() -> None:
    data = copy.deepcopy(GOOD)
    data["\x1b[2Jevil\nkey"] = 1
    data["connections"][0]["my key"] = 1
    data["connections"][1]["colour"] = 1
    found = problems_of(data)
    assert found[0].startswith("connections[0].'my key': unknown key (allowed here: ")
    assert found[1].startswith("connections[1].colour: unknown key")
    assert found[2].startswith("'\\x1b[2Jevil\\nkey': unknown key (allowed here: ")
    assert all(p.isprintable() for p in found)


def test_a_date_as_a_key_from_python() -> None:
    import datetime

    data = copy.deepcopy(GOOD)
    data[datetime.date(2026, 1, 1)] = "x"  # type: ignore[index]
    assert problems_of(data) == ["has the key datetime.date(2026, 1, 1): keys must be text"]


def test_whole_floats_are_whole_numbers(tmp_path: Path) -> None:
    """`ring: 1.0` is the whole number 1, as JSON Schema reads it; the map holds an int."""
    data = changed("connections.0.ring", 1.0)
    data["time_at_home"] = 75.0
    wmap = map_from_data(data)
    assert type(wmap.connections[0].ring) is int and wmap.connections[0].ring == 1
    assert type(wmap.time_at_home) is int and wmap.time_at_home == 75
    assert "ring: 1\n" in dumps_map(wmap)


@pytest.mark.parametrize(
    ("path", "limit", "item", "message"),
    [
        ("connections", 2000, None, "connections: has 2,001 entries (at most 2,000)"),
        ("ties", 2000, {"from": "mum", "to": "gp", "type": "knows"}, "ties: has 2,001 entries (at most 2,000)"),
        ("goals", 100, None, "goals: has 101 entries (at most 100)"),
        ("signposts", 200, None, "signposts: has 201 entries (at most 200)"),
        ("practitioners", 10, {"display": "P"}, "practitioners: has 11 entries (at most 10)"),
        ("rings", 6, "R", "rings: has 7 entries (at most 6)"),
        ("goals.0.about", 50, "mum", "goals[0].about: has 51 entries (at most 50)"),
        ("goals.0.supporters", 50, "mum", "goals[0].supporters: has 51 entries (at most 50)"),
        ("goals.0.resources", 50, "r", "goals[0].resources: has 51 entries (at most 50)"),
        ("goals.0.barriers", 50, "b", "goals[0].barriers: has 51 entries (at most 50)"),
        ("goals.0.notes", 50, "n", "goals[0].notes: has 51 entries (at most 50)"),
        ("goals.0.milestones", 50, None, "goals[0].milestones: has 51 entries (at most 50)"),
    ],
)
def test_list_limits(path: str, limit: int, item: Any, message: str) -> None:
    def entries(count: int) -> list[Any]:
        if path == "connections":
            return [
                {"id": f"c{n}", "kind": "person", "label": "x", "category": "friend", "ring": 1, "impact": "mixed"}
                for n in range(count)
            ]
        if path == "goals":
            return [{"id": f"g{n}", "description": "x"} for n in range(count)]
        if path == "signposts":
            return [{"asset": f"a{n}", "reason": "mum"} for n in range(count)]
        if path == "goals.0.milestones":
            return [{"description": "x", "id": f"m{n}"} for n in range(count)]
        return [item] * count

    at_limit = changed(path, entries(limit))
    if path == "connections":
        at_limit["ties"], at_limit["goals"], at_limit["signposts"] = [], [], []
    if path == "goals":
        at_limit["signposts"] = []
    found = problems_of(at_limit) if path in ("ties",) else None
    if found is None:
        map_from_data(at_limit)  # at the limit: fine (ties repeat, which is a rule problem, not a limit)
    else:
        assert not any("entries" in p for p in found)
    over = copy.deepcopy(at_limit)
    target: Any = over
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    for part in parents:
        target = target[part]
    target[last] = entries(limit + 1)
    assert message in problems_of(over)


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("connections.0.label", 200),
        ("subject.display", 200),
        ("practitioners.0.display", 200),
        ("practitioners.0.role", 200),
        ("rings", 200),
        ("goals.0.description", 1000),
        ("goals.0.milestones.0.description", 1000),
        ("goals.0.resources", 1000),
        ("goals.0.barriers", 1000),
        ("connections.0.notes", 2000),
        ("goals.0.notes", 2000),
        ("signposts.0.note", 2000),
        ("reflections", 10000),
    ],
)
def test_text_limits(path: str, limit: int) -> None:
    as_list = path in ("rings", "goals.0.resources", "goals.0.barriers", "goals.0.notes")

    def text(length: int) -> Any:
        return ["é" * length, "b", "c"] if as_list else "é" * length

    map_from_data(changed(path, text(limit)))
    over = changed(path, text(limit + 1))
    place = path.replace(".0.", "[0].").replace(".0", "[0]") + ("[0]" if as_list else "")
    assert f"{place}: is too long: {limit + 1:,} characters (at most {limit:,})" in problems_of(over)


def test_file_size_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"reflections: " + b"x" * 5_000_000)
    with pytest.raises(InputError) as info:
        load_map(big)
    assert str(info.value) == f"{big}: is larger than 5,000,000 bytes, the most a map file may be"


def test_endless_file_is_read_only_up_to_the_limit() -> None:
    with pytest.raises(InputError) as info:
        load_map("/dev/zero")
    assert str(info.value) == "/dev/zero: is larger than 5,000,000 bytes, the most a map file may be"


def test_a_hostile_file_name_is_shown_escaped(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from wb_fhir.cli import main

    bad = tmp_path / "evil\x1b[2J\n.yaml"
    bad.write_text("subject: {nhs_number: '9434765919'}\ndate: 2026-13-01\n", encoding="utf-8")
    good = tmp_path / "ok\u202e.yaml"
    good.write_text("subject: {nhs_number: '9434765919'}\ndate: 2026-01-01\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"{str(bad)!r}: date: '2026-13-01' is not a real date"
    assert result.stdout.startswith(f"ok  {str(good)!r}: 2026-01-01")
    assert "\x1b" not in result.output and "\u202e" not in result.output


def test_many_problems_are_ordered_in_linear_time() -> None:
    """100,000 unknown keys: each problem's place in the file is found without rescanning the keys."""
    data = copy.deepcopy(GOOD)
    data.update({f"k{n}": n for n in range(100_000)})
    found = problems_of(data)
    assert found[0].startswith("k0: unknown key (allowed here: ")
    assert found[-1] == "... and 99,800 more problems"


def test_a_leading_byte_order_mark_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfsubject: {nhs_number: '9434765919'}\ndate: 2026-01-01\n")
    assert load_map(path).subject.nhs_number == "9434765919"
