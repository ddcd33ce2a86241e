"""Load and save map files (YAML or JSON), reporting every problem with its place.

Reading (:mod:`wb_fhir._mapread`) turns text into plain data within the limits of
:mod:`wb_fhir.limits`; checking (:mod:`wb_fhir._mapcheck`) finds every problem of the data
(shape, the shipped JSON Schema, the rules a schema cannot say), all raised together as one
:class:`~wb_fhir.errors.InputError`; only then is the map built. What the loader accepts, every
command can draw, bundle, push and compare.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from wb_fhir._files import atomic_write, read_text, shown
from wb_fhir._mapcheck import nhs_check_digit, nhs_number_valid, problems
from wb_fhir._mapread import PLAIN_FLOAT, parse_json, parse_yaml
from wb_fhir.errors import InputError
from wb_fhir.limits import FHIR_FILE, MAP_FILE
from wb_fhir.model import (
    DEFAULT_RINGS,
    Connection,
    Goal,
    Milestone,
    Practitioner,
    Signpost,
    Subject,
    Tie,
    WellbeingMap,
)
from wb_fhir.terminology import (
    Category,
    Disclosure,
    Frequency,
    GoalStatus,
    Impact,
    Kind,
    Role,
    SignpostStatus,
    Status,
    TieType,
)

__all__ = [
    "dumps_map",
    "iter_map_files",
    "load_data",
    "load_fhir_data",
    "load_map",
    "map_from_data",
    "map_to_data",
    "nhs_check_digit",
    "nhs_number_valid",
    "parse_text",
    "save_map",
]

YAML_SUFFIXES = (".yaml", ".yml")
JSON_SUFFIXES = (".json",)


# --- reading -------------------------------------------------------------------------


def parse_text(text: str, source: str, *, fmt: str | None = None) -> Any:
    """Parse YAML or JSON text into plain data; ``fmt`` is ``"json"``, ``"yaml"`` or None.

    Within the limits of :mod:`wb_fhir.limits` (size, nesting, values, YAML aliases), or an
    InputError naming the line and the problem.
    """
    if not text.strip():
        raise InputError("the file is empty", source)
    if fmt == "json":
        return parse_json(text, source)
    return parse_yaml(text, source)


def load_map(path: str | Path, *, assets: Collection[str] | None = None) -> WellbeingMap:
    """Read, check and build the map in a YAML or JSON file.

    ``assets`` is the set of asset ids of a community asset directory; when given, every
    sign-post must name one of them.
    """
    return map_from_data(load_data(path), source=shown(path), assets=assets)


def load_data(path: str | Path) -> Any:
    """The plain data of a YAML or JSON file (JSON by the ``.json`` suffix), unchecked.

    Within the limits of a map file (:data:`wb_fhir.limits.MAP_FILE`).
    """
    path = Path(path)
    fmt = "json" if path.suffix.lower() in JSON_SUFFIXES else "yaml"
    return parse_text(read_text(path, MAP_FILE), shown(path), fmt=fmt)


def load_fhir_data(path: str | Path) -> Any:
    """The plain data of a FHIR JSON file (a QuestionnaireResponse, or a Bundle holding one).

    Within the larger limits of :data:`wb_fhir.limits.FHIR_FILE` (a Bundle carries drawings).
    """
    text = read_text(Path(path), FHIR_FILE)
    if not text.strip():
        raise InputError("the file is empty", shown(path))
    return parse_json(text, shown(path), FHIR_FILE)


# --- checking --------------------------------------------------------------------------


def _normalise(data: Any) -> Any:
    """Accept the few spellings YAML invites: an unquoted NHS number, yes/no booleans."""
    if not isinstance(data, dict):
        return data
    subject = data.get("subject")
    if (
        isinstance(subject, dict)
        and isinstance(subject.get("nhs_number"), int)
        and not isinstance(subject.get("nhs_number"), bool)
    ):
        data = {**data, "subject": {**subject, "nhs_number": str(subject["nhs_number"])}}
    return data


def map_from_data(data: Any, *, source: str | None = None, assets: Collection[str] | None = None) -> WellbeingMap:
    """Check plain data (as parsed from a file) and build the map, or raise InputError.

    Every problem is reported at once, each with its place, in the order of the file.
    """
    data = _normalise(data)
    found = problems(data, assets)
    if found:
        raise InputError(found, source)
    return _build(data)


def _disclosure(value: Any) -> Disclosure | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return Disclosure.YES if value else Disclosure.NO
    return Disclosure(value)


def _optional_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _build(data: dict[str, Any]) -> WellbeingMap:
    subject = data["subject"]
    return WellbeingMap(
        id=data.get("id", ""),
        subject=Subject(subject.get("nhs_number"), subject.get("fhir_id"), subject.get("display")),
        date=date.fromisoformat(data["date"]),
        practitioners=tuple(
            Practitioner(p["display"], p.get("role"), p.get("fhir_id")) for p in data.get("practitioners", [])
        ),
        time_at_home=None if data.get("time_at_home") is None else int(data["time_at_home"]),
        rings=tuple(data.get("rings", DEFAULT_RINGS)),
        connections=tuple(
            Connection(
                id=c["id"],
                kind=Kind(c["kind"]),
                label=c["label"],
                category=Category(c["category"]),
                ring=int(c["ring"]),  # 1.0 is a whole number too (JSON Schema's reading)
                impact=Impact(c["impact"]),
                frequency=Frequency(c["frequency"]) if "frequency" in c else None,
                status=Status(c.get("status", Status.CURRENT)),
                knows_about_mental_health=_disclosure(c.get("knows_about_mental_health")),
                roles=tuple(Role(r) for r in c.get("roles", [])),
                fhir_id=c.get("fhir_id"),
                confirmed=c.get("confirmed", True),
                notes=c.get("notes"),
            )
            for c in data.get("connections", [])
        ),
        ties=tuple(Tie(t["from"], t["to"], TieType(t["type"])) for t in data.get("ties", [])),
        goals=tuple(
            Goal(
                id=g["id"],
                description=g["description"],
                status=GoalStatus(g.get("status", GoalStatus.PROPOSED)),
                about=tuple(g.get("about", [])),
                supporters=tuple(g.get("supporters", [])),
                resources=tuple(g.get("resources", [])),
                barriers=tuple(g.get("barriers", [])),
                milestones=tuple(
                    Milestone(
                        id=m.get("id", f"m{j + 1}"),
                        description=m["description"],
                        due=_optional_date(m.get("due")),
                        done=m.get("done", False),
                        done_on=_optional_date(m.get("done_on")),
                    )
                    for j, m in enumerate(g.get("milestones", []))
                ),
                notes=tuple(g.get("notes", [])),
                target=_optional_date(g.get("target")),
            )
            for g in data.get("goals", [])
        ),
        signposts=tuple(
            Signpost(
                asset=s["asset"],
                reason=s["reason"],
                status=SignpostStatus(s.get("status", SignpostStatus.SUGGESTED)),
                note=s.get("note"),
                date=_optional_date(s.get("date")),
                **{f"{step.value}_on": _optional_date(s.get(f"{step.value}_on")) for step in SignpostStatus},
                follow_up=_optional_date(s.get("follow_up")),
            )
            for s in data.get("signposts", [])
        ),
        reflections=data.get("reflections"),
        next_review=_optional_date(data.get("next_review")),
    )


# --- writing ---------------------------------------------------------------------------


def map_to_data(wmap: WellbeingMap) -> dict[str, Any]:
    """The map as plain data in the map file's shape, leaving out defaults."""
    default_id = WellbeingMap(subject=wmap.subject, date=wmap.date).id
    out: dict[str, Any] = {}
    if wmap.id != default_id:
        out["id"] = wmap.id
    out["subject"] = _drop_none(
        {"nhs_number": wmap.subject.nhs_number, "fhir_id": wmap.subject.fhir_id, "display": wmap.subject.display}
    )
    out["date"] = wmap.date.isoformat()
    if wmap.practitioners:
        out["practitioners"] = [
            _drop_none({"display": p.display, "role": p.role, "fhir_id": p.fhir_id}) for p in wmap.practitioners
        ]
    if wmap.time_at_home is not None:
        out["time_at_home"] = wmap.time_at_home
    if wmap.rings != DEFAULT_RINGS:
        out["rings"] = list(wmap.rings)
    if wmap.connections:
        out["connections"] = [_connection_data(c) for c in wmap.connections]
    if wmap.ties:
        out["ties"] = [{"from": t.from_id, "to": t.to_id, "type": t.type.value} for t in wmap.ties]
    if wmap.goals:
        out["goals"] = [_goal_data(g) for g in wmap.goals]
    if wmap.signposts:
        out["signposts"] = [
            _drop_none(
                {
                    "asset": s.asset,
                    "reason": s.reason,
                    "status": s.status.value,
                    "note": s.note,
                    "date": _iso(s.date),
                    **{f"{t.value}_on": _iso(s.step_date(t)) for t in SignpostStatus},
                    "follow_up": _iso(s.follow_up),
                }
            )
            for s in wmap.signposts
        ]
    if wmap.reflections is not None:
        out["reflections"] = wmap.reflections
    if wmap.next_review is not None:
        out["next_review"] = wmap.next_review.isoformat()
    return out


def _connection_data(c: Connection) -> dict[str, Any]:
    out = _drop_none(
        {
            "id": c.id,
            "kind": c.kind.value,
            "label": c.label,
            "category": c.category.value,
            "ring": c.ring,
            "impact": c.impact.value,
            "frequency": c.frequency.value if c.frequency else None,
            "status": c.status.value if c.status is not Status.CURRENT else None,
            "knows_about_mental_health": c.knows_about_mental_health.value if c.knows_about_mental_health else None,
            "roles": [r.value for r in c.roles] or None,
            "fhir_id": c.fhir_id,
            "confirmed": False if not c.confirmed else None,
            "notes": c.notes,
        }
    )
    return out


def _goal_data(g: Goal) -> dict[str, Any]:
    milestones = []
    for j, m in enumerate(g.milestones):
        item: dict[str, Any] = {}
        if m.id != f"m{j + 1}":
            item["id"] = m.id
        item["description"] = m.description
        if m.due:
            item["due"] = m.due.isoformat()
        item["done"] = m.done
        if m.done_on:
            item["done_on"] = m.done_on.isoformat()
        milestones.append(item)
    return _drop_none(
        {
            "id": g.id,
            "description": g.description,
            "status": g.status.value,
            "about": list(g.about) or None,
            "supporters": list(g.supporters) or None,
            "resources": list(g.resources) or None,
            "barriers": list(g.barriers) or None,
            "milestones": milestones or None,
            "notes": list(g.notes) or None,
            "target": g.target.isoformat() if g.target else None,
        }
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


class _Dumper(yaml.SafeDumper):
    """Writes dates unquoted (our loader reads them as text); quotes text that a YAML 1.1
    reader or ours would take for a number, a boolean or nothing."""


_Dumper.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeDumper.yaml_implicit_resolvers.items()
}
_Dumper.add_implicit_resolver("tag:yaml.org,2002:float", PLAIN_FLOAT, list("-+0123456789."))


def dumps_map(wmap: WellbeingMap, fmt: str = "yaml") -> str:
    """The map file text, ``fmt`` ``"yaml"`` or ``"json"``."""
    data = map_to_data(wmap)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def save_map(wmap: WellbeingMap, path: str | Path) -> None:
    """Write the map to a YAML or JSON file (by suffix), atomically."""
    path = Path(path)
    fmt = "json" if path.suffix.lower() in JSON_SUFFIXES else "yaml"
    atomic_write(path, dumps_map(wmap, fmt).encode("utf-8"))


def iter_map_files(paths: Collection[str | Path]) -> Iterator[Path]:
    """The files named, a folder standing for the YAML and JSON files in it and below."""
    for p in map(Path, paths):
        if p.is_dir():
            yield from sorted(
                f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in (*YAML_SUFFIXES, *JSON_SUFFIXES)
            )
        else:
            yield p
