"""``wb-fhir prefill``: a draft map from the care record, started from the latest map if any.

The server is mocked at the requests seam of ``FhirClient`` (``responses``); the same flow runs
against HAPI in ``test_review_server.py``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from click.testing import CliRunner, Result

from wb_fhir.cli import main
from wb_fhir.errors import InputError, ServerError
from wb_fhir.fhir import questionnaire_response
from wb_fhir.mapfile import load_map, map_from_data, map_to_data
from wb_fhir.model import WellbeingMap
from wb_fhir.review.prefill import latest_response, prefill
from wb_fhir.sync.client import FhirClient, RetryPolicy
from wb_fhir.terminology import QUESTIONNAIRE_URL, Category

BASE = "https://fhir.example.test/fhir"
NHS = "9434765919"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "review"
OUTCOME = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "processing", "diagnostics": "HAPI-0000: search index is rebuilding"}],
}


def client() -> FhirClient:
    return FhirClient(BASE, retry=RetryPolicy(attempts=3, base=0.0), sleep=lambda _s: None)


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def person_map(name: str, **fhir_ids: str) -> WellbeingMap:
    """An example map of the person with NHS (and ``fhir_id`` set on the connections named)."""
    wmap = load_map(EXAMPLES / f"jordan-{name}.yaml")
    connections = tuple(replace(c, fhir_id=fhir_ids.get(c.id, c.fhir_id)) for c in wmap.connections)
    wmap = replace(wmap, subject=replace(wmap.subject, nhs_number=NHS), connections=connections, id="")
    return map_from_data(map_to_data(wmap))


def qr_of(wmap: WellbeingMap, qr_id: str, authored: str | None = None) -> dict[str, Any]:
    qr = questionnaire_response(wmap)
    # As a server holds it: an id, the subject resolved to the Patient.
    qr["id"] = qr_id
    qr["subject"] = {"reference": "Patient/p1"}
    if authored is not None:
        qr["authored"] = authored
    return qr


RELATED = [
    {
        "resourceType": "RelatedPerson",
        "id": "r1",
        "name": [{"text": "Ann"}],
        "relationship": [{"coding": [{"code": "MTH", "display": "mother"}]}],
    },
    {"resourceType": "RelatedPerson", "id": "r2", "relationship": [{"coding": [{"code": "FRND"}]}]},
]
CARE_TEAM = {
    "resourceType": "CareTeam",
    "id": "t1",
    "status": "active",
    "participant": [
        {"role": [{"text": "CPN"}], "member": {"reference": "Practitioner/d1"}},
        {"member": {"reference": "RelatedPerson/r1"}},
    ],
}


def record(qrs: list[dict[str, Any]]) -> None:
    """The care record of the person (Patient p1): two related people, a care team, and ``qrs``."""
    responses.get(f"{BASE}/Patient", json=bundle({"resourceType": "Patient", "id": "p1", "name": [{"given": ["Sam"]}]}))
    responses.get(f"{BASE}/RelatedPerson", json=bundle(*RELATED))
    responses.get(f"{BASE}/CareTeam", json=bundle(CARE_TEAM))
    responses.get(
        f"{BASE}/Practitioner/d1",
        json={"resourceType": "Practitioner", "id": "d1", "name": [{"family": "Jones", "given": ["Alex"]}]},
    )
    responses.get(f"{BASE}/QuestionnaireResponse", json=bundle(*qrs))


def query_of(resource_type: str) -> dict[str, list[str]]:
    calls = [c for c in responses.calls if urlsplit(c.request.url).path == f"/fhir/{resource_type}"]
    assert len(calls) == 1
    return parse_qs(urlsplit(calls[0].request.url).query)


def run(*args: str) -> Result:
    return CliRunner(env={"WB_FHIR_SERVER": None, "WB_FHIR_TOKEN": None}).invoke(
        main, list(args), catch_exceptions=False
    )


# --- the library -------------------------------------------------------------------------


@responses.activate
def test_no_latest_map_drafts_the_record_people_unconfirmed() -> None:
    record([])
    result = prefill(client(), NHS, date(2026, 12, 1))
    draft = result.map
    assert result.started_from is None and result.added == 3 and result.warnings == ()
    assert (draft.subject.nhs_number, draft.subject.fhir_id, draft.subject.display) == (NHS, "Patient/p1", "Sam")
    got = [(c.label, c.category, c.fhir_id, c.confirmed) for c in draft.connections]
    assert got == [
        ("Ann", Category.FAMILY, "RelatedPerson/r1", False),
        ("Family member or carer", Category.FRIEND, "RelatedPerson/r2", False),
        ("Alex Jones (CPN)", Category.PRACTITIONER, "Practitioner/d1", False),
    ]
    assert query_of("QuestionnaireResponse")["subject"] == ["Patient/p1"]
    assert query_of("QuestionnaireResponse")["questionnaire"] == [QUESTIONNAIRE_URL]
    assert map_from_data(map_to_data(draft)) == draft


@responses.activate
def test_latest_map_is_carried_and_only_the_new_related_person_is_added() -> None:
    latest = person_map("2026-11-12", mum="RelatedPerson/r1", cpn="Practitioner/d1")
    record([qr_of(latest, "q2")])
    result = prefill(client(), NHS, date(2026, 12, 1))
    draft = result.map
    assert result.started_from == date(2026, 11, 12) and result.added == 1
    assert draft.date == date(2026, 12, 1)
    assert (draft.subject.nhs_number, draft.subject.fhir_id) == (NHS, "Patient/p1")
    carried, added = draft.connections[: len(latest.connections)], draft.connections[len(latest.connections) :]
    # The map's own connections come back as they were: same ids, labels, rings, confirmed.
    assert carried == latest.connections
    assert [(c.category, c.fhir_id, c.confirmed) for c in added] == [(Category.FRIEND, "RelatedPerson/r2", False)]
    assert added[0].id not in {c.id for c in latest.connections}
    # Carried forward as at a review: the achieved goal and the attended sign-post stay behind.
    assert [g.id for g in draft.goals] == ["less-betting", "evening-class"]
    assert [s.asset for s in draft.signposts] == ["recovery-college"]
    assert draft.next_review is None
    assert map_from_data(map_to_data(draft)) == draft


@pytest.mark.parametrize("order", [("old", "new"), ("new", "old")])
@responses.activate
def test_the_newest_map_wins_whatever_the_server_order(order: tuple[str, str]) -> None:
    qrs = {
        "old": qr_of(person_map("2026-05-14"), "q1", "2026-05-14T10:00:00+01:00"),
        "new": qr_of(person_map("2026-11-12"), "q2", "2026-11-12T09:00:00Z"),
    }
    other = qr_of(person_map("2026-11-12"), "q9", "2026-11-30")
    other["questionnaire"] = "https://example.org/Questionnaire/something-else|1"
    record([qrs[order[0]], other, qrs[order[1]]])
    result = prefill(client(), NHS, date(2026, 12, 1))
    assert result.started_from == date(2026, 11, 12)
    assert "sue" in {c.id for c in result.map.connections}  # only in the newer map


def test_latest_response_compares_instants_across_zones() -> None:
    early = {"id": "a", "questionnaire": QUESTIONNAIRE_URL, "authored": "2026-11-12T23:30:00-02:00"}
    late = {"id": "b", "questionnaire": f"{QUESTIONNAIRE_URL}|0.1.0", "authored": "2026-11-13T00:30:00Z"}
    undated = {"id": "c", "questionnaire": QUESTIONNAIRE_URL}
    assert latest_response([late, early, undated]) is early  # 01:30Z on the 13th is later than 00:30Z
    assert latest_response([undated]) is undated
    assert latest_response([{"id": "d", "questionnaire": "https://other/Q", "authored": "2030-01-01"}]) is None


@responses.activate
def test_a_draft_date_not_after_the_latest_map_is_refused() -> None:
    record([qr_of(person_map("2026-11-12"), "q2")])
    with pytest.raises(InputError, match=r"^date: 2026-11-12 is not after the latest map in the record") as caught:
        prefill(client(), NHS, date(2026, 11, 12))
    assert caught.value.setting == "date"


@responses.activate
def test_extraction_warnings_are_kept_with_the_response_named() -> None:
    qr = qr_of(person_map("2026-11-12"), "q2")
    qr["status"] = "in-progress"
    record([qr])
    result = prefill(client(), NHS, date(2026, 12, 1))
    assert result.warnings == ("QuestionnaireResponse/q2: status: 'in-progress': the response is not completed",)


@responses.activate
def test_a_transient_server_error_is_retried_by_the_client() -> None:
    record([])
    responses.replace(responses.GET, f"{BASE}/CareTeam", status=503, json=OUTCOME)
    responses.add(responses.GET, f"{BASE}/CareTeam", json=bundle(CARE_TEAM))
    result = prefill(client(), NHS, date(2026, 12, 1))
    assert result.added == 3


@responses.activate
def test_a_lasting_server_error_is_a_server_error() -> None:
    record([])
    responses.replace(responses.GET, f"{BASE}/QuestionnaireResponse", status=500, json=OUTCOME)
    with pytest.raises(ServerError, match="search index is rebuilding") as caught:
        prefill(client(), NHS, date(2026, 12, 1))
    assert caught.value.status == 500
    assert len([c for c in responses.calls if "QuestionnaireResponse" in c.request.url]) == 3


def test_a_bad_nhs_number_is_refused_before_any_request() -> None:
    with responses.RequestsMock() as mock, pytest.raises(InputError, match="not a valid NHS number"):
        prefill(client(), "1234567890", date(2026, 12, 1))
    assert len(mock.calls) == 0


def test_cli_a_bad_nhs_number_names_the_option() -> None:
    result = run("prefill", "--patient", "1234567890", "--server", BASE, "-o", "draft.yaml")
    assert result.exit_code == 2
    assert "Invalid value for '--patient': not a valid NHS number (ten digits with a modulus 11 check digit)" in (
        result.stderr
    )


@pytest.mark.parametrize(
    ("found", "message"),
    [
        (0, "error: the server has no Patient with this NHS number\n"),
        (2, "error: the server has more than one Patient with this NHS number; sort that out on the server first\n"),
    ],
)
@responses.activate
def test_cli_no_patient_or_several_exit_2_with_advice(tmp_path: Path, found: int, message: str) -> None:
    patients = [{"resourceType": "Patient", "id": f"p{n}"} for n in range(found)]
    responses.get(f"{BASE}/Patient", json=bundle(*patients))
    result = run("prefill", "--patient", NHS, "--server", BASE, "-o", str(tmp_path / "draft.yaml"))
    assert result.exit_code == 2
    assert result.stderr == message + "hint: check the NHS number given with --patient\n"


# --- the command -------------------------------------------------------------------------


@responses.activate
def test_cli_writes_the_draft_started_from_the_latest_map(tmp_path: Path) -> None:
    qr = qr_of(person_map("2026-11-12", mum="RelatedPerson/r1"), "q2")
    qr["status"] = "in-progress"
    record([qr])
    out = tmp_path / "draft.yaml"
    result = run("prefill", "--patient", "943 476 5919", "--server", BASE, "-o", str(out), "--date", "2026-12-01")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"wrote {out}: map of 2026-12-01, started from the map of 2026-11-12 in the record, "
        "with 2 new connection(s) from the record to confirm with the person\n"
    )
    assert result.stderr == "warning: QuestionnaireResponse/q2: status: 'in-progress': the response is not completed\n"
    draft = load_map(out)
    assert [c.fhir_id for c in draft.connections if not c.confirmed] == ["RelatedPerson/r2", "Practitioner/d1"]
    assert NHS not in result.output


@responses.activate
def test_cli_first_draft_without_a_map_in_the_record(tmp_path: Path) -> None:
    record([])
    out = tmp_path / "draft.json"
    result = run("prefill", "--patient", NHS, "--server", BASE, "-o", str(out), "--date", "2026-12-01")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {out}: draft with 3 connection(s) to confirm with the person\n"
    assert all(not c.confirmed for c in load_map(out).connections)


def test_cli_needs_a_server(tmp_path: Path) -> None:
    out = tmp_path / "draft.yaml"
    result = run("prefill", "--patient", NHS, "-o", str(out))
    assert result.exit_code == 2
    assert result.stderr == "error: no FHIR server: give --server URL or set WB_FHIR_SERVER\n"
    assert not out.exists()


def test_cli_refuses_plain_http_to_another_host(tmp_path: Path) -> None:
    out = tmp_path / "draft.yaml"
    result = run("prefill", "--patient", NHS, "--server", "http://fhir.example.test/fhir", "-o", str(out))
    assert result.exit_code == 2
    assert "uses http:// to a host that is not this machine" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (404, f"error:\nGET {BASE}/Patient?... failed: 404 Not Found\nerror [processing]: HAPI-0000: search index"),
        (403, "(not allowed for these credentials)"),
    ],
)
@responses.activate
def test_cli_server_errors_exit_1_with_a_readable_message(tmp_path: Path, status: int, expected: str) -> None:
    responses.get(f"{BASE}/Patient", status=status, json=OUTCOME)
    out = tmp_path / "draft.yaml"
    result = run("prefill", "--patient", NHS, "--server", BASE, "-o", str(out), "--token", "s3cr3t")
    assert result.exit_code == 1
    assert expected in result.stderr
    assert "Traceback" not in result.output and NHS not in result.stderr and "s3cr3t" not in result.stderr
    assert not out.exists()


@responses.activate
def test_cli_date_not_after_the_latest_map_exits_2(tmp_path: Path) -> None:
    record([qr_of(person_map("2026-11-12"), "q2")])
    out = tmp_path / "draft.yaml"
    result = run("prefill", "--patient", NHS, "--server", BASE, "-o", str(out), "--date", "2026-11-01")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: date: 2026-11-01 is not after the latest map in the record (2026-11-12)\n"
        "hint: give a later date with --date\n"
    )
    assert not out.exists()


def test_cli_refuses_an_existing_output_before_asking_the_server(tmp_path: Path) -> None:
    out = tmp_path / "draft.yaml"
    out.write_text("keep me")
    with responses.RequestsMock() as mock:
        result = run("prefill", "--patient", NHS, "--server", BASE, "-o", str(out))
    assert result.exit_code == 2
    assert "already exists (use --force to overwrite it)" in result.stderr
    assert out.read_text() == "keep me" and len(mock.calls) == 0
