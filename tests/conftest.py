"""Shared pytest configuration: the HAPI FHIR test server plugin lives in fhir_server.py."""

from __future__ import annotations

import pytest

from wb_fhir.conformance.install import InstallResult, install
from wb_fhir.sync.client import FhirClient

pytest_plugins = ["fhir_server"]


@pytest.fixture(scope="session")
def conformance(fhir_server: str) -> list[InstallResult]:
    """UK Core as shipped with wb_fhir, then wb_fhir's conformance resources, loaded once before
    anything validates (HAPI caches failed look-ups, so nothing may validate against a profile
    before this)."""
    return install(FhirClient(fhir_server))
