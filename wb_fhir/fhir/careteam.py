"""The people a care record names: a resource's name on one line, and a person's care team.

Pure. The resources a care team member points at (the Practitioner, the PractitionerRole and
its Practitioner) come from ``lookup``, ``"Type/id"`` -> the resource (or None when unknown):
the resources a search ``_include``d (SDC ``$populate``, :mod:`wb_fhir.fhir.populate`), or
reads through a client (``wb-fhir prefill``, :mod:`wb_fhir.review.prefill`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

JSON = dict[str, Any]
Lookup = Callable[[str], JSON | None]
"""``"Type/id"`` -> that resource, or None when it is not known."""

MEMBER_TYPES = ("Practitioner", "PractitionerRole")
"""Care team members that become practitioner connections (not organisations, patients or teams)."""
CLOSED_TEAM = ("inactive", "entered-in-error")
"""CareTeam statuses whose members are left out."""


def name_of(resource: JSON) -> str | None:
    """A Patient's, Practitioner's or RelatedPerson's name as one line (its text, else given and family)."""
    for name in resource.get("name", []):
        if name.get("text"):
            return str(name["text"])
        text = " ".join(p for p in [*name.get("given", []), name.get("family", "")] if p)
        if text:
            return text
    return None


def concept_shown(concepts: Iterable[JSON]) -> str | None:
    """What CodeableConcepts show a reader: the first coding's display, else the concept's text."""
    for concept in concepts:
        for coding in concept.get("coding", []):
            if coding.get("display"):
                return str(coding["display"])
        if concept.get("text"):
            return str(concept["text"])
    return None


def local_reference(reference: str) -> str:
    """``Type/id`` of a reference, without the server's base URL or a ``/_history/n`` version."""
    return "/".join(reference.split("/_history/")[0].split("/")[-2:])


def care_team_members(teams: Iterable[JSON], lookup: Lookup) -> list[tuple[str, str]]:
    """(``Type/id``, label) of each practitioner of the open ``teams``, in their order.

    The label is the member's display, else the practitioner's name; with the participant's role
    (else the PractitionerRole's code) after it, unless the name says it already.
    """
    members: list[tuple[str, str]] = []
    for team in teams:
        if team.get("status") in CLOSED_TEAM:
            continue
        for participant in team.get("participant", []):
            member = participant.get("member", {})
            ref = local_reference(str(member.get("reference", "")))
            if ref.split("/")[0] not in MEMBER_TYPES:
                continue
            members.append((ref, _label(member, ref, concept_shown(participant.get("role", [])), lookup)))
    return members


def _label(member: JSON, ref: str, role: str | None, lookup: Lookup) -> str:
    label = str(member.get("display") or "")
    if not label:
        resource = lookup(ref) or {}
        if ref.startswith("PractitionerRole/"):
            practitioner = resource.get("practitioner", {})
            role = role or concept_shown(resource.get("code", []))
            label = str(practitioner.get("display") or "")
            if not label and practitioner.get("reference"):
                label = name_of(lookup(local_reference(str(practitioner["reference"]))) or {}) or ""
        else:
            label = name_of(resource) or ""
    label = label or "Practitioner"
    return f"{label} ({role})" if role and role.casefold() not in label.casefold() else label
