"""The conformance resources on a real FHIR server (HAPI): they load, and examples validate.

Valid examples must validate against their profile with zero errors; the only warnings
allowed are those of an offline server that cannot expand SNOMED CT (listed in
docs/profiles.md). Each invalid example must fail with the error it names.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from wb_fhir._resources import data_dir
from wb_fhir.cli import main
from wb_fhir.conformance import conformance_resources
from wb_fhir.conformance.install import InstallResult, install
from wb_fhir.conformance.packages import load_uk_core, wb_fhir_package
from wb_fhir.sync.client import FhirClient

PROFILES = data_dir("profiles")
MANIFEST = json.loads((PROFILES / "examples" / "manifest.json").read_text(encoding="utf-8"))
FHIR_JSON = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}

ALLOWED_WARNINGS = (
    # The offline server has no SNOMED CT: it cannot expand UK Core's SNOMED ValueSets.
    re.compile(r"Unable to expand ValueSet: cannot apply filters .* because CodeSystem 'http://snomed\.info/sct'"),
    re.compile(r"None of the codings provided are in the value set 'UK Core Document Type'"),
)


@pytest.fixture(scope="module")
def installed(conformance: list[InstallResult]) -> InstallResult:
    """The session's installation of our conformance resources (after UK Core)."""
    uk_core, ours = conformance
    assert uk_core.package.name == load_uk_core().name
    return ours


def _validate(base: str, resource: dict[str, Any], profile: str | None) -> list[dict[str, Any]]:
    params = {"profile": profile} if profile else {}
    response = requests.post(
        f"{base}/{resource['resourceType']}/$validate", params=params, json=resource, headers=FHIR_JSON, timeout=120
    )
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome", response.text[:500]
    issues: list[dict[str, Any]] = outcome.get("issue", [])
    return issues


def _text(issues: list[dict[str, Any]], *severities: str) -> list[str]:
    return [i.get("diagnostics", "") for i in issues if i["severity"] in severities]


def test_every_conformance_resource_loads(fhir_server: str, installed: InstallResult) -> None:
    resources = conformance_resources()
    assert len(installed.statuses) == len(resources)
    for resource in resources:
        path = f"{resource['resourceType']}/{resource['id']}"
        assert installed.statuses[path][:3] in ("200", "201"), path
        stored = requests.get(f"{fhir_server}/{path}", headers=FHIR_JSON, timeout=30).json()
        assert (stored.get("url"), stored.get("version")) == (resource["url"], resource["version"]), path


@pytest.mark.parametrize("entry", [e for e in MANIFEST if e["valid"]], ids=lambda e: e["file"])
def test_valid_example_has_no_error(fhir_server: str, installed: InstallResult, entry: dict[str, Any]) -> None:
    resource = json.loads((PROFILES / "examples" / entry["file"]).read_text(encoding="utf-8"))
    issues = _validate(fhir_server, resource, entry["profile"])
    assert _text(issues, "error", "fatal") == []
    unexpected = [w for w in _text(issues, "warning") if not any(p.search(w) for p in ALLOWED_WARNINGS)]
    assert unexpected == []


@pytest.mark.parametrize("entry", [e for e in MANIFEST if not e["valid"]], ids=lambda e: e["file"])
def test_invalid_example_fails_as_expected(fhir_server: str, installed: InstallResult, entry: dict[str, Any]) -> None:
    resource = json.loads((PROFILES / "examples" / entry["file"]).read_text(encoding="utf-8"))
    errors = _text(_validate(fhir_server, resource, entry["profile"]), "error", "fatal")
    assert any(entry["expect"] in e for e in errors), errors


def test_questionnaire_response_is_checked_against_the_questionnaire(
    fhir_server: str, installed: InstallResult
) -> None:
    # Without a profile parameter the validator still follows QuestionnaireResponse.questionnaire.
    qr = json.loads((PROFILES / "examples" / "QuestionnaireResponse-map.json").read_text(encoding="utf-8"))
    assert _text(_validate(fhir_server, qr, None), "error", "fatal") == []
    qr["item"][4]["item"].append({"linkId": "connection.colour", "answer": [{"valueString": "red"}]})
    errors = _text(_validate(fhir_server, qr, None), "error", "fatal")
    assert "LinkId 'connection.colour' not found in questionnaire" in errors


def test_questionnaire_and_terminology_validate(fhir_server: str, installed: InstallResult) -> None:
    for resource in conformance_resources():
        if resource["resourceType"] == "StructureDefinition" and resource["type"] == "Extension":
            continue  # HAPI cannot snapshot any extension in $validate (UK Core's neither): see docs
        errors = _text(_validate(fhir_server, resource, None), "error", "fatal")
        assert errors == [], resource["id"]


def test_install_twice_is_idempotent(fhir_server: str, installed: InstallResult, tmp_path: Path) -> None:
    (again,) = install(FhirClient(fhir_server), [wb_fhir_package()])
    assert again.created == 0
    assert again.updated == len(conformance_resources())
    result = CliRunner().invoke(main, ["profiles", "install", "--server", fhir_server])
    assert result.exit_code == 0, result.output
    uk_core = load_uk_core()
    assert result.output.splitlines() == [
        f"installed {uk_core.name} {uk_core.version} (shipped with wb_fhir): {uk_core.count} conformance resources "
        f"(0 created, {uk_core.count} updated)",
        f"installed wb-fhir.r4 0.1.0: {len(conformance_resources())} conformance resources "
        f"(0 created, {len(conformance_resources())} updated)",
    ]
    package = tmp_path / "wb-fhir.tgz"
    assert CliRunner().invoke(main, ["profiles", "package", "-o", str(package)]).exit_code == 0
    assert package.stat().st_size > 0
    for resource in conformance_resources():
        found = requests.get(
            f"{fhir_server}/{resource['resourceType']}", params={"url": resource["url"]}, headers=FHIR_JSON, timeout=30
        ).json()
        assert found["total"] == 1, resource["url"]
