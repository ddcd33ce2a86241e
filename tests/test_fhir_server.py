"""Integration tests that prove the FHIR test server is a real FHIR R4 server.

They run against the ``fhir_server`` fixture (tests/fhir_server.py) and use identifiers
unique to each run, so they also pass against a long-lived server (WB_FHIR_TEST_SERVER).
"""

from __future__ import annotations

import uuid

import pytest

NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
TEST_SYSTEM = "https://wb-fhir.test/Id"


def unique(prefix: str = "") -> str:
    return f"{prefix}{uuid.uuid4().hex}"


def issues(outcome: dict, *severities: str) -> list[dict]:
    assert outcome.get("resourceType") == "OperationOutcome", outcome
    return [i for i in outcome.get("issue", []) if i.get("severity") in severities]


def errors(outcome: dict) -> list[dict]:
    return issues(outcome, "error", "fatal")


def validate(fhir, resource: dict, profile: str | None = None, instance_id: str | None = None) -> dict:
    path = resource["resourceType"]
    if instance_id:
        path += f"/{instance_id}"
    params = {"profile": profile} if profile else None
    r = fhir.post(f"{path}/$validate", json=resource, params=params)
    # HAPI answers 200 when the resource is valid, 412 with the same OperationOutcome when not
    assert r.status_code in (200, 412), r.text
    return r.json()


def search(fhir, query: str, **params) -> dict:
    r = fhir.get(query, params=params)
    assert r.status_code == 200, r.text
    bundle = r.json()
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    return bundle


def count(fhir, query: str) -> int:
    return search(fhir, query, _summary="count")["total"]


def patient(identifier_value: str, system: str = TEST_SYSTEM, **extra) -> dict:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": system, "value": identifier_value}],
        **extra,
    }


def observation(**extra) -> dict:
    obs = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}], "text": "Heart rate"},
    }
    obs.update(extra)
    return obs


# 1 ---------------------------------------------------------------------------------------


def test_create_and_read_patient_with_nhs_number(fhir):
    nhs = "9434765919"
    r = fhir.post("Patient", json=patient(nhs, system=NHS_NUMBER, name=[{"family": unique("Test-")}]))
    assert r.status_code == 201, r.text
    assert r.headers["ETag"] == 'W/"1"'
    created = r.json()
    assert "/Patient/" in r.headers["Location"]

    r = fhir.get(f"Patient/{created['id']}")
    assert r.status_code == 200
    read = r.json()
    assert read["id"] == created["id"]
    assert read["identifier"] == [{"system": NHS_NUMBER, "value": nhs}]
    assert read["name"] == created["name"]
    assert read["meta"]["versionId"] == "1"

    r = fhir.delete(f"Patient/{created['id']}")
    assert r.status_code in (200, 204)
    assert fhir.get(f"Patient/{created['id']}").status_code == 410


# 2 ---------------------------------------------------------------------------------------


def test_transaction_conditional_create_is_idempotent(fhir):
    value = unique("pt-")
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": patient(value),
                "request": {
                    "method": "POST",
                    "url": "Patient",
                    "ifNoneExist": f"identifier={TEST_SYSTEM}|{value}",
                },
            }
        ],
    }
    first = fhir.post("", json=bundle)
    assert first.status_code == 200, first.text
    first_entry = first.json()["entry"][0]
    assert first_entry["response"]["status"].startswith("201")

    second = fhir.post("", json=bundle)
    assert second.status_code == 200, second.text
    second_entry = second.json()["entry"][0]
    assert second_entry["response"]["status"].startswith("200")
    assert (
        second_entry["response"]["location"].split("/_history")[0]
        == (first_entry["response"]["location"].split("/_history")[0])
    )

    assert count(fhir, f"Patient?identifier={TEST_SYSTEM}|{value}") == 1


def test_transaction_urn_uuid_and_conditional_references(fhir):
    value = unique("pt-")
    patient_uuid = f"urn:uuid:{uuid.uuid4()}"
    transaction = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": patient_uuid,
                "resource": patient(value),
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "resource": observation(subject={"reference": patient_uuid}),
                "request": {"method": "POST", "url": "Observation"},
            },
        ],
    }
    r = fhir.post("", json=transaction)
    assert r.status_code == 200, r.text
    patient_id = r.json()["entry"][0]["response"]["location"].split("/")[1]
    obs_location = r.json()["entry"][1]["response"]["location"]
    obs = fhir.get(obs_location.split("/_history")[0]).json()
    assert obs["subject"]["reference"] == f"Patient/{patient_id}"

    # a conditional reference is resolved by the server; a batch runs entries independently
    batch = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {
                "resource": observation(subject={"reference": f"Patient?identifier={TEST_SYSTEM}|{value}"}),
                "request": {"method": "POST", "url": "Observation"},
            },
            {"request": {"method": "GET", "url": "Patient/does-not-exist-" + unique()}},
        ],
    }
    r = fhir.post("", json=batch)
    assert r.status_code == 200, r.text
    entries = r.json()["entry"]
    assert entries[0]["response"]["status"].startswith("201")
    assert entries[1]["response"]["status"].startswith("404")
    obs = fhir.get(entries[0]["response"]["location"].split("/_history")[0]).json()
    assert obs["subject"]["reference"] == f"Patient/{patient_id}"


# 3 ---------------------------------------------------------------------------------------


def test_conditional_update_twice_gives_version_2(fhir):
    value = unique("obs-")
    url = f"Observation?identifier={TEST_SYSTEM}|{value}"
    ident = [{"system": TEST_SYSTEM, "value": value}]

    r = fhir.put(url, json=observation(identifier=ident, valueQuantity=_bpm(60)))
    assert r.status_code == 201, r.text
    r = fhir.put(url, json=observation(identifier=ident, valueQuantity=_bpm(72)))
    assert r.status_code == 200, r.text

    found = search(fhir, url)
    assert found["total"] == 1
    obs = found["entry"][0]["resource"]
    assert obs["meta"]["versionId"] == "2"
    assert obs["valueQuantity"]["value"] == 72


def _bpm(value: float) -> dict:
    return {"value": value, "unit": "beats/minute", "system": "http://unitsofmeasure.org", "code": "/min"}


# 4 ---------------------------------------------------------------------------------------


def test_stale_if_match_is_refused(fhir):
    created = fhir.post("Patient", json=patient(unique("pt-"))).json()
    pid = created["id"]

    created["active"] = True
    r = fhir.put(f"Patient/{pid}", json=created, headers={"If-Match": 'W/"1"'})
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == 'W/"2"'

    created["active"] = False
    r = fhir.put(f"Patient/{pid}", json=created, headers={"If-Match": 'W/"1"'})
    # HAPI answers 409 Conflict; the FHIR spec says 412 Precondition Failed
    assert r.status_code in (409, 412), r.text
    assert fhir.get(f"Patient/{pid}").json()["meta"]["versionId"] == "2"


# 5 ---------------------------------------------------------------------------------------


def test_validate_rejects_observation_without_status(fhir):
    obs = observation()
    del obs["status"]
    errs = errors(validate(fhir, obs))
    assert any("status" in (e.get("diagnostics", "") + str(e.get("expression", ""))) for e in errs), errs

    assert errors(validate(fhir, observation())) == []


def test_validate_checks_ucum_units_in_memory(fhir):
    assert errors(validate(fhir, observation(valueQuantity=_bpm(70)))) == []
    bad = _bpm(70) | {"code": "not-a-ucum-unit"}
    assert errors(validate(fhir, observation(valueQuantity=bad))) != []


# 6 ---------------------------------------------------------------------------------------


def test_uploaded_profile_is_enforced_by_validate(fhir):
    run = unique()
    url = f"https://wb-fhir.test/StructureDefinition/obs-with-note-{run}"
    profile = {
        "resourceType": "StructureDefinition",
        "url": url,
        "name": "ObservationWithNote",
        "status": "active",
        "fhirVersion": "4.0.1",
        "kind": "resource",
        "abstract": False,
        "type": "Observation",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Observation",
        "derivation": "constraint",
        "differential": {
            "element": [
                {"id": "Observation", "path": "Observation"},
                {"id": "Observation.note", "path": "Observation.note", "min": 1},
            ]
        },
    }
    r = fhir.post("StructureDefinition", json=profile)
    assert r.status_code == 201, r.text

    without_note = observation()
    errs = errors(validate(fhir, without_note, profile=url))
    assert any("note" in e.get("diagnostics", "") + str(e.get("expression", "")) for e in errs), errs
    # the core definition alone does not require a note
    assert errors(validate(fhir, without_note)) == []

    with_note = observation(note=[{"text": "seen in clinic"}])
    assert errors(validate(fhir, with_note, profile=url)) == []

    # instance level: validate a stored resource's update against the profile
    stored = fhir.post("Observation", json=with_note).json()
    assert errors(validate(fhir, stored, profile=url, instance_id=stored["id"])) == []
    stored.pop("note")
    assert errors(validate(fhir, stored, profile=url, instance_id=stored["id"])) != []


# 7 ---------------------------------------------------------------------------------------


def test_questionnaire_response_validated_against_its_questionnaire(fhir):
    q_url = f"https://wb-fhir.test/Questionnaire/wellbeing-{unique()}"
    questionnaire = {
        "resourceType": "Questionnaire",
        "url": q_url,
        "name": "WellbeingCheck",
        "status": "active",
        "item": [
            {"linkId": "mood", "text": "How is your mood?", "type": "string", "required": True},
            {"linkId": "sleep-hours", "text": "Hours of sleep", "type": "integer"},
        ],
    }
    r = fhir.post("Questionnaire", json=questionnaire)
    assert r.status_code == 201, r.text

    def response(*items: dict) -> dict:
        return {
            "resourceType": "QuestionnaireResponse",
            "questionnaire": q_url,
            "status": "completed",
            "item": list(items),
        }

    mood = {"linkId": "mood", "answer": [{"valueString": "good"}]}
    good = response(mood, {"linkId": "sleep-hours", "answer": [{"valueInteger": 7}]})
    outcome = validate(fhir, good)
    assert errors(outcome) == [], outcome

    unknown_item = response(mood, {"linkId": "not-in-questionnaire", "answer": [{"valueString": "x"}]})
    errs = errors(validate(fhir, unknown_item))
    assert any("not-in-questionnaire" in e.get("diagnostics", "") for e in errs), errs


# 8 ---------------------------------------------------------------------------------------


def test_search_paging_sees_every_resource_once(fhir):
    system = f"https://wb-fhir.test/run/{unique()}"
    batch = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"resource": patient(f"p{i}", system=system), "request": {"method": "POST", "url": "Patient"}}
            for i in range(25)
        ],
    }
    r = fhir.post("", json=batch)
    assert r.status_code == 200, r.text
    assert all(e["response"]["status"].startswith("201") for e in r.json()["entry"])

    seen: list[str] = []
    pages = 0
    page = search(fhir, "Patient", identifier=f"{system}|", _count=10)
    while True:
        pages += 1
        assert len(page.get("entry", [])) <= 10
        seen += [e["resource"]["id"] for e in page.get("entry", [])]
        nxt = [link["url"] for link in page.get("link", []) if link["relation"] == "next"]
        if not nxt:
            break
        assert pages < 10, "paging does not end"
        page = search(fhir, nxt[0])
    assert pages == 3
    assert len(seen) == 25 and len(set(seen)) == 25


# 9 ---------------------------------------------------------------------------------------


def test_include_and_revinclude(fhir):
    pat = fhir.post("Patient", json=patient(unique("pt-"))).json()
    obs = fhir.post("Observation", json=observation(subject={"reference": f"Patient/{pat['id']}"})).json()

    inc = search(fhir, "Observation", _id=obs["id"], _include="Observation:subject")
    modes = {(e["resource"]["resourceType"], e["resource"]["id"]): e["search"]["mode"] for e in inc["entry"]}
    assert modes == {("Observation", obs["id"]): "match", ("Patient", pat["id"]): "include"}

    rev = search(fhir, "Patient", _id=pat["id"], _revinclude="Observation:subject")
    modes = {(e["resource"]["resourceType"], e["resource"]["id"]): e["search"]["mode"] for e in rev["entry"]}
    assert modes == {("Patient", pat["id"]): "match", ("Observation", obs["id"]): "include"}

    # a reference to a resource that does not exist is refused (referential integrity)
    r = fhir.post("Observation", json=observation(subject={"reference": "Patient/" + unique("missing")}))
    assert r.status_code in (400, 404, 422), r.text


# 10 --------------------------------------------------------------------------------------


def test_history_shows_versions(fhir):
    pat = fhir.post("Patient", json=patient(unique("pt-"))).json()
    for active in (True, False):
        pat["active"] = active
        r = fhir.put(f"Patient/{pat['id']}", json=pat)
        assert r.status_code == 200, r.text

    r = fhir.get(f"Patient/{pat['id']}/_history")
    assert r.status_code == 200
    history = r.json()
    assert history["type"] == "history"
    versions = sorted(int(e["resource"]["meta"]["versionId"]) for e in history["entry"])
    assert versions == [1, 2, 3]

    v1 = fhir.get(f"Patient/{pat['id']}/_history/1").json()
    assert "active" not in v1
    assert fhir.get(f"Patient/{pat['id']}/_history/2").json()["active"] is True


def test_client_assigned_id(fhir):
    pid = unique("wb-")
    r = fhir.put(f"Patient/{pid}", json=patient(pid) | {"id": pid})
    assert r.status_code == 201, r.text
    assert fhir.get(f"Patient/{pid}").json()["id"] == pid


@pytest.mark.parametrize("path", ["metadata"])
def test_capability_statement_is_r4(fhir, path):
    cs = fhir.get(path).json()
    assert cs["resourceType"] == "CapabilityStatement"
    assert cs["fhirVersion"] == "4.0.1"
