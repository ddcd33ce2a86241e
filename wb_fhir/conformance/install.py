"""Load the conformance resources into a FHIR server: one transaction of ``PUT Type/id``.

Idempotent (the same ids every time), so running it twice leaves the server as it was, and a
transaction that failed on the way may be sent again. Everything goes through the one HTTP layer,
:class:`~wb_fhir.sync.client.FhirClient` (URL checks, auth, TLS, retries, error text).
"""

from __future__ import annotations

import dataclasses
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wb_fhir.conformance import conformance_resources
from wb_fhir.conformance._common import Resource
from wb_fhir.errors import InputError
from wb_fhir.sync.client import FhirClient, Timeouts

log = logging.getLogger(__name__)

UK_CORE_TIMEOUT = 900.0
"""Creating the 375 UK Core resources takes a fresh HAPI a few minutes (it indexes large CodeSystems)."""
UK_CORE_ATTEMPTS = 2
"""At most one retry of the UK Core transaction: each attempt may wait ``UK_CORE_TIMEOUT``."""
FHIR_XML = "application/fhir+xml"


@dataclass(frozen=True)
class InstallResult:
    """What the server said for each resource: ``Type/id`` -> HTTP status line."""

    statuses: dict[str, str]

    @property
    def created(self) -> int:
        return sum(1 for s in self.statuses.values() if s.startswith("201"))

    @property
    def updated(self) -> int:
        return sum(1 for s in self.statuses.values() if s.startswith("200"))


def transaction(resources: list[Resource]) -> dict[str, Any]:
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


UK_CORE_FOLDERS = ("codesystems", "valuesets", "structuredefinitions")
_ROOT = re.compile(r'<(\w+) xmlns="http://hl7.org/fhir"')
_ID = re.compile(r'<id value="([^"]+)"')


def uk_core_transaction(folder: Path) -> bytes:
    """A transaction Bundle (XML, as UK Core ships) that puts every UK Core conformance resource.

    The UK Core StructureDefinitions are differential only; the server builds their snapshots,
    which is what lets the wb_fhir profiles derive from them.
    """
    entries = []
    for sub in UK_CORE_FOLDERS:
        for path in sorted((folder / sub).glob("*.xml")):
            text = path.read_text(encoding="utf-8")
            text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
            root, id_ = _ROOT.search(text), _ID.search(text)
            if root is None or id_ is None:
                raise InputError("not a FHIR XML resource with an id", str(path))
            url = f"{root.group(1)}/{id_.group(1)}"
            entries.append(
                f'<entry><fullUrl value="{url}"/><resource>{text}</resource>'
                f'<request><method value="PUT"/><url value="{url}"/></request></entry>'
            )
    if not entries:
        raise InputError(
            "holds no UK Core conformance resources (codesystems/, valuesets/, structuredefinitions/)", str(folder)
        )
    bundle = '<Bundle xmlns="http://hl7.org/fhir"><type value="transaction"/>' + "".join(entries) + "</Bundle>"
    return bundle.encode("utf-8")


def install(client: FhirClient, *, uk_core: Path | None = None) -> InstallResult:
    """PUT every conformance resource into the client's server in one transaction (UK Core first, if given).

    The UK Core transaction is sent as the XML UK Core ships (the server converts it), with a read
    timeout of at least :data:`UK_CORE_TIMEOUT`; the client's own timeout still wins if longer.
    """
    if uk_core is not None:
        data = uk_core_transaction(uk_core)
        slow = dataclasses.replace(
            client,
            timeouts=Timeouts(client.timeouts.connect, max(client.timeouts.read, UK_CORE_TIMEOUT)),
            retry=dataclasses.replace(client.retry, attempts=min(client.retry.attempts, UK_CORE_ATTEMPTS)),
        )
        log.info("installing the UK Core conformance resources")
        # Every entry is PUT Type/id (uk_core_transaction builds nothing else): safe to retry.
        slow.request("POST", "", content=data, content_type=FHIR_XML, idempotent=True)
    bundle = transaction(conformance_resources())
    log.info("installing %d conformance resources", len(bundle["entry"]))
    answer = client.transaction(bundle)
    entries: list[dict[str, Any]] = answer.get("entry", [])
    statuses = {
        f"{e['resource']['resourceType']}/{e['resource']['id']}": entry.get("response", {}).get("status", "")
        for e, entry in zip(bundle["entry"], entries, strict=False)
    }
    return InstallResult(statuses)
