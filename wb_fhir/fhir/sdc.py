"""SDC observation-based extraction (``$extract``), done by wb_fhir itself.

Follows the rules of the SDC implementation guide (Form Data Extraction, Observation-based):
an item is extracted when it or an ancestor (or the Questionnaire) carries
``sdc-questionnaire-observationExtract`` = true (a descendant with false opts out) and it has
an ``item.code``. Each extracted Observation gets status final; category from the nearest
``sdc-questionnaire-observation-extract-category``; code = all the item's codes; subject,
encounter, basedOn and partOf from the response; effective and issued from ``authored``
(issued only when authored is a full instant); performer from ``author``; derivedFrom the
response. A question gives one Observation per answer (valueQuantity when the item has a
``questionnaire-unit``); an extracted group gives one Observation per repetition with its
coded children as components (one component per answer). Skipped questions give nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from wb_fhir.errors import InputError, Problem
from wb_fhir.terminology import EXT_OBSERVATION_EXTRACT, EXT_OBSERVATION_EXTRACT_CATEGORY, EXT_UNIT

JSON = dict[str, Any]

_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
# Questionnaire answer types that an Observation component can hold, and how.
_COMPONENT_VALUE = {
    "valueCoding": "valueCodeableConcept",
    "valueString": "valueString",
    "valueInteger": "valueInteger",
    "valueBoolean": "valueBoolean",
    "valueDate": "valueDateTime",
    "valueDateTime": "valueDateTime",
    "valueTime": "valueTime",
    "valueQuantity": "valueQuantity",
    "valueDecimal": "valueQuantity",
}


@dataclass(frozen=True)
class _Context:
    extract: bool
    categories: tuple[JSON, ...]


def _extension(item: JSON, url: str) -> list[JSON]:
    return [e for e in item.get("extension", []) if e.get("url") == url]


def _extract_flag(item: JSON) -> bool | str | None:
    for e in _extension(item, EXT_OBSERVATION_EXTRACT):
        if "valueBoolean" in e:
            flag: bool = e["valueBoolean"]
            return flag
        if "valueCode" in e:
            code: str = e["valueCode"]
            return code
    return None


def _context(item: JSON, outer: _Context) -> _Context:
    flag = _extract_flag(item)
    categories = [e["valueCodeableConcept"] for e in _extension(item, EXT_OBSERVATION_EXTRACT_CATEGORY)]
    return _Context(
        extract=outer.extract if flag is None else flag is not False,
        categories=tuple(categories) if categories else outer.categories,
    )


def extract_observations(qr: Any, questionnaire: Any) -> list[JSON]:
    """The Observations SDC observation-based extraction makes of a response."""
    if not isinstance(qr, dict) or qr.get("resourceType") != "QuestionnaireResponse":
        raise InputError([Problem("resourceType", "expected a QuestionnaireResponse")])
    if not isinstance(questionnaire, dict) or questionnaire.get("resourceType") != "Questionnaire":
        raise InputError([Problem("questionnaire", "expected a Questionnaire")])
    canonical = str(qr.get("questionnaire", "")).partition("|")[0]
    if canonical != questionnaire.get("url"):
        raise InputError([Problem("questionnaire", f"{canonical!r} is not {questionnaire.get('url')!r}")])
    definitions = dict(_definitions(questionnaire.get("item", [])))
    root = _context(questionnaire, _Context(False, ()))
    common = _common(qr)
    out: list[JSON] = []
    _walk(qr.get("item", []), definitions, root, common, out)
    return out


def _definitions(items: list[JSON]) -> Iterator[tuple[str, JSON]]:
    for item in items:
        yield item["linkId"], item
        yield from _definitions(item.get("item", []))


def _common(qr: JSON) -> JSON:
    obs: JSON = {"resourceType": "Observation"}
    for key in ("basedOn", "partOf"):
        if qr.get(key):
            obs[key] = qr[key]
    obs["status"] = "final"
    if "subject" in qr:
        obs["subject"] = qr["subject"]
    encounter = qr.get("encounter")
    if isinstance(encounter, dict) and str(encounter.get("reference", "Encounter/")).startswith("Encounter"):
        obs["encounter"] = encounter
    authored = qr.get("authored")
    if isinstance(authored, str):
        obs["effectiveDateTime"] = authored
        if _INSTANT.match(authored):
            obs["issued"] = authored
    if "author" in qr:
        obs["performer"] = [qr["author"]]
    if qr.get("id"):
        obs["derivedFrom"] = [{"reference": f"QuestionnaireResponse/{qr['id']}"}]
    elif isinstance(qr.get("identifier"), dict):
        obs["derivedFrom"] = [{"type": "QuestionnaireResponse", "identifier": qr["identifier"]}]
    return obs


def _new(common: JSON, context: _Context, definition: JSON) -> JSON:
    obs = dict(common)
    if context.categories:
        obs["category"] = list(context.categories)
    obs["code"] = {"coding": list(definition["code"])}
    return obs


def _walk(items: list[JSON], definitions: dict[str, JSON], outer: _Context, common: JSON, out: list[JSON]) -> None:
    for item in items:
        definition = definitions.get(item.get("linkId", ""))
        if definition is None:
            continue
        context = _context(definition, outer)
        if context.extract and definition.get("code"):
            if definition.get("type") == "group":
                out.append(_group_observation(item, definitions, context, common, definition, out))
                continue
            for answer in item.get("answer", []):
                value = _value(answer, definition)
                if value:  # an Observation cannot hold a reference or an attachment
                    out.append(_ordered(_new(common, context, definition) | value))
        _walk(item.get("item", []), definitions, context, common, out)
        for answer in item.get("answer", []):
            _walk(answer.get("item", []), definitions, context, common, out)


def _group_observation(
    item: JSON, definitions: dict[str, JSON], context: _Context, common: JSON, definition: JSON, out: list[JSON]
) -> JSON:
    obs = _new(common, context, definition)
    components: list[JSON] = []
    for child in item.get("item", []):
        child_def = definitions.get(child.get("linkId", ""))
        if child_def is None or not child_def.get("code"):
            continue
        flag = _extract_flag(child_def)
        if flag is False:
            continue
        if flag is True or child_def.get("type") == "group":
            # an independent Observation (SDC: true = no relationship to the parent)
            _walk([child], definitions, context, common, out)
            continue
        for answer in child.get("answer", []):
            value = _value(answer, child_def)
            if value:
                components.append({"code": {"coding": list(child_def["code"])}, **value})
    if components:
        obs["component"] = components
    return _ordered(obs)


def _value(answer: JSON, definition: JSON) -> JSON:
    keys = [k for k in answer if k.startswith("value")]
    if not keys:
        return {}
    key = keys[0]
    value = answer[key]
    units = _extension(definition, EXT_UNIT)
    if units and key in ("valueInteger", "valueDecimal"):
        unit = units[0]["valueCoding"]
        quantity = {"value": value, "unit": unit.get("display", unit.get("code")), "system": unit.get("system")}
        quantity["code"] = unit.get("code")
        return {"valueQuantity": {k: v for k, v in quantity.items() if v is not None}}
    if key == "valueCoding":
        return {"valueCodeableConcept": {"coding": [value]}}
    target = _COMPONENT_VALUE.get(key)
    if target is None:
        return {}  # neither a component nor an Observation value can hold a reference or attachment
    if target == "valueQuantity" and key == "valueDecimal":
        return {"valueQuantity": {"value": value}}
    return {target: value}


_ORDER = (
    "resourceType",
    "basedOn",
    "partOf",
    "status",
    "category",
    "code",
    "subject",
    "encounter",
    "effectiveDateTime",
    "issued",
    "performer",
)


def _ordered(obs: JSON) -> JSON:
    head = {k: obs[k] for k in _ORDER if k in obs}
    return head | {k: v for k, v in obs.items() if k not in head}
