"""The shape of each item of the Questionnaire ``wellbeing-network-mapping`` (from the contract).

Reading a QuestionnaireResponse needs to know, for every linkId, its item type, whether it
repeats, and for a choice the codes it allows; this table says it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from wb_fhir.terminology import (
    Category,
    Disclosure,
    Frequency,
    GoalStatus,
    Impact,
    Kind,
    LinkId,
    Role,
    SignpostStatus,
    Status,
    TieType,
)

ANSWER_KEY = {
    "date": "valueDate",
    "string": "valueString",
    "text": "valueString",
    "integer": "valueInteger",
    "boolean": "valueBoolean",
    "choice": "valueCoding",
    "reference": "valueReference",
}
"""The ``answer.value[x]`` of each Questionnaire item type."""


@dataclass(frozen=True)
class ItemShape:
    """Type, repetition and (for a choice) the codes of one item."""

    item_type: str
    repeats: bool = False
    codes: type[StrEnum] | None = None

    @property
    def answer_key(self) -> str:
        return ANSWER_KEY[self.item_type]


def parent(link: str) -> str | None:
    """The linkId of the group an item belongs to (linkIds are dotted paths)."""
    return link.rsplit(".", 1)[0] if "." in link else None


_L = LinkId
ITEMS: dict[LinkId, ItemShape] = {
    _L.DATE: ItemShape("date"),
    _L.PRACTITIONER: ItemShape("group", True),
    _L.PRACTITIONER_NAME: ItemShape("string"),
    _L.PRACTITIONER_ROLE: ItemShape("string"),
    _L.PRACTITIONER_REF: ItemShape("reference"),
    _L.TIME_AT_HOME: ItemShape("integer"),
    _L.RING_LABEL: ItemShape("string", True),
    _L.CONNECTION: ItemShape("group", True),
    _L.CONNECTION_ID: ItemShape("string"),
    _L.CONNECTION_KIND: ItemShape("choice", codes=Kind),
    _L.CONNECTION_LABEL: ItemShape("string"),
    _L.CONNECTION_CATEGORY_PERSON: ItemShape("choice", codes=Category),
    _L.CONNECTION_CATEGORY_PLACE: ItemShape("choice", codes=Category),
    _L.CONNECTION_CATEGORY_ACTIVITY: ItemShape("choice", codes=Category),
    _L.CONNECTION_RING: ItemShape("integer"),
    _L.CONNECTION_IMPACT: ItemShape("choice", codes=Impact),
    _L.CONNECTION_FREQUENCY: ItemShape("choice", codes=Frequency),
    _L.CONNECTION_STATUS: ItemShape("choice", codes=Status),
    _L.CONNECTION_DISCLOSURE: ItemShape("choice", codes=Disclosure),
    _L.CONNECTION_ROLES: ItemShape("choice", True, Role),
    _L.CONNECTION_REF: ItemShape("reference"),
    _L.CONNECTION_CONFIRMED: ItemShape("boolean"),
    _L.CONNECTION_NOTES: ItemShape("text"),
    _L.TIE: ItemShape("group", True),
    _L.TIE_FROM: ItemShape("string"),
    _L.TIE_TO: ItemShape("string"),
    _L.TIE_TYPE: ItemShape("choice", codes=TieType),
    _L.GOAL: ItemShape("group", True),
    _L.GOAL_ID: ItemShape("string"),
    _L.GOAL_DESCRIPTION: ItemShape("string"),
    _L.GOAL_STATUS: ItemShape("choice", codes=GoalStatus),
    _L.GOAL_ABOUT: ItemShape("string", True),
    _L.GOAL_SUPPORTERS: ItemShape("string", True),
    _L.GOAL_RESOURCES: ItemShape("string", True),
    _L.GOAL_BARRIERS: ItemShape("string", True),
    _L.GOAL_TARGET: ItemShape("date"),
    _L.GOAL_NOTES: ItemShape("text", True),
    _L.MILESTONE: ItemShape("group", True),
    _L.MILESTONE_ID: ItemShape("string"),
    _L.MILESTONE_DESCRIPTION: ItemShape("string"),
    _L.MILESTONE_DUE: ItemShape("date"),
    _L.MILESTONE_DONE: ItemShape("boolean"),
    _L.MILESTONE_DONE_ON: ItemShape("date"),
    _L.SIGNPOST: ItemShape("group", True),
    _L.SIGNPOST_ASSET: ItemShape("string"),
    _L.SIGNPOST_REASON: ItemShape("string"),
    _L.SIGNPOST_STATUS: ItemShape("choice", codes=SignpostStatus),
    _L.SIGNPOST_NOTE: ItemShape("text"),
    _L.SIGNPOST_DATE: ItemShape("date"),
    _L.REFLECTIONS: ItemShape("text"),
    _L.NEXT_REVIEW: ItemShape("date"),
}

if set(ITEMS) != set(LinkId):  # pragma: no cover - guards the table against a new linkId
    raise AssertionError("every linkId needs a shape in wb_fhir.fhir.items.ITEMS")
