"""Whose map a form filler's response is, when it names the person only as ``Patient/id``.

A filler that was never given the person's NHS number (no population, no hidden ``subject``
answers) writes only ``subject: Patient/id``. ``extract`` completes it from the record's Patient
(``--server``), so the map has the same id as the person's other maps of that date, and ``diff``
matches it to a map that names the person by NHS number.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from strategies import random_nhs_number

from wb_fhir.cli import main
from wb_fhir.errors import InputError
from wb_fhir.fhir import extract_map, questionnaire_response
from wb_fhir.mapfile import load_map, map_to_data, save_map
from wb_fhir.model import Subject, WellbeingMap
from wb_fhir.terminology import NHS_NUMBER_SYSTEM, LinkId

FIGURE1 = Path(__file__).resolve().parent.parent / "examples" / "figure1.yaml"
LATER = date(2027, 2, 1)  # after figure 1 (2026-11-20), before its next review


def filler_response(wmap: WellbeingMap, patient_id: str) -> dict[str, Any]:
    """The response of a filler that knew only the Patient's id: no identifier, no hidden person answers."""
    qr = questionnaire_response(wmap)
    del qr["identifier"]
    qr["subject"] = {"reference": f"Patient/{patient_id}"}
    qr["item"] = [i for i in qr["item"] if i["linkId"] != LinkId.SUBJECT.value]
    return qr


def patient(patient_id: str, nhs: str | None, name: str = "Sam") -> dict[str, Any]:
    out: dict[str, Any] = {"resourceType": "Patient", "id": patient_id, "name": [{"text": name}]}
    if nhs:
        out["identifier"] = [{"system": NHS_NUMBER_SYSTEM, "value": nhs}]
    return out


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_the_record_s_patient_gives_the_nhs_number_and_the_same_map_id() -> None:
    nhs_map = load_map(FIGURE1)  # names Sam by NHS number only
    qr = filler_response(nhs_map, "sam")
    alone = extract_map(qr).map
    assert alone.subject == Subject(fhir_id="Patient/sam")
    assert alone.id != nhs_map.id  # not knowable from the response alone
    completed = extract_map(qr, patient=patient("sam", nhs_map.subject.nhs_number)).map
    assert completed.subject == Subject(nhs_map.subject.nhs_number, "Patient/sam", "Sam")
    assert completed.id == nhs_map.id
    assert map_to_data(replace(completed, subject=nhs_map.subject)) == map_to_data(nhs_map)


def test_the_hidden_nhs_number_already_gives_the_same_map_id() -> None:
    nhs_map = load_map(FIGURE1)
    qr = questionnaire_response(replace(nhs_map, subject=replace(nhs_map.subject, fhir_id="Patient/sam")))
    del qr["identifier"], qr["subject"]  # what LHC-Forms drops
    assert extract_map(qr).map.id == nhs_map.id


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (patient("someone-else", "9434765919"), "names Patient/sam, not Patient/someone-else"),
        (patient("sam", "9876543210"), "is not the NHS number the record holds for Patient/sam"),
        ({"resourceType": "Practitioner", "id": "sam"}, "is not a Patient resource"),
    ],
)
def test_a_patient_that_does_not_fit_is_refused(record: dict[str, Any], message: str) -> None:
    nhs_map = load_map(FIGURE1)
    qr = questionnaire_response(replace(nhs_map, subject=replace(nhs_map.subject, fhir_id="Patient/sam")))
    with pytest.raises(InputError) as caught:
        extract_map(qr, patient=record)
    assert [p.path for p in caught.value.problems] == ["subject"]
    assert message in caught.value.problems[0].message


def test_extract_without_a_server_warns_that_the_id_is_not_the_nhs_number_s(tmp_path: Path) -> None:
    (tmp_path / "qr.json").write_text(json.dumps(filler_response(load_map(FIGURE1), "sam")))
    result = run("extract", str(tmp_path / "qr.json"), "-o", str(tmp_path / "map.yaml"))
    assert result.exit_code == 0
    assert "named only as Patient/sam" in result.stderr and "--server" in result.stderr
    assert load_map(tmp_path / "map.yaml").subject == Subject(fhir_id="Patient/sam")


def test_diff_matches_a_map_with_both_identifiers_to_either(tmp_path: Path) -> None:
    nhs_map = load_map(FIGURE1)
    later = replace(nhs_map, date=LATER, id="")
    both = replace(nhs_map, subject=Subject(nhs_map.subject.nhs_number, "Patient/sam"), id="")
    save_map(both, tmp_path / "both.yaml")
    save_map(replace(later, subject=Subject(fhir_id="Patient/sam")), tmp_path / "by-id.yaml")
    save_map(replace(later, subject=Subject(nhs_map.subject.nhs_number)), tmp_path / "by-nhs.yaml")
    for other in ("by-id.yaml", "by-nhs.yaml"):
        result = run("diff", str(tmp_path / "both.yaml"), str(tmp_path / other))
        assert result.exit_code == 0, result.output


def test_diff_says_why_maps_naming_the_person_differently_cannot_be_compared(tmp_path: Path) -> None:
    nhs_map = load_map(FIGURE1)
    later = replace(nhs_map, date=LATER, id="")
    save_map(nhs_map, tmp_path / "by-nhs.yaml")
    save_map(replace(later, subject=Subject(fhir_id="Patient/sam")), tmp_path / "by-id.yaml")
    save_map(replace(later, subject=Subject("9876543210")), tmp_path / "other.yaml")
    result = run("diff", str(tmp_path / "by-nhs.yaml"), str(tmp_path / "by-id.yaml"))
    assert result.exit_code == 2
    assert "name the person differently" in result.stderr
    result = run("diff", str(tmp_path / "by-nhs.yaml"), str(tmp_path / "other.yaml"))
    assert result.exit_code == 2
    assert "maps of different people" in result.stderr


@pytest.mark.server
def test_extract_with_the_server_reads_the_nhs_number_then_diff_matches(
    fhir: Any, fhir_server: str, tmp_path: Path
) -> None:
    nhs = random_nhs_number()
    created = fhir.post("Patient", json={k: v for k, v in patient("x", nhs).items() if k != "id"})
    assert created.status_code == 201, created.text
    patient_id = created.json()["id"]
    nhs_map = replace(load_map(FIGURE1), subject=Subject(nhs), id="")  # a map file naming the person by NHS number
    save_map(nhs_map, tmp_path / "earlier.yaml")
    later = replace(nhs_map, date=LATER, id="")
    (tmp_path / "qr.json").write_text(json.dumps(filler_response(later, patient_id)))
    result = run("extract", str(tmp_path / "qr.json"), "-o", str(tmp_path / "later.yaml"), "--server", fhir_server)
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr
    extracted = load_map(tmp_path / "later.yaml")
    assert extracted.subject == Subject(nhs, f"Patient/{patient_id}", "Sam")
    assert extracted.id == later.id  # the id of that person's map of that date, whoever wrote it
    assert run("diff", str(tmp_path / "earlier.yaml"), str(tmp_path / "later.yaml")).exit_code == 0


@pytest.mark.server
def test_extract_with_a_server_that_has_no_such_patient_is_bad_input(fhir_server: str, tmp_path: Path) -> None:
    (tmp_path / "qr.json").write_text(json.dumps(filler_response(load_map(FIGURE1), "no-such-patient-wb-fhir")))
    result = run("extract", str(tmp_path / "qr.json"), "-o", str(tmp_path / "map.yaml"), "--server", fhir_server)
    assert result.exit_code == 2
    assert "the server has no Patient/no-such-patient-wb-fhir" in result.stderr
    assert not (tmp_path / "map.yaml").exists()
