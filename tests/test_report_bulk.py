"""Error paths of reading a server by Bulk Data $export (mocked at the HTTP seam; the real
export is proven against HAPI in test_report_server.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import responses

from wb_fhir.errors import ServerError
from wb_fhir.report import read_population
from wb_fhir.sync import FhirClient

BASE = "https://fhir.example.org/r4"
STATUS = f"{BASE}/$export-poll-status?_jobId=1"
EXPORTING = {
    "resourceType": "CapabilityStatement",
    "fhirVersion": "4.0.1",
    "rest": [{"mode": "server", "operation": [{"name": "export", "definition": "x"}]}],
}
QR = {"resourceType": "QuestionnaireResponse", "id": "q1"}


def client() -> FhirClient:
    return FhirClient(BASE, sleep=lambda _: None)


def kick_off(status: int = 202) -> None:
    responses.get(f"{BASE}/metadata", json=EXPORTING)
    headers = {"Content-Location": STATUS} if status == 202 else {}
    body = None if status == 202 else {"resourceType": "OperationOutcome", "issue": []}
    responses.get(f"{BASE}/$export", status=status, headers=headers, json=body)


@responses.activate
def test_export_polls_downloads_and_deletes_the_job(tmp_path: Path) -> None:
    kick_off()
    responses.get(STATUS, status=202, headers={"Retry-After": "120", "X-Progress": "busy"})
    manifest = {
        "requiresAccessToken": True,
        "output": [{"type": "QuestionnaireResponse", "url": f"{BASE}/Binary/1"}, {"type": "Goal", "url": "x"}],
    }
    responses.get(STATUS, json=manifest)
    responses.get(f"{BASE}/Binary/1", body=json.dumps(QR) + "\n", content_type="application/fhir+ndjson")
    deleted = responses.delete(STATUS, status=202)
    slept: list[float] = []
    read = read_population(client(), tmp_path, sleep=slept.append, max_poll=5)
    assert read.method == "$export" and read.resources == 1
    assert slept == [5]  # Retry-After 120 honoured up to the poll limit
    assert json.loads(read.dataset.questionnaire_responses[0].read_text()) == QR
    assert read.dataset.questionnaire_responses[0].stat().st_mode & 0o077 == 0
    assert deleted.call_count == 1
    kick = responses.calls[1].request
    assert kick.headers["Prefer"] == "respond-async" and "_type=Patient%2CQuestionnaireResponse" in str(kick.url)


@responses.activate
def test_refused_kick_off_falls_back_to_search(tmp_path: Path) -> None:
    kick_off(status=501)
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": QR, "search": {"mode": "match"}}]}
    responses.get(f"{BASE}/QuestionnaireResponse", json=bundle)
    notes: list[str] = []
    read = read_population(client(), tmp_path, progress=notes.append)
    assert read.method == "search" and read.resources == 1
    assert any("$export refused (501)" in n for n in notes)


@responses.activate
def test_forced_export_that_is_refused_is_a_server_error(tmp_path: Path) -> None:
    kick_off(status=501)
    with pytest.raises(ServerError, match="501"):
        read_population(client(), tmp_path, method="export")


@responses.activate
def test_export_that_never_finishes_stops_and_deletes_the_job(tmp_path: Path) -> None:
    kick_off()
    responses.get(STATUS, status=202)
    deleted = responses.delete(STATUS, status=202)
    with pytest.raises(ServerError, match="did not finish"):
        read_population(client(), tmp_path, wait=0)
    assert deleted.call_count == 1


@responses.activate
def test_files_elsewhere_get_no_token_and_must_be_https(tmp_path: Path) -> None:
    kick_off()
    manifest = {
        "requiresAccessToken": False,
        "output": [{"type": "QuestionnaireResponse", "url": "http://files.example.org/1.ndjson"}],
    }
    responses.get(STATUS, json=manifest)
    responses.delete(STATUS, status=202)
    with pytest.raises(ServerError, match=r"refusing to fetch http://files\.example\.org"):
        read_population(client(), tmp_path)


@responses.activate
def test_a_manifest_that_is_not_json_is_a_server_error(tmp_path: Path) -> None:
    kick_off()
    responses.get(STATUS, body="<html>login</html>", content_type="text/html")
    responses.delete(STATUS, status=202)
    with pytest.raises(ServerError, match="manifest is not JSON"):
        read_population(client(), tmp_path)
