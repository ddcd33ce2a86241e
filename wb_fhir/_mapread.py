"""Map file text (YAML or JSON) into plain data, within the limits of :mod:`wb_fhir.limits`.

YAML is parsed into events by libyaml (the pure-Python parser of PyYAML where libyaml is
missing) and built here, one event at a time on an explicit stack. Building it ourselves is
what bounds a hostile file: nesting, the number of values and the characters of text are
counted as they arrive, a YAML alias counting as often as it is used, so an alias bomb
("billion laughs") or a deeply nested file stops early with a message instead of exhausting
memory or the stack. It also makes the reading plain and predictable:

- keys are text, always (``1:`` is the key ``"1"``); a list or mapping as a key is refused;
- plain scalars are read as in YAML 1.2's core schema, so ``0x40``, ``010``, ``1:10`` and
  ``1_000`` are text, never the numbers YAML 1.1 made of them; dates stay text (checked later,
  with their place); ``yes``/``no``/``on``/``off`` stay booleans, as the map file documents;
- duplicate keys, duplicate anchors, undefined or recursive aliases and tags other than
  ``!!str`` are refused, as is a second document in the file.

JSON goes through :mod:`json` with hooks that refuse duplicate keys, ``NaN``/``Infinity`` and
over-long numbers, then the same limits are checked on the result.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from wb_fhir import limits
from wb_fhir.errors import InputError
from wb_fhir.limits import MAP_FILE, ReadLimits

_Parser: Any = getattr(yaml, "CBaseLoader", None)
"""libyaml's parser, or None when PyYAML was built without it."""

_TAG = "tag:yaml.org,2002:"
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"})
_FALSE = frozenset({"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"})
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(
    r"[-+]?(?:(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+)"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
PLAIN_FLOAT = re.compile(rf"^(?:{_FLOAT.pattern})$")
"""A plain scalar the loader reads as a number with a point (a writer must quote such text)."""
_SURROGATE = re.compile("[\ud800-\udfff]")
# What YAML allows in a stream, but U+FEFF (a byte order mark), which libyaml and PyYAML read
# differently inside a document (a file's leading one is taken off when it is read). Anything
# else is refused up front, the same for both parsers. Written as the characters refused, not as
# the complement of those allowed: the complement of that class takes start-up milliseconds to compile.
_NOT_YAML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufeff\ufffe\uffff]")


def _too_deep(within: ReadLimits) -> str:
    return f"nested more than {within.depth} levels deep; {within.what} needs far fewer"


_OPEN = object()
_NO_KEY = object()


def _fail(message: str, source: str, mark: Any = None) -> InputError:
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return InputError(f"{where}{message}", source)


def _too_large(source: str, mark: Any, values: int, within: ReadLimits) -> InputError:
    if values > within.values:
        what = f"more than {within.values:,} values"
    else:
        what = f"more than {within.text:,} characters of text"
    message = f"the file holds {what} (an alias counts each time it is used); {within.what} holds less"
    return _fail(message, source, mark)


def check_size(text: str, source: str, within: ReadLimits = MAP_FILE) -> None:
    """Refuse text longer than such a file may be (the file is checked in bytes when read)."""
    if len(text) > within.file_bytes:
        raise InputError(f"is larger than {within.file_bytes:,} bytes, the most {within.what} may be", source)


def _tag(tag: str) -> str:
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


def _scalar(event: Any, source: str) -> Any:
    """The value of a scalar: YAML 1.2 core numbers, YAML booleans, everything else text."""
    value: str = event.value
    tag = event.tag
    if tag is not None:
        if tag in ("!", _TAG + "str"):
            return value
        raise _fail(f"the tag {_tag(tag)} is not allowed in a map file (only !!str is)", source, event.start_mark)
    if not event.implicit[0]:  # quoted
        return value
    if value in _NULL:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    if _INT.fullmatch(value):
        digits = len(value.lstrip("+-"))
        if digits > limits.MAX_NUMBER_DIGITS:
            raise _fail(
                f"a number of {digits:,} digits is too long (at most {limits.MAX_NUMBER_DIGITS})",
                source,
                event.start_mark,
            )
        return int(value)
    if _FLOAT.fullmatch(value):
        return float(value.lower().replace(".inf", "inf").replace(".nan", "nan"))
    return value


class _PureParser(yaml.BaseLoader):
    """PyYAML's pure-Python parser, refusing a surrogate escape (``"\\ud800"``) as libyaml does.

    Refused while scanning, as libyaml does, not when the value is built: the scanner reads a
    token ahead, so only then is the refusal on the same line as libyaml's.
    """

    def scan_flow_scalar_non_spaces(self, double: bool, start_mark: Any) -> list[str]:
        chunks: list[str] = super().scan_flow_scalar_non_spaces(double, start_mark)
        if double and any(_SURROGATE.search(chunk) for chunk in chunks):
            raise yaml.scanner.ScannerError(
                "while scanning a double-quoted scalar",
                start_mark,
                "found invalid Unicode character escape code",
                self.get_mark(),
            )
        return chunks


def parse_yaml(text: str, source: str, *, libyaml: bool = True) -> Any:
    """The plain data of YAML text, or an InputError naming the line and the problem.

    ``libyaml=False`` uses the pure-Python parser (as where libyaml is missing).
    """
    check_size(text, source)
    bad = _NOT_YAML.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        column = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        raise InputError(
            f"line {line}, column {column}: the character U+{ord(bad.group()):04X} is not allowed in YAML", source
        )
    pure = not libyaml or _Parser is None
    loader = _PureParser(text) if pure else _Parser(text)
    try:
        return _build(loader, source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "not valid YAML"
        raise _fail(f"not valid YAML: {what}", source, mark) from None
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", source) from None
    finally:
        loader.dispose()


def _build(loader: Any, source: str) -> Any:
    """Build the one document of the stream from parser events, counting as it goes.

    A frame of the stack is ``[container, pending key, anchor, values before, text before]``.
    """
    stack: list[list[Any]] = []
    anchors: dict[str, Any] = {}
    values = text = documents = 0
    root: Any = None

    def add(value: Any, mark: Any) -> None:
        nonlocal root
        if not stack:
            root = value
            return
        frame = stack[-1]
        container = frame[0]
        if isinstance(container, list):
            container.append(value)
        elif frame[1] is _NO_KEY:
            if not isinstance(value, str):
                raise _fail(f"a key must be text, not {_kind_of(value)}", source, mark)
            if value in container:
                raise _fail(f"not valid YAML: duplicate key {_short(value)}", source, mark)
            frame[1] = value
        else:
            container[frame[1]] = value
            frame[1] = _NO_KEY

    def anchor(name: str | None, mark: Any) -> None:
        if name is not None and name in anchors:
            raise _fail(f"not valid YAML: the anchor &{_short(name, quote=False)} is defined twice", source, mark)

    while loader.check_event():
        event = loader.get_event()
        kind = type(event)
        mark = event.start_mark
        if kind is yaml.ScalarEvent:
            anchor(event.anchor, mark)
            awaiting_key = bool(stack) and isinstance(stack[-1][0], dict) and stack[-1][1] is _NO_KEY
            if awaiting_key and event.tag not in (None, "!", _TAG + "str"):
                raise _fail(f"the tag {_tag(event.tag)} is not allowed in a map file (only !!str is)", source, mark)
            value = event.value if awaiting_key else _scalar(event, source)
            values += 1
            text += len(event.value)
            if values > MAP_FILE.values or text > MAP_FILE.text:
                raise _too_large(source, mark, values, MAP_FILE)
            if event.anchor is not None:
                anchors[event.anchor] = (value, 1, len(event.value))
            add(value, mark)
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            is_map = kind is yaml.MappingStartEvent
            if stack and isinstance(stack[-1][0], dict) and stack[-1][1] is _NO_KEY:
                raise _fail(f"a key must be text, not {'a mapping' if is_map else 'a list'}", source, mark)
            if event.tag not in (None, "!", _TAG + ("map" if is_map else "seq")):
                raise _fail(f"the tag {_tag(event.tag)} is not allowed in a map file (only !!str is)", source, mark)
            if len(stack) >= MAP_FILE.depth:
                raise _fail(_too_deep(MAP_FILE), source, mark)
            anchor(event.anchor, mark)
            values += 1
            if values > MAP_FILE.values:
                raise _too_large(source, mark, values, MAP_FILE)
            if event.anchor is not None:
                anchors[event.anchor] = _OPEN
            stack.append([{} if is_map else [], _NO_KEY, event.anchor, values - 1, text])
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            container, _, name, values_before, text_before = stack.pop()
            if name is not None:
                anchors[name] = (container, values - values_before, text - text_before)
            add(container, mark)
        elif kind is yaml.AliasEvent:
            target = anchors.get(event.anchor)
            if target is None:
                raise _fail(f"not valid YAML: found undefined alias *{_short(event.anchor, quote=False)}", source, mark)
            if target is _OPEN:
                raise _fail(
                    f"the alias *{_short(event.anchor, quote=False)} is inside what it names (a structure "
                    "that contains itself)",
                    source,
                    mark,
                )
            value, count, chars = target
            values += count
            text += chars
            if values > MAP_FILE.values or text > MAP_FILE.text:
                raise _too_large(source, mark, values, MAP_FILE)
            add(value, mark)
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _fail("a map file holds one YAML document, but another starts here", source, mark)
    return root


def _kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "a value that is not text"


def _short(value: str, *, quote: bool = True) -> str:
    text = repr(value) if quote else repr(value)[1:-1]
    return text if len(text) <= 60 else text[:57] + "..."


# --- JSON ------------------------------------------------------------------------------


class _NotJson(ValueError):
    """A value json accepts that a map file does not (a message for the user)."""


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _NotJson(f"duplicate key {_short(key)}")
        out[key] = value
    return out


def _json_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > limits.MAX_NUMBER_DIGITS:
        raise _NotJson(f"a number of {digits:,} digits is too long (at most {limits.MAX_NUMBER_DIGITS})")
    return int(text)


def _json_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON number")


def parse_json(text: str, source: str, within: ReadLimits = MAP_FILE) -> Any:
    """The plain data of JSON text, or an InputError saying where and what is wrong."""
    check_size(text, source, within)
    try:
        data = json.loads(text, object_pairs_hook=_json_pairs, parse_int=_json_int, parse_constant=_json_constant)
    except json.JSONDecodeError as exc:
        raise InputError(f"line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}", source) from None
    except _NotJson as exc:
        raise InputError(f"not valid JSON: {exc}", source) from None
    except RecursionError:
        raise InputError(_too_deep(within), source) from None
    problem = size_problem(data, within)
    if problem is not None:
        raise InputError(problem, source)
    return data


def size_problem(data: Any, within: ReadLimits = MAP_FILE) -> str | None:
    """What makes plain data larger or deeper than such a file may be (None: it is within the limits).

    Walks without recursion; stops at the first limit passed.
    """
    stack: list[tuple[Any, int]] = [(data, 1)]
    values = text = 0
    while stack:
        value, depth = stack.pop()
        values += 1
        if values > within.values:
            return f"holds more than {within.values:,} values; {within.what} holds less"
        if isinstance(value, dict):
            if depth > within.depth:
                return _too_deep(within)
            for key, item in value.items():
                values += 1
                text += len(key) if isinstance(key, str) else 0
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            if depth > within.depth:
                return _too_deep(within)
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            text += len(value)
        if text > within.text:
            return f"holds more than {within.text:,} characters of text; {within.what} holds less"
    return None
