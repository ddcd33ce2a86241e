"""Small builders shared by the generators: codings, metadata and stable JSON text."""

from __future__ import annotations

import html
import json
from enum import StrEnum
from typing import Any

from wb_fhir.terminology import CODESYSTEM_URL, PACKAGE_VERSION, display

Resource = dict[str, Any]

PUBLISHER = "wb_fhir"
RELEASE_DATE = "2026-11-26"
"""The date of this release of the profiles: fixed, so that regenerating changes nothing."""


def coding(value: StrEnum) -> dict[str, str]:
    """A Coding of one of the project's codes."""
    return {"system": CODESYSTEM_URL, "code": value.value, "display": display(value)}


def pattern(system: str, code: str) -> dict[str, Any]:
    """A CodeableConcept pattern that matches any concept carrying this system and code."""
    return {"coding": [{"system": system, "code": code}]}


def local_pattern(value: StrEnum) -> dict[str, Any]:
    """A CodeableConcept pattern for one of the project's codes."""
    return pattern(CODESYSTEM_URL, value.value)


def narrative(title: str, description: str) -> dict[str, str]:
    """A generated, escaped XHTML narrative (best practice dom-6: every resource has one)."""
    div = f"<p><b>{html.escape(title)}</b></p><p>{html.escape(description)}</p>"
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{div}</div>'}


def metadata(
    resource_type: str,
    id_: str,
    url: str,
    name: str,
    title: str,
    description: str,
    *,
    profile: str | None = None,
) -> Resource:
    """The common head of a canonical resource, with a fixed date so that output is deterministic."""
    resource: Resource = {"resourceType": resource_type, "id": id_}
    if profile is not None:
        resource["meta"] = {"profile": [profile]}
    resource.update(
        {
            "text": narrative(title, description),
            "url": url,
            "version": PACKAGE_VERSION,
            "name": name,
            "title": title,
            "status": "active",
            "experimental": False,
            "date": RELEASE_DATE,
            "publisher": PUBLISHER,
            "description": description,
        }
    )
    return resource


def pascal(name: str) -> str:
    """``wb-goal-milestone`` -> ``WbGoalMilestone`` (a computable name)."""
    return "".join(part[:1].upper() + part[1:] for part in name.replace(".", "-").split("-"))


def dumps(resource: Any) -> str:
    """Stable JSON text of a resource: the same input always gives the same bytes."""
    return json.dumps(resource, indent=2, ensure_ascii=False) + "\n"
