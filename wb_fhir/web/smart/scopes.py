"""The SMART scopes the app asks for, their SMART v1 spelling, and which of them a token lacks (pure).

SMART v2 spells permissions as ``cruds`` letters (``patient/Goal.crus``), v1 as ``read`` and
``write`` (``patient/Goal.read patient/Goal.write``). The app asks for the fewest it needs:
what :func:`wb_fhir.review.prefill` reads (the person, family and carers, care team, the latest
map), what a push writes (conditional updates: create, update, and a search where it guards
against overwriting), the Provenance it records, and the practitioner who launched it (to name
them as the author).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

LAUNCH_EHR = "launch"
LAUNCH_PATIENT = "launch/patient"
IDENTITY = ("openid", "fhirUser")
REFRESH = "online_access"
"""A refresh token while the practitioner is signed in to the EHR (no ``offline_access``)."""

RESOURCE_SCOPES_V2: tuple[str, ...] = (
    "patient/Patient.rs",
    "patient/RelatedPerson.rs",
    "patient/CareTeam.rs",
    "patient/QuestionnaireResponse.crus",
    "patient/Observation.cru",
    "patient/Goal.crus",
    "patient/CarePlan.crus",
    "patient/DocumentReference.cru",
    "patient/ServiceRequest.crus",
    "patient/Provenance.c",
    "user/Practitioner.r",
)
"""What the app does with the record, per resource type (SMART v2)."""

_READ = frozenset("rs")
_WRITE = frozenset("cud")
_V2 = re.compile(r"^(patient|user|system)/(\*|[A-Za-z]+)\.([cruds]+)$")
_V1 = re.compile(r"^(patient|user|system)/(\*|[A-Za-z]+)\.(read|write|\*)$")


@dataclass(frozen=True)
class Permission:
    """One resource scope read as its parts: ``patient/Goal.crus`` -> (patient, Goal, {c,r,u,s})."""

    level: str
    resource: str
    actions: frozenset[str]

    @classmethod
    def parse(cls, scope: str) -> Permission | None:
        """The permission a v2 or v1 scope grants, or None for other scopes (and granular ones)."""
        v2 = _V2.match(scope)
        if v2:
            return cls(v2.group(1), v2.group(2), frozenset(v2.group(3)))
        v1 = _V1.match(scope)
        if v1:
            word = v1.group(3)
            actions = _READ if word == "read" else _WRITE if word == "write" else _READ | _WRITE
            return cls(v1.group(1), v1.group(2), actions)
        return None


def to_v1(scope: str) -> tuple[str, ...]:
    """The SMART v1 scopes that grant what a v2 scope grants (other scopes unchanged)."""
    permission = Permission.parse(scope)
    if permission is None:
        return (scope,)
    base = f"{permission.level}/{permission.resource}"
    words = []
    if permission.actions & _READ:
        words.append(f"{base}.read")
    if permission.actions & _WRITE:
        words.append(f"{base}.write")
    return tuple(words)


def requested(*, ehr_launch: bool, v2: bool, resources: Iterable[str] = RESOURCE_SCOPES_V2) -> tuple[str, ...]:
    """The scopes to ask for: launch context, identity, refresh, then the resource scopes."""
    context = LAUNCH_EHR if ehr_launch else LAUNCH_PATIENT
    wanted: list[str] = [context, *IDENTITY, REFRESH]
    for scope in resources:
        for spelled in (scope,) if v2 else to_v1(scope):
            if spelled not in wanted:
                wanted.append(spelled)
    return tuple(wanted)


def missing(needed: Iterable[str], granted: Iterable[str]) -> tuple[str, ...]:
    """The needed scopes a grant does not cover, in the order needed (empty: all granted).

    A resource scope is covered by any granted scopes that together allow its actions on its
    type (``patient/*.cruds`` covers every patient scope; v1 ``read`` covers ``rs``). Refresh is
    never needed: without it the practitioner launches again when the token expires.
    """
    granted = list(granted)
    plain = set(granted)
    permissions = [p for p in (Permission.parse(s) for s in granted) if p is not None]
    lacking: list[str] = []
    for scope in needed:
        if scope in (REFRESH, "offline_access"):
            continue
        want = Permission.parse(scope)
        if want is None:
            if scope not in plain:
                lacking.append(scope)
            continue
        allowed = frozenset().union(
            *(p.actions for p in permissions if p.level == want.level and p.resource in ("*", want.resource))
        )
        if not want.actions <= allowed:
            lacking.append(scope)
    return tuple(lacking)
