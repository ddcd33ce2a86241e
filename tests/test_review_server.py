"""The review in the record, proven on the HAPI test server: $validate, and prefill (first, and from a map)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from strategies import random_nhs_number

from wb_fhir.fhir import transaction_bundle
from wb_fhir.fhir.document import Attachment
from wb_fhir.mapfile import load_map, map_from_data, map_to_data
from wb_fhir.review.compare import compare_pair
from wb_fhir.review.prefill import prefill
from wb_fhir.review.record import review_care_plan, review_document_reference
from wb_fhir.review.summary import html_to_pdf, review_html
from wb_fhir.sync.client import FhirClient
from wb_fhir.terminology import NHS_NUMBER_SYSTEM, Category

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "review"


def errors(fhir: Any, resource: dict[str, Any]) -> list[dict[str, Any]]:
    """Errors of the resource against every profile it declares (ours and UK Core)."""
    found = []
    assert resource["meta"]["profile"]
    for profile in resource["meta"]["profile"]:
        r = fhir.post(f"{resource['resourceType']}/$validate", json=resource, params={"profile": profile})
        assert r.status_code in (200, 412), r.text
        outcome = r.json()
        assert outcome["resourceType"] == "OperationOutcome"
        found += [i for i in outcome.get("issue", []) if i.get("severity") in ("error", "fatal")]
    return found


def test_review_narrative_and_document_reference_validate(fhir: Any, conformance: object) -> None:
    old, new = load_map(EXAMPLES / "jordan-2026-05-14.yaml"), load_map(EXAMPLES / "jordan-2026-11-12.yaml")
    changes = compare_pair(old, new)
    html = review_html([old, new])
    files = [
        Attachment("application/pdf", html_to_pdf(html), "Review summary (PDF)"),
        Attachment("text/html", html.encode("utf-8"), "Review summary (HTML)"),
    ]
    doc = review_document_reference(changes, new, files)
    plan = review_care_plan(changes, new)
    assert errors(fhir, doc) == []
    assert errors(fhir, plan) == []


def seed(fhir: Any, nhs: str) -> tuple[str, str, str]:
    """A Patient with a mother (RelatedPerson) and a CPN (CareTeam): their references."""
    tag = uuid.uuid4().hex

    def create(resource: dict[str, Any]) -> str:
        r = fhir.post(resource["resourceType"], json=resource)
        assert r.status_code == 201, r.text
        return f"{resource['resourceType']}/{r.json()['id']}"

    patient = create(
        {
            "resourceType": "Patient",
            "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": nhs}],
            "name": [{"text": "Pat"}],
        }
    )
    mother = create(
        {
            "resourceType": "RelatedPerson",
            "identifier": [{"system": "https://wb-fhir.test/Id", "value": tag}],
            "patient": {"reference": patient},
            "name": [{"given": ["Ann"], "family": "Lee"}],
            "relationship": [
                {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "code": "MTH"}]}
            ],
        }
    )
    doctor = create({"resourceType": "Practitioner", "name": [{"given": ["Alex"], "family": "Jones"}]})
    create(
        {
            "resourceType": "CareTeam",
            "status": "active",
            "subject": {"reference": patient},
            "participant": [{"role": [{"text": "CPN"}], "member": {"reference": doctor}}],
        }
    )
    return patient, mother, doctor


def test_prefill_from_seeded_related_person_and_care_team(fhir: Any, fhir_server: str) -> None:
    nhs = random_nhs_number()
    patient, mother, doctor = seed(fhir, nhs)
    result = prefill(FhirClient(fhir_server), nhs, date(2026, 12, 1))
    draft = result.map
    assert result.started_from is None
    assert draft.subject.fhir_id == patient and draft.subject.nhs_number == nhs
    got = sorted((c.label, c.category, c.fhir_id, c.confirmed) for c in draft.connections)
    assert got == [
        ("Alex Jones (CPN)", Category.PRACTITIONER, doctor, False),
        ("Ann Lee", Category.FAMILY, mother, False),
    ]
    assert map_from_data(map_to_data(draft)) == draft


def test_prefill_starts_from_the_map_pushed_for_the_person(fhir: Any, fhir_server: str) -> None:
    nhs = random_nhs_number()
    patient, mother, doctor = seed(fhir, nhs)
    client = FhirClient(fhir_server)
    for name in ("jordan-2026-11-12", "jordan-2026-05-14"):  # the newer first: prefill must not take the last
        wmap = load_map(EXAMPLES / f"{name}.yaml")
        connections = tuple(replace(c, fhir_id=mother if c.id == "mum" else c.fhir_id) for c in wmap.connections)
        wmap = map_from_data(
            map_to_data(replace(wmap, subject=replace(wmap.subject, nhs_number=nhs), connections=connections, id=""))
        )
        client.transaction(transaction_bundle(wmap))
    pushed = load_map(EXAMPLES / "jordan-2026-11-12.yaml")
    result = prefill(client, nhs, date(2026, 12, 1))
    draft = result.map
    assert result.started_from == date(2026, 11, 12) and result.added == 1
    assert (draft.subject.nhs_number, draft.subject.fhir_id) == (nhs, patient)
    # The map's connections, same ids, as confirmed as they were; the mother is already there.
    assert [(c.id, c.label, c.confirmed) for c in draft.connections[:-1]] == [
        (c.id, c.label, c.confirmed) for c in pushed.connections
    ]
    assert next(c.fhir_id for c in draft.connections if c.id == "mum") == mother
    new = draft.connections[-1]
    assert (new.label, new.category, new.fhir_id, new.confirmed) == (
        "Alex Jones (CPN)",
        Category.PRACTITIONER,
        doctor,
        False,
    )
    assert [g.id for g in draft.goals] == ["less-betting", "evening-class"]
    assert map_from_data(map_to_data(draft)) == draft
