"""Identifiers, search tokens and searches; business identifiers of every resource of a map; references.

The one place that builds an Identifier or a ``system|value`` search token (:class:`Token`) and
a search (:class:`Search`, a small immutable value: each refinement returns a new one, as
fhir-py's SearchSet). Every resource wb_fhir writes has a business identifier (system under the
project canonical, value a stable UUID: :class:`Key`). Inside a transaction Bundle a resource is
addressed as ``urn:uuid:<identifier value>``; outside one, as a logical reference by identifier,
so the same mapping code serves both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Union
from urllib.parse import quote

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


@dataclass(frozen=True, order=True)
class Token:
    """An identifier (or a coding) as FHIR searches for it: ``system|value``."""

    system: str
    value: str

    def __str__(self) -> str:
        return f"{self.system}|{self.value}"

    def identifier(self) -> JSON:
        """The Identifier element."""
        return {"system": self.system, "value": self.value}

    @classmethod
    def of(cls, identifier: Mapping[str, Any]) -> Token | None:
        """The token of an Identifier element (None unless it has both a system and a value)."""
        system, value = identifier.get("system"), identifier.get("value")
        return cls(str(system), str(value)) if system and value else None

    @classmethod
    def parse(cls, text: str) -> Token | None:
        """A token from its ``system|value`` text (None without both parts)."""
        system, bar, value = text.rpartition("|")
        return cls(system, value) if bar and system and value else None


def nhs_number_token(nhs_number: str) -> Token:
    """The token of a person's NHS number."""
    return Token(NHS_NUMBER_SYSTEM, nhs_number)


ParamValue = Union[str, int, Token, "Key", Sequence[Union[str, Token, "Key"]]]
"""A search parameter's value; a sequence is one parameter whose values are OR-ed (``a,b``)."""


@dataclass(frozen=True)
class Search:
    """A FHIR search: a resource type and its parameters (AND-ed), immutable.

    ``Search("Goal").where(subject="Patient/1").count(50)`` is a new Search at each step;
    ``.url`` is its conditional-reference form, ``.params`` what a client sends.
    """

    resource_type: str
    params: tuple[tuple[str, str], ...] = ()

    def where(self, **params: ParamValue) -> Search:
        """More parameters, by name (``identifier=token``); see :meth:`param` for other names."""
        out = self
        for name, value in params.items():
            out = out.param(name, value)
        return out

    def param(self, name: str, value: ParamValue) -> Search:
        """One more parameter, with any name (``subject:Patient.identifier``, ``_has:...``)."""
        return Search(self.resource_type, (*self.params, (name, _param_text(value))))

    def sort(self, *keys: str) -> Search:
        """Sorted by these parameters (``-date``: newest first)."""
        return self.param("_sort", ",".join(keys))

    def count(self, n: int) -> Search:
        """At most ``n`` resources a page."""
        return self.param("_count", str(n))

    def elements(self, *names: str) -> Search:
        """Only these elements of each resource (the server marks them SUBSETTED)."""
        return self.param("_elements", ",".join(names))

    @property
    def url(self) -> str:
        """``Type?name=value&...``: the search as a relative URL (a conditional reference or update)."""
        query = "&".join(f"{name}={_url_value(value)}" for name, value in self.params)
        return f"{self.resource_type}?{query}" if query else self.resource_type


_URL_SAFE = ":/|,.-_"
_NEEDS_NO_QUOTING = re.compile(r"[A-Za-z0-9:/|,.\-_~]*")


def _url_value(value: str) -> str:
    """A parameter value as it goes in a URL (most are identifiers that need no quoting)."""
    return value if _NEEDS_NO_QUOTING.fullmatch(value) else quote(value, safe=_URL_SAFE)


def _param_text(value: ParamValue) -> str:
    if isinstance(value, Key):
        return str(value.token)
    if isinstance(value, str | int | Token):
        return str(value)
    return ",".join(_param_text(v) for v in value)


@dataclass(frozen=True)
class Key:
    """The business identity of one resource: its type, identifier system and value."""

    resource_type: str
    kind: IdentifierKind
    value: str

    @property
    def system(self) -> str:
        return _SYSTEMS[self.kind]

    @property
    def token(self) -> Token:
        """The identifier as a search token."""
        return Token(self.system, self.value)

    def identifier(self) -> JSON:
        return {"system": _SYSTEMS[self.kind], "value": self.value}

    @property
    def full_url(self) -> str:
        return f"urn:uuid:{self.value}"

    @property
    def search(self) -> Search:
        """The search that finds this resource by its identifier."""
        return Search(self.resource_type).where(identifier=self.token)

    @property
    def conditional_url(self) -> str:
        """The search that finds this resource: ``Type?identifier=system|value`` (:attr:`search` as a URL)."""
        return f"{self.resource_type}?identifier={_url_value(f'{_SYSTEMS[self.kind]}|{self.value}')}"


_SYSTEMS = {kind: identifier_system(kind) for kind in IdentifierKind}


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
    return subject_care_plan_key(wmap.subject)


def subject_care_plan_key(subject: Subject) -> Key:
    """The person's one wellbeing CarePlan (the same across all their maps)."""
    return Key("CarePlan", IdentifierKind.CARE_PLAN, stable_uuid(subject.key, "care-plan"))


def document_key(wmap: WellbeingMap) -> Key:
    return Key("DocumentReference", IdentifierKind.DOCUMENT, stable_uuid(wmap.id, "document"))


def review_document_key(newest: WellbeingMap) -> Key:
    """The DocumentReference of a review summary (one per review, its newest map).

    Not the map's own document (:func:`document_key`): the map's pictures and the review
    summary are two documents of the record.
    """
    return Key("DocumentReference", IdentifierKind.DOCUMENT, stable_uuid(newest.id, "review-summary"))


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
        elif self.in_bundle and subject.nhs_number:
            out["reference"] = _patient_by_nhs_number(subject.nhs_number)
        if subject.nhs_number and (subject.fhir_id or not self.in_bundle):
            out["identifier"] = {"system": NHS_NUMBER_SYSTEM, "value": subject.nhs_number}
        if subject.display:
            out["display"] = subject.display
        if "reference" not in out:
            out["type"] = "Patient"
        return out


@lru_cache(maxsize=256)
def _patient_by_nhs_number(nhs_number: str) -> str:
    # every resource of a map names the person: the search URL once, not once per resource
    return Search("Patient").where(identifier=nhs_number_token(nhs_number)).url


def practitioner_ref(p: Practitioner) -> JSON:
    """A practitioner: a reference when the record knows them, else their name."""
    return {"reference": p.fhir_id, "display": p.display} if p.fhir_id else {"display": p.display}


def coding(value: Any, system: str = CODESYSTEM_URL) -> JSON:
    """The Coding of one of the project's codes (a terminology StrEnum member)."""
    code = value._value_
    return {"system": system, "code": code, "display": _display(value, code)}


def concept(value: Any) -> JSON:
    code = value._value_
    return {"coding": [{"system": CODESYSTEM_URL, "code": code, "display": _display(value, code)}]}


_DISPLAYS: dict[type, dict[str, str]] = {}
"""Display by code, per enum: learnt on first use (a Bundle has thousands of Codings, of few codes)."""


def _display(value: Any, code: str) -> str:
    try:
        return _DISPLAYS[value.__class__][code]
    except KeyError:
        return _DISPLAYS.setdefault(value.__class__, {}).setdefault(code, display(value))


def meta(profile: str, resource_type: str) -> JSON:
    """Our profile first, then the UK Core profile it derives from (where UK Core has one)."""
    return {"profile": list(_profiles(profile, resource_type))}


@lru_cache(maxsize=256)
def _profiles(profile: str, resource_type: str) -> tuple[str, ...]:
    # the same few URLs on every resource: made once
    ours = structure_definition_url(profile)
    return (ours, UK_CORE_PROFILES[resource_type]) if resource_type in UK_CORE_PROFILES else (ours,)


def extension_url(name: str) -> str:
    return structure_definition_url(name)
