"""SDC $populate (wb_fhir.fhir.populate): the response a form filler opens, prefilled from the record.

The people are those ``wb-fhir prefill`` finds: proven with the same record on the HAPI test server.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import responses
from click.testing import CliRunner, Result
from strategies import random_nhs_number

from wb_fhir.cli import main
from wb_fhir.conformance.questionnaire import build_questionnaire
from wb_fhir.errors import InputError
from wb_fhir.fhir import extract_map, populate, questionnaire_response
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
BASE = "https://fhir.example.test/fhir"
NHS = "9434765919"
OUTCOME = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "processing", "diagnostics": "HAPI-0000: the index is rebuilding"}],
}


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
    assert "meta" not in qr  # the profile is for the completed map: an in-progress response declares none
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
    assert caught.value.problems[0].path == "date"


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


# --- wb-fhir populate: the response from the record on a FHIR server ----------------------------


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, ["populate", *args])


def test_the_command_writes_the_response_a_filler_opens_from_the_record_on_the_server(
    fhir: Any, fhir_server: str, conformance: Any, tmp_path: Path
) -> None:
    nhs = random_nhs_number()
    tag = uuid.uuid4().hex

    def create(resource: dict[str, Any]) -> str:
        r = fhir.post(resource["resourceType"], json=resource)
        assert r.status_code == 201, r.text
        return f"{resource['resourceType']}/{r.json()['id']}"

    def related(given: str, code: str) -> str:
        return create(
            {
                "resourceType": "RelatedPerson",
                "identifier": [{"system": "https://wb-fhir.test/Id", "value": f"{tag}-{given}"}],
                "patient": {"reference": patient},
                "name": [{"given": [given], "family": "Lee"}],
                "relationship": [{"coding": [{"system": ROLE_CODES, "code": code}]}],
            }
        )

    patient = create(
        {
            "resourceType": "Patient",
            "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": nhs}],
            "name": [{"given": ["Robin"], "family": "Lee"}],
        }
    )
    mother = related("Ann", "MTH")
    doctor = create({"resourceType": "Practitioner", "name": [{"given": ["Alex"], "family": "Jones"}]})
    nurse = create({"resourceType": "Practitioner", "name": [{"text": "Sam Okafor"}]})
    role = create(
        {
            "resourceType": "PractitionerRole",
            "practitioner": {"reference": nurse},
            "code": [{"coding": [{"system": "http://snomed.info/sct", "code": "224535009", "display": "Nurse"}]}],
        }
    )
    trust = create({"resourceType": "Organization", "name": f"Trust {tag}"})
    create(
        {
            "resourceType": "CareTeam",
            "status": "active",
            "subject": {"reference": patient},
            "participant": [
                {"role": [{"text": "CPN"}], "member": {"reference": doctor}},
                {"member": {"reference": role}},  # named through its Practitioner, one step on
                {"member": {"reference": trust}},  # not a person: not a connection
            ],
        }
    )
    out = tmp_path / "response.json"
    result = _run("--patient", nhs, "--server", fhir_server, "-o", str(out), "--date", ON.isoformat())
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {out}: response of {ON} with 3 connection(s) to confirm with the person\n"
    assert nhs not in result.output and "Lee" not in result.output
    response = json.loads(out.read_text(encoding="utf-8"))
    assert (response["status"], response["subject"]["reference"], "meta" in response) == ("in-progress", patient, False)
    wmap = extract_map(response).map
    assert [(c.label, c.category, c.fhir_id, c.confirmed) for c in wmap.connections] == [
        ("Ann Lee", Category.FAMILY, mother, False),
        ("Alex Jones (CPN)", Category.PRACTITIONER, doctor, False),
        ("Sam Okafor (Nurse)", Category.PRACTITIONER, role, False),
    ]
    assert (wmap.subject.nhs_number, wmap.subject.fhir_id, wmap.subject.display) == (nhs, patient, "Robin Lee")
    assert wmap == prefill(FhirClient(fhir_server), nhs, ON).map  # the same draft as `wb-fhir prefill`
    # the server takes it as a response to the Questionnaire wb_fhir installed, with no error
    outcome = fhir.post("QuestionnaireResponse/$validate", json=response).json()
    assert [i["diagnostics"] for i in outcome["issue"] if i["severity"] in ("error", "fatal")] == []

    # Once the map of that day is in the record, the next response starts from it and adds only
    # the record's people it lacks.
    confirmed = replace(wmap, connections=tuple(replace(c, confirmed=True) for c in wmap.connections))
    stored = questionnaire_response(confirmed) | {"subject": {"reference": patient}}
    assert fhir.post("QuestionnaireResponse", json=stored).status_code == 201
    sister = related("Jo", "SIS")
    later = date(2026, 12, 1)
    result = _run("--patient", nhs, "--server", fhir_server, "-o", str(out), "--date", later.isoformat(), "--force")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"wrote {out}: response of {later}, started from the map of {ON} in the record, "
        "with 1 new connection(s) from the record to confirm with the person\n"
    )
    again = extract_map(json.loads(out.read_text(encoding="utf-8"))).map
    assert again.date == later
    assert [(c.fhir_id, c.confirmed) for c in again.connections] == [
        *((c.fhir_id, True) for c in wmap.connections),
        (sister, False),
    ]


def test_the_command_refuses_a_bad_nhs_number_before_any_request(tmp_path: Path) -> None:
    out = tmp_path / "response.json"
    with responses.RequestsMock() as mock:
        result = _run("--patient", "1234567890", "--server", BASE, "-o", str(out))
    assert result.exit_code == 2
    assert "Invalid value for '--patient': not a valid NHS number" in result.stderr
    assert len(mock.calls) == 0 and not out.exists()


def test_the_command_exits_2_when_the_server_has_no_such_patient(fhir_server: str, tmp_path: Path) -> None:
    out = tmp_path / "response.json"
    result = _run("--patient", random_nhs_number(), "--server", fhir_server, "-o", str(out))
    assert result.exit_code == 2
    assert result.stderr == (
        "error: the server has no Patient with this NHS number\nhint: check the NHS number given with --patient\n"
    )
    assert not out.exists()


@responses.activate
def test_the_command_exits_1_when_the_server_fails(tmp_path: Path) -> None:
    responses.get(
        f"{BASE}/Patient",
        json={
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": {"resourceType": "Patient", "id": "p1"}, "search": {"mode": "match"}}],
        },
    )
    responses.get(f"{BASE}/RelatedPerson", status=500, json=OUTCOME)
    out = tmp_path / "response.json"
    result = _run("--patient", NHS, "--server", BASE, "-o", str(out), "--token", "s3cr3t", "--deadline", "5")
    assert result.exit_code == 1, result.output
    assert "500" in result.stderr and "HAPI-0000: the index is rebuilding" in result.stderr
    assert "Traceback" not in result.output and NHS not in result.stderr and "s3cr3t" not in result.stderr
    assert not out.exists()


@responses.activate
def test_the_command_exits_2_for_a_date_not_after_the_latest_map(tmp_path: Path) -> None:
    latest = questionnaire_response(load_map(EXAMPLES / "figure1.yaml")) | {"id": "q1"}  # 2026-11-20
    latest["subject"] = {"reference": "Patient/robin"}
    searchset = {"resourceType": "Bundle", "type": "searchset"}
    responses.get(f"{BASE}/Patient", json=searchset | {"entry": [{"resource": PATIENT}]})
    responses.get(f"{BASE}/RelatedPerson", json=searchset)
    responses.get(f"{BASE}/CareTeam", json=searchset)
    responses.get(f"{BASE}/QuestionnaireResponse", json=searchset | {"entry": [{"resource": latest}]})
    out = tmp_path / "response.json"
    result = _run("--patient", NHS, "--server", BASE, "-o", str(out), "--date", "2026-11-20")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: date: 2026-11-20 is not after the latest map in the record (2026-11-20)\n"
        "hint: give a later date with --date\n"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-o", "{tmp}/response.yaml"), "the response is written as JSON: give a .json file"),
        (("-o", "{tmp}/kept.json"), "already exists (use --force to overwrite it)"),
        (("-o", "{tmp}/response.json", "--date", "2026-02-30"), "Invalid value for '--date'"),
        (("-o", "{tmp}/response.json", "--server", "http://fhir.example.test/fhir"), "uses http:// to a host"),
    ],
)
def test_the_command_refuses_bad_input_before_asking_the_server(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    kept = tmp_path / "kept.json"
    kept.write_text("keep me")
    with responses.RequestsMock() as mock:
        result = _run("--patient", NHS, "--server", BASE, *(a.format(tmp=tmp_path) for a in args))
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(mock.calls) == 0
    assert kept.read_text() == "keep me" and sorted(p.name for p in tmp_path.iterdir()) == ["kept.json"]
