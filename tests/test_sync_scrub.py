"""Scrubbing keeps messages readable: whole values are replaced, never a piece of an ordinary word."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner
from responses_batch import answer_batches

from wb_fhir.bundles import map_bundle
from wb_fhir.cli import main
from wb_fhir.errors import ServerError
from wb_fhir.mapfile import load_map, save_map
from wb_fhir.model import Connection, Goal
from wb_fhir.sync import FhirClient, Outbox, RetryPolicy, flush
from wb_fhir.sync.scrub import Scrubber, personal_values, scrub
from wb_fhir.terminology import Category, Impact, Kind

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://fhir.example.nhs.uk/R4"
NHS = "9434765919"
WORDS = frozenset({"ex", "sing", "a", "the"})
"""Ids that are ordinary words."""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # never a piece of a word
        ("HAPI-0389: processing failed", "HAPI-0389: processing failed"),
        (
            "Resource Practitioner/example-jess not found, specified in path: Observation.focus",
            "Resource Practitioner/example-jess not found, specified in path: Observation.focus",
        ),
        # an id that is an ordinary word stays where it is a word of the message...
        (
            "the transaction failed: a reference is not valid",
            "the transaction failed: a reference is not valid",
        ),
        # ...and goes where it stands as a value
        ("Unknown goal 'sing'; goal sing has no target", "Unknown goal '[personal]'; goal [personal] has no target"),
        ("no connection 'the' and no connection \"a\"", "no connection '[personal]' and no connection \"[personal]\""),
        ("Observation/ex and Goal#a and id=the", "Observation/[personal] and Goal#[personal] and id=[personal]"),
        ("connection.id|ex, connection.ex-partner", "connection.id|[personal], connection.ex-partner"),
    ],
)
def test_ids_that_are_ordinary_words_are_replaced_only_as_whole_values(text: str, expected: str) -> None:
    assert Scrubber(WORDS)(text) == expected


def test_names_labels_and_free_text_go_wherever_they_stand_as_a_token() -> None:
    scrubber = Scrubber(frozenset({"Sam Smith", "Mum", "gym-friend", "Join a book club"}))
    assert scrubber("Patient Sam Smith: mum's goal 'Join a book club'; MUM.") == (
        "Patient [personal]: [personal]'s goal '[personal]'; [personal]."
    )
    # a longer id or word that merely starts with the value is another token
    assert scrubber("gym-friendly, gym-friend2, Mumbai, gym-friend") == "gym-friendly, gym-friend2, Mumbai, [personal]"


def test_nhs_numbers_with_a_valid_check_digit_go_anywhere() -> None:
    assert scrub(f"call 943 476 5919, 943-476-5919 or {NHS}.") == ("call [nhs-number], [nhs-number] or [nhs-number].")
    # ten digits that are no NHS number (a timestamp) stay
    assert scrub("at 1733257200") == "at 1733257200"


def test_search_parameter_values_go_and_the_search_stays_readable() -> None:
    text = (
        'Invalid match URL "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919&_count=100"; '
        "Goal?subject=Patient/123&_sort=-date&description:text=book club"
    )
    assert scrub(text) == (
        'Invalid match URL "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|[nhs-number]&_count=100"; '
        "Goal?subject=[value]&_sort=-date&description:text=[value] club"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer abc.def-123", "Authorization: Bearer [token]"),
        ('{"authorization": "Basic dXNlcjpwYXNz"}', '{"authorization": "Basic [token]"}'),
        ("header Bearer eyJhbGciOiJSUzM4NCJ9.x.y was refused", "header Bearer [token] was refused"),
        ('{"access_token": "tok-123", "expires_in": 300}', '{"access_token": "[token]", "expires_in": 300}'),
        ("client_assertion=eyJhbGc.x.y&grant_type=client_credentials", "client_assertion=[token]&grant_type=[value]"),
        ("Bearer tokens expire", "Bearer tokens expire"),
    ],
)
def test_tokens_go(text: str, expected: str) -> None:
    assert scrub(text) == expected


def test_a_replacement_is_never_scrubbed_again() -> None:
    scrubber = Scrubber(frozenset({"personal", "nhs-number", "value"}))
    once = scrubber(f"personal {NHS} Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{NHS}&name=value")
    assert once == (
        "[personal] [nhs-number] Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|[nhs-number]&name=[value]"
    )
    assert scrubber(once) == once and scrub(once) == once


def test_personal_values_of_a_bundle_are_what_names_or_identifies_people() -> None:
    wmap = load_map(ROOT / "examples" / "figure1.yaml")
    values = personal_values(map_bundle(wmap, ()))
    labels = {c.label for c in wmap.connections} | {c.id for c in wmap.connections}
    assert labels <= values
    assert {g.description for g in wmap.goals} <= values
    assert {p.display for p in wmap.practitioners} <= values
    assert "Wellbeing network connection" not in values  # a code's display names no one


# --- where messages are printed or stored ------------------------------------------------------


def _echoing_outcome() -> dict:
    diagnostics = (
        f"HAPI-1091: Invalid match URL Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{NHS} - "
        "no match; request had Authorization: Bearer sekrit-token-123; processing stopped at "
        "Practitioner/example-jess for goal 'sing'"
    )
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "processing", "diagnostics": diagnostics}],
    }


@responses.activate
def test_server_diagnostics_are_scrubbed_in_the_error() -> None:
    responses.get(f"{BASE}/Patient", json=_echoing_outcome(), status=400)
    with pytest.raises(ServerError) as caught:
        FhirClient(BASE).search("Patient", {"identifier": f"https://fhir.nhs.uk/Id/nhs-number|{NHS}"})
    message = str(caught.value)
    assert NHS not in message and "sekrit-token-123" not in message
    assert "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|[nhs-number] - no match" in message
    assert "Authorization: Bearer [token]; processing stopped at Practitioner/example-jess" in message
    # The OperationOutcome is kept for programs, structure and codes as they came, its text scrubbed
    # like the message: a program may print or store it too.
    kept = caught.value.outcome
    assert kept is not None and kept["issue"][0]["code"] == "processing"
    assert kept["issue"][0]["diagnostics"] in message
    assert NHS not in json.dumps(kept) and "sekrit-token-123" not in json.dumps(kept)


def _map_with_word_ids(tmp_path: Path) -> Path:
    wmap = load_map(ROOT / "examples" / "figure1.yaml")
    people = (
        Connection(
            id="ex", kind=Kind.PERSON, label="Ex partner", category=Category.PARTNER, ring=3, impact=Impact.NEGATIVE
        ),
        Connection(
            id="the", kind=Kind.PLACE, label="The pub", category=Category.COMMUNITY, ring=2, impact=Impact.MIXED
        ),
        Connection(id="a", kind=Kind.ACTIVITY, label="Art", category=Category.CREATIVE, ring=1, impact=Impact.POSITIVE),
    )
    goals = (*wmap.goals, Goal(id="sing", description="Join a choir", about=("a",)))
    path = tmp_path / "map.yaml"
    save_map(wmap.__class__(**{**wmap.__dict__, "connections": wmap.connections + people, "goals": goals}), path)
    return path


@responses.activate
def test_flush_stores_and_prints_a_readable_scrubbed_error(tmp_path: Path) -> None:
    responses.get(f"{BASE}/CarePlan", json={"resourceType": "Bundle", "type": "searchset"})
    responses.get(f"{BASE}/Goal", json={"resourceType": "Bundle", "type": "searchset"})
    responses.post(f"{BASE}/", json=_echoing_outcome(), status=422)
    path = _map_with_word_ids(tmp_path)
    wmap = load_map(path)
    env = {"WB_FHIR_OUTBOX": str(tmp_path / "o.sqlite")}
    result = CliRunner().invoke(main, ["push", str(path), "--server", BASE, "--no-renderings"], env=env)
    assert result.exit_code == 1
    with Outbox(tmp_path / "o.sqlite") as box:
        (item,) = box.items()
        stored = item.last_error or ""
    for text in (result.output, stored):
        assert "error [processing]: HAPI-1091: Invalid match URL" in text
        assert "nhs-number|[nhs-number] - no match; request had Authorization: Bearer [token]" in text
        assert "processing stopped at Practitioner/example-jess for goal '[personal]'" in text
        for secret in (NHS, "sekrit-token-123", "sing", wmap.subject.display or NHS):
            assert f"'{secret}'" not in text and f"|{secret}" not in text
    assert json.dumps(item.bundle).count('"valueString": "sing"') >= 1  # the Bundle itself is kept whole


@responses.activate
def test_a_flush_failure_with_word_ids_reads_as_the_server_wrote_it(tmp_path: Path) -> None:
    busy = "the server is a little busy: retry the request in a minute"
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "transient", "diagnostics": busy}],
    }
    responses.get(re.compile(f"{BASE}/(CarePlan|Goal).*"), json=outcome, status=503)
    answer_batches(BASE)
    wmap = load_map(_map_with_word_ids(tmp_path))
    client = FhirClient(BASE, retry=RetryPolicy(attempts=1), sleep=lambda s: None)
    with Outbox(tmp_path / "o.sqlite") as box:
        box.add(map_bundle(wmap, ()), map_id=wmap.id, map_date=wmap.date.isoformat())
        report = flush(client, box)
    (failure,) = report.failed
    assert failure.kept
    assert failure.message.endswith(f"failed: 503 Service Unavailable\nerror [transient]: {busy}")


@responses.activate
def test_a_network_error_naming_the_search_url_is_scrubbed() -> None:
    import requests

    url = f"/R4/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{NHS}"
    cause = requests.exceptions.ConnectionError(
        f"HTTPSConnectionPool(host='x', port=443): Max retries exceeded with url: {url}"
    )
    responses.get(f"{BASE}/Patient", body=cause)
    with pytest.raises(ServerError) as caught:
        FhirClient(BASE, retry=RetryPolicy(attempts=1)).search("Patient", {"identifier": f"x|{NHS}"})
    assert NHS not in str(caught.value)
    assert "url: /R4/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|[nhs-number])" in str(caught.value)
