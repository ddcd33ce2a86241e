"""SDC observation-based extraction against the Questionnaire (the shipped one when present)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from wb_fhir._resources import data_dir
from wb_fhir.errors import InputError
from wb_fhir.fhir import extract_observations, questionnaire_response
from wb_fhir.fhir.items import ITEMS, parent
from wb_fhir.mapfile import load_map
from wb_fhir.terminology import (
    CODESYSTEM_URL,
    EXT_OBSERVATION_EXTRACT,
    EXT_OBSERVATION_EXTRACT_CATEGORY,
    EXT_UNIT,
    OBSERVATION_CATEGORY_SYSTEM,
    QUESTIONNAIRE_URL,
    QUESTIONNAIRE_VERSION,
    UCUM,
    LinkId,
    ObservationCode,
    value_set_url,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# Component code of each child of the connection group, as the contract names them.
_CONNECTION_CODES = {
    LinkId.CONNECTION_ID: ObservationCode.CONNECTION_ID,
    LinkId.CONNECTION_KIND: ObservationCode.CONNECTION_KIND,
    LinkId.CONNECTION_LABEL: ObservationCode.CONNECTION_LABEL,
    LinkId.CONNECTION_CATEGORY_PERSON: ObservationCode.CONNECTION_CATEGORY,
    LinkId.CONNECTION_CATEGORY_PLACE: ObservationCode.CONNECTION_CATEGORY,
    LinkId.CONNECTION_CATEGORY_ACTIVITY: ObservationCode.CONNECTION_CATEGORY,
    LinkId.CONNECTION_RING: ObservationCode.RING,
    LinkId.CONNECTION_FREQUENCY: ObservationCode.FREQUENCY,
    LinkId.CONNECTION_STATUS: ObservationCode.STATUS,
    LinkId.CONNECTION_DISCLOSURE: ObservationCode.DISCLOSURE,
    LinkId.CONNECTION_ROLES: ObservationCode.PRACTITIONER_ROLE,
}
_CATEGORY_EXT = {
    "url": EXT_OBSERVATION_EXTRACT_CATEGORY,
    "valueCodeableConcept": {"coding": [{"system": OBSERVATION_CATEGORY_SYSTEM, "code": "survey"}]},
}


def _code(code: ObservationCode) -> list[dict[str, str]]:
    return [{"system": CODESYSTEM_URL, "code": code.value}]


def contract_questionnaire() -> dict[str, Any]:
    """A minimal Questionnaire built from the contract (used until profiles/ ships one)."""
    built: dict[str, dict[str, Any]] = {}
    top: list[dict[str, Any]] = []
    for link, shape in ITEMS.items():
        item: dict[str, Any] = {"linkId": link.value, "type": shape.item_type}
        if shape.repeats:
            item["repeats"] = True
        if shape.codes is not None:
            item["answerValueSet"] = value_set_url(link.value.rsplit(".", 1)[-1])
        if link in _CONNECTION_CODES:
            item["code"] = _code(_CONNECTION_CODES[link])
        if link is LinkId.CONNECTION:
            item["code"] = _code(ObservationCode.CONNECTION)
            item["extension"] = [{"url": EXT_OBSERVATION_EXTRACT, "valueBoolean": True}]
        if link is LinkId.TIME_AT_HOME:
            item["code"] = _code(ObservationCode.TIME_AT_HOME)
            item["extension"] = [
                {"url": EXT_OBSERVATION_EXTRACT, "valueBoolean": True},
                {"url": EXT_UNIT, "valueCoding": {"system": UCUM, "code": "%", "display": "%"}},
            ]
        built[link.value] = item
        owner = parent(link.value)
        (built[owner].setdefault("item", []) if owner else top).append(item)
    return {
        "resourceType": "Questionnaire",
        "url": QUESTIONNAIRE_URL,
        "version": QUESTIONNAIRE_VERSION,
        "status": "active",
        "extension": [_CATEGORY_EXT],
        "item": top,
    }


def _shipped_questionnaire() -> dict[str, Any] | None:
    try:
        folder = data_dir("profiles")
    except FileNotFoundError:
        return None
    for path in folder.rglob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("resourceType") == "Questionnaire" and data.get("url") == QUESTIONNAIRE_URL:
            return dict(data)
    return None


QUESTIONNAIRES = [pytest.param(contract_questionnaire(), id="contract")]
if (_shipped := _shipped_questionnaire()) is not None:
    QUESTIONNAIRES.append(pytest.param(_shipped, id="profiles"))


def _items_by_link(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        out[item["linkId"]] = item
        out.update(_items_by_link(item.get("item", [])))
    return out


@pytest.mark.parametrize("questionnaire", QUESTIONNAIRES)
@pytest.mark.parametrize("name", ["figure1.yaml", "diverse-network.yaml", "alone.yaml"])
def test_our_response_conforms_to_the_questionnaire_items(questionnaire: dict[str, Any], name: str) -> None:
    """Every answered linkId exists in the Questionnaire, at its place, with its answer type."""
    from wb_fhir.fhir.items import ANSWER_KEY

    defs = _items_by_link(questionnaire["item"])
    qr = questionnaire_response(load_map(EXAMPLES / name))

    def walk(items: list[dict[str, Any]], owner: str | None) -> None:
        seen: dict[str, int] = {}
        for item in items:
            d = defs[item["linkId"]]
            assert parent(item["linkId"]) == owner
            seen[item["linkId"]] = seen.get(item["linkId"], 0) + 1
            assert seen[item["linkId"]] == 1 or d.get("repeats"), item["linkId"]
            if d["type"] == "group":
                walk(item.get("item", []), item["linkId"])
                continue
            assert len(item["answer"]) == 1 or d.get("repeats"), item["linkId"]
            for answer in item["answer"]:
                assert list(answer) == [ANSWER_KEY[d["type"]]], item["linkId"]

    walk(qr["item"], None)


def test_extract_observations_follows_the_sdc_rules() -> None:
    """Observation-based extraction (the contract Questionnaire annotates the connection group)."""
    questionnaire = contract_questionnaire()
    wmap = load_map(EXAMPLES / "figure1.yaml")
    qr = questionnaire_response(wmap) | {"id": "qr-1", "author": {"reference": "Practitioner/alex"}}
    extracted = extract_observations(qr, questionnaire)
    connections = [o for o in extracted if o["code"]["coding"][0]["code"] == "connection"]
    assert len(connections) == len(wmap.connections)
    for obs in extracted:
        assert obs["status"] == "final"
        assert obs["subject"] == qr["subject"]
        assert obs["effectiveDateTime"] == qr["authored"]
        assert "issued" not in obs  # authored is a date, not an instant
        assert obs["performer"] == [{"reference": "Practitioner/alex"}]
        assert obs["derivedFrom"] == [{"reference": "QuestionnaireResponse/qr-1"}]
        assert obs["category"]
    cpn = next(o for o in connections if {"valueString": "cpn"}.items() <= o["component"][0].items())
    codes = [c["code"]["coding"][0]["code"] for c in cpn["component"]]
    assert codes.count("practitioner-role") == 2  # one component per answer
    assert "connection-kind" in codes and "ring" in codes
    ring = next(c for c in cpn["component"] if c["code"]["coding"][0]["code"] == "ring")
    assert ring["valueInteger"] == 1
    home = [o for o in extracted if o["code"]["coding"][0]["code"] == "time-at-home"]
    assert home[0]["valueQuantity"]["value"] == 75 and home[0]["valueQuantity"]["code"] == "%"


def test_extract_observations_instant_opt_out_and_skipped_questions() -> None:
    questionnaire = contract_questionnaire()
    wmap = load_map(EXAMPLES / "figure1.yaml")
    qr = questionnaire_response(wmap)
    qr["authored"] = "2026-11-20T10:30:00Z"
    qr["item"] = [i for i in qr["item"] if i["linkId"] != "time-at-home"]
    connection = next(i for i in questionnaire["item"] if i["linkId"] == "connection")
    ring = next(i for i in connection["item"] if i["linkId"] == "connection.ring")
    ring["extension"] = [{"url": EXT_OBSERVATION_EXTRACT, "valueBoolean": False}]
    extracted = extract_observations(qr, questionnaire)
    assert all(o["issued"] == "2026-11-20T10:30:00Z" for o in extracted)
    assert not [o for o in extracted if o["code"]["coding"][0]["code"] == "time-at-home"]
    assert all(c["code"]["coding"][0]["code"] != "ring" for o in extracted for c in o.get("component", []))
    assert "derivedFrom" in extracted[0] and extracted[0]["derivedFrom"][0]["type"] == "QuestionnaireResponse"


def test_extract_observations_refuses_another_questionnaire() -> None:
    qr = questionnaire_response(load_map(EXAMPLES / "alone.yaml"))
    other = contract_questionnaire() | {"url": "http://example.org/Questionnaire/phq-9"}
    with pytest.raises(InputError, match=re.escape("questionnaire: 'https://wb-fhir.org/fhir/Questionnaire/")):
        extract_observations(qr, other)


# --- template-based extraction with the shipped Questionnaire ------------------------------------

_RECORD_KEEPING = ("meta", "identifier", "derivedFrom")
"""What only wb_fhir adds: its profiles (they require the identifiers), stable UUID business
identifiers and the link to the stored response."""


def _without_record_keeping(obs: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in obs.items() if k not in _RECORD_KEEPING}
    if out["code"]["coding"][0]["code"] == "tie":
        out.pop("focus")  # the tie's ends as references to connection Observations: wb_fhir's own
    return out


@pytest.mark.parametrize("name", ["figure1.yaml", "diverse-network.yaml", "alone.yaml"])
def test_template_extraction_gives_our_observations(name: str) -> None:
    """The shipped Questionnaire's templates extract the connection, tie and time-at-home Observations
    wb_fhir writes, field by field (less business identifiers, derivedFrom and a tie's focus)."""
    from wb_fhir.conformance.questionnaire import build_questionnaire
    from wb_fhir.fhir import observations

    wmap = load_map(EXAMPLES / name)
    extracted = extract_observations(questionnaire_response(wmap), build_questionnaire())
    ours = [
        _without_record_keeping(o) for o in observations(wmap) if o["code"]["coding"][0]["code"] != "network-summary"
    ]
    by_code = sorted(
        extracted, key=lambda o: ["time-at-home", "connection", "tie"].index(o["code"]["coding"][0]["code"])
    )
    ours_by_code = sorted(
        ours, key=lambda o: ["time-at-home", "connection", "tie"].index(o["code"]["coding"][0]["code"])
    )
    assert len(by_code) == len(ours_by_code) == len(wmap.connections) + len(wmap.ties) + (wmap.time_at_home is not None)
    for theirs, mine in zip(by_code, ours_by_code, strict=True):
        assert theirs == mine
    assert all(o["code"]["coding"][0]["code"] for o in extracted)


def test_template_extraction_defaults_status_and_skips_unanswered_items() -> None:
    from wb_fhir.conformance.questionnaire import build_questionnaire

    wmap = load_map(EXAMPLES / "figure1.yaml")
    qr = questionnaire_response(wmap)
    first = next(i for i in qr["item"] if i["linkId"] == "connection")
    first["item"] = [i for i in first["item"] if i["linkId"] != "connection.status"]
    qr["item"] = [i for i in qr["item"] if i["linkId"] != "time-at-home"]
    extracted = extract_observations(qr, build_questionnaire())
    connections = [o for o in extracted if o["code"]["coding"][0]["code"] == "connection"]
    assert len(connections) == len(wmap.connections)
    assert not [o for o in extracted if o["code"]["coding"][0]["code"] == "time-at-home"]
    for connection in connections:  # one status component each: as answered, else current
        statuses = [c for c in connection["component"] if c["code"]["coding"][0]["code"] == "connection-status"]
        assert [s["valueCodeableConcept"]["coding"][0]["code"] for s in statuses] == ["current"]


def test_template_extraction_refuses_a_missing_template() -> None:
    from wb_fhir.conformance.questionnaire import build_questionnaire

    questionnaire = build_questionnaire()
    questionnaire["contained"] = [r for r in questionnaire["contained"] if r["resourceType"] != "Observation"]
    qr = questionnaire_response(load_map(EXAMPLES / "figure1.yaml"))
    with pytest.raises(
        InputError, match=re.escape("time-at-home: template '#time-at-home-observation' is not contained")
    ):
        extract_observations(qr, questionnaire)
