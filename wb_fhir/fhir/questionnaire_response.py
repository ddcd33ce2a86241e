"""The map as a QuestionnaireResponse of ``wellbeing-network-mapping``: the source of truth.

Every field of the map is an answer, in Questionnaire order, so a map round-trips through
the QuestionnaireResponse alone (:mod:`wb_fhir.fhir.extract` reads it back).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from wb_fhir.fhir.items import SIGNPOST_STEP_LINK_ID
from wb_fhir.fhir.references import JSON, Linker, coding, meta, practitioner_ref, questionnaire_response_key
from wb_fhir.model import Connection, Goal, Milestone, Signpost, Tie, WellbeingMap
from wb_fhir.terminology import (
    CATEGORY_LINK_ID,
    QUESTIONNAIRE_URL,
    QUESTIONNAIRE_VERSION,
    LinkId,
    Profile,
)


def questionnaire_response(wmap: WellbeingMap, linker: Linker | None = None) -> JSON:
    """The QuestionnaireResponse of a map (status completed, authored on the map's date)."""
    linker = linker or Linker()
    key = questionnaire_response_key(wmap)
    qr: JSON = {
        "resourceType": "QuestionnaireResponse",
        "meta": meta(Profile.QUESTIONNAIRE_RESPONSE, "QuestionnaireResponse"),
        "identifier": key.identifier(),
        "questionnaire": f"{QUESTIONNAIRE_URL}|{QUESTIONNAIRE_VERSION}",
        "status": "completed",
        "subject": linker.subject(wmap.subject),
        "authored": wmap.date.isoformat(),
    }
    if wmap.practitioners:
        qr["author"] = practitioner_ref(wmap.practitioners[0])
    qr["item"] = _items(wmap)
    return qr


def _answer(value: Any) -> JSON:
    # Order matters: a code is also a str, a bool also an int.
    if isinstance(value, StrEnum):
        return {"valueCoding": coding(value)}
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, date):
        return {"valueDate": value.isoformat()}
    if isinstance(value, str):
        return {"valueString": value}
    return {"valueReference": value}


def _question(link: LinkId, *values: Any) -> list[JSON]:
    """The item for one question, or nothing when it has no answer."""
    answers = [_answer(v) for v in values if v is not None]
    return [{"linkId": link.value, "answer": answers}] if answers else []


def _group(link: LinkId, children: list[JSON]) -> JSON:
    return {"linkId": link.value, "item": children}


def _items(wmap: WellbeingMap) -> list[JSON]:
    items = _question(LinkId.DATE, wmap.date)
    person = _question(LinkId.SUBJECT_NHS_NUMBER, wmap.subject.nhs_number)
    person += _question(LinkId.SUBJECT_NAME, wmap.subject.display)
    person += _question(LinkId.SUBJECT_REFERENCE, wmap.subject.fhir_id)
    if person:
        # the person again as answers: a form filler that drops the response's subject keeps them
        items.append(_group(LinkId.SUBJECT, person))
    for p in wmap.practitioners:
        items.append(
            _group(
                LinkId.PRACTITIONER,
                _question(LinkId.PRACTITIONER_NAME, p.display)
                + _question(LinkId.PRACTITIONER_ROLE, p.role)
                + _question(LinkId.PRACTITIONER_REF, p.fhir_id),
            )
        )
    items += _question(LinkId.TIME_AT_HOME, wmap.time_at_home)
    items += _question(LinkId.RING_LABEL, *wmap.rings)
    items += [_connection(c) for c in wmap.connections]
    items += [_tie(t) for t in wmap.ties]
    items += [_goal(g) for g in wmap.goals]
    items += [_signpost(s) for s in wmap.signposts]
    items += _question(LinkId.REFLECTIONS, wmap.reflections)
    items += _question(LinkId.NEXT_REVIEW, wmap.next_review)
    return items


def _connection(c: Connection) -> JSON:
    return _group(
        LinkId.CONNECTION,
        _question(LinkId.CONNECTION_ID, c.id)
        + _question(LinkId.CONNECTION_KIND, c.kind)
        + _question(LinkId.CONNECTION_LABEL, c.label)
        + _question(CATEGORY_LINK_ID[c.kind], c.category)
        + _question(LinkId.CONNECTION_RING, c.ring)
        + _question(LinkId.CONNECTION_IMPACT, c.impact)
        + _question(LinkId.CONNECTION_FREQUENCY, c.frequency)
        + _question(LinkId.CONNECTION_STATUS, c.status)
        + _question(LinkId.CONNECTION_DISCLOSURE, c.knows_about_mental_health)
        + _question(LinkId.CONNECTION_ROLES, *c.roles)
        + _question(LinkId.CONNECTION_REF, c.fhir_id)
        + _question(LinkId.CONNECTION_CONFIRMED, c.confirmed)
        + _question(LinkId.CONNECTION_NOTES, c.notes),
    )


def _tie(t: Tie) -> JSON:
    return _group(
        LinkId.TIE,
        _question(LinkId.TIE_FROM, t.from_id) + _question(LinkId.TIE_TO, t.to_id) + _question(LinkId.TIE_TYPE, t.type),
    )


def _goal(g: Goal) -> JSON:
    return _group(
        LinkId.GOAL,
        _question(LinkId.GOAL_ID, g.id)
        + _question(LinkId.GOAL_DESCRIPTION, g.description)
        + _question(LinkId.GOAL_STATUS, g.status)
        + _question(LinkId.GOAL_ABOUT, *g.about)
        + _question(LinkId.GOAL_SUPPORTERS, *g.supporters)
        + _question(LinkId.GOAL_RESOURCES, *g.resources)
        + _question(LinkId.GOAL_BARRIERS, *g.barriers)
        + _question(LinkId.GOAL_TARGET, g.target)
        + _question(LinkId.GOAL_NOTES, *g.notes)
        + [_milestone(m) for m in g.milestones],
    )


def _milestone(m: Milestone) -> JSON:
    return _group(
        LinkId.MILESTONE,
        _question(LinkId.MILESTONE_ID, m.id)
        + _question(LinkId.MILESTONE_DESCRIPTION, m.description)
        + _question(LinkId.MILESTONE_DUE, m.due)
        + _question(LinkId.MILESTONE_DONE, m.done)
        + _question(LinkId.MILESTONE_DONE_ON, m.done_on),
    )


def _signpost(s: Signpost) -> JSON:
    return _group(
        LinkId.SIGNPOST,
        _question(LinkId.SIGNPOST_ASSET, s.asset)
        + _question(LinkId.SIGNPOST_REASON, s.reason)
        + _question(LinkId.SIGNPOST_STATUS, s.status)
        + _question(LinkId.SIGNPOST_NOTE, s.note)
        + _question(LinkId.SIGNPOST_DATE, s.date)
        + [item for step, link in SIGNPOST_STEP_LINK_ID.items() for item in _question(link, s.step_date(step))]
        + _question(LinkId.SIGNPOST_FOLLOW_UP, s.follow_up),
    )
