"""wb-fhir report and export from a real FHIR server (HAPI): maps pushed as transactions, read
back by Bulk Data $export and by paged search, for a caseload held as a Group.

The server is shared and long-lived: the population has fresh random NHS numbers and its own
Group, so what others stored never counts.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fhir_server import FhirSession
from population import all_maps, comparable, expected, population

from wb_fhir.cli import main
from wb_fhir.fhir import transaction_bundle
from wb_fhir.report import read_population
from wb_fhir.sync import FhirClient
from wb_fhir.terminology import NHS_NUMBER_SYSTEM

MAPS = all_maps(population(10, rng=random.Random()))


@pytest.fixture(scope="module")
def caseload(fhir_server: str) -> str:
    """The population pushed to the server, its people in a new Group; the Group's id."""
    with FhirSession(fhir_server) as fhir:
        patients: dict[str, str] = {}
        for nhs in sorted({m.subject.nhs_number or "" for m in MAPS}):
            patient = {"resourceType": "Patient", "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": nhs}]}
            r = fhir.post("Patient", json=patient)
            assert r.status_code == 201, r.text
            patients[nhs] = r.json()["id"]
        for m in MAPS:
            r = fhir.post("", json=transaction_bundle(m))
            assert r.status_code == 200, r.text
        group = {
            "resourceType": "Group",
            "type": "person",
            "actual": True,
            "member": [{"entity": {"reference": f"Patient/{pid}"}} for pid in patients.values()],
        }
        r = fhir.post("Group", json=group)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])


def offers_export(fhir_server: str) -> bool:
    from wb_fhir.report.server import offers_export as offered

    return offered(FhirClient(fhir_server).capabilities(), "group")


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), env={"WB_FHIR_SERVER": ""})


def test_report_by_paged_search_equals_the_known_answers(fhir_server: str, caseload: str) -> None:
    result = run(
        "report", "--server", fhir_server, "--group", caseload, "--read-by", "search", "--json", "--no-suppression"
    )
    assert result.exit_code == 0, result.output
    assert "by search" in result.stderr
    assert comparable(json.loads(result.stdout)) == expected(MAPS)


def test_report_by_bulk_export_equals_the_known_answers(fhir_server: str, caseload: str, tmp_path: Path) -> None:
    if not offers_export(fhir_server):
        message = "this FHIR server does not offer Group/$export (tests/fhir-server registers it: restart the server)"
        if __import__("os").environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    read = read_population(FhirClient(fhir_server), tmp_path, group=caseload, method="export", max_poll=2)
    assert read.method == "$export" and read.dataset.questionnaire_responses and read.dataset.patients
    result = run(
        "report", "--server", fhir_server, "--group", caseload, "--read-by", "export", "--json", "--no-suppression"
    )
    assert result.exit_code == 0, result.output
    assert "by $export" in result.stderr
    assert comparable(json.loads(result.stdout)) == expected(MAPS)
    # the research export reads the same way, and writes no NHS number
    out = tmp_path / "research"
    result = CliRunner().invoke(
        main,
        ["export", "--server", fhir_server, "--group", caseload, "--format", "csv", "-o", str(out)],
        env={"WB_FHIR_SERVER": "", "WB_FHIR_EXPORT_SECRET": "a secret for the server test"},
    )
    assert result.exit_code == 0, result.output
    text = (out / "maps.csv").read_text(encoding="utf-8")
    assert len(text.splitlines()) == len(MAPS) + 1
    assert not any(m.subject.nhs_number in text for m in MAPS if m.subject.nhs_number)


def test_auto_falls_back_to_search_when_export_is_not_offered(fhir_server: str, caseload: str, tmp_path: Path) -> None:
    client = FhirClient(fhir_server)
    real = client.capabilities
    client.capabilities = lambda: {**real(), "rest": [{"mode": "server"}]}  # type: ignore[method-assign]
    notes: list[str] = []
    read = read_population(client, tmp_path, group=caseload, progress=notes.append)
    assert read.method == "search" and any("does not offer $export" in n for n in notes)
    assert read.resources == len(MAPS)


def test_unknown_group_is_a_server_error(fhir_server: str) -> None:
    result = run("report", "--server", fhir_server, "--group", "no-such-group-19", "--read-by", "search")
    assert result.exit_code == 1, result.output
    assert "404" in result.stderr
