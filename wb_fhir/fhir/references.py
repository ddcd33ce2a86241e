"""Business identifiers of every resource of a map, and how resources point at each other.

Every resource wb_fhir writes has a business identifier (system under the project canonical,
value a stable UUID). Inside a transaction Bundle a resource is addressed as
``urn:uuid:<identifier value>``; outside one, as a logical reference by identifier, so the
same mapping code serves both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wb_fhir.model import Connection, Goal, Practitioner, Subject, Tie, WellbeingMap, stable_uuid
from wb_fhir.terminology import (
    CODESYSTEM_URL,
    NHS_NUMBER_SYSTEM,
    UK_CORE_PROFILES,
    IdentifierKind,
    display,
    identifier_system,
    structure_definition_url,
)

JSON = dict[str, Any]


@dataclass(frozen=True)
class Key:
    """The business identity of one resource: its type, identifier system and value."""

    resource_type: str
    kind: IdentifierKind
    value: str

    @property
    def system(self) -> str:
        return identifier_system(self.kind)

    def identifier(self) -> JSON:
        return {"system": self.system, "value": self.value}

    @property
    def full_url(self) -> str:
        return f"urn:uuid:{self.value}"

    @property
    def conditional_url(self) -> str:
        """The search that finds this resource: ``Type?identifier=system|value``."""
        return f"{self.resource_type}?identifier={self.system}|{self.value}"


# --- the keys of one map's resources -------------------------------------------------------


def questionnaire_response_key(wmap: WellbeingMap) -> Key:
    return Key("QuestionnaireResponse", IdentifierKind.MAP, wmap.id)


def connection_key(wmap: WellbeingMap, c: Connection) -> Key:
    return Key("Observation", IdentifierKind.OBSERVATION, stable_uuid(wmap.id, "connection", c.id))


def connection_series_key(wmap: WellbeingMap, connection_id: str) -> Key:
    """The identifier shared by a connection's Observations across reviews."""
    return Key("Observation", IdentifierKind.CONNECTION, stable_uuid(wmap.subject.key, "connection", connection_id))


def tie_key(wmap: WellbeingMap, t: Tie) -> Key:
    return Key("Observation", IdentifierKind.OBSERVATION, stable_uuid(wmap.id, "tie", t.id))


def summary_key(wmap: WellbeingMap) -> Key:
    return Key("Observation", IdentifierKind.OBSERVATION, stable_uuid(wmap.id, "network-summary"))


def time_at_home_key(wmap: WellbeingMap) -> Key:
    return Key("Observation", IdentifierKind.OBSERVATION, stable_uuid(wmap.id, "time-at-home"))


def goal_key(wmap: WellbeingMap, g: Goal) -> Key:
    return Key("Goal", IdentifierKind.GOAL, stable_uuid(wmap.subject.key, "goal", g.id))


def care_plan_key(wmap: WellbeingMap) -> Key:
    return Key("CarePlan", IdentifierKind.CARE_PLAN, stable_uuid(wmap.subject.key, "care-plan"))


def document_key(wmap: WellbeingMap) -> Key:
    return Key("DocumentReference", IdentifierKind.DOCUMENT, stable_uuid(wmap.id, "document"))


def provenance_key(wmap: WellbeingMap) -> Key:
    """Provenance has no identifier element in R4: this value goes in ``meta.tag``."""
    return Key("Provenance", IdentifierKind.PROVENANCE, stable_uuid(wmap.id, "provenance"))


# --- references ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Linker:
    """How resources point at each other: inside a transaction Bundle or not."""

    in_bundle: bool = False

    def ref(self, key: Key, text: str | None = None) -> JSON:
        """A reference to one of the map's own resources."""
        out: JSON = (
            {"reference": key.full_url}
            if self.in_bundle
            else {"type": key.resource_type, "identifier": key.identifier()}
        )
        if text:
            out["display"] = text
        return out

    def subject(self, subject: Subject) -> JSON:
        """The Patient, by id or by NHS number; never a Patient to create."""
        out: JSON = {}
        if subject.fhir_id:
            out["reference"] = subject.fhir_id
        elif self.in_bundle:
            out["reference"] = f"Patient?identifier={NHS_NUMBER_SYSTEM}|{subject.nhs_number}"
        if subject.nhs_number and (subject.fhir_id or not self.in_bundle):
            out["identifier"] = {"system": NHS_NUMBER_SYSTEM, "value": subject.nhs_number}
        if subject.display:
            out["display"] = subject.display
        if "reference" not in out:
            out["type"] = "Patient"
        return out


def practitioner_ref(p: Practitioner) -> JSON:
    """A practitioner: a reference when the record knows them, else their name."""
    return {"reference": p.fhir_id, "display": p.display} if p.fhir_id else {"display": p.display}


def coding(value: Any, system: str = CODESYSTEM_URL) -> JSON:
    """The Coding of one of the project's codes (a terminology StrEnum member)."""
    return {"system": system, "code": value.value, "display": display(value)}


def concept(value: Any) -> JSON:
    return {"coding": [coding(value)]}


def meta(profile: str, resource_type: str) -> JSON:
    """Our profile first, then the UK Core profile it derives from (where UK Core has one)."""
    profiles = [structure_definition_url(profile)]
    if resource_type in UK_CORE_PROFILES:
        profiles.append(UK_CORE_PROFILES[resource_type])
    return {"profile": profiles}


def extension_url(name: str) -> str:
    return structure_definition_url(name)
