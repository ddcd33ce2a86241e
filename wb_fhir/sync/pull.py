"""Pull a person's maps, plan and goals from a FHIR server into a folder.

The Patient is found by NHS number first (:meth:`FhirClient.patient`; portable: chained
searches are optional in FHIR), then every QuestionnaireResponse of the wellbeing Questionnaire
about them, page by page; each becomes one map file (``YYYY-MM-DD.yaml``). The CarePlan and
Goals are written as FHIR JSON (``care-plan.json``, ``goals/ID.json``) and their versions
recorded in the outbox database, so that a later push can tell whether someone else changed
them meanwhile.

Nothing is written outside the folder, whatever the server says: a file is named after a
resource's id only when the id is a FHIR id (letters, digits, ``-`` and ``.``, at most 64, not
starting with a dot), so ``../../x`` or ``/etc/x`` is never a path; a resource with any other id
is left out with a warning. The folder is made private (0700) when pull creates it, and every
file is written whole (0600) or not at all.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from wb_fhir._files import atomic_write
from wb_fhir.errors import InputError, ServerError
from wb_fhir.fhir import ExtractResult, extract_map
from wb_fhir.fhir.references import Search, Token, subject_care_plan_key
from wb_fhir.fhir.signposts import with_requests
from wb_fhir.mapfile import save_map
from wb_fhir.model import Subject
from wb_fhir.sync.client import FhirClient
from wb_fhir.sync.outbox import Outbox
from wb_fhir.sync.scrub import scrub
from wb_fhir.terminology import QUESTIONNAIRE_URL, IdentifierKind, identifier_system

log = logging.getLogger(__name__)

PAGE_SIZE = 50
FILE_ID = re.compile(r"[A-Za-z0-9\-][A-Za-z0-9\-.]{0,63}")
"""A FHIR id that is also a safe file name: no separator, no leading dot (so never ``.`` or ``..``)."""


@dataclass
class PullReport:
    """Files written by a pull."""

    maps: list[Path] = field(default_factory=list)
    plan: Path | None = None
    goals: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def pull(
    client: FhirClient,
    outbox: Outbox,
    nhs_number: str,
    out_dir: Path,
    *,
    since: date | None = None,
    extract: Callable[[dict[str, Any]], ExtractResult] = extract_map,
) -> PullReport:
    """Write every map of a person (from ``since`` on), the plan and goals into ``out_dir``."""
    patient_id = file_id(client.patient(nhs_number))
    if patient_id is None:
        raise ServerError("the server's Patient has no id that is a FHIR id")
    patient = f"Patient/{patient_id}"
    _make_folder(out_dir)
    report = PullReport()
    responses = Search("QuestionnaireResponse").where(subject=patient).sort("authored").count(PAGE_SIZE)
    if since is not None:
        responses = responses.where(authored=f"ge{since.isoformat()}")
    used: set[str] = set()
    # The dated steps of agreed sign-posts live in their ServiceRequests (wb_fhir.fhir.signposts).
    signpost_system = identifier_system(IdentifierKind.SIGNPOST)
    requests = list(
        client.search_all(
            Search("ServiceRequest").where(subject=patient, identifier=f"{signpost_system}|").count(PAGE_SIZE)
        )
    )
    for qr in client.search_all(responses):
        if not str(qr.get("questionnaire", "")).startswith(QUESTIONNAIRE_URL):
            continue
        result = extract(qr)
        # The server holds the resolved reference Patient/id; the NHS number is what the map
        # file and the business identifiers (subject key) are built on.
        wmap = dataclasses.replace(
            result.map, subject=dataclasses.replace(result.map.subject, nhs_number=nhs_number), id=result.map.id
        )
        wmap = with_requests(wmap, requests)
        report.warnings.extend(f"QuestionnaireResponse/{qr.get('id')}: {w}" for w in result.warnings)
        name = wmap.date.isoformat()
        n = 1
        while name in used:
            n += 1
            name = f"{wmap.date.isoformat()}-{n}"
        used.add(name)
        path = out_dir / f"{name}.yaml"
        try:
            save_map(wmap, path)
        except OSError as exc:
            raise InputError(f"cannot be written: {exc.strerror or exc}", str(path)) from None
        report.maps.append(path)
    seen: list[tuple[str, str, str, str]] = []
    plan_key = subject_care_plan_key(Subject(nhs_number=nhs_number))
    for plan in client.search_all(plan_key.search):
        plan_id = file_id(plan)
        if plan_id is None:
            report.warnings.append(f"a CarePlan whose id is not a FHIR id ({_shown(plan.get('id'))}) was left out")
            continue
        report.plan = out_dir / "care-plan.json"
        _write_json(report.plan, plan)
        seen.append(("CarePlan", str(plan_key.token), plan_id, _version(plan)))
    goal_system = identifier_system(IdentifierKind.GOAL)
    goals_dir = out_dir / "goals"
    for goal in client.search_all(Search("Goal").where(subject=patient).count(PAGE_SIZE)):
        ours = [t for t in _tokens(goal) if t.system == goal_system]
        if not ours:
            continue
        goal_id = file_id(goal)
        if goal_id is None:
            report.warnings.append(f"a Goal whose id is not a FHIR id ({_shown(goal.get('id'))}) was left out")
            continue
        _make_folder(goals_dir, inside=out_dir)
        path = goals_dir / f"{goal_id}.json"
        _write_json(path, goal)
        report.goals.append(path)
        seen.append(("Goal", str(ours[0]), goal_id, _version(goal)))
    for request in requests:
        request_id = file_id(request)
        for token in _tokens(request):
            if request_id is not None and token.system == signpost_system:
                seen.append(("ServiceRequest", str(token), request_id, _version(request)))
    outbox.record_seen(client.base_url, seen)
    log.info("pulled %d map(s), %d plan(s), %d goal(s)", len(report.maps), 1 if report.plan else 0, len(report.goals))
    return report


def file_id(resource: Any) -> str | None:
    """A resource's id if it is a FHIR id that is safe as a file name, else None."""
    rid = resource.get("id") if isinstance(resource, dict) else None
    return rid if isinstance(rid, str) and FILE_ID.fullmatch(rid) else None


def _shown(value: Any) -> str:
    # An id from a hostile server, for a warning: short, on one line, scrubbed.
    text = scrub(" ".join(repr(value).split()))
    return text if len(text) <= 40 else text[:40] + "..."


def _tokens(resource: dict[str, Any]) -> list[Token]:
    identifiers = resource.get("identifier", [])
    found = (Token.of(i) for i in identifiers if isinstance(i, dict)) if isinstance(identifiers, list) else ()
    return [t for t in found if t is not None]


def _make_folder(folder: Path, *, inside: Path | None = None) -> None:
    """The folder, made private (0700) when missing; an InputError when it cannot be, or leads elsewhere."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError("is a file, not a folder", str(folder)) from None
    except OSError as exc:
        raise InputError(f"cannot make the folder: {exc.strerror or exc}", str(folder)) from None
    if inside is not None and not folder.resolve().is_relative_to(inside.resolve()):
        raise InputError(f"leads out of {inside} (a link): nothing is written through it", str(folder))


def _version(resource: dict[str, Any]) -> str:
    meta = resource.get("meta")
    return str(meta.get("versionId", "")) if isinstance(meta, dict) else ""


def _write_json(path: Path, resource: dict[str, Any]) -> None:
    try:
        atomic_write(path, (json.dumps(resource, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    except OSError as exc:
        raise InputError(f"cannot be written: {exc.strerror or exc}", str(path)) from None
