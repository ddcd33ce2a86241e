"""A sign-post the person agreed to, as a ServiceRequest for the asset's HealthcareService (pure).

A suggested sign-post lives in the map and the CarePlan only. Once it is agreed (or referred,
attended, or declined after being agreed) it becomes a ServiceRequest, one per sign-post of a
person, updated at each review: ``status`` active while agreed or referred, completed once
attended, revoked when declined; intent ``plan``; the performer the asset's HealthcareService
(by identifier: the asset bank may live on another server); the reason the connection
Observation or, for a goal, the Goal (supportingInfo: R4 reasonReference cannot hold a Goal).
Each recorded step (suggested, agreed, referred, attended, declined with the reason) is a
``wb-signpost-history`` extension with its date, and ``wb-signpost-follow-up`` the date to
check by. :func:`with_requests` brings the dated steps back into pulled maps.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from wb_fhir.fhir.assets import service_key
from wb_fhir.fhir.references import (
    JSON,
    Key,
    Linker,
    care_plan_key,
    coding,
    connection_key,
    goal_key,
    meta,
    practitioner_ref,
)
from wb_fhir.model import Signpost, WellbeingMap, stable_uuid
from wb_fhir.terminology import (
    CODESYSTEM_URL,
    SIGNPOST_REQUEST_STATUS,
    AssetProfile,
    IdentifierKind,
    RequestCode,
    SignpostStatus,
    display,
    identifier_system,
    structure_definition_url,
)

HISTORY_URL = structure_definition_url(AssetProfile.EXT_SIGNPOST_HISTORY)
FOLLOW_UP_URL = structure_definition_url(AssetProfile.EXT_SIGNPOST_FOLLOW_UP)
_XHTML = "http://www.w3.org/1999/xhtml"
_CODES = frozenset(m.value for m in SignpostStatus)


def signpost_key(wmap: WellbeingMap, s: Signpost) -> Key:
    """The ServiceRequest of one sign-post of a person (the same at every review)."""
    return Key("ServiceRequest", IdentifierKind.SIGNPOST, stable_uuid(wmap.subject.key, "signpost", s.asset, s.reason))


def has_request(s: Signpost) -> bool:
    """True once the person agreed to it: agreed, referred, attended, or declined after agreeing."""
    if s.status in (SignpostStatus.AGREED, SignpostStatus.REFERRED, SignpostStatus.ATTENDED):
        return True
    return s.status is SignpostStatus.DECLINED and bool(s.agreed_on or s.referred_on)


def steps(s: Signpost) -> list[tuple[SignpostStatus, date]]:
    """The steps of a sign-post that carry a date, oldest first."""
    return [(status, day) for status in SignpostStatus if (day := s.step_date(status)) is not None]


def _step(status: SignpostStatus, day: date, reason: str | None) -> JSON:
    parts: list[JSON] = [
        {"url": "status", "valueCoding": coding(status)},
        {"url": "date", "valueDate": day.isoformat()},
    ]
    if reason:
        parts.append({"url": "reason", "valueString": reason})
    return {"url": HISTORY_URL, "extension": parts}


def _label(wmap: WellbeingMap, reason: str) -> str:
    for c in wmap.connections:
        if c.id == reason:
            return c.label
    for g in wmap.goals:
        if g.id == reason:
            return g.description
    return reason


def service_request(
    wmap: WellbeingMap, s: Signpost, linker: Linker | None = None, *, asset_name: str | None = None
) -> JSON:
    """The ServiceRequest of a sign-post the person agreed to (see :func:`has_request`)."""
    linker = linker or Linker()
    name = asset_name or s.asset
    reason = _label(wmap, s.reason)
    dated = steps(s)
    words = "; ".join(f"{display(status).lower()} {day.isoformat()}" for status, day in dated)
    div = (
        f"<p>Sign-post to <b>{html.escape(name)}</b> for {html.escape(reason)}: {html.escape(display(s.status))}"
        + (f" ({html.escape(words)})" if words else "")
        + "</p>"
    )
    extension = [_step(status, day, s.note if status is SignpostStatus.DECLINED else None) for status, day in dated]
    where: list[JSON] = [{"url": "status", "valueCoding": coding(s.status)}]
    since = s.step_date(s.status) or s.date
    if since:
        where.append({"url": "since", "valueDate": since.isoformat()})
    if s.follow_up:
        where.append({"url": "due", "valueDate": s.follow_up.isoformat()})
    extension.append({"url": FOLLOW_UP_URL, "extension": where})
    resource: JSON = {
        "resourceType": "ServiceRequest",
        "meta": meta(AssetProfile.SIGNPOST_REQUEST, "ServiceRequest"),
        "text": {"status": "generated", "div": f'<div xmlns="{_XHTML}">{div}</div>'},
    }
    if extension:
        resource["extension"] = extension
    resource.update(
        {
            "identifier": [signpost_key(wmap, s).identifier()],
            "basedOn": [linker.ref(care_plan_key(wmap))],
            "status": SIGNPOST_REQUEST_STATUS[s.status],
            "intent": "plan",
            "code": {"coding": [coding(RequestCode.SIGNPOST)], "text": f"Sign-post to {name}"},
            "subject": linker.subject(wmap.subject),
            "authoredOn": (s.agreed_on or s.referred_on or s.date or wmap.date).isoformat(),
        }
    )
    if wmap.practitioners:
        resource["requester"] = practitioner_ref(wmap.practitioners[0])
    resource["performer"] = [
        {"type": "HealthcareService", "identifier": service_key(s.asset).identifier(), "display": name}
    ]
    if s.reason in {g.id for g in wmap.goals}:
        resource["supportingInfo"] = [linker.ref(goal_key(wmap, wmap.goal(s.reason)), reason)]
    else:
        resource["reasonReference"] = [linker.ref(connection_key(wmap, wmap.connection(s.reason)), reason)]
    if s.note:
        resource["note"] = [{"text": s.note}]
    return resource


def service_requests(
    wmap: WellbeingMap, linker: Linker | None = None, *, asset_names: Mapping[str, str] | None = None
) -> list[tuple[Key, JSON]]:
    """The ServiceRequests of a map's agreed sign-posts, with their keys."""
    names = asset_names or {}
    return [
        (signpost_key(wmap, s), service_request(wmap, s, linker, asset_name=names.get(s.asset)))
        for s in wmap.signposts
        if has_request(s)
    ]


# --- reading back ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestFollowUp:
    """What a ServiceRequest of ours says about its sign-post."""

    steps: tuple[tuple[SignpostStatus, date, str | None], ...]
    """The dated steps (status, date, reason), oldest first."""
    status: SignpostStatus | None
    since: date | None
    due: date | None


def _coded(part: Mapping[str, Any]) -> SignpostStatus | None:
    code = part.get("valueCoding", {})
    if code.get("system") == CODESYSTEM_URL and code.get("code") in _CODES:
        return SignpostStatus(code["code"])
    return None


def _day(part: Mapping[str, Any]) -> date | None:
    value = part.get("valueDate")
    return date.fromisoformat(value) if isinstance(value, str) else None


def request_follow_up(request: Mapping[str, Any]) -> RequestFollowUp:
    """The dated steps and where the sign-post stands, from one of our ServiceRequests."""
    found: list[tuple[SignpostStatus, date, str | None]] = []
    status = since = due = None
    for ext in request.get("extension", []):
        parts = {p.get("url"): p for p in ext.get("extension", [])}
        if ext.get("url") == FOLLOW_UP_URL:
            status = _coded(parts.get("status", {}))
            since, due = _day(parts.get("since", {})), _day(parts.get("due", {}))
        elif ext.get("url") == HISTORY_URL:
            step, when = _coded(parts.get("status", {})), _day(parts.get("date", {}))
            if step is not None and when is not None:
                found.append((step, when, parts.get("reason", {}).get("valueString")))
    return RequestFollowUp(tuple(found), status, since, due)


def with_requests(wmap: WellbeingMap, requests: Sequence[Mapping[str, Any]]) -> WellbeingMap:
    """The map with the dated steps its sign-posts' ServiceRequests hold, as of the map's date.

    A step dated after the map belongs to a later map; the follow-up date belongs to the status
    the request is at, so it is set only where the map's sign-post has that status.
    """
    system = identifier_system(IdentifierKind.SIGNPOST)
    by_value = {str(i.get("value")): r for r in requests for i in r.get("identifier", []) if i.get("system") == system}
    signposts = []
    for s in wmap.signposts:
        request = by_value.get(signpost_key(wmap, s).value)
        if request is None:
            signposts.append(s)
            continue
        known = request_follow_up(request)
        dates: dict[str, Any] = {f"{status.value}_on": day for status, day, _ in known.steps if day <= wmap.date}
        if known.due is not None and known.status is s.status:
            dates["follow_up"] = known.due
        signposts.append(dataclasses.replace(s, **dates))
    return dataclasses.replace(wmap, signposts=tuple(signposts))
