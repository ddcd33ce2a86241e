"""The people of a care record: names on one line, and the practitioners of a person's care teams.

One pure function serves both ways of reading a care team: ``$populate`` (the resources a search
``_include``d) and ``wb-fhir prefill`` (a read per member); here ``lookup`` is a dict's ``get``.
"""

from __future__ import annotations

from typing import Any

from wb_fhir.fhir.careteam import care_team_members, concept_shown, local_reference, name_of

BASE = "https://fhir.example.nhs.uk/R4"


def team(*participants: dict[str, Any], status: str = "active") -> dict[str, Any]:
    return {"resourceType": "CareTeam", "status": status, "participant": list(participants)}


def member(reference: str, display: str | None = None, role: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"member": {"reference": reference, **({"display": display} if display else {})}}
    if role:
        out["role"] = [{"coding": [{"system": "http://snomed.info/sct", "code": "1", "display": role}]}]
    return out


RECORD = {
    "Practitioner/p1": {"resourceType": "Practitioner", "id": "p1", "name": [{"given": ["Alex"], "family": "Jones"}]},
    "Practitioner/p2": {"resourceType": "Practitioner", "id": "p2", "name": [{"text": "Dr Priya Shah"}]},
    "PractitionerRole/r1": {
        "resourceType": "PractitionerRole",
        "id": "r1",
        "practitioner": {"reference": f"{BASE}/Practitioner/p2/_history/3"},
        "code": [{"text": "Psychiatrist"}],
    },
}


def test_a_name_is_its_text_else_given_and_family():
    assert name_of({"name": [{"text": "Sam Taylor", "given": ["S"]}]}) == "Sam Taylor"
    assert name_of({"name": [{}, {"given": ["Sam", "J"], "family": "Taylor"}]}) == "Sam J Taylor"
    assert name_of({"name": []}) is None and name_of({}) is None


def test_a_concept_shows_its_first_display_else_its_text():
    assert concept_shown([{"coding": [{"code": "x"}, {"code": "y", "display": "Nurse"}], "text": "CPN"}]) == "Nurse"
    assert concept_shown([{"coding": [{"code": "x"}], "text": "CPN"}]) == "CPN"
    assert concept_shown([]) is None


def test_a_reference_is_type_and_id_without_base_or_version():
    assert local_reference(f"{BASE}/Practitioner/p1/_history/2") == "Practitioner/p1"
    assert local_reference("PractitionerRole/r1") == "PractitionerRole/r1"


def test_members_are_labelled_from_the_record_with_their_role():
    teams = [
        team(
            member("Practitioner/p1", role="Community psychiatric nurse"),
            member(f"{BASE}/PractitionerRole/r1"),  # the role's practitioner, read through its full reference
            member("Practitioner/p9", display="Jess (CPN)", role="CPN"),  # the role is in the name already
            member("Organization/o1", display="Mental health trust"),  # not a practitioner
            member("Practitioner/unknown"),
        ),
        team(member("Practitioner/p2"), status="inactive"),
    ]
    assert care_team_members(teams, RECORD.get) == [
        ("Practitioner/p1", "Alex Jones (Community psychiatric nurse)"),
        ("PractitionerRole/r1", "Dr Priya Shah (Psychiatrist)"),
        ("Practitioner/p9", "Jess (CPN)"),
        ("Practitioner/unknown", "Practitioner"),
    ]


def test_a_member_with_a_display_is_not_looked_up():
    asked: list[str] = []

    def lookup(reference: str) -> dict[str, Any] | None:
        asked.append(reference)
        return RECORD.get(reference)

    assert care_team_members([team(member("Practitioner/p1", display="Alex"))], lookup) == [("Practitioner/p1", "Alex")]
    assert asked == []
