"""Shared pytest configuration: the HAPI FHIR test server plugin lives in fhir_server.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wb_fhir.conformance.install import InstallResult, install
from wb_fhir.sync.client import FhirClient

pytest_plugins = ["fhir_server", "web_support", "smart_servers"]

ROOT = Path(__file__).resolve().parent.parent


def uk_core_dir() -> Path:
    """The UK Core conformance resources (``WB_FHIR_UKCORE``, or ``shared/ukcore`` beside the checkout)."""
    for candidate in (os.environ.get("WB_FHIR_UKCORE", ""), ROOT.parent / "shared" / "ukcore"):
        if candidate and (Path(candidate) / "structuredefinitions").is_dir():
            return Path(candidate)
    pytest.fail("UK Core conformance resources not found: set WB_FHIR_UKCORE=DIR", pytrace=False)


@pytest.fixture(scope="session")
def conformance(fhir_server: str) -> InstallResult:
    """UK Core, then wb_fhir's conformance resources, loaded once before anything validates
    (HAPI caches failed look-ups, so nothing may validate against a profile before this)."""
    return install(FhirClient(fhir_server), uk_core=uk_core_dir())
