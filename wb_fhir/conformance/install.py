"""Load conformance packages into a FHIR server: one transaction of ``PUT Type/id`` per package.

By default UK Core (the copy shipped with wb_fhir) goes first, then wb_fhir's own resources:
:func:`plan` says what would be installed, without a server; :func:`install` does it.
Idempotent (the same ids every time), so running it twice leaves the server as it was, and a
transaction that failed on the way may be sent again. Everything goes through the one HTTP layer,
:class:`~wb_fhir.sync.client.FhirClient` (URL checks, auth, TLS, retries, error text).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from wb_fhir.conformance._common import Resource
from wb_fhir.conformance.packages import ConformancePackage, XmlResource, load_uk_core, wb_fhir_package
from wb_fhir.sync.client import FhirClient, Timeouts

log = logging.getLogger(__name__)

LARGE_PACKAGE = 100
"""A package of more resources than this (UK Core: 375) gets the long timeout and few attempts."""
LARGE_TIMEOUT = 900.0
"""Read timeout for a large package: a fresh HAPI indexes UK Core's CodeSystems as it stores them."""
LARGE_ATTEMPTS = 2
"""At most one retry of a large package's transaction: each attempt may wait ``LARGE_TIMEOUT``."""
FHIR_XML = "application/fhir+xml"


@dataclass(frozen=True)
class InstallResult:
    """What the server said for each resource of one package: ``Type/id`` -> HTTP status line."""

    package: ConformancePackage
    statuses: dict[str, str]

    @property
    def created(self) -> int:
        return sum(1 for s in self.statuses.values() if s.startswith("201"))

    @property
    def updated(self) -> int:
        return sum(1 for s in self.statuses.values() if s.startswith("200"))


def plan(uk_core: ConformancePackage | None) -> list[ConformancePackage]:
    """The packages to install, in order: UK Core (unless None), then wb_fhir's own."""
    return [*([uk_core] if uk_core is not None else []), wb_fhir_package()]


def default_plan() -> list[ConformancePackage]:
    """UK Core as shipped with wb_fhir, then wb_fhir's own resources."""
    return plan(load_uk_core())


def transaction(resources: Sequence[Resource]) -> dict[str, Any]:
    """The transaction Bundle that puts every resource at its id."""
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"{r['resourceType']}/{r['id']}",
                "resource": r,
                "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"},
            }
            for r in resources
        ],
    }


def xml_transaction(resources: Sequence[XmlResource]) -> bytes:
    """A transaction Bundle in FHIR XML that puts every resource at its id (XML sent as it came)."""
    entries = [
        f'<entry><fullUrl value="{r.resource_type}/{r.id}"/><resource>{r.text}</resource>'
        f'<request><method value="PUT"/><url value="{r.resource_type}/{r.id}"/></request></entry>'
        for r in resources
    ]
    bundle = '<Bundle xmlns="http://hl7.org/fhir"><type value="transaction"/>' + "".join(entries) + "</Bundle>"
    return bundle.encode("utf-8")


def install_package(client: FhirClient, package: ConformancePackage) -> InstallResult:
    """PUT every resource of one package in one transaction; a large one with a long read timeout.

    The client's own timeout still wins if longer.
    """
    if package.count > LARGE_PACKAGE:
        client = dataclasses.replace(
            client,
            timeouts=Timeouts(client.timeouts.connect, max(client.timeouts.read, LARGE_TIMEOUT)),
            retry=dataclasses.replace(client.retry, attempts=min(client.retry.attempts, LARGE_ATTEMPTS)),
            # The request's deadline (retries included) must leave room for the long reads.
            limits=dataclasses.replace(
                client.limits, request_seconds=max(client.limits.request_seconds, LARGE_TIMEOUT * LARGE_ATTEMPTS + 60)
            ),
        )
    log.info("installing %s: %d conformance resources", package, package.count)
    paths = [f"{r['resourceType']}/{r['id']}" for r in package.resources]
    if package.resources:
        answer = client.transaction(transaction(package.resources))
    else:
        paths = [f"{r.resource_type}/{r.id}" for r in package.xml]
        # Every entry is PUT Type/id (xml_transaction builds nothing else): safe to retry.
        response = client.request(
            "POST", "", content=xml_transaction(package.xml), content_type=FHIR_XML, idempotent=True
        )
        answer = response.body or {}
    entries: list[dict[str, Any]] = answer.get("entry", [])
    statuses = {path: entry.get("response", {}).get("status", "") for path, entry in zip(paths, entries, strict=False)}
    return InstallResult(package, statuses)


def install(client: FhirClient, packages: Sequence[ConformancePackage] | None = None) -> list[InstallResult]:
    """Install each package in order (default: :func:`default_plan`, UK Core first), one transaction each."""
    return [install_package(client, p) for p in (default_plan() if packages is None else packages)]
