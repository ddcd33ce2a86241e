"""Can this FHIR server carry wb_fhir? A pass/fail report for integration teams and testers.

Read-only checks run always: the CapabilityStatement (FHIR 4.0.x, transaction, the resource
types and interactions wb_fhir uses), the project's conformance resources by canonical URL (and
the UK Core profiles they derive from),
``$validate``, paging and ``_include`` as declared. Checks that write run only when asked
(``allow_writes``) against a test Patient that already exists: a transaction of conditional
upserts sent twice (stored once, version not bumped), a stale ``If-Match`` refused, paging
through real results and ``_include`` of the subject. They write Observations under a unique
identifier and delete them afterwards.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any

from wb_fhir.errors import ConflictError, InputError, ServerError
from wb_fhir.fhir.references import Search, Token, nhs_number_token
from wb_fhir.mapfile import nhs_number_valid
from wb_fhir.sync.client import FhirClient, missing_capabilities, next_link
from wb_fhir.terminology import identifier_system

CORE = "http://hl7.org/fhir/StructureDefinition/"
"""Profiles of FHIR itself: every server has them."""

CHECK_SYSTEM = identifier_system("server-check")
"""Identifier system of the throw-away resources the write checks create."""
WRITES_NOT_ALLOWED = "writes to the server: not allowed in this run"
"""Why a check that writes was skipped."""


class Outcome(StrEnum):
    PASS = "pass"  # noqa: S105
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class CheckResult:
    """One line of the report."""

    name: str
    outcome: Outcome
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items()}


def run_checks(
    client: FhirClient,
    *,
    conformance: Sequence[Mapping[str, Any]] = (),
    allow_writes: bool = False,
    test_patient: str | None = None,
) -> list[CheckResult]:
    """Every check, in order; a check that cannot run says why (skip) instead of failing.

    ``conformance`` are the conformance resources the server should hold (wb_fhir's own, as
    ``profiles install`` installs them): each is looked for by canonical URL, with the profiles
    they derive from (UK Core's). Details quote what the server said: they come scrubbed
    (:meth:`FhirClient.scrub`), as every message does.
    """
    results = _run_checks(client, conformance, allow_writes, test_patient)
    return [replace(r, detail=client.scrub(r.detail)) for r in results]


def _run_checks(
    client: FhirClient, conformance: Sequence[Mapping[str, Any]], allow_writes: bool, test_patient: str | None
) -> list[CheckResult]:
    if allow_writes and (not test_patient or not nhs_number_valid(test_patient)):
        raise InputError(
            "the checks that write need the valid NHS number of an existing test patient", setting="test_patient"
        )
    results: list[CheckResult] = []
    statement: dict[str, Any] | None = None
    try:
        statement = client.capabilities()
        version = str(statement.get("fhirVersion", ""))
        ok = version.startswith("4.0.")
        results.append(
            CheckResult("metadata", Outcome.PASS if ok else Outcome.FAIL, f"FHIR {version or '(not stated)'}")
        )
    except ServerError as exc:
        results.append(CheckResult("metadata", Outcome.FAIL, _first_line(exc)))
    if statement is not None:
        missing = missing_capabilities(statement)
        results.append(
            CheckResult(
                "capabilities",
                Outcome.FAIL if missing else Outcome.PASS,
                "; ".join(missing)
                if missing
                else "transaction, conditional update, every resource and interaction used",
            )
        )
    results.append(_guarded("profiles", lambda: _profiles(client, conformance)))
    results.append(_guarded("$validate", lambda: _validate(client)))
    results.append(_guarded("paging", lambda: _paging_read_only(client)))
    results.append(_include_declared(statement))
    if not allow_writes:
        for name in ("conditional upsert", "If-Match", "paging (written)", "_include (written)"):
            results.append(CheckResult(name, Outcome.SKIP, WRITES_NOT_ALLOWED))
        return results
    assert test_patient is not None
    results.extend(_write_checks(client, test_patient))
    return results


def _guarded(name: str, check: Callable[[], tuple[Outcome, str]]) -> CheckResult:
    try:
        outcome, detail = check()
    except ServerError as exc:
        return CheckResult(name, Outcome.FAIL, _first_line(exc))
    return CheckResult(name, outcome, detail)


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split("\n")[:2])


def _profiles(client: FhirClient, conformance: Sequence[Mapping[str, Any]]) -> tuple[Outcome, str]:
    if not conformance:
        return Outcome.SKIP, "no conformance resources given to look for"
    ours = {(str(r["resourceType"]), str(r["url"])) for r in conformance if r.get("url")}
    urls = {url for _, url in ours}
    bases = {
        ("StructureDefinition", str(r["baseDefinition"]))
        for r in conformance
        if r.get("baseDefinition") and r["baseDefinition"] not in urls and not r["baseDefinition"].startswith(CORE)
    }
    missing = _missing(client, ours | bases)
    if missing:
        names = ", ".join(sorted(url.rsplit("/", 1)[-1] for _, url in missing))
        return Outcome.FAIL, f"{len(missing)} of {len(ours) + len(bases)} missing: {names}"
    return Outcome.PASS, (
        f"all {len(ours)} conformance resources installed, and the {len(bases)} profiles they derive from"
    )


def _missing(client: FhirClient, wanted: set[tuple[str, str]]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for rtype in sorted({t for t, _ in wanted}):
        urls = sorted(url for t, url in wanted if t == rtype)
        search = Search(rtype).where(url=urls).elements("url").count(len(urls) * 5)
        found |= {(rtype, str(r.get("url"))) for r in client.search_all(search)}
    return wanted - found


def _validate(client: FhirClient) -> tuple[Outcome, str]:
    probe = {"resourceType": "Observation", "status": "final", "code": {"text": "wb-fhir server check"}}
    response = client.request("POST", "Observation/$validate", body=probe, idempotent=True, ok=(400, 412, 422))
    if response.body is None or response.body.get("resourceType") != "OperationOutcome":
        return Outcome.FAIL, f"answered {response.status} without an OperationOutcome"
    return Outcome.PASS, f"answered {response.status} with an OperationOutcome"


def _paging_read_only(client: FhirClient) -> tuple[Outcome, str]:
    one_a_page = Search("StructureDefinition").count(1).elements("url")
    following = next_link(client.search(one_a_page))
    if following is None:
        return Outcome.SKIP, "too few StructureDefinitions to page through; run the write checks"
    pages = list(_take(client.pages(one_a_page), 2))
    return (Outcome.PASS, "followed a next link") if len(pages) == 2 else (Outcome.FAIL, "the next link led nowhere")


def _take(iterator: Any, n: int) -> list[Any]:
    out = []
    for value in iterator:
        out.append(value)
        if len(out) == n:
            break
    return out


def _include_declared(statement: dict[str, Any] | None) -> CheckResult:
    if statement is None:
        return CheckResult("_include", Outcome.SKIP, "no CapabilityStatement")
    for rest in statement.get("rest", []):
        for resource in rest.get("resource", []):
            if resource.get("type") == "Observation" and resource.get("searchInclude"):
                return CheckResult("_include", Outcome.PASS, "declared for Observation")
    return CheckResult("_include", Outcome.FAIL, "Observation declares no searchInclude")


def _write_checks(client: FhirClient, nhs: str) -> list[CheckResult]:
    run = uuid.uuid4().hex
    values = [f"{run}-{n}" for n in range(3)]
    patient_ref = Search("Patient").where(identifier=nhs_number_token(nhs)).url
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, v)}",
                "resource": {
                    "resourceType": "Observation",
                    "identifier": [Token(CHECK_SYSTEM, v).identifier()],
                    "status": "final",
                    "code": {"text": "wb-fhir server check (safe to delete)"},
                    "subject": {"reference": patient_ref},
                    "valueString": "wb-fhir server check",
                },
                "request": {"method": "PUT", "url": _by_identifier(v).url},
            }
            for v in values
        ],
    }
    results: list[CheckResult] = []
    created: list[str] = []
    try:
        results.append(_guarded("conditional upsert", lambda: _upsert(client, bundle, values, created)))
        if created:
            results.append(_guarded("If-Match", lambda: _if_match(client, created[0])))
            results.append(_guarded("paging (written)", lambda: _paging_written(client, run, len(values))))
            results.append(_guarded("_include (written)", lambda: _include_written(client, values[0])))
    finally:
        results.append(_guarded("cleanup", lambda: _cleanup(client, created)))
    return results


def _upsert(client: FhirClient, bundle: dict[str, Any], values: list[str], created: list[str]) -> tuple[Outcome, str]:
    first = client.transaction(bundle)
    for entry in first.get("entry", []):
        location = str(entry.get("response", {}).get("location", ""))
        if location.startswith("Observation/"):
            created.append(location.split("/")[1])
    versions = [_versions(client, v) for v in values]
    client.transaction(bundle)
    again = [_versions(client, v) for v in values]
    if any(len(v) != 1 for v in again):
        return (
            Outcome.FAIL,
            f"sending the same transaction twice stored {sum(len(v) for v in again)} resources, not {len(values)}",
        )
    if again != versions:
        return Outcome.PASS, "stored once, but identical content bumped the version"
    return Outcome.PASS, "stored once; identical content kept its version"


def _by_identifier(value: str) -> Search:
    return Search("Observation").where(identifier=Token(CHECK_SYSTEM, value))


def _versions(client: FhirClient, value: str) -> list[str]:
    return [str(r.get("meta", {}).get("versionId")) for r in client.search_all(_by_identifier(value))]


def _if_match(client: FhirClient, resource_id: str) -> tuple[Outcome, str]:
    resource = client.read("Observation", resource_id)
    stale = "0"
    try:
        client.request("PUT", f"Observation/{resource_id}", body=resource, headers={"If-Match": f'W/"{stale}"'})
    except ConflictError as exc:
        return Outcome.PASS, f"a stale If-Match was refused with {exc.status}"
    return Outcome.FAIL, "a stale If-Match was accepted: concurrent edits would be lost"


def _paging_written(client: FhirClient, run: str, expected: int) -> tuple[Outcome, str]:
    pages = list(
        client.pages(
            Search("Observation")
            .where(identifier=[Token(CHECK_SYSTEM, f"{run}-{n}") for n in range(expected)])
            .count(1)
        )
    )
    found = sum(len(p.get("entry", [])) for p in pages)
    if found != expected:
        return Outcome.FAIL, f"paging with _count=1 found {found} of {expected}"
    return Outcome.PASS, f"{len(pages)} pages of one"


def _include_written(client: FhirClient, value: str) -> tuple[Outcome, str]:
    page = client.search(_by_identifier(value).param("_include", "Observation:subject"))
    included = [e for e in page.get("entry", []) if e.get("search", {}).get("mode") == "include"]
    if not any(e.get("resource", {}).get("resourceType") == "Patient" for e in included):
        return Outcome.FAIL, "_include=Observation:subject returned no Patient"
    return Outcome.PASS, "the subject Patient came back with search mode include"


def _cleanup(client: FhirClient, created: list[str]) -> tuple[Outcome, str]:
    for resource_id in created:
        client.request("DELETE", f"Observation/{resource_id}", ok=(404, 410))
    return Outcome.PASS, f"deleted {len(created)} test resource(s)"


def junit_xml(results: list[CheckResult], server: str) -> bytes:
    """The report as JUnit XML, one testcase per check, for CI pipelines."""
    suite = ET.Element(
        "testsuite",
        name="wb-fhir check",
        tests=str(len(results)),
        failures=str(sum(r.outcome is Outcome.FAIL for r in results)),
        skipped=str(sum(r.outcome is Outcome.SKIP for r in results)),
        errors="0",
    )
    ET.SubElement(ET.SubElement(suite, "properties"), "property", name="server", value=server)
    for r in results:
        case = ET.SubElement(suite, "testcase", classname="wb_fhir.check", name=r.name)
        if r.outcome is Outcome.FAIL:
            ET.SubElement(case, "failure", message=r.detail).text = r.detail
        elif r.outcome is Outcome.SKIP:
            ET.SubElement(case, "skipped", message=r.detail)
        else:
            ET.SubElement(case, "system-out").text = r.detail
    text: bytes = ET.tostring(suite, encoding="utf-8", xml_declaration=True)
    return text
