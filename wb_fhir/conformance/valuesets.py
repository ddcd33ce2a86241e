"""One ValueSet per coded field (``terminology.VALUE_SETS``) plus one per kind for categories."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from wb_fhir.conformance._common import Resource, metadata, pascal
from wb_fhir.terminology import (
    CATEGORIES_BY_KIND,
    CATEGORY_VALUE_SETS,
    CODESYSTEM_URL,
    VALUE_SETS,
    display,
    value_set_url,
)


def value_set(name: str, title: str, description: str, members: Iterable[StrEnum]) -> Resource:
    """A ValueSet that enumerates codes of the project's CodeSystem."""
    resource = metadata("ValueSet", name, value_set_url(name), pascal(name), title, description)
    resource["immutable"] = False
    resource["compose"] = {
        "include": [
            {
                "system": CODESYSTEM_URL,
                "concept": [{"code": m.value, "display": display(m)} for m in members],
            }
        ]
    }
    return resource


def build_value_sets() -> list[Resource]:
    """Every ValueSet, in a stable order: the coded fields, then the categories by kind."""
    out = []
    for name, enum in VALUE_SETS.items():
        title = name.replace("-", " ").capitalize()
        out.append(value_set(name, title, f"The codes of the field '{name}' of a wellbeing network map.", enum))
    for kind, name in CATEGORY_VALUE_SETS.items():
        out.append(
            value_set(
                name,
                f"Categories of a {kind.value}",
                f"The categories a connection of kind '{kind.value}' may have.",
                CATEGORIES_BY_KIND[kind],
            )
        )
    return out
