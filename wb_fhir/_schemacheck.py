"""The map file's JSON Schema, applied by a small interpreter of the keywords it uses, in words.

The schema (:mod:`wb_fhir.schema`) is shipped for editors and other tools, which check it with
any JSON Schema library. wb_fhir applies it itself: ``jsonschema`` costs a third of a second to
import and most of the time of loading a large map, and the schema uses only a dozen keywords of
draft 2020-12. They mean here what the standard says (integers include ``1.0``; ``true`` is not
``1``); a test compares this interpreter with ``jsonschema`` on thousands of generated
documents. A keyword the interpreter does not know is a programming error, caught when the
schema is first used.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from wb_fhir import limits
from wb_fhir.model import DEFAULT_RINGS
from wb_fhir.schema import map_schema
from wb_fhir.terminology import CATEGORIES_BY_KIND, Kind

Path = tuple[str | int, ...]
Found = list[tuple[Path, str]]

_APPLIED = frozenset(
    {
        "type",
        "enum",
        "const",
        "pattern",
        "minimum",
        "maximum",
        "maxLength",
        "minItems",
        "maxItems",
        "uniqueItems",
        "items",
        "properties",
        "required",
        "additionalProperties",
        "anyOf",
        "allOf",
        "if",
        "then",
    }
)
_NOTES = frozenset({"$schema", "$id", "title", "description", "format"})
_KINDS = frozenset(k.value for k in Kind)
_TOO_MANY_DIGITS = 10**limits.MAX_NUMBER_DIGITS
_TYPE_NAMES = {
    "string": "text",
    "integer": "a whole number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping of keys to values",
}


# --- how values are named ----------------------------------------------------------------


def short(value: Any, width: int = 60) -> str:
    """A value as ``repr`` shows it (escapes and all), cut to ``width`` characters."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _TOO_MANY_DIGITS:
        return f"a number of about {int(value.bit_length() * 0.30103) + 1:,} digits"
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def describe(value: Any) -> str:
    """A value as a message names it."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no value: quote it in YAML if you meant text)"
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return short(value)


# --- the keywords -------------------------------------------------------------------------


def _is(instance: Any, kind: str) -> bool:
    if kind == "string":
        return isinstance(instance, str)
    if kind == "integer":
        if isinstance(instance, bool):
            return False
        return isinstance(instance, int) or (isinstance(instance, float) and instance.is_integer())
    if kind == "boolean":
        return isinstance(instance, bool)
    if kind == "array":
        return isinstance(instance, list)
    if kind == "object":
        return isinstance(instance, dict)
    raise ValueError(f"the map schema uses the type {kind!r}, which this checker does not know")


def _same(a: Any, b: Any) -> bool:
    """JSON equality: ``true`` is not ``1``, and ``1.0`` is ``1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(type(a) is type(b) or (_number(a) and _number(b))) and a == b


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _key(value: Any) -> Any:
    """A hashable stand-in for a JSON value: equal stand-ins for JSON-equal values."""
    if isinstance(value, bool):
        return ("bool", value)
    if _number(value):
        return ("number", value)  # 1 == 1.0, and they hash alike
    if isinstance(value, list):
        return ("list", tuple(_key(item) for item in value))
    if isinstance(value, dict):
        return ("dict", frozenset((k, _key(v)) for k, v in value.items()))
    return ("other", value)


def _unique(items: list[Any]) -> bool:
    """No two items the same, in linear time."""
    return len({_key(item) for item in items}) == len(items)


def _valid(schema: dict[str, Any], instance: Any) -> bool:
    return next(_errors(schema, instance, (), instance), None) is None


def _errors(schema: dict[str, Any], instance: Any, path: Path, root: Any) -> Iterator[tuple[Path, str]]:
    """The schema's complaints about ``instance`` at ``path``, in the schema's order."""
    for keyword, value in schema.items():
        if keyword == "type":
            kinds = [value] if isinstance(value, str) else value
            if not any(_is(instance, k) for k in kinds):
                names = " or ".join(_TYPE_NAMES.get(k, k) for k in kinds)
                yield path, f"must be {names}, not {describe(instance)}"
        elif keyword == "enum":
            if not any(_same(instance, choice) for choice in value):
                yield path, _enum_message(path, instance, value, root)
        elif keyword == "const":
            if not _same(instance, value):
                yield path, f"must be {short(value)}"
        elif keyword == "pattern":
            if isinstance(instance, str) and not re.search(value, instance):
                yield path, _pattern_message(path, instance)
        elif keyword in ("minimum", "maximum"):
            if _number(instance) and (instance < value if keyword == "minimum" else instance > value):
                yield path, _range_message(path, instance, schema, root)
        elif keyword == "maxLength":
            if isinstance(instance, str) and len(instance) > value:
                yield path, f"is too long: {len(instance):,} characters (at most {value:,})"
        elif keyword == "minItems":
            if isinstance(instance, list) and len(instance) < value:
                yield path, f"must have at least {value} {'entry' if value == 1 else 'entries'}"
        elif keyword == "maxItems":
            if isinstance(instance, list) and len(instance) > value:
                yield path, f"has {len(instance):,} entries (at most {value:,})"
        elif keyword == "uniqueItems":
            if value and isinstance(instance, list) and not _unique(instance):
                yield path, "has an entry more than once"
        elif keyword == "items":
            if isinstance(instance, list):
                for i, item in enumerate(instance):
                    yield from _errors(value, item, (*path, i), root)
        elif keyword == "properties":
            if isinstance(instance, dict):
                for key, subschema in value.items():
                    if key in instance:
                        yield from _errors(subschema, instance[key], (*path, key), root)
        elif keyword == "required":
            if isinstance(instance, dict):
                for key in value:
                    if key not in instance:
                        yield (*path, key), "is required but missing"
        elif keyword == "additionalProperties":
            if value is not False:
                raise ValueError("the map schema's additionalProperties must be false")
            if isinstance(instance, dict):
                allowed = schema.get("properties", {})
                names = ", ".join(sorted(allowed))
                for key in instance:
                    if key not in allowed:
                        yield (*path, key), f"unknown key (allowed here: {names})"
        elif keyword == "anyOf":
            if not any(_valid(subschema, instance) for subschema in value):
                yield path, _any_of_message(path)
        elif keyword == "allOf":
            for subschema in value:
                yield from _errors(subschema, instance, path, root)
        elif keyword == "if":
            if _valid(value, instance) and "then" in schema:
                yield from _errors(schema["then"], instance, path, root)
        elif keyword not in _NOTES and keyword != "then":
            raise ValueError(f"the map schema uses {keyword!r}, which this checker does not apply")


# --- the words ----------------------------------------------------------------------------


def _enum_message(path: Path, instance: Any, choices: list[Any], root: Any) -> str:
    if path and path[-1] == "category":
        parent = _lookup(root, path[:-1])
        kind = parent.get("kind") if isinstance(parent, dict) else None
        if isinstance(kind, str) and kind in _KINDS:
            of_kind = ", ".join(c.value for c in CATEGORIES_BY_KIND[Kind(kind)])
            return f"{describe(instance)} is not a category of a {kind} (one of: {of_kind})"
    listed = ", ".join(str(c) for c in choices if not isinstance(c, bool))
    return f"{describe(instance)} is not one of: {listed}"


def _range_message(path: Path, instance: Any, schema: dict[str, Any], root: Any) -> str:
    if path and path[-1] == "ring":
        rings = root.get("rings") if isinstance(root, dict) else None
        count = len(rings) if isinstance(rings, list) and rings else len(DEFAULT_RINGS)
        return f"{describe(instance)} is not one of 1..{count}"
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        limit = f"{low}..{high}"
    else:
        limit = f"at least {low}" if low is not None else f"at most {high}"
    return f"{describe(instance)} is out of range ({limit})"


def _pattern_message(path: Path, value: str) -> str:
    last = path[-1] if path else ""
    if last == "nhs_number":
        return f"{short(value)} is not an NHS number (ten digits)"
    if last in ("date", "due", "done_on", "target", "next_review", "follow_up") or str(last).endswith("ed_on"):
        return f"{short(value)} is not a date (YYYY-MM-DD)"
    if last == "fhir_id":
        return f"{short(value)} is not a reference of the right type (Type/id)"
    if last == "id" and path == ("id",):
        return f"{short(value)} is not a UUID"
    if not value.strip():
        return "must not be empty"
    return f"{short(value)} is not a valid id (letters, digits, '-', '_', '.'; up to 64)"


def _any_of_message(path: Path) -> str:
    if path == ("subject",):
        return "needs nhs_number or fhir_id (or both)"
    return "matches none of the forms allowed here"


def _lookup(root: Any, path: Path) -> Any:
    for part in path:
        root = root[part]
    return root


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    schema = map_schema()
    stack = [schema]
    while stack:  # every keyword known, before any map depends on it
        node = stack.pop()
        unknown = set(node) - _APPLIED - _NOTES
        if unknown:
            raise ValueError(f"the map schema uses {sorted(unknown)}, which this checker does not apply")
        for key in ("items", "if", "then", "additionalProperties"):
            if isinstance(node.get(key), dict):
                stack.append(node[key])
        stack.extend(node.get("properties", {}).values())
        stack.extend(node.get("anyOf", []) + node.get("allOf", []))
    return schema


def schema_problems(data: Any) -> Found:
    """What the map file's JSON Schema refuses in ``data``, in words, with places."""
    if not isinstance(data, dict):
        return [((), f"a map file holds a mapping of keys to values, not {describe(data)}")]
    return list(_errors(_schema(), data, (), data))
