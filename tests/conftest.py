"""Shared pytest configuration: the HAPI FHIR test server plugin lives in fhir_server.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from wb_fhir.conformance.install import InstallResult, install
from wb_fhir.model import WellbeingMap
from wb_fhir.sync.client import FhirClient
from wb_fhir.terminology import NHS_NUMBER_SYSTEM

pytest_plugins = ["fhir_server", "web_support", "smart_servers"]


@pytest.fixture(scope="session")
def conformance(fhir_server: str) -> list[InstallResult]:
    """UK Core as shipped with wb_fhir, then wb_fhir's conformance resources, loaded once before
    anything validates (HAPI caches failed look-ups, so nothing may validate against a profile
    before this)."""
    return install(FhirClient(fhir_server))


PatientMaker = Callable[[str], str]


@pytest.fixture
def make_patient(fhir_server: str) -> PatientMaker:
    """``make_patient(nhs)`` -> ``Patient/id``: the test Patient with this NHS number (made if missing).

    wb_fhir never creates a Patient (a push only refers to one by NHS number): on a real
    server the record has them; on a test server the test makes the one it needs.
    """

    def make(nhs: str) -> str:
        response = requests.put(
            f"{fhir_server}/Patient",
            params={"identifier": f"{NHS_NUMBER_SYSTEM}|{nhs}"},
            json={"resourceType": "Patient", "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": nhs}]},
            headers={"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"},
            timeout=60,
        )
        assert response.status_code in (200, 201), response.text[:2000]
        return f"Patient/{response.json()['id']}"

    return make


ReferenceMaker = Callable[[WellbeingMap, str], None]


@pytest.fixture
def make_referenced(fhir_server: str) -> ReferenceMaker:
    """``make_referenced(wmap, "Patient/id")``: the resources a map's connections and practitioners
    point at (``fhir_id``), made on the server as they are named, so a push of the map can refer to
    them (a RelatedPerson belongs to that Patient)."""

    def make(wmap: WellbeingMap, patient: str) -> None:
        for ref in [c.fhir_id for c in wmap.connections] + [p.fhir_id for p in wmap.practitioners]:
            if not ref:
                continue
            kind, _, rid = ref.partition("/")
            resource: dict[str, Any] = {"resourceType": kind, "id": rid}
            if kind == "RelatedPerson":
                resource["patient"] = {"reference": patient}
            response = requests.put(
                f"{fhir_server}/{ref}",
                json=resource,
                headers={"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"},
                timeout=60,
            )
            assert response.status_code in (200, 201), response.text[:2000]

    return make


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Say the order's seed even under ``-q`` (pytest-randomly puts it only in the header)."""
    seed = getattr(config.option, "randomly_seed", None)
    if isinstance(seed, int):
        terminalreporter.write_line(f"tests ran in random order (seed {seed}): repeat it with --randomly-seed={seed}")
