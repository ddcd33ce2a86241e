"""Reading map file text: YAML as it is read (libyaml and the pure-Python fallback alike), JSON,
and the limits that stop a hostile file while it is read."""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hostile import mutated_maps, text_documents, yaml_text
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from strategies import map_data

from wb_fhir import limits
from wb_fhir._mapread import parse_json, parse_yaml
from wb_fhir.errors import InputError
from wb_fhir.mapfile import dumps_map, load_map, map_from_data, parse_text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p for p in (ROOT / "examples").rglob("*.yaml"))


def _libyaml() -> bool:
    if yaml.__with_libyaml__:
        return True
    if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
        pytest.fail("PyYAML without libyaml in CI: install a PyYAML wheel built with libyaml", pytrace=False)
    pytest.skip("PyYAML was built without libyaml")


@pytest.fixture(params=["libyaml", "pure"])
def libyaml(request: pytest.FixtureRequest) -> bool:
    """Each test runs on libyaml (where PyYAML has it) and on the pure-Python fallback."""
    return request.param == "libyaml" and _libyaml()


def read(text: str, libyaml: bool) -> Any:
    return parse_yaml(text, "m.yaml", libyaml=libyaml)


def refusal(text: str, libyaml: bool) -> str:
    with pytest.raises(InputError) as info:
        read(text, libyaml)
    return str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # YAML 1.1 readings are text, never a surprising number
        ("a: 0x40", "0x40"),
        ("a: 1:10", "1:10"),
        ("a: 010", "010"),
        ("a: 0o17", "0o17"),
        ("a: 0b101", "0b101"),
        ("a: 1_000", "1_000"),
        ("a: 190:20:30.15", "190:20:30.15"),
        ("a: 0123456789", "0123456789"),
        ("a: 2026-01-01", "2026-01-01"),
        ("a: 2026-01-01 12:30:00", "2026-01-01 12:30:00"),
        ("a: =", "="),
        ("a: y", "y"),
        # YAML 1.2 numbers
        ("a: 75", 75),
        ("a: -3", -3),
        ("a: +3", 3),
        ("a: 0", 0),
        ("a: 1.0", 1.0),
        ("a: 1.5", 1.5),
        ("a: .5", 0.5),
        ("a: 1e3", 1000.0),
        ("a: -1.5E-2", -0.015),
        ("a: .inf", math.inf),
        ("a: -.Inf", -math.inf),
        ("a: " + "9" * 20, int("9" * 20)),
        # booleans as the map file documents them, and nothing
        ("a: yes", True),
        ("a: No", False),
        ("a: on", True),
        ("a: OFF", False),
        ("a: true", True),
        ("a: ~", None),
        ("a: null", None),
        ("a:", None),
        # quoted and !!str are text
        ("a: '0x40'", "0x40"),
        ('a: "yes"', "yes"),
        ("a: !!str 5", "5"),
        ("a: ! 5", "5"),
    ],
)
def test_scalars(text: str, expected: Any, libyaml: bool) -> None:
    value = read(text, libyaml)["a"]
    assert value == expected
    assert type(value) is type(expected)


def test_nan(libyaml: bool) -> None:
    assert math.isnan(read("a: .nan", libyaml)["a"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1: a", {"1": "a"}),
        ("null: a", {"null": "a"}),
        ("yes: a", {"yes": "a"}),
        ("2026-01-01: a", {"2026-01-01": "a"}),
        ("1.5: a", {"1.5": "a"}),
        ("<<: {a: 1}", {"<<": {"a": 1}}),
        ("a: &x [1, {b: 2}]\nc: *x", {"a": [1, {"b": 2}], "c": [1, {"b": 2}]}),
        ("&k a: 1\nb: *k", {"a": 1, "b": "a"}),
        ("a: !!map {b: 1}\nc: !!seq [1]", {"a": {"b": 1}, "c": [1]}),
        ("# only a comment\n", None),
    ],
)
def test_keys_are_text_and_aliases_are_shared(text: str, expected: Any, libyaml: bool) -> None:
    assert read(text, libyaml) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("? [a, b]\n: 1", "m.yaml: line 1, column 3: a key must be text, not a list"),
        ("? {a: 1}\n: 1", "m.yaml: line 1, column 3: a key must be text, not a mapping"),
        ("a: &k [1]\n*k : 2", "m.yaml: line 2, column 1: a key must be text, not a list"),
        ("a: 1\nb: 2\na: 3", "m.yaml: line 3, column 1: not valid YAML: duplicate key 'a'"),
        ("a: !!binary aGk=", "m.yaml: line 1, column 4: the tag !!binary is not allowed in a map file (only !!str is)"),
        ("a: !!int 5", "m.yaml: line 1, column 4: the tag !!int is not allowed in a map file (only !!str is)"),
        ("a: !!timestamp 2026-01-01", "line 1, column 4: the tag !!timestamp is not allowed"),
        ("a: !!python/object:os.system x", "line 1, column 4: the tag !!python/object:os.system is not allowed"),
        ("a: !!set {x}", "line 1, column 4: the tag !!set is not allowed"),
        ("a: !!omap [b: 1]", "line 1, column 4: the tag !!omap is not allowed"),
        ("a: !custom x", "line 1, column 4: the tag !custom is not allowed"),
        ("!!binary a: x", "line 1, column 1: the tag !!binary is not allowed"),
        ("a: &x 1\nb: &x 2", "m.yaml: line 2, column 4: not valid YAML: the anchor &x is defined twice"),
        ("a: *nothing", "m.yaml: line 1, column 4: not valid YAML: found undefined alias *nothing"),
        (
            "a: &x [1, *x]",
            "m.yaml: line 1, column 11: the alias *x is inside what it names (a structure that contains itself)",
        ),
        ("a: &x {b: *x}", "line 1, column 11: the alias *x is inside what it names"),
        ("a: 1\n---\nb: 2", "m.yaml: line 2, column 1: a map file holds one YAML document, but another starts here"),
        ("a: " + "9" * 21, "m.yaml: line 1, column 4: a number of 21 digits is too long (at most 20)"),
        ("a: -" + "9" * 5000, "m.yaml: line 1, column 4: a number of 5,000 digits is too long (at most 20)"),
        ("a: b\x01c", "m.yaml: line 1, column 5: the character U+0001 is not allowed in YAML"),
        ("a: b\n\nc: d\x7f", "m.yaml: line 3, column 5: the character U+007F is not allowed in YAML"),
        ("a: \ufffe", "m.yaml: line 1, column 4: the character U+FFFE is not allowed in YAML"),
        ("a: 1\n\ufeffb: 2", "m.yaml: line 2, column 1: the character U+FEFF is not allowed in YAML"),
        ('a: "\\ud800"', "not valid YAML: found invalid Unicode character escape code"),
        ('a: "\\ud83d\\ude00"', "not valid YAML: found invalid Unicode character escape code"),
        ("a: [b", "not valid YAML"),
        ("a:\n\t- b", "not valid YAML"),
    ],
)
def test_refused_while_reading(text: str, expected: str, libyaml: bool) -> None:
    assert expected in refusal(text, libyaml)


def test_control_character_escapes_are_read_and_left_to_the_checks(libyaml: bool) -> None:
    """A quoted escape can say anything; the checks then name the place (see test_mapfile)."""
    assert read('a: "b\\x01c\\u200f"', libyaml) == {"a": "b\x01c\u200f"}


def nested(depth: int, flow: bool) -> str:
    if flow:
        return "a: " + "[" * depth + "]" * depth
    return "".join("  " * i + "- \n" for i in range(depth - 1)) + "  " * (depth - 1) + "- x\n"


@pytest.mark.parametrize("flow", [True, False], ids=["flow", "block"])
def test_nesting_is_bounded(flow: bool, libyaml: bool) -> None:
    # the root counts as one level: for flow the mapping plus depth lists
    ok = nested(limits.MAX_DEPTH - (1 if flow else 0), flow)
    assert read(ok, libyaml) is not None
    message = refusal(nested(limits.MAX_DEPTH + 1, flow), libyaml)
    assert f"nested more than {limits.MAX_DEPTH} levels deep; a map file needs far fewer" in message


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deep_flow_nesting_never_overflows(depth: int, libyaml: bool) -> None:
    message = refusal(nested(depth, True), libyaml)
    assert "nested more than 20 levels deep" in message or "exceeded maximum nesting depth" in message


def billion_laughs() -> str:
    """The alias bomb of the security probe: under ``goals[].about``, under a kilobyte, 9**9 values."""
    levels = ["      - &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"      - &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, 9)]
    head = 'subject: {nhs_number: "9434765919"}\ndate: 2026-01-01\ngoals:\n  - id: g\n    description: x\n    about:\n'
    return head + "\n".join(levels) + "\n"


def test_alias_bomb_is_refused(libyaml: bool) -> None:
    text = billion_laughs()
    assert len(text.encode()) < 1000
    message = refusal(text, libyaml)
    # refused at the sixth level (9**6 > 250,000), long before the ninth
    assert message.startswith("m.yaml: line 12, column ")
    assert message.endswith(
        ": the file holds more than 250,000 values (an alias counts each time it is used); a map file holds less"
    )


def test_classic_billion_laughs_is_refused(libyaml: bool) -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, 10)]
    assert "the file holds more than 250,000 values" in refusal("\n".join(lines), libyaml)


def test_text_bomb_is_refused(libyaml: bool) -> None:
    big = "x" * 1_000_000
    text = f"a: &t {big}\nb: [*t, *t, *t, *t, *t]\n"
    message = refusal(text, libyaml)
    assert "line 2, column 17: the file holds more than 5,000,000 characters of text" in message


def test_aliases_within_the_limits_are_fine(libyaml: bool) -> None:
    data = read("ids: &ids [mum, dad]\nabout: *ids\nsupporters: *ids", libyaml)
    assert data == {"ids": ["mum", "dad"], "about": ["mum", "dad"], "supporters": ["mum", "dad"]}


def test_too_many_values() -> None:
    # libyaml only: the counting is the same code for both, and the pure parser takes 15 s here
    text = "a: [" + ", ".join(["1"] * (limits.MAX_VALUES + 10)) + "]"
    assert "line 1, column 749996: the file holds more than 250,000 values" in refusal(text, _libyaml())


def test_size(libyaml: bool) -> None:
    assert "is larger than 5,000,000 bytes, the most a map file may be" in refusal(
        "a: " + "x" * limits.MAX_FILE_BYTES, libyaml
    )


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT / "examples")))
def test_both_parsers_read_the_examples_alike(example: Path) -> None:
    text = example.read_text(encoding="utf-8")
    assert parse_yaml(text, "x", libyaml=_libyaml()) == parse_yaml(text, "x", libyaml=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(map_data(max_connections=12))
def test_both_parsers_read_what_we_write_alike(data: dict[str, Any]) -> None:
    wmap = map_from_data(data)
    text = dumps_map(wmap)
    libyaml = parse_yaml(text, "x", libyaml=_libyaml())
    assert libyaml == parse_yaml(text, "x", libyaml=False)
    assert map_from_data(libyaml) == wmap


def _outcome(text: str, libyaml: bool) -> tuple[str, Any]:
    """What reading gives: the data, or the line of the refusal (the two parsers word some
    syntax errors differently, and may point at different columns of the same line)."""
    try:
        return "read", parse_yaml(text, "m.yaml", libyaml=libyaml)
    except InputError as exc:
        line = re.match(r"m\.yaml: (line \d+), column \d+: ", str(exc))
        return "refused", line.group(1) if line else str(exc)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(text_documents().map(lambda doc: doc[0]), mutated_maps().map(yaml_text)))
# libyaml reads a token ahead: its refusal of the escape on line 2 comes before the tag on line 1
@example('a: !!python/name:os.system\n"\\ud800": 1\n')
def test_both_parsers_agree_on_hostile_yaml(text: str) -> None:
    """The pure-Python fallback reads and refuses what libyaml does, on the same line."""
    # repr: .nan reads as a float NaN, which equals nothing, not even itself
    assert repr(_outcome(text, _libyaml())) == repr(_outcome(text, False))


@pytest.mark.parametrize(
    "label", ["0x40", "1:10", "1e5", "1.0", ".5", "010", "yes", "No", "null", "~", "2026-01-01", "-.inf", "+1"]
)
def test_text_that_looks_like_a_number_survives_saving(label: str, tmp_path: Path) -> None:
    data = {
        "subject": {"nhs_number": "9434765919"},
        "date": "2026-01-01",
        "rings": [label],
        "connections": [
            {"id": "a", "kind": "person", "label": label, "category": "friend", "ring": 1, "impact": "mixed"}
        ],
    }
    path = tmp_path / "m.yaml"
    path.write_text(dumps_map(map_from_data(data)), encoding="utf-8")
    assert load_map(path).connections[0].label == label
    assert load_map(path).rings == (label,)


# --- JSON -------------------------------------------------------------------------------


def json_refusal(text: str) -> str:
    with pytest.raises(InputError) as info:
        parse_json(text, "m.json")
    return str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": NaN}', "m.json: not valid JSON: NaN is not a JSON number"),
        ('{"a": -Infinity}', "m.json: not valid JSON: -Infinity is not a JSON number"),
        ('{"a": 1' + "0" * 25 + "}", "m.json: not valid JSON: a number of 26 digits is too long (at most 20)"),
        ('{"a": -' + "9" * 5000 + "}", "m.json: not valid JSON: a number of 5,000 digits is too long (at most 20)"),
        ('{"a": 1, "a": 2}', "m.json: not valid JSON: duplicate key 'a'"),
        ('{"a": ' + "[" * 21 + "]" * 21 + "}", "m.json: nested more than 20 levels deep; a map file needs far fewer"),
        (
            '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}",
            "m.json: nested more than 20 levels deep; a map file needs far fewer",
        ),
        ("[" + "0," * limits.MAX_VALUES + "0]", "m.json: holds more than 250,000 values; a map file holds less"),
        ('{"a": [1', "m.json: line 1, column 9: not valid JSON: Expecting ',' delimiter"),
    ],
)
def test_json_refusals(text: str, expected: str) -> None:
    assert json_refusal(text) == expected


def test_json_reads_numbers_and_escapes() -> None:
    data = parse_json('{"a": 1.0, "b": 1e400, "c": "\\ud800", "d": ' + "9" * 20 + "}", "m.json")
    assert data == {"a": 1.0, "b": math.inf, "c": "\ud800", "d": int("9" * 20)}


def test_json_and_yaml_agree_on_a_map() -> None:
    wmap = load_map(ROOT / "examples" / "figure1.yaml")
    assert parse_text(dumps_map(wmap, "json"), "x", fmt="json") == json.loads(dumps_map(wmap, "json"))
    assert map_from_data(parse_text(dumps_map(wmap, "json"), "x", fmt="json")) == wmap


def test_without_libyaml_the_pure_parser_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    from wb_fhir import _mapread

    used: list[str] = []

    class Spy(_mapread._PureParser):
        def __init__(self, stream: str) -> None:
            used.append(stream)
            super().__init__(stream)

    monkeypatch.setattr(_mapread, "_Parser", None)
    monkeypatch.setattr(_mapread, "_PureParser", Spy)
    assert parse_yaml("a: [1, 0x40]", "m.yaml") == {"a": [1, "0x40"]}
    assert used == ["a: [1, 0x40]"]
