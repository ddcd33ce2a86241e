"""The canonical Questionnaire ``wellbeing-network-mapping``, for any SDC form filler.

Built from the item tree declared in :mod:`wb_fhir.fhir.items`. What makes it work in a filler
with no terminology server and no help from wb_fhir:

- every coded question's ``answerValueSet`` points at a **contained** ValueSet (``#name``) that
  carries its canonical ``url``, its ``compose`` and a full ``expansion``;
- items that name a connection or goal offer the ones entered above (SDC ``answerExpression``);
- SDC population: ``launchContext`` ``patient`` and ``initialExpression`` fill the date and the
  person's NHS number and name (hidden ``subject`` group);
- SDC extraction is template-based (``templateExtract`` with contained Observation templates,
  :mod:`wb_fhir.conformance.templates`): ``time-at-home`` and each ``connection`` and ``tie``
  repetition. Observation-based extraction cannot make a child answer (the impact rating) the
  Observation's value, nor take the date of the conversation as its effective time.
"""

from __future__ import annotations

from typing import Any

from wb_fhir.conformance._common import RELEASE_DATE, Resource, coding, metadata, pascal
from wb_fhir.conformance.templates import TEMPLATES, build_templates
from wb_fhir.fhir.items import QUESTIONNAIRE_ITEMS, Item
from wb_fhir.terminology import (
    CATEGORIES_BY_KIND,
    CATEGORY_VALUE_SETS,
    CODESYSTEM_URL,
    EXT_ANSWER_EXPRESSION,
    EXT_HIDDEN,
    EXT_INITIAL_EXPRESSION,
    EXT_ITEM_CONTROL,
    EXT_LAUNCH_CONTEXT,
    EXT_MAX_VALUE,
    EXT_MIN_VALUE,
    EXT_TEMPLATE_EXTRACT,
    EXT_UNIT,
    ITEM_CONTROL_SYSTEM,
    QUESTIONNAIRE_ID,
    QUESTIONNAIRE_URL,
    QUESTIONNAIRE_VERSION,
    UCUM,
    UK_CORE_PROFILES,
    VALUE_SETS,
    display,
    value_set_url,
)

JSON = dict[str, Any]


def _control(code: str) -> JSON:
    return {
        "url": EXT_ITEM_CONTROL,
        "valueCodeableConcept": {"coding": [{"system": ITEM_CONTROL_SYSTEM, "code": code}]},
    }


def _expression(url: str, fhirpath: str) -> JSON:
    return {"url": url, "valueExpression": {"language": "text/fhirpath", "expression": fhirpath}}


_PERCENT = {"url": EXT_UNIT, "valueCoding": {"system": UCUM, "code": "%", "display": "%"}}
_HIDDEN = {"url": EXT_HIDDEN, "valueBoolean": True}


def _extensions(item: Item) -> list[JSON]:
    out: list[JSON] = []
    if item.hidden:
        out.append(_HIDDEN)
    if item.control is not None:
        out.append(_control(item.control))
    if item.bounds is not None:
        low, high = item.bounds
        out += [{"url": EXT_MIN_VALUE, "valueInteger": low}, {"url": EXT_MAX_VALUE, "valueInteger": high}]
    if item.percent:
        out.append(_PERCENT)
    if item.choices is not None:
        out.append(_expression(EXT_ANSWER_EXPRESSION, item.choices))
    if item.initial is not None:
        out.append(_expression(EXT_INITIAL_EXPRESSION, item.initial))
    if item.link in TEMPLATES:
        reference = {"reference": f"#{TEMPLATES[item.link]}"}
        out.append({"url": EXT_TEMPLATE_EXTRACT, "extension": [{"url": "template", "valueReference": reference}]})
    return out


def _item(item: Item) -> JSON:
    out: JSON = {}
    extensions = _extensions(item)
    if extensions:
        out["extension"] = extensions
    out["linkId"] = item.link.value
    if item.code is not None:
        out["code"] = [coding(item.code)]
    out["text"] = item.text
    out["type"] = item.item_type
    if item.enable_when:
        out["enableWhen"] = [
            {"question": link.value, "operator": "=", "answerCoding": coding(answer)}
            for link, answer in item.enable_when
        ]
        out["enableBehavior"] = "any"
    if item.required:
        out["required"] = True
    if item.repeats:
        out["repeats"] = True
    if item.value_set is not None:
        out["answerValueSet"] = f"#{item.value_set}"
    if item.children:
        out["item"] = [_item(child) for child in item.children]
    return out


def items() -> list[JSON]:
    """The top-level items, in the order of the contract."""
    return [_item(item) for item in QUESTIONNAIRE_ITEMS]


def _value_sets_used(tree: tuple[Item, ...]) -> list[str]:
    names: list[str] = []
    for item in tree:
        if item.value_set is not None and item.value_set not in names:
            names.append(item.value_set)
        names += [n for n in _value_sets_used(item.children) if n not in names]
    return names


def _members(name: str) -> list[Any]:
    for kind, vs_name in CATEGORY_VALUE_SETS.items():
        if vs_name == name:
            return list(CATEGORIES_BY_KIND[kind])
    return list(VALUE_SETS[name])


def contained_value_set(name: str) -> Resource:
    """A ValueSet of the Questionnaire, with its expansion, to be contained in it (``#name``)."""
    concepts = [{"code": m.value, "display": display(m)} for m in _members(name)]
    return {
        "resourceType": "ValueSet",
        "id": name,
        "url": value_set_url(name),
        "version": QUESTIONNAIRE_VERSION,
        "name": pascal(name),
        "status": "active",
        "compose": {"include": [{"system": CODESYSTEM_URL, "concept": concepts}]},
        "expansion": {
            "timestamp": RELEASE_DATE,
            "total": len(concepts),
            "contains": [{"system": CODESYSTEM_URL, **c} for c in concepts],
        },
    }


def _launch_context() -> JSON:
    return {
        "url": EXT_LAUNCH_CONTEXT,
        "extension": [
            # SDC's code (system http://hl7.org/fhir/uv/sdc/CodeSystem/launchContext) without its system:
            # a server without the SDC package refuses an unknown code system; fillers read the code
            {"url": "name", "valueCoding": {"code": "patient"}},
            {"url": "type", "valueCode": "Patient"},
            {"url": "description", "valueString": "The person the map is about"},
        ],
    }


def build_questionnaire() -> Resource:
    """The Questionnaire resource."""
    resource = metadata(
        "Questionnaire",
        QUESTIONNAIRE_ID,
        QUESTIONNAIRE_URL,
        "WellbeingNetworkMapping",
        "Wellbeing network mapping",
        "One wellbeing network mapping conversation: the people, places and activities around a "
        "person, in closeness rings, rated for their impact on wellbeing; the ties between them; "
        "goals, sign-posts and what was agreed. Works in any SDC form filler: answer lists contained, "
        "earlier answers offered where an item names a connection or goal, prefilled from the patient "
        "launch context, annotated for SDC template-based extraction.",
        profile=UK_CORE_PROFILES["Questionnaire"],
    )
    contained = [contained_value_set(name) for name in _value_sets_used(QUESTIONNAIRE_ITEMS)]
    head = {k: v for k, v in resource.items() if k in ("resourceType", "id", "meta", "text")}
    tail = {k: v for k, v in resource.items() if k not in head}
    out: Resource = {**head, "contained": [*contained, *build_templates()], "extension": [_launch_context()], **tail}
    out["version"] = QUESTIONNAIRE_VERSION
    out["subjectType"] = ["Patient"]
    out["item"] = items()
    return out


def all_link_ids(item_list: list[JSON]) -> list[str]:
    """Every linkId of the items, depth first."""
    out: list[str] = []
    for item in item_list:
        out.append(item["linkId"])
        out.extend(all_link_ids(item.get("item", [])))
    return out
