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
        # the system as an expression too: Smart Forms keeps the fixed parts of an element whose context finds nothing
        "identifier": {
            "extension": [_context(nhs)],
            "_system": _value(f"'{NHS_NUMBER_SYSTEM}'"),
            "_value": _value("value"),
        },
        "_display": _value(f"({name} | %resource.subject.display).first()"),
    }


def _head(template_id: str, profile: Profile, code: ObservationCode) -> JSON:
    # No templateExtractContext on the template's root: Smart Forms' engine (sdc-template-extract
    # 1.0.16) then writes every value of a top-level element into a nested copy. A filler leaves a
    # repetition without answers out of its response, so there is nothing to guard against.
    return {
        "resourceType": "Observation",
        "id": template_id,
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


def _status_components() -> list[JSON]:
    """The status, as answered; wb_fhir records every connection's status, so an unanswered one is current.

    Two components, each with a context, of which one extracts: a fixed component among
    context-repeated ones lands at the wrong index in Smart Forms' engine.
    """
    answers = f"{_item(LinkId.CONNECTION_STATUS)}.answer"
    code = {"coding": [coding(ObservationCode.STATUS)]}
    return [
        _component(LinkId.CONNECTION_STATUS),
        {
            "extension": [_context(f"{answers}.empty().where($this)")],
            "code": code,
            "valueCodeableConcept": {"coding": [coding(Status.CURRENT)]},
        },
    ]


def _ordinal() -> str:
    expression = "{}"
    for impact, weight in reversed(IMPACT_WEIGHT.items()):
        expression = f"iif(code = '{impact.value}', {weight}, {expression})"
    return expression


def connection_template() -> JSON:
    """The Observation template of one connection."""
    components = [
        component
        for child in ITEMS[LinkId.CONNECTION].children
        if child.code is not None
        for component in (_status_components() if child.link is LinkId.CONNECTION_STATUS else [_component(child.link)])
    ]
    return {
        **_head(TEMPLATES[LinkId.CONNECTION], Profile.CONNECTION, ObservationCode.CONNECTION),
        # the context on the CodeableConcept, not the Coding: Smart Forms' engine then drops the
        # url of the Coding's other extension (the ordinal weight)
        "valueCodeableConcept": {
            "extension": [_context(f"{_item(LinkId.CONNECTION_IMPACT)}.answer.value")],
            "coding": [
                {
                    "extension": [{"url": EXT_ORDINAL_VALUE, "_valueDecimal": _value(_ordinal())}],
                    "_system": _value("system"),
                    "_code": _value("code"),
                    "_display": _value("display"),
                }
            ],
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
    return {
        **_head(TEMPLATES[LinkId.TIE], Profile.TIE, ObservationCode.TIE),
        "valueCodeableConcept": {"coding": [_value(f"{_item(LinkId.TIE_TYPE)}.answer.value")]},
        "component": [_component(LinkId.TIE_FROM), _component(LinkId.TIE_TO)],
    }


def time_at_home_template() -> JSON:
    """The Observation template of the share of the waking day at home (UCUM %)."""
    return {
        **_head(TEMPLATES[LinkId.TIME_AT_HOME], Profile.TIME_AT_HOME, ObservationCode.TIME_AT_HOME),
        "valueQuantity": {"_value": _value("answer.value"), "unit": "%", "system": UCUM, "code": "%"},
    }


def build_templates() -> list[JSON]:
    """The templates the Questionnaire contains."""
    return [time_at_home_template(), connection_template(), tie_template()]
