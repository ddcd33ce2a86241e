"""Reading a caseload from a FHIR server: Bulk Data ``$export`` when offered, else paged search.

Bulk Data (FHIR Bulk Data Access 2.0): kick-off with ``Prefer: respond-async`` (system level,
or ``Group/ID/$export`` for a caseload held as a Group), poll the status URL (honouring
``Retry-After``), download each NDJSON file of the manifest, then delete the job. Without
``$export`` in the CapabilityStatement, or when the kick-off is refused, the same resources
come by paged search: every QuestionnaireResponse (with its Patient by ``_include``), or
those of the Group's members. Either way the result is NDJSON files in a private folder.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wb_fhir.errors import ServerError
from wb_fhir.report.dataset import Dataset
from wb_fhir.sync import FhirClient
from wb_fhir.sync.client import RawAnswer
from wb_fhir.sync.scrub import scrub

log = logging.getLogger(__name__)

TYPES = ("Patient", "QuestionnaireResponse")
NDJSON = "application/fhir+ndjson"
PAGE_SIZE = 200
MEMBERS_PER_SEARCH = 50
DEFAULT_WAIT = 3600.0
MAX_POLL = 10.0
"""Poll at least this often (seconds), whatever Retry-After says: some servers ask a fixed 120 s."""
_REFUSED = (400, 404, 405, 501)


@dataclass(frozen=True)
class ServerRead:
    """What was read, and how (``"$export"`` or ``"search"``)."""

    dataset: Dataset
    method: str
    resources: int


def offers_export(statement: dict[str, Any], group: str | None) -> bool:
    """Whether a CapabilityStatement offers Bulk Data export at the level needed."""
    for rest in statement.get("rest", []):
        if rest.get("mode") != "server":
            continue
        if group is None:
            operations = rest.get("operation", [])
        else:
            operations = [
                op for r in rest.get("resource", []) if r.get("type") == "Group" for op in r.get("operation", [])
            ]
        if any(str(op.get("name", "")).lstrip("$") == "export" for op in operations):
            return True
    return False


def read_population(
    client: FhirClient,
    folder: Path,
    *,
    group: str | None = None,
    method: str = "auto",
    wait: float = DEFAULT_WAIT,
    max_poll: float = MAX_POLL,
    progress: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ServerRead:
    """Write the server's maps (and their Patients) as NDJSON into ``folder``.

    ``method`` is ``"auto"`` (``$export`` when offered, else search), ``"export"`` or ``"search"``.
    """
    say = progress or (lambda _: None)
    if method in ("auto", "export"):
        offered = offers_export(client.capabilities(), group)
        if offered or method == "export":
            try:
                return _bulk_export(client, folder, group, wait, max_poll, say, sleep)
            except ServerError as exc:
                if method == "export" or exc.status not in _REFUSED:
                    raise
                say(f"$export refused ({exc.status}); reading by search instead")
        else:
            say("the server does not offer $export; reading by search")
    return _search(client, folder, group, say)


# --- Bulk Data export ------------------------------------------------------------------------


def _bulk_export(
    client: FhirClient,
    folder: Path,
    group: str | None,
    wait: float,
    max_poll: float,
    say: Callable[[str], None],
    sleep: Callable[[float], None],
) -> ServerRead:
    path = f"Group/{group}/$export" if group else "$export"
    kick = client.request(
        "GET",
        path,
        params=[("_type", ",".join(TYPES)), ("_outputFormat", NDJSON)],
        headers={"Prefer": "respond-async", "Accept": "application/fhir+json"},
    )
    status_url = kick.headers.get("Content-Location")
    if kick.status != 202 or not status_url:
        raise ServerError(f"$export kick-off answered {kick.status} without a status URL (Content-Location)")
    say("$export started; waiting for the server")
    try:
        manifest = _poll(client, client.url(status_url), wait, max_poll, say, sleep)
        qrs: list[Path] = []
        patients: list[Path] = []
        count = 0
        for n, output in enumerate(manifest.get("output", [])):
            kind = output.get("type")
            if kind not in TYPES or not isinstance(output.get("url"), str):
                continue
            target = folder / f"export-{n}.{kind}.ndjson"
            count += _download(client, output["url"], target, bool(manifest.get("requiresAccessToken", True)))
            (qrs if kind == "QuestionnaireResponse" else patients).append(target)
            say(f"downloaded {target.name}")
        errors = manifest.get("error", [])
        if errors:
            log.info("$export reported %d error file(s)", len(errors))
        return ServerRead(Dataset(tuple(qrs), tuple(patients)), "$export", count)
    finally:
        _delete_job(client, client.url(status_url))


def _raw(client: FhirClient, url: str, accept: str, *, auth: bool = True, into: Any = None) -> RawAnswer:
    """One GET outside the FHIR JSON contract (manifest, NDJSON), bounded by the client's limits."""
    return client.download(url, accept=accept, auth=auth, into=into)


class _Lines:
    """A file that counts the lines written into it."""

    def __init__(self, file: Any) -> None:
        self.file, self.lines = file, 0

    def write(self, data: bytes) -> None:
        self.lines += data.count(b"\n")
        self.file.write(data)


def _poll(
    client: FhirClient,
    url: str,
    wait: float,
    max_poll: float,
    say: Callable[[str], None],
    sleep: Callable[[float], None],
) -> dict[str, Any]:
    deadline = time.monotonic() + wait
    delay = 1.0
    while True:
        response = _raw(client, url, "application/json")
        if response.status == 200:
            try:
                manifest = json.loads(response.content)
            except (ValueError, RecursionError):
                raise ServerError("the $export manifest is not JSON") from None
            if not isinstance(manifest, dict):
                raise ServerError("the $export manifest is not a JSON object")
            return manifest
        if response.status != 202:
            raise ServerError(f"$export status answered {response.status}", status=response.status)
        if time.monotonic() > deadline:
            raise ServerError(f"$export did not finish within {wait:.0f} s")
        progress = response.headers.get("X-Progress")
        if progress:
            say(f"$export: {scrub(' '.join(progress[:80].split()))}")
        asked = response.headers.get("Retry-After", "")
        delay = min(float(asked), max_poll) if asked.isdigit() else min(delay * 1.5, max_poll)
        sleep(delay)


def _download(client: FhirClient, url: str, target: Path, requires_token: bool) -> int:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        counted = _Lines(f)
        _raw(client, client.url(url), NDJSON, auth=requires_token, into=counted)
    return counted.lines


def _delete_job(client: FhirClient, url: str) -> None:
    try:
        client.request("DELETE", url, ok=(404, 405, 410))
    except ServerError as exc:  # the export is read; a job left behind is the server's to expire
        log.info("deleting the $export job failed: %s", exc)


# --- paged search ----------------------------------------------------------------------------


def _group_members(client: FhirClient, group: str) -> list[str]:
    members = client.read("Group", group).get("member", [])
    refs = [str(m.get("entity", {}).get("reference", "")) for m in members if not m.get("inactive")]
    return [r for r in refs if r.startswith("Patient/")]


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _search(client: FhirClient, folder: Path, group: str | None, say: Callable[[str], None]) -> ServerRead:
    base = [("_count", str(PAGE_SIZE)), ("_include", "QuestionnaireResponse:subject")]
    if group is None:
        searches: Iterable[list[tuple[str, str]]] = [base]
    else:
        members = _group_members(client, group)
        say(f"Group/{group}: {len(members)} member(s)")
        searches = ([*base, ("subject", ",".join(chunk))] for chunk in _chunks(members, MEMBERS_PER_SEARCH))
    qr_file = folder / "search.QuestionnaireResponse.ndjson"
    patient_file = folder / "search.Patient.ndjson"
    seen_patients: set[str] = set()
    count = 0
    with _private(qr_file) as qrs, _private(patient_file) as patients:
        for params in searches:
            for page in client.pages("QuestionnaireResponse", params):
                for entry in page.get("entry", []):
                    resource = entry.get("resource")
                    if not isinstance(resource, dict):
                        continue
                    kind = resource.get("resourceType")
                    if kind == "QuestionnaireResponse":
                        qrs.write(json.dumps(resource, ensure_ascii=False) + "\n")
                        count += 1
                    elif kind == "Patient" and resource.get("id") not in seen_patients:
                        seen_patients.add(str(resource.get("id")))
                        patients.write(json.dumps(resource, ensure_ascii=False) + "\n")
                say(f"read {count} QuestionnaireResponse(s)")
    return ServerRead(Dataset((qr_file,), (patient_file,) if seen_patients else ()), "search", count)


def _private(path: Path) -> Any:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8")
