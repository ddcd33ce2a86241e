"""The flat tables every engine builds from QuestionnaireResponses, and what they mean.

Both engines read FHIR NDJSON (one resource per line, one resource type per file, as a Bulk
Data export writes it) with the same typed schema, and expose the same four views, which the
measures (:mod:`wb_fhir.report.queries`) and the research export read:

``maps``         one row per map: ``map_id``, ``person``, ``date`` (YYYY-MM-DD text, so it sorts
                 and compares the same everywhere), ``time_at_home`` (NULL when not recorded)
``connections``  one row per connection: ``map_id``, ``key`` (unique over the population),
                 ``connection_id``, ``kind``, ``category``, ``ring``, ``impact``, ``status``
                 (``current`` when the response leaves it out), ``frequency``, ``disclosure``,
                 ``label``
``roles``        one row per role of a practitioner: ``key`` (of the connection), ``role``
``ties``         one row per tie: ``map_id``, ``from_id``, ``to_id``, ``type``

A person is their NHS number (``nhs:...``: from the response's subject, or from the Patient
it points at when the Patients are read too), else the Patient reference (``ref:Patient/id``).
A map is the response's business identifier (what ``wb-fhir push`` writes: the map's id),
else ``QuestionnaireResponse/id``; when two responses carry the same map id, the one last
updated counts once.
"""

from __future__ import annotations

import json
from typing import Any

from wb_fhir.terminology import NHS_NUMBER_SYSTEM, QUESTIONNAIRE_URL, IdentifierKind, LinkId, identifier_system

MAP_SYSTEM = identifier_system(IdentifierKind.MAP)

# The schema of what is read, once, in a neutral form: a dict is a struct, a one-item list an
# array, a string a scalar ("string", "bigint", "boolean"). Each engine renders it in its own
# type syntax; fields the report does not use are never parsed.
Schema = dict[str, "Schema"] | list["Schema"] | str

_CODING: Schema = {"system": "string", "code": "string"}
_ANSWER: Schema = {
    "valueCoding": _CODING,
    "valueString": "string",
    "valueInteger": "bigint",
    "valueDate": "string",
    "valueBoolean": "boolean",
}
_INNER_ITEM: Schema = {"linkId": "string", "answer": [_ANSWER]}
_ITEM: Schema = {"linkId": "string", "answer": [_ANSWER], "item": [_INNER_ITEM]}
_IDENTIFIER: Schema = {"system": "string", "value": "string"}

QUESTIONNAIRE_RESPONSE: dict[str, Schema] = {
    "resourceType": "string",
    "id": "string",
    "meta": {"lastUpdated": "string"},
    "identifier": _IDENTIFIER,
    "questionnaire": "string",
    "subject": {"reference": "string", "identifier": _IDENTIFIER},
    "authored": "string",
    "item": [_ITEM],
}
"""The parts of a QuestionnaireResponse the report reads."""

PATIENT: dict[str, Schema] = {"resourceType": "string", "id": "string", "identifier": [_IDENTIFIER]}
"""The parts of a Patient the report reads: its id and NHS number."""

_DUCKDB_SCALARS = {"string": "VARCHAR", "bigint": "BIGINT", "boolean": "BOOLEAN"}


def duckdb_type(schema: Schema) -> str:
    """The DuckDB type of a schema (``STRUCT(a VARCHAR, b BIGINT[])``)."""
    if isinstance(schema, dict):
        return "STRUCT(" + ", ".join(f"{k} {duckdb_type(v)}" for k, v in schema.items()) + ")"
    if isinstance(schema, list):
        return duckdb_type(schema[0]) + "[]"
    return _DUCKDB_SCALARS[schema]


def duckdb_structure(schema: Schema) -> str:
    """The structure ``json_transform`` takes (JSON: ``{"a": "VARCHAR", "b": ["BIGINT"]}``)."""

    def plain(node: Schema) -> Any:
        if isinstance(node, dict):
            return {k: plain(v) for k, v in node.items()}
        if isinstance(node, list):
            return [plain(node[0])]
        return _DUCKDB_SCALARS[node]

    return json.dumps(plain(schema))


def spark_type(schema: Schema) -> str:
    """The Spark SQL DDL type of a schema (``STRUCT<a: STRING, b: ARRAY<BIGINT>>``)."""
    if isinstance(schema, dict):
        return "STRUCT<" + ", ".join(f"{k}: {spark_type(v)}" for k, v in schema.items()) + ">"
    if isinstance(schema, list):
        return f"ARRAY<{spark_type(schema[0])}>"
    return schema.upper()


# The linkIds the flat tables are built from, as SQL literals.
L = {name: f"'{link.value}'" for name, link in LinkId.__members__.items()}
CATEGORY_LINKS = ", ".join(
    L[n] for n in ("CONNECTION_CATEGORY_PERSON", "CONNECTION_CATEGORY_PLACE", "CONNECTION_CATEGORY_ACTIVITY")
)

CONSTANTS = {
    "questionnaire": f"'{QUESTIONNAIRE_URL}'",
    "map_system": f"'{MAP_SYSTEM}'",
    "nhs_system": f"'{NHS_NUMBER_SYSTEM}'",
}
