"""Concepts, measures, terminology and the shipped schema."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from wb_fhir import terminology as t
from wb_fhir.mapfile import load_map, map_to_data
from wb_fhir.measures import measure
from wb_fhir.model import Connection, Subject, Tie, WellbeingMap, stable_uuid
from wb_fhir.schema import SCHEMA_PATH, map_schema, schema_text

ROOT = Path(__file__).resolve().parent.parent


def test_figure1_measures() -> None:
    m = measure(load_map(ROOT / "examples" / "figure1.yaml"))
    assert m.size == 10
    assert m.by_kind == {t.Kind.PERSON: 5, t.Kind.PLACE: 4, t.Kind.ACTIVITY: 1}
    assert m.by_ring == {1: 4, 2: 3, 3: 3}
    assert m.inner_circle == 4
    assert (m.positive, m.negative, m.mixed) == (6, 1, 1)
    assert m.balance == 5
    assert m.practitioner_in_inner_circle is True
    # Mum (family), Home (home) and Reading (takes place at home) of 10 current connections
    assert m.family_or_home_based == 3
    assert m.family_or_home_share == pytest.approx(0.3)
    assert m.time_at_home == 75


def test_measures_count_current_connections_only() -> None:
    wmap = WellbeingMap(
        subject=Subject(nhs_number="9434765919"),
        date=__import__("datetime").date(2026, 1, 1),
        connections=(
            Connection("a", t.Kind.PERSON, "A", t.Category.PRACTITIONER, 1, t.Impact.POSITIVE, status=t.Status.LOST),
            Connection("b", t.Kind.PERSON, "B", t.Category.FRIEND, 2, t.Impact.VERY_NEGATIVE),
            Connection("c", t.Kind.ACTIVITY, "C", t.Category.HOBBY, 3, t.Impact.MIXED, status=t.Status.WISHED_FOR),
        ),
    )
    m = measure(wmap)
    assert m.size == 1
    assert m.by_status == {t.Status.CURRENT: 1, t.Status.LOST: 1, t.Status.WISHED_FOR: 1}
    assert m.practitioner_in_inner_circle is False
    assert (m.positive, m.negative, m.mixed) == (0, 1, 0)
    assert m.family_or_home_share == 0


def test_empty_map_measures() -> None:
    m = measure(load_map(ROOT / "examples" / "alone.yaml"))
    assert m.size == 0
    assert m.family_or_home_share is None
    assert m.inner_circle == 0


def test_stable_ids() -> None:
    assert stable_uuid("a", "b") == stable_uuid("a", "b")
    assert stable_uuid("a", "b") != stable_uuid("ab")
    assert Tie("cpn", "gym", t.TieType.BRIDGED).id == "cpn--bridged--gym"


def test_models_are_frozen() -> None:
    c = Connection("a", t.Kind.PERSON, "A", t.Category.FRIEND, 1, t.Impact.POSITIVE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.ring = 2  # type: ignore[misc]
    assert dataclasses.replace(c, ring=2).ring == 2


def test_every_code_has_a_concept_and_one_meaning() -> None:
    codes = [c.code for c in t.concepts()]
    assert len(codes) == len(set(codes))
    for enum in t.VALUE_SETS.values():
        for member in enum:
            assert t.concept(member).display
    assert set(t.IMPACT_WEIGHT) == set(t.Impact) == set(t.IMPACT_GLYPH)
    assert set(t.TIE_RULES) == set(t.TieType)
    for kind, categories in t.CATEGORIES_BY_KIND.items():
        assert t.Category.OTHER in categories, kind
    assert {c for cats in t.CATEGORIES_BY_KIND.values() for c in cats} == set(t.Category)


def test_linkids_are_unique_and_nested_under_their_group() -> None:
    ids = [link.value for link in t.LinkId]
    assert len(ids) == len(set(ids))
    groups = {
        t.LinkId.SUBJECT,
        t.LinkId.PRACTITIONER,
        t.LinkId.CONNECTION,
        t.LinkId.TIE,
        t.LinkId.GOAL,
        t.LinkId.MILESTONE,
        t.LinkId.SIGNPOST,
    }
    for link in ids:
        if "." in link:
            assert link.rsplit(".", 1)[0] in groups, link


def test_shipped_schema_is_fresh() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), "run: python -m wb_fhir.schema"


def test_schema_codes_come_from_terminology() -> None:
    schema = map_schema()
    connection = schema["properties"]["connections"]["items"]
    assert connection["properties"]["impact"]["enum"] == [i.value for i in t.Impact]
    assert schema["properties"]["ties"]["items"]["properties"]["type"]["enum"] == [x.value for x in t.TieType]


@pytest.mark.parametrize(
    "example", sorted(p for p in (ROOT / "examples").rglob("*.yaml") if p.name != "assets.yaml"), ids=lambda p: p.stem
)
def test_examples_pass_the_schema_for_other_tools(example: Path) -> None:
    """Editors and other tools validating with the shipped schema accept our examples and what we save."""
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    # a generic YAML loader turns dates into date objects; JSON tools see them as strings
    raw = json.loads(json.dumps(yaml.safe_load(example.read_text(encoding="utf-8")), default=str))
    assert list(validator.iter_errors(raw)) == []
    assert list(validator.iter_errors(map_to_data(load_map(example)))) == []


def test_diverse_example_covers_everything() -> None:
    wmap = load_map(ROOT / "examples" / "diverse-network.yaml")
    assert len(wmap.connections) >= 40
    assert {c.kind for c in wmap.connections} == set(t.Kind)
    assert {c.status for c in wmap.connections} == set(t.Status)
    assert {c.impact for c in wmap.connections} == set(t.Impact)
    assert {r for c in wmap.connections for r in c.roles} == set(t.Role)
    assert {x.type for x in wmap.ties} == set(t.TieType)
    assert {g.status for g in wmap.goals} == set(t.GoalStatus)
    assert {s.status for s in wmap.signposts} == set(t.SignpostStatus)


def test_review_pair_is_one_person() -> None:
    old, new = (load_map(p) for p in sorted((ROOT / "examples" / "review").glob("*.yaml")))
    assert old.subject.key == new.subject.key
    assert old.date < new.date
