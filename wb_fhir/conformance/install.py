"""Load the conformance resources into a FHIR server: one transaction of ``PUT Type/id``.

Idempotent (the same ids every time), so running it twice leaves the server as it was. Kept small
and local on purpose; the full sync client lives in :mod:`wb_fhir.sync`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from wb_fhir.conformance import conformance_resources
from wb_fhir.conformance._common import Resource, dumps
from wb_fhir.errors import AuthError, InputError, ServerError

log = logging.getLogger(__name__)

TIMEOUT = 60.0
UK_CORE_TIMEOUT = 900.0
"""Creating the 375 UK Core resources takes a fresh HAPI a few minutes (it indexes large CodeSystems)."""
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


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


def check_server_url(url: str) -> str:
    """The base URL without a trailing slash; https, or http only on loopback."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"--server: {url!r} is not an http(s) URL")
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise InputError("--server: plain http is only allowed on loopback (localhost); use https")
    return url.rstrip("/")


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


def outcome_text(body: Any) -> str:
    """The diagnostics of an OperationOutcome, one issue a line."""
    if not isinstance(body, dict) or body.get("resourceType") != "OperationOutcome":
        return ""
    return "\n".join(
        f"{i.get('severity', '')}: {i.get('diagnostics') or i.get('details', {}).get('text', '')}".strip()
        for i in body.get("issue", [])
    )


def _post(http: requests.Session, base: str, data: bytes, content_type: str, token: str | None, timeout: float) -> Any:
    headers = {"Content-Type": content_type, "Accept": "application/fhir+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = http.post(base, data=data, headers=headers, timeout=timeout, verify=True)
    except requests.RequestException as exc:
        raise ServerError(f"cannot reach the FHIR server {base}: {type(exc).__name__}") from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code in (401, 403):
        raise AuthError(f"the server refused the credentials ({response.status_code})", status=response.status_code)
    if not response.ok:
        detail = outcome_text(body) or response.reason
        raise ServerError(
            f"the server refused the conformance resources ({response.status_code}):\n{detail}",
            status=response.status_code,
            outcome=body if isinstance(body, dict) else None,
        )
    return body


def install(
    server: str,
    *,
    token: str | None = None,
    uk_core: Path | None = None,
    session: requests.Session | None = None,
) -> InstallResult:
    """PUT every conformance resource into ``server`` in one transaction (UK Core first, if given)."""
    base = check_server_url(server)
    http = session or requests.Session()
    if uk_core is not None:
        log.info("installing the UK Core conformance resources")
        _post(http, base, uk_core_transaction(uk_core), "application/fhir+xml", token, UK_CORE_TIMEOUT)
    bundle = transaction(conformance_resources())
    log.info("installing %d conformance resources", len(bundle["entry"]))
    body = _post(http, base, dumps(bundle).encode("utf-8"), "application/fhir+json", token, TIMEOUT)
    entries = body.get("entry", []) if isinstance(body, dict) else []
    statuses = {
        f"{e['resource']['resourceType']}/{e['resource']['id']}": entry.get("response", {}).get("status", "")
        for e, entry in zip(bundle["entry"], entries, strict=False)
    }
    return InstallResult(statuses)
