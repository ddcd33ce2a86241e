"""wb_fhir's schema interpreter means what ``jsonschema`` means, on the shipped schema.

The oracle below is ``jsonschema`` (what editors and other tools use) with its errors put into
the same words; on thousands of generated documents, valid and hostile, both must find exactly
the same problems at the same places.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest
from hostile import mutated_maps, nasty_valid_maps
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import map_data

from wb_fhir._mapcheck import place, shape_problems
from wb_fhir._schemacheck import _schema, describe, schema_problems, short
from wb_fhir.model import DEFAULT_RINGS
from wb_fhir.schema import SCHEMA_PATH, map_schema
from wb_fhir.terminology import CATEGORIES_BY_KIND, Kind

VALIDATOR = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
_TYPES = {"string": "text", "integer": "a whole number", "boolean": "true or false", "array": "a list"}
_TYPES["object"] = "a mapping of keys to values"


def _oracle_message(error: jsonschema.ValidationError, root: Any) -> list[tuple[str, str]]:
    path = tuple(error.absolute_path)
    v, instance, schema, expected = error.validator, error.instance, error.schema, error.validator_value
    assert isinstance(schema, dict)
    if v == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        return [
            (place((*path, k)), f"unknown key (allowed here: {', '.join(allowed)})")
            for k in instance
            if k not in allowed
        ]
    if v == "required":
        return [(place((*path, k)), "is required but missing") for k in expected if k not in instance]
    if v == "anyOf":
        return [(place(path), "needs nhs_number or fhir_id (or both)")]
    if v == "enum":
        parent = root
        for part in path[:-1]:
            parent = parent[part]
        kind = parent.get("kind") if path and path[-1] == "category" else None
        if isinstance(kind, str) and kind in {k.value for k in Kind}:
            of_kind = ", ".join(c.value for c in CATEGORIES_BY_KIND[Kind(kind)])
            return [(place(path), f"{describe(instance)} is not a category of a {kind} (one of: {of_kind})")]
        choices = ", ".join(str(c) for c in expected if not isinstance(c, bool))
        return [(place(path), f"{describe(instance)} is not one of: {choices}")]
    if v == "type":
        names = " or ".join(_TYPES[t] for t in ([expected] if isinstance(expected, str) else expected))
        return [(place(path), f"must be {names}, not {describe(instance)}")]
    if v in ("minimum", "maximum"):
        if path[-1] == "ring":
            rings = root.get("rings")
            count = len(rings) if isinstance(rings, list) and rings else len(DEFAULT_RINGS)
            return [(place(path), f"{describe(instance)} is not one of 1..{count}")]
        return [(place(path), f"{describe(instance)} is out of range ({schema['minimum']}..{schema['maximum']})")]
    if v == "pattern":
        return [(place(path), "pattern: " + short(instance))]
    if v == "maxLength":
        return [(place(path), f"is too long: {len(instance):,} characters (at most {expected:,})")]
    if v == "maxItems":
        return [(place(path), f"has {len(instance):,} entries (at most {expected:,})")]
    if v == "minItems":
        return [(place(path), f"must have at least {expected} {'entry' if expected == 1 else 'entries'}")]
    if v == "uniqueItems":
        return [(place(path), "has an entry more than once")]
    raise AssertionError(f"the oracle has no words for {v}")


def oracle(data: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted({m for error in VALIDATOR.iter_errors(data) for m in _oracle_message(error, data)})


def ours(data: dict[str, Any]) -> list[tuple[str, str]]:
    # pattern messages are worded by field; compare the place and the value only
    found = set()
    for path, message in schema_problems(data):
        if message.endswith(("is not a date (YYYY-MM-DD)", "is not an NHS number (ten digits)", "is not a UUID")) or (
            "is not a valid id" in message
            or "is not a reference of the right type" in message
            or message == "must not be empty"
        ):
            value: Any = data
            for part in path:
                value = value[part]
            message = "pattern: " + short(value)
        found.add((place(path), message))
    return sorted(found)


def test_the_interpreter_knows_every_keyword_of_the_schema() -> None:
    assert _schema() == map_schema() == json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def test_an_unknown_keyword_is_a_programming_error() -> None:
    from wb_fhir import _schemacheck

    with pytest.raises(ValueError, match="'propertyNames', which this checker does not apply"):
        list(_schemacheck._errors({"propertyNames": {}}, {}, (), {}))


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(mutated_maps(), nasty_valid_maps(), map_data()))
def test_same_problems_as_jsonschema(data: Any) -> None:
    assume(isinstance(data, dict))
    _found, fatal = shape_problems(data)
    assume(not fatal)  # a wrong shape stops checking before the schema
    assert ours(data) == oracle(data)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("connections", 0, "ring"), 1.0),
        (("connections", 0, "ring"), True),
        (("connections", 0, "ring"), 7.5),
        (("connections", 0, "knows_about_mental_health"), 1),
        (("connections", 0, "knows_about_mental_health"), True),
        (("connections", 0, "roles"), ["motivator", "motivator"]),
        (("connections", 0, "roles"), [1, 1.0]),
        (("connections", 0, "roles"), [True, 1]),
        (("connections", 0, "roles"), [[1], [1.0]]),
        (("connections", 0, "category"), "park"),
        (("time_at_home",), float("nan")),
        (("time_at_home",), float("-inf")),
        (("rings",), []),
        (("subject",), {}),
    ],
)
def test_corner_cases_agree(path: tuple[Any, ...], value: Any) -> None:
    data: dict[str, Any] = {
        "subject": {"nhs_number": "9434765919"},
        "date": "2026-01-01",
        "connections": [
            {"id": "a", "kind": "person", "label": "A", "category": "practitioner", "ring": 1, "impact": "mixed"}
        ],
    }
    data = copy.deepcopy(data)
    target: Any = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    assert ours(data) == oracle(data)
