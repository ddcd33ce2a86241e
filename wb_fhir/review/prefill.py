"""Draft a map from what the care record already knows.

Family and carers come from ``RelatedPerson`` (relationship -> category), practitioners from the
participants of the person's ``CareTeam``s (``Practitioner``/``PractitionerRole`` -> practitioner
connections carrying ``fhir_id``). Every such connection is ``confirmed: false``: the person
places it (ring, impact) and confirms it in the conversation.

When the record already holds a map (a QuestionnaireResponse of the wellbeing Questionnaire),
the newest by ``authored`` is the starting point: it is carried forward as at a review
(:func:`~wb_fhir.review.carry.carry_forward`: same ids, open goals and sign-posts), and only the
record's people it does not already have (matched by ``fhir_id``) are added, unconfirmed. Its
own connections stay as they were: they were confirmed in that conversation.

The draft goes through the map file's checks before it is returned, so it always validates.
:func:`draft_map` and :func:`add_from_record` are pure; :func:`prefill` reads the record through
the sync layer's :class:`~wb_fhir.sync.client.FhirClient` (retries, TLS, auth, errors).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from wb_fhir.errors import InputError, Problem
from wb_fhir.fhir import extract_map
from wb_fhir.fhir.careteam import Lookup, care_team_members, name_of
from wb_fhir.fhir.references import Search
from wb_fhir.mapfile import map_from_data, map_to_data, nhs_number_valid
from wb_fhir.model import Connection, Subject, WellbeingMap
from wb_fhir.review.carry import carry_forward
from wb_fhir.sync.client import FhirClient
from wb_fhir.terminology import NHS_NUMBER_SYSTEM, QUESTIONNAIRE_URL, Category, Impact, Kind

JSON = dict[str, Any]

PREFILL_RING = 2
"""Where prefilled connections start (the middle ring): the person moves them."""

# HL7 v3 RoleCode (and a few FHIR patient-contact codes) -> the map's person categories.
_FAMILY = {
    "FAMMEMB", "CHILD", "CHLDADOPT", "CHLDFOST", "DAUC", "SONC", "DAU", "SON", "NCHILD", "STPCHLD",
    "PRN", "MTH", "FTH", "NMTH", "NFTH", "STPMTH", "STPFTH", "PRNINLAW", "MTHINLAW", "FTHINLAW",
    "SIB", "BRO", "SIS", "NSIB", "HSIB", "STPSIB", "GRPRN", "GRMTH", "GRFTH", "GRNDCHILD", "GRNDDAU",
    "GRNDSON", "AUNT", "UNCLE", "COUSN", "NIECE", "NEPHEW", "NIENEPH", "EXT", "C", "FAMDEP",
}  # fmt: skip
_PARTNER = {"SPS", "HUSB", "WIFE", "DOMPART", "SIGOTHR", "FMRSPS"}
_RELATIONSHIP_CATEGORY: dict[str, Category] = (
    {code: Category.FAMILY for code in _FAMILY}
    | {code: Category.PARTNER for code in _PARTNER}
    | {"FRND": Category.FRIEND, "NBOR": Category.NEIGHBOUR, "ROOM": Category.ACQUAINTANCE}
)


def _codes(concepts: Iterable[JSON]) -> list[tuple[str, str | None]]:
    return [(c["code"], c.get("display")) for concept in concepts for c in concept.get("coding", []) if "code" in c]


def relationship_category(related: JSON) -> Category:
    """The map category of a RelatedPerson, from its relationship codes (else ``other``)."""
    for code, _ in _codes(related.get("relationship", [])):
        if code in _RELATIONSHIP_CATEGORY:
            return _RELATIONSHIP_CATEGORY[code]
    return Category.OTHER


def _relationship_text(related: JSON) -> str | None:
    for concept in related.get("relationship", []):
        if concept.get("text"):
            return str(concept["text"])
        for _, shown in _codes([concept]):
            if shown:
                return shown
    return None


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:40]
    return slug or "connection"


def _unique(base: str, taken: set[str]) -> str:
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    taken.add(candidate)
    return candidate


def _reference_key(reference: str) -> str:
    """``Type/id`` of a reference, whether absolute or versioned (``.../_history/n``)."""
    parts = reference.split("/_history/")[0].rstrip("/").split("/")
    return "/".join(parts[-2:])


def record_connections(
    related: Iterable[JSON],
    practitioners: Iterable[tuple[str, str]],
    *,
    taken_ids: Iterable[str] = (),
    known: Iterable[str] = (),
) -> list[Connection]:
    """Unconfirmed connections for the record's people, skipping the references in ``known``.

    ``related`` are RelatedPerson resources, ``practitioners`` (reference, label) pairs; new ids
    avoid ``taken_ids``.
    """
    taken = set(taken_ids)
    seen = {_reference_key(ref) for ref in known}
    connections: list[Connection] = []
    for r in related:
        ref = f"RelatedPerson/{r['id']}"
        if ref in seen or r.get("active") is False:
            continue
        seen.add(ref)
        label = name_of(r) or _relationship_text(r) or "Family member or carer"
        connections.append(
            Connection(
                id=_unique(_slug(label), taken),
                kind=Kind.PERSON,
                label=label,
                category=relationship_category(r),
                ring=PREFILL_RING,
                impact=Impact.NEUTRAL,
                fhir_id=ref,
                confirmed=False,
                notes=f"From the care record ({_relationship_text(r) or 'related person'}).",
            )
        )
    for ref, label in practitioners:
        if _reference_key(ref) in seen:
            continue
        seen.add(_reference_key(ref))
        connections.append(
            Connection(
                id=_unique(_slug(label), taken),
                kind=Kind.PERSON,
                label=label,
                category=Category.PRACTITIONER,
                ring=PREFILL_RING,
                impact=Impact.NEUTRAL,
                fhir_id=ref,
                confirmed=False,
                notes="From the care team in the care record.",
            )
        )
    return connections


def _checked(wmap: WellbeingMap) -> WellbeingMap:
    # Whatever the record held, the draft must be a valid map file.
    return map_from_data(map_to_data(wmap), source="draft from the care record")


def draft_map(
    subject: Subject,
    on: date,
    related: Iterable[JSON],
    practitioners: Iterable[tuple[str, str]],
) -> WellbeingMap:
    """A first draft map: ``related`` RelatedPerson resources, ``practitioners`` (reference, label) pairs."""
    draft = WellbeingMap(
        subject=subject,
        date=on,
        connections=tuple(record_connections(related, practitioners)),
        reflections="Draft from the care record: confirm, place and rate each connection with the person.",
    )
    return _checked(draft)


def add_from_record(
    latest: WellbeingMap,
    subject: Subject,
    on: date,
    related: Iterable[JSON],
    practitioners: Iterable[tuple[str, str]],
) -> WellbeingMap:
    """``latest`` carried forward to ``on``, plus the record's people it does not have yet (unconfirmed)."""
    if on <= latest.date:
        raise InputError(
            [Problem("date", f"{on} is not after the latest map in the record ({latest.date})")],
            setting="date",
        )
    carried = carry_forward(latest, on).map
    taken = {c.id for c in carried.connections} | {g.id for g in carried.goals}
    known = [c.fhir_id for c in carried.connections if c.fhir_id]
    added = record_connections(related, practitioners, taken_ids=taken, known=known)
    return _checked(replace(carried, subject=subject, connections=carried.connections + tuple(added)))


def _reader(client: FhirClient) -> Lookup:
    """A care team member's resources, each read from the server when its label needs it."""

    def read(reference: str) -> JSON:
        kind, _, rid = reference.partition("/")
        return client.read(kind, rid)

    return read


@dataclass(frozen=True)
class Prefilled:
    """The draft, the date of the map it started from (if any), and what the record left unclear."""

    map: WellbeingMap
    started_from: date | None
    added: int
    warnings: tuple[str, ...] = ()


def _authored(qr: JSON) -> datetime:
    # Newest by ``authored``; a date-only or zone-less value is read as UTC, a missing or
    # unreadable one as the oldest (it cannot be shown to be newer).
    text = str(qr.get("authored", ""))
    try:
        when = datetime.fromisoformat(text) if len(text) > 10 else datetime.fromisoformat(f"{text}T00:00:00")
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def latest_response(responses: Iterable[JSON]) -> JSON | None:
    """The newest QuestionnaireResponse of the wellbeing Questionnaire, whatever the order given."""
    ours = [qr for qr in responses if str(qr.get("questionnaire", "")).split("|")[0] == QUESTIONNAIRE_URL]
    return max(ours, key=lambda qr: (_authored(qr), str(qr.get("meta", {}).get("lastUpdated", ""))), default=None)


def prefill(client: FhirClient, nhs_number: str, on: date) -> Prefilled:
    """Draft the map of the person with this NHS number from the record (and their latest map)."""
    return _prefill(client, client.patient(nhs_number), nhs_number, on)


def nhs_number_of(patient: JSON) -> str | None:
    """The Patient's NHS number (a valid one), if the record holds it."""
    for identifier in patient.get("identifier", []):
        value = str(identifier.get("value", "")).replace(" ", "")
        if identifier.get("system") == NHS_NUMBER_SYSTEM and nhs_number_valid(value):
            return value
    return None


def prefill_patient(client: FhirClient, patient: JSON, on: date) -> Prefilled:
    """Draft the map of a Patient the caller has read already (a SMART launch's patient), as :func:`prefill`.

    The map names the person by NHS number when the Patient holds one, else by its FHIR id only.
    """
    return _prefill(client, patient, nhs_number_of(patient), on)


def _prefill(client: FhirClient, patient: JSON, nhs_number: str | None, on: date) -> Prefilled:
    reference = f"Patient/{patient['id']}"
    related = list(client.search_all(Search("RelatedPerson").where(patient=reference)))
    members = care_team_members(client.search_all(Search("CareTeam").where(patient=reference)), _reader(client))
    responses = client.search_all(
        Search("QuestionnaireResponse").where(subject=reference, questionnaire=QUESTIONNAIRE_URL).count(50)
    )
    latest = latest_response(responses)
    if latest is None:
        draft = draft_map(
            Subject(nhs_number=nhs_number, fhir_id=reference, display=name_of(patient)), on, related, members
        )
        return Prefilled(draft, None, len(draft.connections))
    where = f"QuestionnaireResponse/{latest.get('id')}"
    extracted = extract_map(latest, source=where)
    previous = extracted.map
    # The server holds the resolved reference; the map file is keyed on the NHS number.
    subject = replace(
        previous.subject,
        nhs_number=nhs_number or previous.subject.nhs_number,
        fhir_id=reference,
        display=previous.subject.display or name_of(patient),
    )
    previous = replace(previous, subject=subject)
    draft = add_from_record(previous, subject, on, related, members)
    warnings = tuple(f"{where}: {w}" for w in extracted.warnings)
    return Prefilled(draft, previous.date, len(draft.connections) - len(previous.connections), warnings)
