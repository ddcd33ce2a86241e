"""SDC ``$populate``: the QuestionnaireResponse a form filler opens, prefilled from the care record.

A filler can prefill single answers from its launch context (the Questionnaire's
``initialExpression``s: the date, the person's NHS number and name), but the known people are
repetitions of the ``connection`` group, and a filler needs SDC ``itemPopulationContext`` for that
(NLM LHC-Forms 40 does not support it). :func:`populate` does what a ``$populate`` operation
returns instead: an ``in-progress`` response holding the person, the date and one unconfirmed
connection for each of the record's people (family and carers from ``RelatedPerson``, the care
team's practitioners from ``CareTeam``), the people ``wb-fhir prefill`` finds. Given the latest
map, it starts from that map carried forward (as a review does) and adds only the people it lacks.
Any filler opens it as a response to continue (LHC-Forms: ``mergeFHIRDataIntoLForms``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from wb_fhir.errors import InputError, Problem
from wb_fhir.fhir.questionnaire_response import questionnaire_response
from wb_fhir.model import Subject, WellbeingMap
from wb_fhir.terminology import NHS_NUMBER_SYSTEM, QUESTIONNAIRE_URL, QUESTIONNAIRE_VERSION

JSON = dict[str, Any]

_MEMBER_TYPES = ("Practitioner", "PractitionerRole")
_CLOSED_TEAM = ("inactive", "entered-in-error")


def populate(
    questionnaire: Any,
    patient: Any,
    related_persons: Iterable[Any] = (),
    care_team: Iterable[Any] = (),
    latest_map: WellbeingMap | None = None,
    *,
    on: date | None = None,
) -> JSON:
    """The response to open in a form filler for ``patient`` on ``on`` (default today).

    ``related_persons`` are the patient's RelatedPerson resources; ``care_team`` their CareTeam
    resources with the Practitioner and PractitionerRole resources these name (what
    ``CareTeam?patient=...&_include=CareTeam:participant`` returns), which give the practitioners'
    names when a participant has no ``display``. A resource about another patient is refused.
    """
    # review builds on fhir (prefill extracts maps with wb_fhir.fhir): imported here, not at the top
    from wb_fhir.review.compare import same_person
    from wb_fhir.review.prefill import add_from_record, draft_map

    _check_questionnaire(questionnaire)
    subject = _subject(patient)
    reference = f"Patient/{patient['id']}"
    related = _related(related_persons, reference)
    members = _members(care_team, reference)
    when = on or date.today()
    if latest_map is None:
        draft = draft_map(subject, when, related, members)
    else:
        if not same_person(latest_map.subject, subject):
            raise InputError([Problem("latest_map.subject", "is not the patient")])
        if when <= latest_map.date:
            raise InputError([Problem("on", f"{when} is not after the latest map ({latest_map.date})")])
        draft = add_from_record(latest_map, subject, when, related, members)
    response = questionnaire_response(draft)
    response["status"] = "in-progress"
    return response


def _check_questionnaire(questionnaire: Any) -> None:
    if not isinstance(questionnaire, dict) or questionnaire.get("resourceType") != "Questionnaire":
        raise InputError([Problem("questionnaire", "expected a Questionnaire")])
    if questionnaire.get("url") != QUESTIONNAIRE_URL:
        raise InputError([Problem("questionnaire.url", f"is not {QUESTIONNAIRE_URL}: another Questionnaire")])
    version = questionnaire.get("version")
    if version is not None and version != QUESTIONNAIRE_VERSION:
        raise InputError([Problem("questionnaire.version", f"{version!r}: this wb_fhir fills {QUESTIONNAIRE_VERSION}")])


def _name(resource: JSON) -> str | None:
    for name in resource.get("name", []):
        if name.get("text"):
            return str(name["text"])
        text = " ".join(p for p in [*name.get("given", []), name.get("family", "")] if p)
        if text:
            return text
    return None


def _subject(patient: Any) -> Subject:
    if not isinstance(patient, dict) or patient.get("resourceType") != "Patient":
        raise InputError([Problem("patient", "expected a Patient resource")])
    if not isinstance(patient.get("id"), str) or not patient["id"]:
        raise InputError([Problem("patient.id", "is missing: the response must name the Patient of the record")])
    nhs = next(
        (
            str(i["value"])
            for i in patient.get("identifier", [])
            if isinstance(i, dict) and i.get("system") == NHS_NUMBER_SYSTEM and i.get("value")
        ),
        None,
    )
    return Subject(nhs_number=nhs, fhir_id=f"Patient/{patient['id']}", display=_name(patient))


def _about(resource: JSON, key: str, reference: str) -> bool:
    named = resource.get(key, {})
    return isinstance(named, dict) and str(named.get("reference", "")).split("/_history/")[0].endswith(reference)


def _related(resources: Iterable[Any], reference: str) -> list[JSON]:
    out: list[JSON] = []
    for n, r in enumerate(resources):
        where = f"related_persons[{n}]"
        if not isinstance(r, dict) or r.get("resourceType") != "RelatedPerson" or not r.get("id"):
            raise InputError([Problem(where, "expected a RelatedPerson resource with an id")])
        if not _about(r, "patient", reference):
            raise InputError([Problem(where, f"is not a RelatedPerson of {reference}")])
        out.append(r)
    return out


def _members(resources: Iterable[Any], reference: str) -> list[tuple[str, str]]:
    """(reference, label) of each practitioner of the patient's open care teams."""
    teams: list[JSON] = []
    named: dict[str, JSON] = {}
    for n, r in enumerate(resources):
        kind = r.get("resourceType") if isinstance(r, dict) else None
        if kind == "CareTeam":
            if not _about(r, "subject", reference):
                raise InputError([Problem(f"care_team[{n}]", f"is not a CareTeam of {reference}")])
            teams.append(r)
        elif kind in _MEMBER_TYPES and r.get("id"):
            named[f"{kind}/{r['id']}"] = r
        else:
            raise InputError([Problem(f"care_team[{n}]", "expected a CareTeam, Practitioner or PractitionerRole")])
    members: list[tuple[str, str]] = []
    for team in teams:
        if team.get("status") in _CLOSED_TEAM:
            continue
        for participant in team.get("participant", []):
            member = participant.get("member", {})
            ref = "/".join(str(member.get("reference", "")).split("/_history/")[0].split("/")[-2:])
            if ref.split("/")[0] not in _MEMBER_TYPES:
                continue
            role = _shown(participant.get("role", []))
            members.append((ref, _label(member, named, ref, role)))
    return members


def _shown(concepts: list[JSON]) -> str | None:
    for concept in concepts:
        for c in concept.get("coding", []):
            if c.get("display"):
                return str(c["display"])
        if concept.get("text"):
            return str(concept["text"])
    return None


def _label(member: JSON, named: dict[str, JSON], ref: str, role: str | None) -> str:
    label = str(member.get("display") or "")
    resource = named.get(ref, {})
    if not label and ref.startswith("PractitionerRole/"):
        practitioner = resource.get("practitioner", {})
        role = role or _shown(resource.get("code", []))
        label = str(practitioner.get("display") or "")
        if not label:
            label = _name(named.get(str(practitioner.get("reference", "")), {})) or ""
    elif not label:
        label = _name(resource) or ""
    label = label or "Practitioner"
    return f"{label} ({role})" if role and role.casefold() not in label.casefold() else label
