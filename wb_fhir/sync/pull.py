"""Pull a person's maps, plan and goals from a FHIR server into a folder.

The Patient is found by NHS number first (:meth:`FhirClient.patient`; portable: chained
searches are optional in FHIR), then every QuestionnaireResponse of the wellbeing Questionnaire
about them, page by page; each becomes one map file (``YYYY-MM-DD.yaml``). The CarePlan and
Goals are written as FHIR JSON (``care-plan.json``, ``goals/ID.json``) and their versions
recorded in the outbox database, so that a later push can tell whether someone else changed
them meanwhile.
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
from wb_fhir.fhir import ExtractResult, extract_map
from wb_fhir.fhir.references import Search, Token, subject_care_plan_key
from wb_fhir.fhir.signposts import with_requests
from wb_fhir.mapfile import save_map
from wb_fhir.model import Subject
from wb_fhir.sync.client import FhirClient
from wb_fhir.sync.outbox import Outbox
from wb_fhir.terminology import QUESTIONNAIRE_URL, IdentifierKind, identifier_system

log = logging.getLogger(__name__)

PAGE_SIZE = 50


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
    patient = f"Patient/{client.patient(nhs_number)['id']}"
    out_dir.mkdir(parents=True, exist_ok=True)
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
        save_map(wmap, path)
        report.maps.append(path)
    seen: list[tuple[str, str, str, str]] = []
    plan_key = subject_care_plan_key(Subject(nhs_number=nhs_number))
    for plan in client.search_all(plan_key.search):
        report.plan = out_dir / "care-plan.json"
        _write_json(report.plan, plan)
        seen.append(("CarePlan", str(plan_key.token), str(plan["id"]), _version(plan)))
    goal_system = identifier_system(IdentifierKind.GOAL)
    goals_dir = out_dir / "goals"
    for goal in client.search_all(Search("Goal").where(subject=patient).count(PAGE_SIZE)):
        ours = [t for t in map(Token.of, goal.get("identifier", [])) if t is not None and t.system == goal_system]
        if not ours:
            continue
        goals_dir.mkdir(exist_ok=True)
        path = goals_dir / f"{goal['id']}.json"
        _write_json(path, goal)
        report.goals.append(path)
        seen.append(("Goal", str(ours[0]), str(goal["id"]), _version(goal)))
    for request in requests:
        for token in map(Token.of, request.get("identifier", [])):
            if token is not None and token.system == signpost_system:
                seen.append(("ServiceRequest", str(token), str(request["id"]), _version(request)))
    outbox.record_seen(client.base_url, seen)
    log.info("pulled %d map(s), %d plan(s), %d goal(s)", len(report.maps), 1 if report.plan else 0, len(report.goals))
    return report


def _version(resource: dict[str, Any]) -> str:
    return str(resource.get("meta", {}).get("versionId", ""))


def _write_json(path: Path, resource: dict[str, Any]) -> None:
    atomic_write(path, (json.dumps(resource, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
