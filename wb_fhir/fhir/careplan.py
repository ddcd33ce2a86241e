"""The person's one wellbeing CarePlan, updated at each review, and reading a plan back.

Sign-posts are activities (a ServiceRequest-like detail, and an extension carrying every
field), the next review is an activity of its own; :func:`plan_from_resources` rebuilds
goals, sign-posts and the next review from the CarePlan and its Goals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from wb_fhir.errors import InputError, Problem
from wb_fhir.fhir.goals import goal_from_resource
from wb_fhir.fhir.narrative import care_plan_narrative
from wb_fhir.fhir.references import (
    JSON,
    Key,
    Linker,
    care_plan_key,
    coding,
    connection_key,
    extension_url,
    goal_key,
    meta,
    practitioner_ref,
)
from wb_fhir.fhir.signposts import has_request, signpost_key
from wb_fhir.model import Goal, Signpost, WellbeingMap
from wb_fhir.terminology import CARE_PLAN_ACTIVITY_KIND, CODESYSTEM_URL, Profile, SignpostStatus

TITLE = "Wellbeing network plan"
CATEGORY = {"text": "Wellbeing"}
REVIEW_ACTIVITY = "Wellbeing network review"

ACTIVITY_STATUS: dict[SignpostStatus, str] = {
    SignpostStatus.SUGGESTED: "not-started",
    SignpostStatus.AGREED: "scheduled",
    SignpostStatus.REFERRED: "in-progress",
    SignpostStatus.ATTENDED: "completed",
    SignpostStatus.DECLINED: "cancelled",
}
"""CarePlan.activity.detail.status of each sign-post status."""

_SIGNPOST = extension_url(Profile.EXT_SIGNPOST)


@dataclass(frozen=True)
class PlanParts:
    """What a CarePlan and its Goals hold of a map: goals, sign-posts, next review."""

    goals: tuple[Goal, ...]
    signposts: tuple[Signpost, ...]
    next_review: date | None


def _signpost_extension(s: Signpost) -> JSON:
    parts: list[JSON] = [
        {"url": "asset", "valueString": s.asset},
        {"url": "reason", "valueString": s.reason},
        {"url": "status", "valueCoding": coding(s.status)},
    ]
    if s.note:
        parts.append({"url": "note", "valueString": s.note})
    if s.date:
        parts.append({"url": "date", "valueDate": s.date.isoformat()})
    return {"url": _SIGNPOST, "extension": parts}


def _signpost_activity(wmap: WellbeingMap, s: Signpost, linker: Linker, name: str) -> JSON:
    if has_request(s):
        # Agreed: the ServiceRequest holds it (R4: an activity has a reference or a detail, not both).
        return {"extension": [_signpost_extension(s)], "reference": linker.ref(signpost_key(wmap, s), name)}
    detail: JSON = {"extension": [_signpost_extension(s)], "kind": CARE_PLAN_ACTIVITY_KIND, "code": {"text": name}}
    # R4 allows only Observations (not Goals) as reasonReference: a goal goes in detail.goal.
    if s.reason in {g.id for g in wmap.goals}:
        detail["goal"] = [linker.ref(goal_key(wmap, wmap.goal(s.reason)))]
    else:
        detail["reasonReference"] = [linker.ref(connection_key(wmap, wmap.connection(s.reason)))]
    detail["status"] = ACTIVITY_STATUS[s.status]
    if s.date:
        detail["scheduledString"] = s.date.isoformat()
    if s.note:
        detail["description"] = s.note
    return {"detail": detail}


def care_plan(
    wmap: WellbeingMap,
    linker: Linker | None = None,
    *,
    supporting: Sequence[Key] = (),
    asset_names: Mapping[str, str] | None = None,
) -> JSON:
    """The person's wellbeing CarePlan as of this map; ``supporting`` are its supportingInfo.

    ``asset_names`` (``{asset id: name}``) shows sign-posted assets by their names.
    """
    linker = linker or Linker()
    names = asset_names or {}
    activities = [_signpost_activity(wmap, s, linker, names.get(s.asset, s.asset)) for s in wmap.signposts]
    if wmap.next_review:
        activities.append(
            {
                "detail": {
                    "code": {"text": REVIEW_ACTIVITY},
                    "status": "scheduled",
                    "scheduledPeriod": {"start": wmap.next_review.isoformat()},
                }
            }
        )
    plan: JSON = {
        "resourceType": "CarePlan",
        "meta": meta(Profile.CARE_PLAN, "CarePlan"),
        "text": {"status": "generated", "div": care_plan_narrative(wmap, names)},
        "identifier": [care_plan_key(wmap).identifier()],
        "status": "active",
        "intent": "plan",
        "category": [dict(CATEGORY)],
        "title": TITLE,
        "subject": linker.subject(wmap.subject),
        "period": {"start": wmap.date.isoformat()},
        "created": wmap.date.isoformat(),
        "contributor": [practitioner_ref(p) for p in wmap.practitioners] + [linker.subject(wmap.subject)],
    }
    if wmap.goals:
        plan["goal"] = [linker.ref(goal_key(wmap, g)) for g in wmap.goals]
    if activities:
        plan["activity"] = activities
    if supporting:
        plan["supportingInfo"] = [linker.ref(k) for k in supporting]
    return plan


def plan_from_resources(careplan: Any, goals: Sequence[Any]) -> PlanParts:
    """Goals (with milestones), sign-posts and next review from a CarePlan and its Goals.

    Goals come in the order of ``CarePlan.goal`` where their references can be matched
    (``Goal/id`` or the business identifier), else in the order given.
    """
    if not isinstance(careplan, dict) or careplan.get("resourceType") != "CarePlan":
        raise InputError([Problem("careplan", "is not a CarePlan")])
    order = _goal_order(careplan, goals)
    read = [goal_from_resource(r, f"goals[{n}]") for n, r in enumerate(goals)]
    ranked = sorted(range(len(read)), key=lambda n: order.get(n, len(order) + n))
    signposts: list[Signpost] = []
    next_review: date | None = None
    problems: list[Problem] = []
    for n, activity in enumerate(careplan.get("activity", [])):
        detail = activity.get("detail", {})
        ext = [e for e in detail.get("extension", []) + activity.get("extension", []) if e.get("url") == _SIGNPOST]
        if ext:
            try:
                signposts.append(_signpost_from(ext[0]))
            except (KeyError, TypeError, ValueError):
                problems.append(Problem(f"careplan.activity[{n}]", "has a sign-post extension that cannot be read"))
            continue
        start = detail.get("scheduledPeriod", {}).get("start")
        if detail.get("code", {}).get("text") == REVIEW_ACTIVITY and isinstance(start, str):
            try:
                next_review = date.fromisoformat(start[:10])
            except ValueError:
                problems.append(Problem(f"careplan.activity[{n}].detail.scheduledPeriod.start", "is not a date"))
    if problems:
        raise InputError(problems)
    return PlanParts(tuple(read[n] for n in ranked), tuple(signposts), next_review)


def _goal_order(careplan: JSON, goals: Sequence[Any]) -> dict[int, int]:
    wanted: list[str] = []
    for ref in careplan.get("goal", []):
        wanted.append(ref.get("reference") or ref.get("identifier", {}).get("value") or "")
    order: dict[int, int] = {}
    for n, g in enumerate(goals):
        if not isinstance(g, dict):
            continue
        names = {f"Goal/{g.get('id')}"} | {i.get("value") for i in g.get("identifier", [])}
        for rank, ref in enumerate(wanted):
            if ref in names or ref.split("/_history")[0].endswith(f"Goal/{g.get('id')}"):
                order[n] = rank
                break
    return order


def _signpost_from(ext: JSON) -> Signpost:
    parts = {p["url"]: p for p in ext["extension"]}
    status = parts["status"]["valueCoding"]
    if status.get("system") != CODESYSTEM_URL:
        raise ValueError(status)
    when = parts.get("date", {}).get("valueDate")
    return Signpost(
        asset=parts["asset"]["valueString"],
        reason=parts["reason"]["valueString"],
        status=SignpostStatus(status["code"]),
        note=parts.get("note", {}).get("valueString"),
        date=date.fromisoformat(when) if when else None,
    )
