"""SDC $populate (wb_fhir.fhir.populate): the response a form filler opens, prefilled from the record.

The people are those ``wb-fhir prefill`` finds: proven with the same record on the HAPI test server.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from strategies import random_nhs_number

from wb_fhir.conformance.questionnaire import build_questionnaire
from wb_fhir.errors import InputError
from wb_fhir.fhir import extract_map, populate
from wb_fhir.mapfile import load_map
from wb_fhir.review.prefill import prefill
from wb_fhir.sync.client import FhirClient
from wb_fhir.terminology import NHS_NUMBER_SYSTEM, Category

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ON = date(2026, 9, 14)
PATIENT = {
    "resourceType": "Patient",
    "id": "robin",
    "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": "9434765919"}],
    "name": [{"given": ["Robin"], "family": "Ahmed"}],
}
ROLE_CODES = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"


def _sister(patient: str = "Patient/robin") -> dict[str, Any]:
    return {
        "resourceType": "RelatedPerson",
        "id": "aisha",
        "patient": {"reference": patient},
        "relationship": [{"coding": [{"system": ROLE_CODES, "code": "SIS", "display": "sister"}]}],
        "name": [{"given": ["Aisha"], "family": "Ahmed"}],
    }


def _team(subject: str = "Patient/robin", status: str = "active") -> list[dict[str, Any]]:
    return [
        {
            "resourceType": "CareTeam",
            "id": "team",
            "status": status,
            "subject": {"reference": subject},
            "participant": [
                {"role": [{"text": "Care coordinator"}], "member": {"reference": "Practitioner/priya"}},
                {"member": {"reference": "PractitionerRole/gp-role"}},
                {"member": {"reference": "Organization/trust"}},  # not a person: not a connection
            ],
        },
        {"resourceType": "Practitioner", "id": "priya", "name": [{"given": ["Priya"], "family": "Shah"}]},
        {
            "resourceType": "PractitionerRole",
            "id": "gp-role",
            "practitioner": {"reference": "Practitioner/lee"},
            "code": [{"coding": [{"code": "62247001", "display": "GP"}]}],
        },
        {"resourceType": "Practitioner", "id": "lee", "name": [{"text": "Dr Lee"}]},
    ]


def test_the_record_s_people_are_unconfirmed_connections_of_an_in_progress_response() -> None:
    qr = populate(build_questionnaire(), PATIENT, [_sister()], _team(), on=ON)
    assert qr["status"] == "in-progress"
    assert qr["subject"]["reference"] == "Patient/robin"
    wmap = extract_map(qr).map
    assert (wmap.subject.nhs_number, wmap.subject.fhir_id, wmap.subject.display) == (
        "9434765919",
        "Patient/robin",
        "Robin Ahmed",
    )
    assert wmap.date == ON
    got = [(c.label, c.category, c.fhir_id, c.confirmed) for c in wmap.connections]
    assert got == [
        ("Aisha Ahmed", Category.FAMILY, "RelatedPerson/aisha", False),
        ("Priya Shah (Care coordinator)", Category.PRACTITIONER, "Practitioner/priya", False),
        ("Dr Lee (GP)", Category.PRACTITIONER, "PractitionerRole/gp-role", False),
    ]


def test_an_inactive_care_team_gives_no_one() -> None:
    qr = populate(build_questionnaire(), PATIENT, [], _team(status="inactive"), on=ON)
    assert extract_map(qr).map.connections == ()


def test_from_the_latest_map_only_the_people_it_lacks_are_added() -> None:
    latest = load_map(EXAMPLES / "figure1.yaml")
    latest = replace(latest, subject=replace(latest.subject, fhir_id="Patient/robin"), id="")
    mum = replace(latest.connections[0], fhir_id="RelatedPerson/aisha")  # already in the map
    latest = replace(latest, connections=(mum, *latest.connections[1:]))
    qr = populate(build_questionnaire(), PATIENT, [_sister()], _team(), latest, on=date(2027, 5, 20))
    wmap = extract_map(qr).map
    assert wmap.date == date(2027, 5, 20)
    assert [c.id for c in wmap.connections[: len(latest.connections)]] == [c.id for c in latest.connections]
    added = wmap.connections[len(latest.connections) :]
    assert [(c.fhir_id, c.confirmed) for c in added] == [
        ("Practitioner/priya", False),
        ("PractitionerRole/gp-role", False),
    ]
    assert [g.id for g in wmap.goals] == [g.id for g in latest.goals]  # open goals carried forward


@pytest.mark.parametrize(
    ("args", "place"),
    [
        ((PATIENT, [_sister("Patient/someone-else")], []), "related_persons[0]"),
        ((PATIENT, [], _team(subject="Patient/someone-else")), "care_team[0]"),
        ((PATIENT, [{"resourceType": "Patient", "id": "x"}], []), "related_persons[0]"),
        ((PATIENT, [], [{"resourceType": "Observation", "id": "x"}]), "care_team[0]"),
        (({"resourceType": "Patient"}, [], []), "patient.id"),
        (({"resourceType": "Practitioner", "id": "x"}, [], []), "patient"),
    ],
)
def test_resources_of_another_patient_or_kind_are_refused(args: tuple[Any, Any, Any], place: str) -> None:
    with pytest.raises(InputError) as caught:
        populate(build_questionnaire(), *args, on=ON)
    assert [p.path for p in caught.value.problems] == [place]


def test_another_questionnaire_or_version_is_refused() -> None:
    for changed, place in (
        ({"url": "https://example.org/Questionnaire/x"}, "questionnaire.url"),
        ({"version": "9"}, "questionnaire.version"),
    ):
        with pytest.raises(InputError) as caught:
            populate(build_questionnaire() | changed, PATIENT, on=ON)
        assert caught.value.problems[0].path == place


def test_the_latest_map_must_be_the_patient_s_and_older() -> None:
    latest = load_map(EXAMPLES / "figure1.yaml")  # NHS number 9434765919, like PATIENT
    other = replace(latest, subject=replace(latest.subject, nhs_number="9876543210"), id="")
    with pytest.raises(InputError) as caught:
        populate(build_questionnaire(), PATIENT, latest_map=other, on=date(2027, 1, 1))
    assert caught.value.problems[0].path == "latest_map.subject"
    with pytest.raises(InputError) as caught:
        populate(build_questionnaire(), PATIENT, latest_map=latest, on=latest.date)
    assert caught.value.problems[0].path == "on"


def test_the_same_people_as_prefill_from_the_record_on_the_server(fhir: Any, fhir_server: str) -> None:
    nhs = random_nhs_number()
    tag = uuid.uuid4().hex

    def create(resource: dict[str, Any]) -> str:
        r = fhir.post(resource["resourceType"], json=resource)
        assert r.status_code == 201, r.text
        return f"{resource['resourceType']}/{r.json()['id']}"

    patient = create({"resourceType": "Patient", "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": nhs}]})
    for given, code in (("Ann", "MTH"), ("Bo", "FRND")):
        create(
            {
                "resourceType": "RelatedPerson",
                "identifier": [{"system": "https://wb-fhir.test/Id", "value": f"{tag}-{given}"}],
                "patient": {"reference": patient},
                "name": [{"given": [given], "family": "Lee"}],
                "relationship": [{"coding": [{"system": ROLE_CODES, "code": code}]}],
            }
        )
    doctor = create({"resourceType": "Practitioner", "name": [{"given": ["Alex"], "family": "Jones"}]})
    nurse = create({"resourceType": "Practitioner", "name": [{"text": "Sam Nurse"}]})
    role = create({"resourceType": "PractitionerRole", "practitioner": {"reference": nurse}})
    create(
        {
            "resourceType": "CareTeam",
            "status": "active",
            "subject": {"reference": patient},
            "participant": [
                {"role": [{"text": "CPN"}], "member": {"reference": doctor}},
                {"member": {"reference": role}},
            ],
        }
    )
    client = FhirClient(fhir_server)
    drafted = prefill(client, nhs, ON).map
    patient_resource = client.read("Patient", patient.split("/")[1])
    related = list(client.search_all("RelatedPerson", {"patient": patient}))
    search = {"patient": patient, "_include": "CareTeam:participant"}
    team = [*client.search_all("CareTeam", search), *client.search_all("CareTeam", search, mode="include")]
    team += [client.read("Practitioner", nurse.split("/")[1])]  # the practitioner of the role, one step on
    populated = extract_map(populate(build_questionnaire(), patient_resource, related, team, on=ON)).map
    assert len(populated.connections) == 4
    assert populated == drafted
