"""Pull a person's maps, plan and goals from a FHIR server into a folder.

The Patient is found by NHS number first (portable: chained searches are optional in FHIR),
then every QuestionnaireResponse of the wellbeing Questionnaire about them, page by page; each
becomes one map file (``YYYY-MM-DD.yaml``). The CarePlan and Goals are written as FHIR JSON
(``care-plan.json``, ``goals/ID.json``) and their versions recorded in the outbox database, so
that a later push can tell whether someone else changed them meanwhile.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from wb_fhir._files import atomic_write
from wb_fhir.errors import InputError, ServerError
from wb_fhir.fhir import ExtractResult, extract_map
from wb_fhir.fhir.signposts import with_requests
from wb_fhir.mapfile import nhs_number_valid, save_map
from wb_fhir.model import Subject, stable_uuid
from wb_fhir.sync.client import FhirClient
from wb_fhir.sync.outbox import Outbox
from wb_fhir.terminology import NHS_NUMBER_SYSTEM, QUESTIONNAIRE_URL, IdentifierKind, identifier_system

log = logging.getLogger(__name__)

PAGE_SIZE = 50


@dataclass
class PullReport:
    """Files written by a pull."""

    maps: list[Path] = field(default_factory=list)
    plan: Path | None = None
    goals: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def find_patient(client: FhirClient, nhs_number: str) -> str:
    """The server id of the Patient with this NHS number."""
    if not nhs_number_valid(nhs_number):
        raise InputError("--patient is not a valid NHS number (ten digits with a modulus 11 check digit)")
    found = [
        p["id"]
        for p in client.search_all(
            "Patient", [("identifier", f"{NHS_NUMBER_SYSTEM}|{nhs_number}"), ("_elements", "id")]
        )
    ]
    if not found:
        raise InputError("the server has no Patient with this NHS number")
    if len(found) > 1:
        raise ServerError(
            f"the server has {len(found)} Patients with this NHS number; sort that out on the server first"
        )
    return str(found[0])


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
    patient = find_patient(client, nhs_number)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = PullReport()
    params = [("subject", f"Patient/{patient}"), ("_sort", "authored"), ("_count", str(PAGE_SIZE))]
    if since is not None:
        params.append(("authored", f"ge{since.isoformat()}"))
    used: set[str] = set()
    # The dated steps of agreed sign-posts live in their ServiceRequests (wb_fhir.fhir.signposts).
    signpost_system = identifier_system(IdentifierKind.SIGNPOST)
    requests = list(
        client.search_all(
            "ServiceRequest",
            [("subject", f"Patient/{patient}"), ("identifier", f"{signpost_system}|"), ("_count", str(PAGE_SIZE))],
        )
    )
    for qr in client.search_all("QuestionnaireResponse", params):
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
        save_map(wmap, path)
        report.maps.append(path)
    seen: list[tuple[str, str, str, str]] = []
    plan_identifier = (
        f"{identifier_system(IdentifierKind.CARE_PLAN)}|{stable_uuid(Subject(nhs_number=nhs_number).key, 'care-plan')}"
    )
    for plan in client.search_all("CarePlan", [("identifier", plan_identifier)]):
        report.plan = out_dir / "care-plan.json"
        _write_json(report.plan, plan)
        seen.append(("CarePlan", plan_identifier, str(plan["id"]), str(plan.get("meta", {}).get("versionId", ""))))
    goal_system = identifier_system(IdentifierKind.GOAL)
    goals_dir = out_dir / "goals"
    for goal in client.search_all("Goal", [("subject", f"Patient/{patient}"), ("_count", str(PAGE_SIZE))]):
        ours = [i for i in goal.get("identifier", []) if i.get("system") == goal_system and i.get("value")]
        if not ours:
            continue
        goals_dir.mkdir(exist_ok=True)
        path = goals_dir / f"{goal['id']}.json"
        _write_json(path, goal)
        report.goals.append(path)
        seen.append(
            (
                "Goal",
                f"{goal_system}|{ours[0]['value']}",
                str(goal["id"]),
                str(goal.get("meta", {}).get("versionId", "")),
            )
        )
    for request in requests:
        for ident in request.get("identifier", []):
            if ident.get("system") == signpost_system:
                version = str(request.get("meta", {}).get("versionId", ""))
                seen.append(("ServiceRequest", f"{signpost_system}|{ident['value']}", str(request["id"]), version))
    outbox.record_seen(client.base_url, seen)
    log.info("pulled %d map(s), %d plan(s), %d goal(s)", len(report.maps), 1 if report.plan else 0, len(report.goals))
    return report


def _write_json(path: Path, resource: dict[str, Any]) -> None:
    atomic_write(path, (json.dumps(resource, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
