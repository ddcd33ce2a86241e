"""Hypothesis strategies for hostile map files (used by hostile_worker.py and test_schemacheck.py).

``documents()`` draws whole files (bytes and a suffix) of every hostile kind; ``mutated_maps()``
valid map data with hostile values put in; ``nasty_valid_maps()`` maps the loader must accept,
with every odd thing it allows.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any

import yaml
from hypothesis import strategies as st
from strategies import map_data

from wb_fhir import limits

# --- hostile values and documents -------------------------------------------------------

ODD_TEXT = [
    "\x00",
    "\x01",
    "\x1b[2J",
    "\x7f",
    "\x85",
    "\x9b",
    "\ud800",
    "\udfff",
    "\ud83d\ude00",
    "\ufffe",
    "\uffff",
    "\ufeff",
    "\u202e",
    "\u200b",
    "\u2028",
    "e\u0301\u0301\u0301\u0301",
    "👩‍👩‍👧‍👦",
    "\t",
    "\r\n",
    "<script>alert(1)</script>",
    "]]>",
    "&amp;",
    "${jndi:x}",
    "%s%n",
    "../../etc/passwd",
]
ODD_SCALARS = [
    "1:10",
    "0x40",
    "010",
    "0o17",
    "0b11",
    "1_000",
    "190:20:30.15",
    ".inf",
    "-.inf",
    ".nan",
    "1e400",
    "1.0",
    "1.5",
    "-0",
    "~",
    "null",
    "yes",
    "off",
    "y",
    "=",
    "<<",
    "2026-02-30",
    "0001-01-01",
    "9999-12-31",
    "2026-01-01T10:00:00Z",
    "!!binary aGk=",
    "!!python/object:os.system x",
    "!!python/name:os.system",
    "!custom x",
    "!!int 5",
    "!!str 5",
    "*undefined",
    '"\\ud800"',
    '"\\x01"',
    '"\\U0010ffff"',
    "'it''s'",
    "|\n  block\n  text",
    ">-\n  folded",
    "9" * 25,
    "-" + "9" * 5000,
]
ODD_KEYS = [
    "? [a, b]",
    "? {a: 1}",
    "2026-01-01",
    "1",
    "~",
    "yes",
    "<<",
    "? |\n  block",
    "'\\x1b[31m'",
    '"\\ud800"',
    "!!binary aGk=",
    "&k anchored",
    "*k",
]

small_text = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=12),
    st.sampled_from(ODD_TEXT),
    st.lists(st.sampled_from(ODD_TEXT), min_size=1, max_size=4).map("".join),
)


@st.composite
def huge_values(draw: st.DrawFn) -> Any:
    """Just over a limit (text, lists), or far over the file size."""
    kind = draw(st.sampled_from(["text", "emoji", "list", "dict"]))
    if kind in ("text", "emoji"):
        size = draw(st.sampled_from([201, 1_001, 2_001, 10_001, 100_000, limits.MAX_FILE_BYTES + 1]))
        return ("😀" if kind == "emoji" else "x") * (size // 4 if kind == "emoji" and size > 10**5 else size)
    if kind == "list":
        return [draw(st.sampled_from(["mum", 1, None, "x"]))] * draw(
            st.sampled_from([7, 21, 51, 101, 201, 2_001, 4_001])
        )
    return {f"k{n}": n for n in range(draw(st.sampled_from([10, 300])))}


@st.composite
def nested_values(draw: st.DrawFn) -> Any:
    depth = draw(st.integers(1, 60))
    value: Any = draw(st.sampled_from(["x", 1, None, {}]))
    for _ in range(depth):
        value = [value] if draw(st.booleans()) else {"k": value}
    return value


@st.composite
def shared_values(draw: st.DrawFn) -> Any:
    """Shared lists: YAML writes them as anchors and aliases (a bomb when deep enough)."""
    width = draw(st.integers(2, 12))
    depth = draw(st.integers(1, 9))
    value: Any = draw(st.sampled_from(["lol", "x" * 1000, {"a": 1}]))
    for _ in range(depth):
        value = [value] * width
    return value


hostile_values = st.one_of(
    small_text,
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([True, False, None, 1.0, 1.5, 75.0, -0.0, [], {}]),
    huge_values(),
    nested_values(),
    shared_values(),
    st.lists(small_text, max_size=5),
    st.dictionaries(small_text, small_text, max_size=3),
)


def _paths(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out += _paths(value, (*path, i))
    return out


@st.composite
def mutated_maps(draw: st.DrawFn) -> Any:
    """A valid map with hostile values put in at one to three places (or new keys)."""
    data: Any = draw(map_data(max_connections=6))
    places = _paths(data)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(places))
        value = draw(hostile_values)
        if not path:
            if draw(st.integers(0, 9)) == 0 or not isinstance(data, dict):
                data = value
            else:
                data[draw(small_text)] = value
            continue
        try:
            parent = data
            for part in path[:-1]:
                parent = parent[part]
            if isinstance(parent, dict) and draw(st.booleans()):
                parent[draw(small_text)] = value
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change replaced what the place was in
    return data


def yaml_text(data: Any) -> str:
    try:  # the fast writer, when there is one; it cannot write surrogates (as escapes), the other can
        return yaml.dump(
            data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), allow_unicode=True, sort_keys=False
        )
    except UnicodeEncodeError:
        return yaml.dump(data, Dumper=yaml.SafeDumper, allow_unicode=True, sort_keys=False)


def expanded_size(data: Any, budget: int) -> int:
    """The size JSON would write (values and characters; shared values once per use), up to ``budget``."""
    stack, size = [data], 0
    while stack and size <= budget:
        value = stack.pop()
        size += 1
        if isinstance(value, dict):
            stack.extend(value.values())
            size += sum(len(str(k)) for k in value)
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            size += len(value)
    return size


def json_text(data: Any) -> str:
    if expanded_size(data, 2 * limits.MAX_FILE_BYTES) > 2 * limits.MAX_FILE_BYTES:
        raise ValueError("an alias bomb has no JSON form")
    return json.dumps(data, ensure_ascii=False, allow_nan=True)


@st.composite
def text_documents(draw: st.DrawFn) -> tuple[str, str]:
    """YAML written line by line from odd keys and scalars, flow and block, with directives."""
    lines = [draw(st.sampled_from(["", "%YAML 1.1\n---", "%YAML 1.2\n---", "%TAG !e! tag:e.com,2000:\n---", "---"]))]
    lines += ['subject: {nhs_number: "9434765919"}', "date: 2026-01-01"]
    for _ in range(draw(st.integers(1, 8))):
        key = draw(st.one_of(st.sampled_from(ODD_KEYS), st.sampled_from(["connections", "goals", "reflections"])))
        value = draw(st.sampled_from(ODD_SCALARS))
        indent = " " * draw(st.sampled_from([0, 0, 0, 1, 2, 4]))
        style = draw(st.sampled_from(["plain", "flow-list", "flow-map", "block-list", "anchor", "alias"]))
        if style == "flow-list":
            value = f"[{value}, {draw(st.sampled_from(ODD_SCALARS))}]"
        elif style == "flow-map":
            value = f"{{{draw(st.sampled_from(ODD_KEYS))}: {value}}}"
        elif style == "block-list":
            value = f"\n{indent}  - {value}\n{indent}  - {draw(st.sampled_from(ODD_SCALARS))}"
        elif style == "anchor":
            value = f"&a{draw(st.integers(0, 3))} {value}"
        elif style == "alias":
            value = f"*a{draw(st.integers(0, 3))}"
        lines.append(f"{indent}{key}: {value}" if not key.startswith("?") else f"{key}\n: {value}")
    if draw(st.booleans()):
        lines.append(draw(st.sampled_from(["---\nb: 2", "...", "--- |\n text", "#" + "x" * 100])))
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n", "\x85"])), ".yaml"


@st.composite
def raw_json_documents(draw: st.DrawFn) -> tuple[str, str]:
    base = '{"subject": {"nhs_number": "9434765919"}, "date": "2026-01-01"'
    extra = draw(
        st.sampled_from(
            [
                ', "time_at_home": NaN',
                ', "time_at_home": Infinity',
                ', "time_at_home": ' + "9" * draw(st.integers(15, 6000)),
                ', "time_at_home": 1e400',
                ', "time_at_home": 75.0',
                ', "date": "2026-01-02"',
                ', "reflections": "\\ud800"',
                ', "reflections": "\\u0000"',
                ', "reflections": ' + "[" * draw(st.integers(10, 3000)) + "]" * 3000,
                ', "connections": [' + ", ".join(["{}"] * draw(st.integers(0, 3000))) + "]",
                ', "reflections": "' + "x" * draw(st.integers(0, 20_000)) + '"',
                "",
            ]
        )
    )
    tail = draw(st.sampled_from(["}", "} trailing", "", "}}", "}\n\n"]))
    return base + extra + tail, ".json"


_ALLOWED_ODD_TEXT = [
    t for t in ODD_TEXT if not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]", t)
]
allowed_text = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=limits.MAX_NAME),
    st.lists(st.sampled_from(_ALLOWED_ODD_TEXT), min_size=1, max_size=6).map("".join),
    st.sampled_from(["W" * limits.MAX_NAME, "😀" * limits.MAX_NAME, "‮" + "x" * 199, "é" * 100]),
).filter(lambda t: t.strip() != "" and len(t) <= limits.MAX_NAME)


@st.composite
def nasty_valid_maps(draw: st.DrawFn) -> Any:
    """Maps the loader must accept, with every odd thing it allows: any script, marks, emoji,
    bidi controls, tabs and line breaks, the longest labels, whole floats, shared lists."""
    data: Any = draw(map_data(max_connections=10))
    for c in data.get("connections", []):
        if draw(st.booleans()):
            c["label"] = draw(allowed_text)
        if draw(st.booleans()):
            c["ring"] = float(c["ring"])
    if draw(st.booleans()):
        data["subject"]["display"] = draw(allowed_text)
    if "rings" in data and draw(st.booleans()):
        data["rings"] = [draw(allowed_text) for _ in data["rings"]]
    if draw(st.booleans()):
        data["reflections"] = draw(allowed_text) * draw(st.sampled_from([1, 10, 50]))
    if "time_at_home" in data and draw(st.booleans()):
        data["time_at_home"] = float(data["time_at_home"])
    if draw(st.booleans()):
        data["date"] = draw(st.sampled_from(["0001-01-01", "9999-12-31", "2024-02-29"]))
        data.pop("next_review", None)
    goals = data.get("goals", [])
    if goals and data.get("connections") and draw(st.booleans()):
        shared = [c["id"] for c in data["connections"]][: limits.MAX_GOAL_ITEMS]
        for g in goals:
            g["about"] = shared  # the same list each time: YAML writes an anchor and aliases
    return data


@st.composite
def documents(draw: st.DrawFn) -> tuple[bytes, str]:
    """One file: its bytes and its suffix."""
    family = draw(st.sampled_from(["mutated", "mutated", "mutated", "text", "json", "valid", "valid"]))
    if family == "mutated":
        data = draw(mutated_maps())
        suffix = draw(st.sampled_from([".yaml", ".json"]))
        try:
            text = yaml_text(data) if suffix == ".yaml" else json_text(data)
        except ValueError:
            text, suffix = yaml_text(data), ".yaml"
    elif family == "text":
        text, suffix = draw(text_documents())
    elif family == "json":
        text, suffix = draw(raw_json_documents())
    else:
        data = draw(nasty_valid_maps())
        suffix = draw(st.sampled_from([".yaml", ".json"]))
        text = yaml_text(data) if suffix == ".yaml" else json_text(data)
        if draw(st.integers(0, 2)) > 0:
            return text.encode("utf-8"), suffix
    encoding = draw(
        st.sampled_from(
            ["utf-8"] * 6 + ["utf-8-bom", "utf-8-bom-twice", "utf-16", "utf-32", "latin-1", "cp1252", "mixed"]
        )
    )
    raw = text.encode("utf-8", "surrogatepass")
    if encoding == "utf-8-bom":
        raw = codecs.BOM_UTF8 + raw
    elif encoding == "utf-8-bom-twice":
        raw = codecs.BOM_UTF8 * 2 + raw
    elif encoding in ("utf-16", "utf-32"):
        raw = text.encode(encoding, "surrogatepass")
    elif encoding in ("latin-1", "cp1252"):
        raw = text.encode(encoding, "replace") + "Café".encode(encoding)
    elif encoding == "mixed":
        cut = draw(st.integers(0, len(raw)))
        raw = raw[:cut] + "é—".encode("latin-1", "replace") + raw[cut:]
    if draw(st.integers(0, 19)) == 0:
        raw = raw[: draw(st.integers(0, len(raw)))]
    return raw, suffix
