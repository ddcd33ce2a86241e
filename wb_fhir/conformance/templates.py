"""SDC template-based extraction: the Observation templates contained in the Questionnaire.

Each repetition of the ``connection`` group extracts the connection Observation that
:func:`wb_fhir.fhir.observations.connection_observation` writes, each ``tie`` repetition the tie
Observation: the same profile, category, code, subject, date, performers, value and components.
What a template cannot make is left to ``wb-fhir extract``/``bundle``: business identifiers (stable
UUIDs), ``derivedFrom``, a tie's ``focus`` on its connection Observations and the network summary.

Elements take their values from FHIRPath (``templateExtractValue``), evaluated on the group's
repetition in the QuestionnaireResponse; ``templateExtractContext`` repeats an element once per
result and drops it when there is none.
"""

from __future__ import annotations

from typing import Any

from wb_fhir.conformance._common import coding
from wb_fhir.fhir.items import ITEMS
from wb_fhir.terminology import (
    CODESYSTEM_URL,
    EXT_ORDINAL_VALUE,
    EXT_TEMPLATE_EXTRACT_CONTEXT,
    EXT_TEMPLATE_EXTRACT_VALUE,
    IMPACT_WEIGHT,
    NHS_NUMBER_SYSTEM,
    OBSERVATION_CATEGORIES,
    OBSERVATION_CATEGORY_SYSTEM,
    UCUM,
    LinkId,
    ObservationCode,
    Profile,
    Status,
    display,
)

JSON = dict[str, Any]

TEMPLATES: dict[LinkId, str] = {
    LinkId.TIME_AT_HOME: "time-at-home-observation",
    LinkId.CONNECTION: "connection-observation",
    LinkId.TIE: "tie-observation",
}
"""The items that extract by template (each repetition of a group), and the id of the contained template."""


def _value(fhirpath: str) -> JSON:
    return {"extension": [{"url": EXT_TEMPLATE_EXTRACT_VALUE, "valueString": fhirpath}]}


def _context(fhirpath: str) -> JSON:
    return {"url": EXT_TEMPLATE_EXTRACT_CONTEXT, "valueString": fhirpath}


def _item(link: LinkId, root: bool = False) -> str:
    return f"{'%resource.' if root else ''}item.where(linkId='{link.value}')"


def _subject() -> JSON:
    nhs = f"{_item(LinkId.SUBJECT, True)}.{_item(LinkId.SUBJECT_NHS_NUMBER)}.answer"
    name = f"{_item(LinkId.SUBJECT, True)}.{_item(LinkId.SUBJECT_NAME)}.answer.value"
    patient = (
        f"({_item(LinkId.SUBJECT, True)}.{_item(LinkId.SUBJECT_REFERENCE)}.answer.value | %resource.subject.reference)"
    )
    return {
        "_reference": _value(f"{patient}.first()"),
        "_type": _value(f"iif({patient}.exists(), {{}}, 'Patient')"),
        "identifier": {"extension": [_context(nhs)], "system": NHS_NUMBER_SYSTEM, "_value": _value("value")},
        "_display": _value(f"({name} | %resource.subject.display).first()"),
    }


def _head(template_id: str, when: str, profile: Profile, code: ObservationCode) -> JSON:
    # A template whose context finds nothing extracts nothing (an empty repetition of a form).
    return {
        "resourceType": "Observation",
        "id": template_id,
        "extension": [_context(when)],
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY_SYSTEM, "code": c}]} for c in OBSERVATION_CATEGORIES],
        "code": {"coding": [coding(code)]},
        "subject": _subject(),
        "_effectiveDateTime": _value(f"{_item(LinkId.DATE, True)}.answer.value"),
        "performer": [
            {
                "extension": [_context(_item(LinkId.PRACTITIONER, True))],
                "_reference": _value(f"{_item(LinkId.PRACTITIONER_REF)}.answer.{_LITERAL}"),
                "_display": _value(f"{_item(LinkId.PRACTITIONER_NAME)}.answer.value"),
            }
        ],
    }


# A literal reference answer: Type/id as a string (or a valueReference of an older response).
_LITERAL = "(value.ofType(string) | value.ofType(Reference).reference).first()"
_VALUE_KEY = {"string": "_valueString", "integer": "_valueInteger"}
# An open-choice answer: a valueString as given, or the display (or code) of a picked valueCoding.
_OPEN_CHOICE = "(value.ofType(string) | value.ofType(Coding).select(code | display).first())"


def _component(link: LinkId) -> JSON:
    item = ITEMS[link]
    assert item.code is not None
    out: JSON = {"extension": [_context(f"{_item(link)}.answer")], "code": {"coding": [coding(item.code)]}}
    if item.item_type == "choice":
        out["valueCodeableConcept"] = {"coding": [_value("value")]}
    elif item.item_type == "open-choice":
        out["_valueString"] = _value(_OPEN_CHOICE)
    else:
        out[_VALUE_KEY[item.item_type]] = _value("value")
    return out


def _status_component() -> JSON:
    # wb_fhir records every connection's status; an unanswered status means current.
    answer = f"{_item(LinkId.CONNECTION_STATUS)}.answer.value"
    return {
        "code": {"coding": [coding(ObservationCode.STATUS)]},
        "valueCodeableConcept": {
            "coding": [
                {
                    "_system": _value(f"'{CODESYSTEM_URL}'"),
                    "_code": _value(f"iif({answer}.exists(), {answer}.code, '{Status.CURRENT.value}')"),
                    "_display": _value(f"iif({answer}.exists(), {answer}.display, '{display(Status.CURRENT)}')"),
                }
            ]
        },
    }


def _ordinal() -> str:
    expression = "{}"
    for impact, weight in reversed(IMPACT_WEIGHT.items()):
        expression = f"iif(code = '{impact.value}', {weight}, {expression})"
    return expression


def connection_template() -> JSON:
    """The Observation template of one connection."""
    components = [
        _status_component() if child.link is LinkId.CONNECTION_STATUS else _component(child.link)
        for child in ITEMS[LinkId.CONNECTION].children
        if child.code is not None
    ]
    answered = f"where({_item(LinkId.CONNECTION_LABEL)}.answer.exists())"
    return {
        **_head(TEMPLATES[LinkId.CONNECTION], answered, Profile.CONNECTION, ObservationCode.CONNECTION),
        "valueCodeableConcept": {
            "coding": [
                {
                    "extension": [
                        _context(f"{_item(LinkId.CONNECTION_IMPACT)}.answer.value"),
                        {"url": EXT_ORDINAL_VALUE, "_valueDecimal": _value(_ordinal())},
                    ],
                    "_system": _value("system"),
                    "_code": _value("code"),
                    "_display": _value("display"),
                }
            ]
        },
        "focus": [
            {
                "extension": [_context(f"{_item(LinkId.CONNECTION_REF)}.answer")],
                "_reference": _value(_LITERAL),
            }
        ],
        "component": components,
    }


def tie_template() -> JSON:
    """The Observation template of one tie (its ends as given: ids, or labels from a form)."""
    answered = f"where({_item(LinkId.TIE_TYPE)}.answer.exists())"
    return {
        **_head(TEMPLATES[LinkId.TIE], answered, Profile.TIE, ObservationCode.TIE),
        "valueCodeableConcept": {"coding": [_value(f"{_item(LinkId.TIE_TYPE)}.answer.value")]},
        "component": [_component(LinkId.TIE_FROM), _component(LinkId.TIE_TO)],
    }


def time_at_home_template() -> JSON:
    """The Observation template of the share of the waking day at home (UCUM %)."""
    return {
        **_head(TEMPLATES[LinkId.TIME_AT_HOME], "answer", Profile.TIME_AT_HOME, ObservationCode.TIME_AT_HOME),
        "valueQuantity": {"_value": _value("value"), "unit": "%", "system": UCUM, "code": "%"},
    }


def build_templates() -> list[JSON]:
    """The templates the Questionnaire contains."""
    return [time_at_home_template(), connection_template(), tie_template()]
