"""A Goal per goal of a person, updated at each review (identifier from the person and goal id).

Every field of a goal is in the Goal (milestones, resources, barriers, supporters, the goal's
own id and the connections it is about as extensions), so goals round-trip through
:func:`goal_from_resource` without the QuestionnaireResponse or the Observations.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from wb_fhir.errors import InputError, Problem
from wb_fhir.fhir.references import JSON, Linker, connection_key, extension_url, goal_key, meta
from wb_fhir.model import Goal, Milestone, WellbeingMap
from wb_fhir.terminology import (
    GOAL_ACHIEVEMENT_SYSTEM,
    GoalStatus,
    Profile,
)

LIFECYCLE: dict[GoalStatus, str] = {
    GoalStatus.PROPOSED: "proposed",
    GoalStatus.ACTIVE: "active",
    GoalStatus.ON_HOLD: "on-hold",
    GoalStatus.ACHIEVED: "completed",
    GoalStatus.ABANDONED: "cancelled",
}
"""Goal.lifecycleStatus of each goal status (one to one, so it reads back)."""
_STATUS = {v: k for k, v in LIFECYCLE.items()}

_ID = extension_url(Profile.EXT_GOAL_ID)
_ABOUT = extension_url(Profile.EXT_GOAL_ABOUT)
_MILESTONE = extension_url(Profile.EXT_MILESTONE)
_RESOURCE = extension_url(Profile.EXT_GOAL_RESOURCE)
_BARRIER = extension_url(Profile.EXT_GOAL_BARRIER)
_SUPPORTER = extension_url(Profile.EXT_GOAL_SUPPORTER)


def _milestone(m: Milestone) -> JSON:
    parts: list[JSON] = [{"url": "id", "valueString": m.id}, {"url": "description", "valueString": m.description}]
    if m.due:
        parts.append({"url": "due", "valueDate": m.due.isoformat()})
    parts.append({"url": "done", "valueBoolean": m.done})
    if m.done_on:
        parts.append({"url": "done-on", "valueDate": m.done_on.isoformat()})
    return {"url": _MILESTONE, "extension": parts}


def goal_resource(wmap: WellbeingMap, g: Goal, linker: Linker | None = None) -> JSON:
    """The Goal resource of one goal of the map."""
    linker = linker or Linker()
    extensions: list[JSON] = [{"url": _ID, "valueString": g.id}]
    extensions += [{"url": _ABOUT, "valueString": a} for a in g.about]
    extensions += [_milestone(m) for m in g.milestones]
    extensions += [{"url": _RESOURCE, "valueString": r} for r in g.resources]
    extensions += [{"url": _BARRIER, "valueString": b} for b in g.barriers]
    extensions += [{"url": _SUPPORTER, "valueString": s} for s in g.supporters]
    out: JSON = {
        "resourceType": "Goal",
        "meta": meta(Profile.GOAL, "Goal"),
        "extension": extensions,
        "identifier": [goal_key(wmap, g).identifier()],
        "lifecycleStatus": LIFECYCLE[g.status],
    }
    if g.status is GoalStatus.ACHIEVED:
        out["achievementStatus"] = {"coding": [{"system": GOAL_ACHIEVEMENT_SYSTEM, "code": "achieved"}]}
    out["description"] = {"text": g.description}
    out["subject"] = linker.subject(wmap.subject)
    out["startDate"] = wmap.date.isoformat()
    if g.target:
        out["target"] = [{"dueDate": g.target.isoformat()}]
    if g.about:
        out["addresses"] = [linker.ref(connection_key(wmap, wmap.connection(a))) for a in g.about]
    if g.notes:
        out["note"] = [{"text": n} for n in g.notes]
    return out


def goal_from_resource(resource: Any, where: str = "goal") -> Goal:
    """The goal a Goal resource written by wb_fhir holds; InputError naming ``where`` if not."""
    problems: list[Problem] = []
    if not isinstance(resource, dict) or resource.get("resourceType") != "Goal":
        raise InputError([Problem(where, "is not a Goal")])
    ext = resource.get("extension", [])
    ids = _strings(ext, _ID)
    status = _STATUS.get(resource.get("lifecycleStatus", ""))
    if len(ids) != 1:
        problems.append(Problem(f"{where}.extension", f"needs one {_ID} extension"))
    if status is None:
        problems.append(Problem(f"{where}.lifecycleStatus", f"{resource.get('lifecycleStatus')!r} is not one we write"))
    description = resource.get("description", {}).get("text")
    if not isinstance(description, str):
        problems.append(Problem(f"{where}.description.text", "is missing"))
    milestones = []
    for n, m in enumerate(e for e in ext if e.get("url") == _MILESTONE):
        parts = {p.get("url"): p for p in m.get("extension", [])}
        try:
            milestones.append(
                Milestone(
                    id=parts["id"]["valueString"],
                    description=parts["description"]["valueString"],
                    due=_date(parts.get("due", {}).get("valueDate")),
                    done=parts.get("done", {}).get("valueBoolean", False),
                    done_on=_date(parts.get("done-on", {}).get("valueDate")),
                )
            )
        except (KeyError, TypeError, ValueError):
            problems.append(Problem(f"{where}.extension:milestone[{n}]", "is not a milestone (id, description...)"))
    targets = [t.get("dueDate") for t in resource.get("target", []) if isinstance(t, dict) and t.get("dueDate")]
    target = None
    try:
        target = _date(targets[0]) if targets else None
    except (TypeError, ValueError):
        problems.append(Problem(f"{where}.target[0].dueDate", f"{targets[0]!r} is not a date"))
    if problems:
        raise InputError(problems)
    assert status is not None and isinstance(description, str)
    return Goal(
        id=ids[0],
        description=description,
        status=status,
        about=tuple(_strings(ext, _ABOUT)),
        supporters=tuple(_strings(ext, _SUPPORTER)),
        resources=tuple(_strings(ext, _RESOURCE)),
        barriers=tuple(_strings(ext, _BARRIER)),
        milestones=tuple(milestones),
        notes=tuple(n["text"] for n in resource.get("note", []) if isinstance(n.get("text"), str)),
        target=target,
    )


def _strings(extensions: list[JSON], url: str) -> list[str]:
    return [e["valueString"] for e in extensions if e.get("url") == url and isinstance(e.get("valueString"), str)]


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
