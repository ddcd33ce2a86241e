"""Problems in plain words: ``connections[3].ring`` becomes "Connection 4 (Mum): ring".

The checks are the library's (the same as ``wb-fhir validate``); this only says where a
problem is in the words of the page, so that it can be shown next to its field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from wb_fhir.errors import Problem

FIELD_NAMES = {
    "subject": "the person",
    "nhs_number": "NHS number",
    "fhir_id": "record id",
    "display": "name",
    "date": "date",
    "practitioners": "practitioners",
    "role": "role",
    "time_at_home": "time at home",
    "rings": "ring names",
    "connections": "connection",
    "kind": "kind",
    "label": "name",
    "category": "category",
    "ring": "ring",
    "impact": "impact on wellbeing",
    "frequency": "how often",
    "status": "status",
    "knows_about_mental_health": "knows about mental health",
    "roles": "roles",
    "notes": "notes",
    "ties": "tie",
    "from": "from",
    "to": "to",
    "type": "type",
    "goals": "goal",
    "description": "description",
    "about": "about",
    "supporters": "supporters",
    "resources": "resources",
    "barriers": "barriers",
    "milestones": "milestone",
    "due": "due",
    "done": "done",
    "done_on": "done on",
    "target": "target date",
    "signposts": "sign-post",
    "asset": "community asset",
    "reason": "reason",
    "note": "note",
    "reflections": "reflections",
    "next_review": "next review",
    "id": "id",
}
_PART = re.compile(r"([A-Za-z_]+)(?:\[(\d+)\])?")


@dataclass(frozen=True)
class PlainProblem:
    """A problem with its place in the data (``path``) and in words (``place``)."""

    path: str
    place: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "place": self.place, "message": self.message}


def _name(item: Any) -> str | None:
    if isinstance(item, dict):
        for key in ("label", "description", "display", "asset"):
            value = item.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


def place_words(path: str, data: Any) -> str:
    """Where ``path`` is, in the words of the page."""
    if not path:
        return "The map"
    words: list[str] = []
    node = data
    for key, index in _PART.findall(path):
        name = FIELD_NAMES.get(key, key.replace("_", " "))
        node = node.get(key) if isinstance(node, dict) else None
        if index:
            i = int(index)
            item = node[i] if isinstance(node, list) and i < len(node) else None
            label = _name(item)
            words.append(f"{name} {i + 1}" + (f" ({label})" if label else ""))
            node = item
        else:
            words.append(name)
    text = ": ".join(words)
    return text[:1].upper() + text[1:]


def plain(problems: tuple[Problem, ...], data: Any) -> list[PlainProblem]:
    """Each problem with its place in words."""
    return [PlainProblem(p.path, place_words(p.path, data), p.message) for p in problems]
