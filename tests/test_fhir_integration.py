"""The Bundles of every example on a real FHIR server: they validate, post, and post again idempotently.

Each run uses its own (valid, random) NHS numbers, so runs can share a long-lived server.
When ``profiles/`` holds the project's conformance resources, they are installed first and
every resource is validated against its own profile; otherwise against base FHIR R4.
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from strategies import random_nhs_number

from wb_fhir.fhir import Attachment, transaction_bundle
from wb_fhir.fhir.references import connection_series_key
from wb_fhir.mapfile import load_map
from wb_fhir.model import WellbeingMap
from wb_fhir.terminology import NHS_NUMBER_SYSTEM

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SVG = Attachment("image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "Wellbeing network map")
EXAMPLE_FILES = sorted(p for p in EXAMPLES.rglob("*.yaml") if p.name != "assets.yaml")


@pytest.fixture(scope="module")
def rng() -> random.Random:
    return random.Random()


def _for_new_patient(fhir: Any, wmap: WellbeingMap, nhs: str) -> WellbeingMap:
    """The map about a fresh Patient; the test (never the Bundle) creates the Patient and the
    resources the map's connections and practitioners already point at."""
    patient = {"resourceType": "Patient", "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": nhs}]}
    response = fhir.post("Patient", json=patient, headers={"If-None-Exist": f"identifier={NHS_NUMBER_SYSTEM}|{nhs}"})
    assert response.status_code in (200, 201), response.text[:2000]
    patient_id = response.json()["id"]
    for ref in [c.fhir_id for c in wmap.connections] + [p.fhir_id for p in wmap.practitioners]:
        if ref:
            kind, _, rid = ref.partition("/")
            existing: dict[str, Any] = {"resourceType": kind, "id": rid}
            if kind == "RelatedPerson":
                existing["patient"] = {"reference": f"Patient/{patient_id}"}
            response = fhir.put(ref, json=existing)
            assert response.status_code in (200, 201), response.text[:2000]
    return replace(wmap, subject=replace(wmap.subject, nhs_number=nhs, fhir_id=None), id="")


def _errors(outcome: dict[str, Any]) -> list[str]:
    return [
        f"{i.get('severity')}: {i.get('diagnostics')} @ {i.get('expression') or i.get('location')}"
        for i in outcome.get("issue", [])
        if i.get("severity") in ("error", "fatal")
    ]


def _count(fhir: Any, url: str) -> int:
    response = fhir.get(url, params={"_summary": "count"})
    assert response.status_code == 200, response.text[:2000]
    total: int = response.json()["total"]
    return total


def _post(fhir: Any, bundle: dict[str, Any]) -> dict[str, Any]:
    response = fhir.post("", json=bundle)
    assert response.status_code == 200, response.text[:4000]
    result: dict[str, Any] = response.json()
    return result


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_every_resource_validates_and_the_bundle_posts_idempotently(
    fhir: Any, conformance: object, rng: random.Random, path: Path
) -> None:
    wmap = _for_new_patient(fhir, load_map(path), random_nhs_number(rng))
    bundle = transaction_bundle(wmap, attachments=[SVG])
    assert any(e["resource"]["resourceType"] == "DocumentReference" for e in bundle["entry"])
    problems = []
    for n, entry in enumerate(bundle["entry"]):
        resource = entry["resource"]
        # each declared profile: ours, and UK Core where there is one
        assert resource["meta"]["profile"], f"entry[{n}] declares no profile"
        for profile in resource["meta"]["profile"]:
            response = fhir.post(f"{resource['resourceType']}/$validate", json=resource, params={"profile": profile})
            problems += [f"entry[{n}] {resource['resourceType']}: {e}" for e in _errors(response.json())]
    assert problems == []

    first = _post(fhir, bundle)
    assert all(e["response"]["status"].startswith(("200", "201")) for e in first["entry"])
    _post(fhir, bundle)
    for entry in bundle["entry"]:
        request = entry["request"]
        url = request["url"] if request["method"] == "PUT" else f"Provenance?{request['ifNoneExist']}"
        assert _count(fhir, url) == 1, url


def test_a_connection_is_followed_across_the_review_pair(fhir: Any, rng: random.Random) -> None:
    nhs = random_nhs_number(rng)
    old = _for_new_patient(fhir, load_map(EXAMPLES / "review/jordan-2026-05-14.yaml"), nhs)
    new = _for_new_patient(fhir, load_map(EXAMPLES / "review/jordan-2026-11-12.yaml"), nhs)
    _post(fhir, transaction_bundle(old))
    _post(fhir, transaction_bundle(new))
    series = connection_series_key(new, "cpn")
    assert series == connection_series_key(old, "cpn")
    response = fhir.get("Observation", params={"identifier": f"{series.system}|{series.value}", "_sort": "date"})
    assert response.status_code == 200
    found = [e["resource"] for e in response.json().get("entry", [])]
    assert [o["effectiveDateTime"] for o in found] == ["2026-05-14", "2026-11-12"]
    rings = [next(c["valueInteger"] for c in o["component"] if "valueInteger" in c) for o in found]
    assert rings == [2, 1]  # the CPN moved into the inner circle
    # one CarePlan for the person, updated by the review (two versions in its history)
    plans = fhir.get("CarePlan", params={"subject:Patient.identifier": f"{NHS_NUMBER_SYSTEM}|{nhs}"}).json()
    assert plans["total"] == 1
    plan = plans["entry"][0]["resource"]
    assert plan["meta"]["versionId"] == "2"
    assert plan["period"]["start"] == "2026-11-12"
