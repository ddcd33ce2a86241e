"""What an opened launch means for a map (pure): its person and its author."""

from __future__ import annotations

from dataclasses import replace

from web_support import FIGURE1

from wb_fhir.mapfile import load_map
from wb_fhir.model import Practitioner
from wb_fhir.terminology import NHS_NUMBER_SYSTEM
from wb_fhir.web.launched import UNNAMED_PRACTITIONER, launched_from, pin_subject, with_author
from wb_fhir.web.smart import LaunchContext

ISS = "https://ehr.example.nhs.uk/fhir"
PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": "943 476 5919"}],
    "name": [{"given": ["Sam"], "family": "Test"}],
    "birthDate": "1990-04-12",
}


def _context(fhir_user: str | None = "Practitioner/d1", banner: bool = False) -> LaunchContext:
    return LaunchContext(ISS, "p1", None, fhir_user, ("launch",), need_patient_banner=banner)


def test_the_launch_names_the_person_and_the_practitioner() -> None:
    launched = launched_from(_context(), PATIENT, {"resourceType": "Practitioner", "name": [{"text": "Dr Kim Lee"}]})
    assert launched.person == "nhs:9434765919"
    assert (launched.subject.nhs_number, launched.subject.fhir_id, launched.subject.display) == (
        "9434765919",
        "Patient/p1",
        "Sam Test",
    )
    assert launched.practitioner == Practitioner("Dr Kim Lee", fhir_id="Practitioner/d1")
    assert launched.nhs_number_spaced == "943 476 5919" and launched.birth_date == "1990-04-12"
    assert launched.banner is False and launched_from(_context(banner=True), PATIENT, None).banner is True


def test_without_an_nhs_number_or_a_practitioner_record() -> None:
    bare = launched_from(_context(), {"resourceType": "Patient", "id": "p1"}, None)
    assert bare.person == "fhir:Patient/p1" and bare.nhs_number_spaced is None and bare.subject.display is None
    assert bare.practitioner == Practitioner(UNNAMED_PRACTITIONER, fhir_id="Practitioner/d1")
    # a user who is not a Practitioner (or on another server) is nobody's author
    assert launched_from(_context("Patient/p1"), PATIENT, None).practitioner is None
    assert launched_from(_context("https://other.example/Practitioner/9"), PATIENT, None).practitioner is None
    assert launched_from(_context(None), PATIENT, None).practitioner is None
    # an NHS number that fails its check digit is not taken
    wrong = {**PATIENT, "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": "9434765918"}]}
    assert launched_from(_context(), wrong, None).person == "fhir:Patient/p1"


def test_map_data_is_pinned_to_the_launched_person() -> None:
    launched = launched_from(_context(), PATIENT, None)
    typed = {"subject": {"nhs_number": "4010232137", "fhir_id": "Patient/other", "display": "Sammy"}, "date": "x"}
    assert pin_subject(typed, launched) == {
        "subject": {"display": "Sammy", "nhs_number": "9434765919", "fhir_id": "Patient/p1"},
        "date": "x",
    }
    assert pin_subject({"subject": "nonsense"}, launched)["subject"] == {
        "nhs_number": "9434765919",
        "fhir_id": "Patient/p1",
        "display": "Sam Test",
    }
    bare = launched_from(_context(), {"resourceType": "Patient", "id": "p1"}, None)
    assert pin_subject(typed, bare)["subject"] == {"display": "Sammy", "fhir_id": "Patient/p1"}


def test_the_launching_practitioner_is_the_author() -> None:
    wmap = load_map(FIGURE1)  # practitioners: Alex Jones (CPN), no FHIR id
    me = Practitioner("Alex Jones", fhir_id="Practitioner/d1")
    assert with_author(wmap, me).practitioners == (Practitioner("Alex Jones", "CPN", "Practitioner/d1"),)
    other = Practitioner("Kim Lee", fhir_id="Practitioner/k2")
    assert with_author(wmap, other).practitioners == (other, Practitioner("Alex Jones", "CPN"))
    listed = replace(wmap, practitioners=(Practitioner("Jo", "OT"), Practitioner("Kim", "GP", "Practitioner/k2")))
    assert with_author(listed, other).practitioners == (
        Practitioner("Kim Lee", "GP", "Practitioner/k2"),
        Practitioner("Jo", "OT"),
    )
    assert with_author(wmap, None) is wmap
