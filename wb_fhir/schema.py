"""The JSON Schema of the map file, generated from the terminology.

The schema is shipped in the package (``wb_fhir/schema/wellbeing-map.schema.json``) so that
editors and other tools can validate map files too; a test keeps the shipped file equal to
:func:`map_schema`. Regenerate it with ``python -m wb_fhir.schema``.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

from wb_fhir import limits as lim
from wb_fhir.terminology import (
    CANONICAL,
    CATEGORIES_BY_KIND,
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

SCHEMA_PATH = Path(__file__).parent / "schema" / "wellbeing-map.schema.json"
SCHEMA_ID = f"{CANONICAL}/schema/wellbeing-map.schema.json"

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
FHIR_ID = r"[A-Za-z0-9\-.]{1,64}"


def _codes(enum: type[StrEnum]) -> dict[str, Any]:
    return {"enum": [m.value for m in enum]}


def _text(description: str, max_length: int) -> dict[str, Any]:
    return {"type": "string", "pattern": r"\S", "maxLength": max_length, "description": description}


def _ref(*types: str) -> dict[str, Any]:
    return {
        "type": "string",
        "pattern": rf"^({'|'.join(types)})/{FHIR_ID}$",
        "description": f"A reference to an existing {' or '.join(types)}, as Type/id.",
    }


def _list(items: dict[str, Any], max_items: int, description: str) -> dict[str, Any]:
    return {"type": "array", "items": items, "maxItems": max_items, "description": description}


def _object(properties: dict[str, Any], required: list[str], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


_DATE = {"type": "string", "pattern": DATE_PATTERN, "format": "date"}
_ID = {"type": "string", "pattern": ID_PATTERN}


def map_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one map file."""
    by_kind = [
        {
            "if": {"properties": {"kind": {"const": kind.value}}, "required": ["kind"]},
            "then": {"properties": {"category": _codes_of(CATEGORIES_BY_KIND[kind])}},
        }
        for kind in Kind
    ]
    connection = _object(
        {
            "id": {**_ID, "description": "Stable id, kept across reviews."},
            "kind": _codes(Kind),
            "label": _text("The person's own name for the connection.", lim.MAX_NAME),
            "category": _codes(Category),
            "ring": {"type": "integer", "minimum": 1, "maximum": lim.MAX_RINGS},
            "impact": _codes(Impact),
            "frequency": _codes(Frequency),
            "status": _codes(Status),
            "knows_about_mental_health": {
                "enum": [*(d.value for d in Disclosure), True, False],
                "description": "People only; YAML booleans mean yes and no.",
            },
            "roles": {
                "type": "array",
                "items": _codes(Role),
                "maxItems": len(Role),
                "uniqueItems": True,
                "description": "Practitioners only.",
            },
            "fhir_id": _ref("RelatedPerson", "Practitioner", "PractitionerRole", "Location", "HealthcareService"),
            "confirmed": {
                "type": "boolean",
                "description": "False for a prefilled connection the person has not confirmed.",
            },
            "notes": _text("Free-text notes.", lim.MAX_NOTE),
        },
        ["id", "kind", "label", "category", "ring", "impact"],
        "A person, place or activity in the person's life.",
    )
    connection["allOf"] = by_kind
    milestone = _object(
        {
            "id": _ID,
            "description": _text("What is to be done.", lim.MAX_DESCRIPTION),
            "due": _DATE,
            "done": {"type": "boolean"},
            "done_on": _DATE,
        },
        ["description"],
        "One step towards a goal.",
    )
    goal = _object(
        {
            "id": _ID,
            "description": _text("The goal, in the person's words.", lim.MAX_DESCRIPTION),
            "status": _codes(GoalStatus),
            "about": _list(_ID, lim.MAX_GOAL_ITEMS, "Ids of the connections the goal is about."),
            "supporters": _list(_ID, lim.MAX_GOAL_ITEMS, "Ids of people in the network who support it."),
            "resources": _list(
                _text("A resource needed.", lim.MAX_DESCRIPTION), lim.MAX_GOAL_ITEMS, "Resources needed."
            ),
            "barriers": _list(_text("A barrier.", lim.MAX_DESCRIPTION), lim.MAX_GOAL_ITEMS, "Barriers in the way."),
            "milestones": _list(milestone, lim.MAX_GOAL_ITEMS, "Steps towards the goal."),
            "notes": _list(_text("A progress note.", lim.MAX_NOTE), lim.MAX_GOAL_ITEMS, "Progress notes."),
            "target": _DATE,
        },
        ["id", "description"],
        "A co-produced goal.",
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Wellbeing network map",
        "description": "One wellbeing network mapping conversation about one person.",
        "type": "object",
        "additionalProperties": False,
        "required": ["subject", "date"],
        "properties": {
            "id": {"type": "string", "pattern": UUID_PATTERN, "description": "Map UUID."},
            "subject": {
                **_object(
                    {
                        "nhs_number": {"type": "string", "pattern": r"^[0-9]{10}$"},
                        "fhir_id": _ref("Patient"),
                        "display": _text("How the person likes to be named.", lim.MAX_NAME),
                    },
                    [],
                    "The person, by NHS number and/or FHIR Patient id.",
                ),
                "anyOf": [{"required": ["nhs_number"]}, {"required": ["fhir_id"]}],
            },
            "date": {**_DATE, "description": "Date of the conversation."},
            "practitioners": _list(
                _object(
                    {
                        "display": _text("Name.", lim.MAX_NAME),
                        "role": _text("Free text: CPN, GP, social worker...", lim.MAX_NAME),
                        "fhir_id": _ref("Practitioner", "PractitionerRole"),
                    },
                    ["display"],
                    "A practitioner who took part.",
                ),
                lim.MAX_PRACTITIONERS,
                "Practitioners who took part.",
            ),
            "time_at_home": {
                "type": "integer",
                "minimum": 0,
                "maximum": 100,
                "description": "Share of the waking day spent at home, in %.",
            },
            "rings": {
                "type": "array",
                "items": _text("Ring label.", lim.MAX_NAME),
                "minItems": 1,
                "maxItems": lim.MAX_RINGS,
                "description": "Ring labels, closest first.",
            },
            "connections": _list(connection, lim.MAX_CONNECTIONS, "People, places and activities."),
            "ties": _list(
                _object(
                    {"from": _ID, "to": _ID, "type": _codes(TieType)},
                    ["from", "to", "type"],
                    "A relation between two connections.",
                ),
                lim.MAX_TIES,
                "Relations between connections.",
            ),
            "goals": _list(goal, lim.MAX_GOALS, "Co-produced goals."),
            "signposts": _list(
                _object(
                    {
                        "asset": _ID,
                        "reason": _ID,
                        "status": _codes(SignpostStatus),
                        "note": _text("Follow-up note, e.g. why it was declined.", lim.MAX_NOTE),
                        "date": _DATE,
                        **{
                            f"{step.value}_on": {**_DATE, "description": f"Date it was {step.value}."}
                            for step in SignpostStatus
                        },
                        "follow_up": {**_DATE, "description": "Date to check by whether the person got there."},
                    },
                    ["asset", "reason"],
                    "A sign-post to a community asset.",
                ),
                lim.MAX_SIGNPOSTS,
                "Sign-posts and referrals.",
            ),
            "reflections": _text("Pointers for change, building blocks.", lim.MAX_REFLECTIONS),
            "next_review": {**_DATE, "description": "Date of the next review."},
        },
    }


def _codes_of(members: tuple[StrEnum, ...]) -> dict[str, Any]:
    return {"enum": [m.value for m in members]}


def schema_text() -> str:
    """The schema as the shipped file holds it."""
    return json.dumps(map_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":  # pragma: no cover - regeneration entry point
    SCHEMA_PATH.parent.mkdir(exist_ok=True)
    SCHEMA_PATH.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")
