"""Draft a first map from what the care record already knows.

Family and carers come from ``RelatedPerson`` (relationship -> category), practitioners from the
participants of the person's ``CareTeam``s (``Practitioner``/``PractitionerRole`` -> practitioner
connections carrying ``fhir_id``). Every prefilled connection is ``confirmed: false``: the person
places it (ring, impact) and confirms it in the conversation. The draft goes through the map
file's checks before it is returned, so it always validates.

:func:`draft_map` is pure (resources in, map out); :func:`prefill` reads the record through any
object with ``search_all(type, params)`` and ``read(type, id)``: :class:`RecordReader` here, a
small requests-based reader with timeouts and TLS verification, to be swapped for the sync
client's ``FhirClient`` (same two methods).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Any, Protocol

import requests

from wb_fhir.errors import InputError, ServerError
from wb_fhir.mapfile import map_from_data, map_to_data, nhs_number_valid
from wb_fhir.model import Connection, Subject, WellbeingMap
from wb_fhir.terminology import NHS_NUMBER_SYSTEM, Category, Impact, Kind

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


class RecordSource(Protocol):
    """What prefill needs from a FHIR server."""

    def search_all(self, resource_type: str, params: Mapping[str, str]) -> Iterable[JSON]: ...

    def read(self, resource_type: str, resource_id: str) -> JSON: ...


class RecordReader:
    """A minimal read-only FHIR reader (timeouts, TLS verified, paging by ``next`` links)."""

    def __init__(self, base_url: str, session: requests.Session | None = None, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.timeout = timeout

    def _get(self, url: str, params: Mapping[str, str] | None = None) -> JSON:
        try:
            r = self.session.get(
                url, params=params, timeout=self.timeout, headers={"Accept": "application/fhir+json"}, verify=True
            )
        except requests.RequestException as exc:
            raise ServerError(f"cannot reach the FHIR server: {type(exc).__name__}") from None
        if r.status_code >= 400:
            raise ServerError(f"the FHIR server answered {r.status_code} to a GET", status=r.status_code)
        try:
            data: JSON = r.json()
        except ValueError:
            raise ServerError("the FHIR server did not answer with JSON", status=r.status_code) from None
        return data

    def search_all(self, resource_type: str, params: Mapping[str, str]) -> Iterator[JSON]:
        url: str | None = f"{self.base_url}/{resource_type}"
        query: Mapping[str, str] | None = params
        while url:
            bundle = self._get(url, query)
            for entry in bundle.get("entry", []):
                if entry.get("search", {}).get("mode", "match") == "match" and "resource" in entry:
                    yield entry["resource"]
            url = next((link["url"] for link in bundle.get("link", []) if link.get("relation") == "next"), None)
            query = None

    def read(self, resource_type: str, resource_id: str) -> JSON:
        return self._get(f"{self.base_url}/{resource_type}/{resource_id}")


def _name(resource: JSON) -> str | None:
    for name in resource.get("name", []):
        if name.get("text"):
            return str(name["text"])
        parts = [*name.get("given", []), name.get("family", "")]
        text = " ".join(p for p in parts if p)
        if text:
            return text
    return None


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


def draft_map(
    subject: Subject,
    on: date,
    related: Iterable[JSON],
    practitioners: Iterable[tuple[str, str]],
) -> WellbeingMap:
    """A draft map: ``related`` RelatedPerson resources, ``practitioners`` (reference, label) pairs."""
    taken: set[str] = set()
    seen: set[str] = set()
    connections: list[Connection] = []
    for r in related:
        ref = f"RelatedPerson/{r['id']}"
        if ref in seen or r.get("active") is False:
            continue
        seen.add(ref)
        label = _name(r) or _relationship_text(r) or "Family member or carer"
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
        if ref in seen:
            continue
        seen.add(ref)
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
    draft = WellbeingMap(
        subject=subject,
        date=on,
        connections=tuple(connections),
        reflections="Draft from the care record: confirm, place and rate each connection with the person.",
    )
    # Whatever the record held, the draft must be a valid map file.
    return map_from_data(map_to_data(draft), source="draft from the care record")


def _practitioner_label(source: RecordSource, member: JSON, role_text: str | None) -> str:
    if member.get("display"):
        label = str(member["display"])
    else:
        kind, _, rid = str(member["reference"]).partition("/")
        resource = source.read(kind, rid)
        if kind == "PractitionerRole":
            label = str(resource.get("practitioner", {}).get("display") or "")
            codes = _codes(resource.get("code", []))
            role_text = role_text or next((shown for _, shown in codes if shown), None)
            practitioner_ref = resource.get("practitioner", {}).get("reference")
            if not label and practitioner_ref:
                pkind, _, pid = str(practitioner_ref).partition("/")
                label = _name(source.read(pkind, pid)) or ""
        else:
            label = _name(resource) or ""
    label = label or "Practitioner"
    return f"{label} ({role_text})" if role_text and role_text.casefold() not in label.casefold() else label


def prefill(source: RecordSource, nhs_number: str, on: date) -> WellbeingMap:
    """Draft the first map of the person with this NHS number from the record."""
    if not nhs_number_valid(nhs_number):
        raise InputError(f"--patient: {nhs_number!r} is not a valid NHS number (ten digits, check digit)")
    patients = list(source.search_all("Patient", {"identifier": f"{NHS_NUMBER_SYSTEM}|{nhs_number}"}))
    if not patients:
        raise InputError("--patient: the server has no Patient with this NHS number")
    if len(patients) > 1:
        raise InputError("--patient: the server has more than one Patient with this NHS number")
    patient = patients[0]
    reference = f"Patient/{patient['id']}"
    subject = Subject(nhs_number=nhs_number, fhir_id=reference, display=_name(patient))
    related = list(source.search_all("RelatedPerson", {"patient": reference}))
    members: list[tuple[str, str]] = []
    for team in source.search_all("CareTeam", {"patient": reference}):
        if team.get("status") in ("inactive", "entered-in-error"):
            continue
        for participant in team.get("participant", []):
            member = participant.get("member", {})
            ref = str(member.get("reference", ""))
            if ref.split("/")[0] not in ("Practitioner", "PractitionerRole"):
                continue
            role = next((shown for _, shown in _codes(participant.get("role", [])) if shown), None)
            role = role or next((str(c["text"]) for c in participant.get("role", []) if c.get("text")), None)
            members.append((ref, _practitioner_label(source, member, role)))
    return draft_map(subject, on, related, members)
