"""Load and save map files (YAML or JSON), reporting every problem with its place.

Checking runs in two passes over the plain data: the shipped JSON Schema (types, codes,
ranges, unknown keys), then the rules a schema cannot say (NHS number check digit, real
dates, rings in range, unique ids, references, tie kinds). All problems are collected and
raised together as one :class:`~wb_fhir.errors.InputError`.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from wb_fhir._files import atomic_write, read_text
from wb_fhir.errors import InputError, Problem
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
from wb_fhir.schema import SCHEMA_PATH
from wb_fhir.terminology import (
    CATEGORIES_BY_KIND,
    SIGNPOST_PATH,
    TIE_RULES,
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

YAML_SUFFIXES = (".yaml", ".yml")
JSON_SUFFIXES = (".json",)


# --- reading -------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """YAML 1.1 safe loader that keeps dates as text (checked later, with a path) and
    refuses duplicate keys (a repeated key would silently hide the first value)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def parse_text(text: str, source: str, *, fmt: str | None = None) -> Any:
    """Parse YAML or JSON text into plain data; ``fmt`` is ``"json"``, ``"yaml"`` or None."""
    if not text.strip():
        raise InputError("the file is empty", source)
    if fmt == "json":
        try:
            return json.loads(text, object_pairs_hook=_json_pairs)
        except json.JSONDecodeError as exc:
            raise InputError(f"line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}", source) from None
        except ValueError as exc:
            raise InputError(f"not valid JSON: {exc}", source) from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = exc.problem or exc.context or "not valid YAML"
        raise InputError(f"{where}not valid YAML: {what}", source) from None
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", source) from None


def load_map(path: str | Path, *, assets: Collection[str] | None = None) -> WellbeingMap:
    """Read, check and build the map in a YAML or JSON file.

    ``assets`` is the set of asset ids of a community asset directory; when given, every
    sign-post must name one of them.
    """
    return map_from_data(load_data(path), source=str(path), assets=assets)


def load_data(path: str | Path) -> Any:
    """The plain data of a YAML or JSON file (JSON by the ``.json`` suffix), unchecked."""
    path = Path(path)
    fmt = "json" if path.suffix.lower() in JSON_SUFFIXES else "yaml"
    return parse_text(read_text(path), str(path), fmt=fmt)


# --- checking --------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _place(parts: Collection[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_TYPE_NAMES = {
    "string": "text",
    "integer": "a whole number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping of keys to values",
}


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no value: quote it in YAML if you meant text)"
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _message(error: jsonschema.ValidationError, root: Any) -> list[Problem]:
    path = list(error.absolute_path)
    place = _place(path)
    v = error.validator
    # jsonschema types these as "possibly unset"; on a reported error they are set
    instance: Any = error.instance
    schema: Any = error.schema
    expected: Any = error.validator_value
    if v == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extra = sorted(set(instance) - set(allowed))
        return [Problem(_place([*path, key]), f"unknown key (allowed here: {', '.join(allowed)})") for key in extra]
    if v == "required":
        missing = [k for k in expected if k not in instance]
        return [Problem(_place([*path, k]), "is required but missing") for k in missing]
    if v == "anyOf" and path == ["subject"]:
        return [Problem(place, "needs nhs_number or fhir_id (or both)")]
    if v == "enum":
        choices = ", ".join(str(c) for c in expected if not isinstance(c, bool))
        if path and path[-1] == "category":
            kind = _lookup(root, path[:-1]).get("kind")
            if kind in {k.value for k in Kind}:
                of_kind = ", ".join(c.value for c in CATEGORIES_BY_KIND[Kind(kind)])
                return [Problem(place, f"{_describe(instance)} is not a category of a {kind} (one of: {of_kind})")]
        return [Problem(place, f"{_describe(instance)} is not one of: {choices}")]
    if v == "type":
        wanted = expected
        names = " or ".join(_TYPE_NAMES.get(t, t) for t in ([wanted] if isinstance(wanted, str) else wanted))
        return [Problem(place, f"must be {names}, not {_describe(instance)}")]
    if v in ("minimum", "maximum") and path and path[-1] == "ring":
        rings = root.get("rings")
        count = len(rings) if isinstance(rings, list) and rings else len(DEFAULT_RINGS)
        return [Problem(place, f"{_describe(instance)} is not one of 1..{count}")]
    if v in ("minimum", "maximum"):
        return [Problem(place, f"{_describe(instance)} is out of range ({_range(error)})")]
    if v == "pattern":
        return [Problem(place, _pattern_message(path, instance))]
    if v in ("minItems", "maxItems"):
        return [Problem(place, f"must have {'at least' if v == 'minItems' else 'at most'} {expected} entries")]
    if v == "uniqueItems":
        return [Problem(place, "has an entry more than once")]
    return [Problem(place, error.message)]


def _lookup(root: Any, path: list[Any]) -> Any:
    for part in path:
        root = root[part]
    return root


def _range(error: jsonschema.ValidationError) -> str:
    schema: Any = error.schema
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        return f"{low}..{high}"
    return f"at least {low}" if low is not None else f"at most {high}"


def _pattern_message(path: list[Any], value: str) -> str:
    last = path[-1] if path else ""
    if last == "nhs_number":
        return f"{value!r} is not an NHS number (ten digits)"
    if last in ("date", "due", "done_on", "target", "next_review", "follow_up") or str(last).endswith("ed_on"):
        return f"{value!r} is not a date (YYYY-MM-DD)"
    if last == "fhir_id":
        return f"{value!r} is not a reference of the right type (Type/id)"
    if last == "id" and path == ["id"]:
        return f"{value!r} is not a UUID"
    if isinstance(value, str) and not value.strip():
        return "must not be empty"
    return f"{value!r} is not a valid id (letters, digits, '-', '_', '.'; up to 64)"


def nhs_check_digit(nine: str) -> int | None:
    """The modulus 11 check digit of the first nine digits of an NHS number (None: no valid number)."""
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return None if check == 10 else check


def nhs_number_valid(number: str) -> bool:
    """True when a ten-digit NHS number has the right modulus 11 check digit."""
    if len(number) != 10 or not number.isdigit():
        return False
    return nhs_check_digit(number[:9]) == int(number[9])


def _schema_problems(data: Any) -> list[Problem]:
    if not isinstance(data, dict):
        return [Problem("", f"a map file holds a mapping of keys to values, not {_describe(data)}")]
    problems: list[Problem] = []
    for error in sorted(_validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        problems += _message(error, data)
    return list(dict.fromkeys(problems))


def _date(value: Any, place: str, problems: list[Problem]) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        problems.append(Problem(place, f"{value!r} is not a real date"))
        return None


def _rule_problems(data: dict[str, Any], assets: Collection[str] | None) -> list[Problem]:
    """Rules a JSON Schema cannot say; ``data`` already passed the schema."""
    problems: list[Problem] = []
    nhs = data["subject"].get("nhs_number")
    if nhs is not None and not nhs_number_valid(nhs):
        problems.append(Problem("subject.nhs_number", f"{nhs!r} fails the NHS number check digit"))
    when = _date(data["date"], "date", problems)
    review = _date(data.get("next_review"), "next_review", problems)
    if when and review and review < when:
        problems.append(Problem("next_review", "is before the date of the map"))

    rings = len(data.get("rings", DEFAULT_RINGS))
    kinds: dict[str, str] = {}
    categories: dict[str, str] = {}
    for i, c in enumerate(data.get("connections", [])):
        at = f"connections[{i}]"
        if c["id"] in kinds:
            problems.append(Problem(f"{at}.id", f"{c['id']!r} is used by another connection"))
        kinds[c["id"]] = c["kind"]
        categories[c["id"]] = c["category"]
        if c["ring"] > rings:
            problems.append(Problem(f"{at}.ring", f"{c['ring']} is not one of 1..{rings} (the map has {rings} rings)"))
        if "knows_about_mental_health" in c and c["kind"] != Kind.PERSON:
            problems.append(Problem(f"{at}.knows_about_mental_health", "is for people only"))
        if c.get("roles") and not (c["kind"] == Kind.PERSON and c["category"] == Category.PRACTITIONER):
            problems.append(Problem(f"{at}.roles", "is for practitioners only (kind person, category practitioner)"))

    seen_ties: set[tuple[str, str, str]] = set()
    for i, t in enumerate(data.get("ties", [])):
        at = f"ties[{i}]"
        ends_known = True
        for end in ("from", "to"):
            if t[end] not in kinds:
                problems.append(Problem(f"{at}.{end}", f"{t[end]!r} names no connection"))
                ends_known = False
        if t["from"] == t["to"]:
            problems.append(Problem(at, f"a tie from {t['from']!r} to itself"))
            continue
        key = (t["from"], t["type"], t["to"])
        if key in seen_ties:
            problems.append(Problem(at, "the same tie is listed twice"))
        seen_ties.add(key)
        if ends_known:
            allowed_from, allowed_to = TIE_RULES[TieType(t["type"])]
            if kinds[t["from"]] not in allowed_from or kinds[t["to"]] not in allowed_to:
                problems.append(
                    Problem(
                        f"{at}.type",
                        f"a {t['type']!r} tie goes from {_kinds(allowed_from)} to {_kinds(allowed_to)}, "
                        f"not from a {kinds[t['from']]} to a {kinds[t['to']]}",
                    )
                )

    goal_ids: set[str] = set()
    for i, g in enumerate(data.get("goals", [])):
        at = f"goals[{i}]"
        if g["id"] in goal_ids:
            problems.append(Problem(f"{at}.id", f"{g['id']!r} is used by another goal"))
        if g["id"] in kinds:
            problems.append(Problem(f"{at}.id", f"{g['id']!r} is already the id of a connection"))
        goal_ids.add(g["id"])
        for j, ref in enumerate(g.get("about", [])):
            if ref not in kinds:
                problems.append(Problem(f"{at}.about[{j}]", f"{ref!r} names no connection"))
        for j, ref in enumerate(g.get("supporters", [])):
            if ref not in kinds:
                problems.append(Problem(f"{at}.supporters[{j}]", f"{ref!r} names no connection"))
            elif kinds[ref] != Kind.PERSON:
                problems.append(Problem(f"{at}.supporters[{j}]", f"{ref!r} is a {kinds[ref]}, not a person"))
        _date(g.get("target"), f"{at}.target", problems)
        milestone_ids: set[str] = set()
        for j, m in enumerate(g.get("milestones", [])):
            mat = f"{at}.milestones[{j}]"
            mid = m.get("id", f"m{j + 1}")
            if mid in milestone_ids:
                problems.append(Problem(f"{mat}.id", f"{mid!r} is used by another milestone of this goal"))
            milestone_ids.add(mid)
            _date(m.get("due"), f"{mat}.due", problems)
            done_on = _date(m.get("done_on"), f"{mat}.done_on", problems)
            if done_on and not m.get("done", False):
                problems.append(Problem(f"{mat}.done_on", "is set but the milestone is not done"))

    seen_signposts: set[tuple[str, str]] = set()
    for i, s in enumerate(data.get("signposts", [])):
        at = f"signposts[{i}]"
        if s["reason"] not in kinds and s["reason"] not in goal_ids:
            problems.append(Problem(f"{at}.reason", f"{s['reason']!r} names no connection or goal"))
        if assets is not None and s["asset"] not in assets:
            problems.append(Problem(f"{at}.asset", f"{s['asset']!r} is not in the community asset directory"))
        if (s["asset"], s["reason"]) in seen_signposts:
            problems.append(Problem(at, "the same sign-post is listed twice"))
        seen_signposts.add((s["asset"], s["reason"]))
        _date(s.get("date"), f"{at}.date", problems)
        _date(s.get("follow_up"), f"{at}.follow_up", problems)
        problems += _signpost_steps(s, at, when)
    return problems


def _signpost_steps(s: dict[str, Any], at: str, when: date | None) -> list[Problem]:
    """The dated steps of a sign-post: in order, not after the map, none beyond its status."""
    problems: list[Problem] = []
    status = SignpostStatus(s.get("status", SignpostStatus.SUGGESTED))
    path = list(SIGNPOST_PATH)  # declined may end the path at any step before attended
    reached = path[: path.index(status) + 1] if status in path else [*path[:3], SignpostStatus.DECLINED]
    last: tuple[str, date] | None = None
    for step in SignpostStatus:
        key = f"{step.value}_on"
        day = _date(s.get(key), f"{at}.{key}", problems)
        if day is None:
            continue
        if step not in reached:
            problems.append(Problem(f"{at}.{key}", f"is set but the sign-post's status is {status.value!r}"))
        if when is not None and day > when:
            problems.append(Problem(f"{at}.{key}", "is after the date of the map"))
        if last is not None and day < last[1]:
            problems.append(Problem(f"{at}.{key}", f"is before {last[0]}"))
        last = (key, day)
    return problems


def _kinds(kinds: frozenset[Kind]) -> str:
    if kinds == frozenset(Kind):
        return "anything"
    return " or ".join(sorted(f"a {k.value}" for k in kinds))


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
    """Check plain data (as parsed from a file) and build the map, or raise InputError."""
    data = _normalise(data)
    problems = _schema_problems(data)
    if not problems:
        problems = _rule_problems(data, assets)
    if problems:
        raise InputError(problems, source)
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
        time_at_home=data.get("time_at_home"),
        rings=tuple(data.get("rings", DEFAULT_RINGS)),
        connections=tuple(
            Connection(
                id=c["id"],
                kind=Kind(c["kind"]),
                label=c["label"],
                category=Category(c["category"]),
                ring=c["ring"],
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
                    "date": s.date.isoformat() if s.date else None,
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
    """Writes dates unquoted (our loader reads them as text) and keeps key order."""


_Dumper.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers


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
