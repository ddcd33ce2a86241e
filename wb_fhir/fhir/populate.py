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

:func:`populate_from_server` reads those resources (and the latest map) from a FHIR server
through :class:`~wb_fhir.sync.client.FhirClient`, as ``wb-fhir prefill`` does, and populates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from wb_fhir.errors import InputError, Problem
from wb_fhir.fhir.careteam import MEMBER_TYPES, care_team_members, name_of
from wb_fhir.fhir.questionnaire_response import questionnaire_response
from wb_fhir.fhir.references import Search
from wb_fhir.model import Subject, WellbeingMap
from wb_fhir.terminology import NHS_NUMBER_SYSTEM, QUESTIONNAIRE_URL, QUESTIONNAIRE_VERSION

if TYPE_CHECKING:  # the sync layer builds on this package: imported for types only
    from wb_fhir.sync.client import FhirClient

JSON = dict[str, Any]


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
    return _response(_draft(questionnaire, patient, related_persons, care_team, latest_map, on or date.today()))


def _response(draft: WellbeingMap) -> JSON:
    response = questionnaire_response(draft)
    response["status"] = "in-progress"
    # Not yet the map record the profile describes (completed, confirmed with the person): it
    # declares no profile, and a server checks it against the Questionnaire alone.
    del response["meta"]
    return response


def _draft(
    questionnaire: Any,
    patient: Any,
    related_persons: Iterable[Any],
    care_team: Iterable[Any],
    latest_map: WellbeingMap | None,
    when: date,
) -> WellbeingMap:
    # review builds on fhir (prefill extracts maps with wb_fhir.fhir): imported here, not at the top
    from wb_fhir.review.compare import same_person
    from wb_fhir.review.prefill import add_from_record, draft_map

    _check_questionnaire(questionnaire)
    subject = _subject(patient)
    reference = f"Patient/{patient['id']}"
    related = _related(related_persons, reference)
    members = _members(care_team, reference)
    if latest_map is None:
        return draft_map(subject, when, related, members)
    if not same_person(latest_map.subject, subject):
        raise InputError([Problem("latest_map.subject", "is not the patient")])
    if when <= latest_map.date:
        raise InputError(
            [Problem("date", f"{when} is not after the latest map in the record ({latest_map.date})")], setting="date"
        )
    return add_from_record(latest_map, subject, when, related, members)


@dataclass(frozen=True)
class Populated:
    """A populated response, the date of the map it started from (if any), how many of the record's
    people it added, and what in the latest map's response could not be read (with its place)."""

    response: JSON
    started_from: date | None
    added: int
    warnings: tuple[str, ...] = ()


def populate_from_server(client: FhirClient, nhs_number: str, on: date, questionnaire: Any | None = None) -> Populated:
    """:func:`populate` for the person with this NHS number, from what the server holds.

    Reads the Patient, their RelatedPersons, their CareTeams with the participants (and the
    Practitioner of each PractitionerRole), and their newest map (a QuestionnaireResponse of the
    wellbeing Questionnaire). ``questionnaire`` defaults to the one wb_fhir ships.
    """
    from wb_fhir.conformance.questionnaire import build_questionnaire
    from wb_fhir.review.prefill import latest_response

    patient = client.patient(nhs_number)
    reference = f"Patient/{patient['id']}"
    related = list(client.search_all(Search("RelatedPerson").where(patient=reference)))
    teams = (
        Search("CareTeam")
        .where(patient=reference)
        .param("_include", "CareTeam:participant")
        .param("_include:iterate", "PractitionerRole:practitioner")
    )
    team = [entry["resource"] for page in client.pages(teams) for entry in page.get("entry", []) if _team_entry(entry)]
    responses = client.search_all(
        Search("QuestionnaireResponse").where(subject=reference, questionnaire=QUESTIONNAIRE_URL).count(50)
    )
    latest = latest_response(responses)
    latest_map: WellbeingMap | None = None
    warnings: tuple[str, ...] = ()
    if latest is not None:
        # Here, not at the top: ``populate`` is bound when wb_fhir.fhir loads (the name is its
        # module's), and building a Bundle must not load map extraction.
        from wb_fhir.fhir.extract import extract_map

        where = f"QuestionnaireResponse/{latest.get('id')}"
        extracted = extract_map(latest, source=where)
        latest_map, warnings = extracted.map, tuple(f"{where}: {w}" for w in extracted.warnings)
    draft = _draft(questionnaire or build_questionnaire(), patient, related, team, latest_map, on)
    added = len(draft.connections) - (len(latest_map.connections) if latest_map else 0)
    return Populated(_response(draft), latest_map.date if latest_map else None, added, warnings)


def _team_entry(entry: JSON) -> bool:
    """A CareTeam the search found, or a practitioner it names (not the organisations, patients or
    other teams a participant may also be)."""
    resource = entry.get("resource")
    kind = resource.get("resourceType") if isinstance(resource, dict) else None
    if entry.get("search", {}).get("mode", "match") == "match":
        return kind == "CareTeam"
    return kind in MEMBER_TYPES


def _check_questionnaire(questionnaire: Any) -> None:
    if not isinstance(questionnaire, dict) or questionnaire.get("resourceType") != "Questionnaire":
        raise InputError([Problem("questionnaire", "expected a Questionnaire")])
    if questionnaire.get("url") != QUESTIONNAIRE_URL:
        raise InputError([Problem("questionnaire.url", f"is not {QUESTIONNAIRE_URL}: another Questionnaire")])
    version = questionnaire.get("version")
    if version is not None and version != QUESTIONNAIRE_VERSION:
        raise InputError([Problem("questionnaire.version", f"{version!r}: this wb_fhir fills {QUESTIONNAIRE_VERSION}")])


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
    return Subject(nhs_number=nhs, fhir_id=f"Patient/{patient['id']}", display=name_of(patient))


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
        elif kind in MEMBER_TYPES and r.get("id"):
            named[f"{kind}/{r['id']}"] = r
        else:
            raise InputError([Problem(f"care_team[{n}]", "expected a CareTeam, Practitioner or PractitionerRole")])
    return care_team_members(teams, named.get)
