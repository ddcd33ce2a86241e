"""SMART App Launch scopes as the test authorization server reads them (v2 ``cruds``, v1 ``read|write``)."""

from __future__ import annotations

import re

CONTEXT_SCOPES = frozenset(
    {"openid", "fhirUser", "profile", "launch", "launch/patient", "launch/encounter", "offline_access", "online_access"}
)
V2 = re.compile(r"^(patient|user|system)/(\*|[A-Z][A-Za-z]+)\.(c?r?u?d?s?)(\?.*)?$")
V1 = re.compile(r"^(patient|user|system)/(\*|[A-Z][A-Za-z]+)\.(read|write|\*)$")


def version_of(scope: str) -> str | None:
    """``v2`` or ``v1`` for a resource scope, ``context`` for the others, None if not a SMART scope."""
    if scope in CONTEXT_SCOPES:
        return "context"
    v2 = V2.match(scope)
    if v2 and v2.group(3):
        return "v2"
    if V1.match(scope):
        return "v1"
    return None


def unsupported(scopes: list[str], versions: tuple[str, ...]) -> list[str]:
    """The scopes this server does not grant when it speaks the given scope versions."""
    return [s for s in scopes if version_of(s) not in (*versions, "context")]
