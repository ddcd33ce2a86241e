"""SDC extraction (``$extract``) of Observations, done by wb_fhir itself: template- and observation-based.

Template-based (SDC 4.0 ``sdc-questionnaire-templateExtract``): an item (each repetition of a
group) whose definition names a contained template extracts a copy of it, with every element
carrying ``sdc-questionnaire-templateExtractValue`` replaced by the value of its FHIRPath (evaluated
on the item's node in the response, ``%resource`` the response, ``%questionnaire`` the
Questionnaire; no result drops the element) and every element carrying
``sdc-questionnaire-templateExtractContext`` repeated once per result of its FHIRPath (that result
the context of its own expressions; no result drops it, and a template whose context finds nothing
extracts nothing). FHIRPath is evaluated by ``fhirpathpy`` with the R4 model.

Observation-based follows the rules of the SDC implementation guide (Form Data Extraction):
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

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fhirpathpy import evaluate
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models

from wb_fhir.errors import InputError, Problem
from wb_fhir.terminology import (
    EXT_OBSERVATION_EXTRACT,
    EXT_OBSERVATION_EXTRACT_CATEGORY,
    EXT_TEMPLATE_EXTRACT,
    EXT_TEMPLATE_EXTRACT_CONTEXT,
    EXT_TEMPLATE_EXTRACT_VALUE,
    EXT_UNIT,
)

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
    """The Observations SDC extraction makes of a response: observation-based, then template-based."""
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
    templates = {r.get("id"): r for r in questionnaire.get("contained", []) if isinstance(r, dict)}
    response = copy.deepcopy(qr)  # fhirpathpy annotates what it evaluates
    variables = {"resource": response, "questionnaire": questionnaire}
    out += _Templates(templates, definitions, variables).items(response.get("item", []))
    return out


# --- template-based --------------------------------------------------------------------------

_R4 = models["r4"]


class _Templates:
    def __init__(self, templates: dict[Any, JSON], definitions: dict[str, JSON], variables: JSON) -> None:
        self.templates = templates
        self.definitions = definitions
        self.variables = variables

    def items(self, items: list[JSON]) -> list[JSON]:
        out: list[JSON] = []
        for item in items:
            definition = self.definitions.get(item.get("linkId", ""), {})
            for extension in _extension(definition, EXT_TEMPLATE_EXTRACT):
                parts = {e.get("url"): e for e in extension.get("extension", [])}
                reference = str(parts.get("template", {}).get("valueReference", {}).get("reference", ""))
                template = self.templates.get(reference.removeprefix("#"))
                if template is None:
                    raise InputError([Problem(item.get("linkId", ""), f"template {reference!r} is not contained")])
                made = self._fill(copy.deepcopy(template), item)
                for resource in made if isinstance(made, list) else [made]:
                    if isinstance(resource, dict):
                        resource.pop("id", None)
                        out.append(resource)
            out += self.items(item.get("item", []))
            for answer in item.get("answer", []):
                out += self.items(answer.get("item", []))
        return out

    def _evaluate(self, context: Any, expression: str, raw: bool) -> list[Any]:
        path: Any = (
            expression
            if isinstance(context, ResourceNode)
            else {
                "base": "QuestionnaireResponse.item",
                "expression": expression,
            }
        )
        options = {"returnRawData": True} if raw else None
        result: list[Any] = evaluate(context, path, self.variables, _R4, options)
        return result

    def _fill(self, node: Any, context: Any) -> Any:
        """The template node filled in: a value, a list of values (a repeated element), or None."""
        if isinstance(node, list):
            out: list[Any] = []
            for element in node:
                filled = self._fill(element, context)
                out += filled if isinstance(filled, list) else [] if filled is None else [filled]
            return out or None
        if not isinstance(node, dict):
            return node
        extensions = node.get("extension", [])
        contexts = [e for e in extensions if e.get("url") == EXT_TEMPLATE_EXTRACT_CONTEXT]
        values = [e for e in extensions if e.get("url") == EXT_TEMPLATE_EXTRACT_VALUE]
        rest = [e for e in extensions if e not in contexts and e not in values]
        if values:
            found = self._evaluate(context, values[0]["valueString"], raw=False)
            return None if not found else found[0] if len(found) == 1 else found
        body = {k: v for k, v in node.items() if k != "extension"} | ({"extension": rest} if rest else {})
        if contexts:
            found = self._evaluate(context, contexts[0]["valueString"], raw=True)
            filled = [self._fill_object(copy.deepcopy(body), each) for each in found]
            kept = [f for f in filled if f is not None]
            return None if not kept else kept[0] if len(kept) == 1 else kept
        return self._fill_object(body, context)

    def _fill_object(self, node: JSON, context: Any) -> JSON | None:
        out: JSON = {}
        for key, value in node.items():
            filled = self._fill(value, context)
            if filled is None or filled == {} or filled == []:
                continue
            name = key[1:] if key.startswith("_") else key
            out[name] = filled
        return out or None


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
