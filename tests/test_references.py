"""Identifiers, search tokens and searches are built in one place (wb_fhir.fhir.references), as values."""

from __future__ import annotations

import dataclasses

import pytest
import responses

from wb_fhir.fhir.references import Key, Search, Token, nhs_number_token, subject_care_plan_key
from wb_fhir.model import Subject
from wb_fhir.sync.client import FhirClient
from wb_fhir.terminology import NHS_NUMBER_SYSTEM, IdentifierKind

BASE = "https://fhir.example.nhs.uk/R4"
NHS = "9434765919"


def test_a_token_is_system_bar_value_both_ways() -> None:
    token = nhs_number_token(NHS)
    assert str(token) == f"{NHS_NUMBER_SYSTEM}|{NHS}"
    assert token.identifier() == {"system": NHS_NUMBER_SYSTEM, "value": NHS}
    assert Token.of(token.identifier()) == token == Token.parse(str(token))
    assert Token.of({"value": NHS}) is None and Token.parse(NHS) is None and Token.parse("|x") is None
    # a system may itself hold a bar-free URL with a query; the value is what follows the last bar
    assert Token.parse("urn:x|a|b") == Token("urn:x|a", "b")


def test_a_search_is_an_immutable_value() -> None:
    base = Search("Goal")
    refined = base.where(subject="Patient/1").sort("-date").count(50)
    assert base.params == ()  # each refinement is a new Search
    assert refined.params == (("subject", "Patient/1"), ("_sort", "-date"), ("_count", "50"))
    assert refined == Search("Goal").where(subject="Patient/1").sort("-date").count(50)
    with pytest.raises(dataclasses.FrozenInstanceError):
        refined.resource_type = "CarePlan"  # type: ignore[misc]


def test_search_values_tokens_keys_and_or_lists() -> None:
    key = Key("Observation", IdentifierKind.OBSERVATION, "u-1")
    search = Search("Observation").where(identifier=[key, Token("s", "v")]).param("subject:Patient.identifier", "a b")
    assert search.params == (
        ("identifier", f"{key.system}|u-1,s|v"),
        ("subject:Patient.identifier", "a b"),
    )
    assert search.url == f"Observation?identifier={key.system}|u-1,s|v&subject:Patient.identifier=a%20b"
    assert Search("Patient").url == "Patient"


def test_a_key_finds_its_resource_by_identifier() -> None:
    plan = subject_care_plan_key(Subject(nhs_number=NHS))
    assert plan.search == Search("CarePlan").where(identifier=plan.token)
    assert plan.conditional_url == f"CarePlan?identifier={plan.system}|{plan.value}"
    assert plan.identifier() == {"system": plan.system, "value": plan.value}


@responses.activate
def test_the_client_sends_a_search_as_its_parameters() -> None:
    empty = {"resourceType": "Bundle", "type": "searchset"}
    responses.get(f"{BASE}/Goal", json=empty, headers={"Content-Type": "application/fhir+json"})
    client = FhirClient(BASE)
    client.search(Search("Goal").where(identifier=nhs_number_token(NHS)).count(2))
    client.search("Goal", {"identifier": str(nhs_number_token(NHS)), "_count": "2"})  # the same, spelled out
    first, second = (c.request.url for c in responses.calls)
    assert first == second == f"{BASE}/Goal?identifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C{NHS}&_count=2"
    with pytest.raises(ValueError, match="a Search carries its own parameters"):
        client.search(Search("Goal"), {"x": "y"})
