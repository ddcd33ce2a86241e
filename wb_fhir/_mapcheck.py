"""Every problem of a map's plain data, each with its place, in the order of the file.

Three passes, all collected before anything is reported:

1. the shape: keys are text, values are what JSON can say, nesting and size within the
   limits, text without control characters or lone surrogates (a wrong shape stops here:
   the later passes could not walk it safely);
2. the shipped JSON Schema (:mod:`wb_fhir._schemacheck`): types, codes, ranges, lengths,
   unknown keys;
3. the rules a schema cannot say: NHS number check digit, real dates, rings in range, unique
   ids, references, tie kinds. They read the data defensively and skip a value the schema
   already refused, so structural and cross-reference problems come out in one run without
   one problem being reported twice.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date
from typing import Any

from wb_fhir import limits
from wb_fhir._mapread import size_problem
from wb_fhir._schemacheck import schema_problems, short
from wb_fhir.errors import Problem
from wb_fhir.model import DEFAULT_RINGS
from wb_fhir.schema import DATE_PATTERN
from wb_fhir.terminology import SIGNPOST_PATH, TIE_RULES, Category, Kind, SignpostStatus, TieType

Path = tuple[str | int, ...]
Found = list[tuple[Path, str]]

# C0 and C1 control characters (but tab, newline, carriage return), lone surrogates, and the
# two code points XML cannot carry: FHIR, SVG and the outbox all refuse them.
_BAD_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_TOO_MANY_DIGITS = 10**limits.MAX_NUMBER_DIGITS
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")
_DATE = re.compile(DATE_PATTERN)
_NHS = re.compile("[0-9]{10}")
_KINDS = frozenset(k.value for k in Kind)
_TIE_TYPES = frozenset(t.value for t in TieType)


def _code(value: Any, codes: frozenset[str]) -> str | None:
    """The value if it is one of the codes (values of any type may come here)."""
    return value if isinstance(value, str) and value in codes else None


def place(path: Collection[str | int]) -> str:
    """``connections[3].ring``; a key that is not a plain name is quoted, so it prints safely."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = part if _PLAIN_KEY.fullmatch(part) else short(part)
            out += f".{name}" if out else name
    return out


# --- 1. shape ---------------------------------------------------------------------------


def _text_problem(text: str) -> str | None:
    bad = _BAD_TEXT.search(text)
    if bad is None:
        return None
    char = bad.group()
    code = f"U+{ord(char):04X}"
    if "\ud800" <= char <= "\udfff":
        return f"contains a lone surrogate ({code}), which is not a character"
    if char in "\ufffe\uffff":
        return f"contains {code}, which is not a character"
    return f"contains the control character {code}, which a map file cannot hold"


def shape_problems(data: Any) -> tuple[Found, bool]:
    """Problems of the shape, and whether they stop the checking (True) or only mark text."""
    too_big = size_problem(data)
    if too_big is not None:
        return [((), too_big)], True
    found: Found = []
    fatal = False
    stack: list[tuple[Any, Path]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str):
                    stack.append((item, (*path, key)))
                else:
                    found.append((path, f"has the key {short(key)}: keys must be text"))
                    fatal = True
        elif isinstance(value, list):
            stack.extend((item, (*path, i)) for i, item in enumerate(value))
        elif isinstance(value, str):
            problem = _text_problem(value)
            if problem:
                found.append((path, problem))
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _TOO_MANY_DIGITS:
            found.append((path, f"is {short(value)}; a number has at most {limits.MAX_NUMBER_DIGITS} digits"))
            fatal = True
        elif value is not None and not isinstance(value, bool | int | float):
            found.append((path, f"is a {type(value).__name__}, which a map file cannot hold"))
            fatal = True
    return found, fatal


# --- 2. the schema: wb_fhir._schemacheck ---------------------------------------------------
# --- 3. rules ---------------------------------------------------------------------------


def nhs_check_digit(nine: str) -> int | None:
    """The modulus 11 check digit of the first nine digits of an NHS number (None: no valid number)."""
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return None if check == 10 else check


def nhs_number_valid(number: str) -> bool:
    """True when a ten-digit NHS number has the right modulus 11 check digit."""
    if not _NHS.fullmatch(number):
        return False
    return nhs_check_digit(number[:9]) == int(number[9])


def _entries(data: dict[str, Any], key: str) -> list[tuple[int, dict[str, Any]]]:
    """The entries of a list that are mappings (the schema reports the rest)."""
    items = data.get(key)
    if not isinstance(items, list):
        return []
    return [(i, item) for i, item in enumerate(items) if isinstance(item, dict)]


def _strings(entry: dict[str, Any], key: str) -> list[tuple[int, str]]:
    items = entry.get(key)
    if not isinstance(items, list):
        return []
    return [(i, item) for i, item in enumerate(items) if isinstance(item, str)]


def _text(entry: dict[str, Any], key: str) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) else None


def _real_date(value: Any, path: Path, found: Found) -> date | None:
    """The date, if the value has the shape of one (the schema reports other shapes)."""
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        found.append((path, f"{short(value)} is not a real date"))
        return None


def _whole(value: Any) -> int | None:
    """A whole number (1.0 too, as JSON Schema reads it), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, float) and value.is_integer() else None


def _ring_count(data: dict[str, Any]) -> int | None:
    rings = data.get("rings", DEFAULT_RINGS)
    if isinstance(rings, list | tuple) and 1 <= len(rings) <= limits.MAX_RINGS:
        return len(rings)
    return None


def rule_problems(data: Any, assets: Collection[str] | None) -> Found:
    """Rules a JSON Schema cannot say, on whatever parts of the data have the right shape."""
    if not isinstance(data, dict):
        return []
    found: Found = []
    subject = data.get("subject")
    nhs = subject.get("nhs_number") if isinstance(subject, dict) else None
    if isinstance(nhs, str) and _NHS.fullmatch(nhs) and not nhs_number_valid(nhs):
        found.append((("subject", "nhs_number"), f"{short(nhs)} fails the NHS number check digit"))
    when = _real_date(data.get("date"), ("date",), found)
    review = _real_date(data.get("next_review"), ("next_review",), found)
    if when and review and review < when:
        found.append((("next_review",), "is before the date of the map"))
    kinds = _connection_problems(data, found)
    _tie_problems(data, kinds, found)
    goal_ids = _goal_problems(data, kinds, found)
    _signpost_problems(data, kinds, goal_ids, assets, when, found)
    return found


def _connection_problems(data: dict[str, Any], found: Found) -> dict[str, str | None]:
    """Check the connections; their kinds by id (None: the kind is not a valid code)."""
    rings = _ring_count(data)
    kinds: dict[str, str | None] = {}
    for i, c in _entries(data, "connections"):
        at: Path = ("connections", i)
        kind = _code(c.get("kind"), _KINDS)
        cid = _text(c, "id")
        if cid is not None:
            if cid in kinds:
                found.append(((*at, "id"), f"{short(cid)} is used by another connection"))
            else:
                kinds[cid] = kind
        ring = _whole(c.get("ring"))
        if rings is not None and ring is not None and rings < ring <= limits.MAX_RINGS:
            # rings out of 1..MAX_RINGS are the schema's to report
            found.append(((*at, "ring"), f"{ring} is not one of 1..{rings} (the map has {rings} rings)"))
        if "knows_about_mental_health" in c and kind is not None and kind != Kind.PERSON:
            found.append(((*at, "knows_about_mental_health"), "is for people only"))
        practitioner = kind == Kind.PERSON and c.get("category") == Category.PRACTITIONER
        if c.get("roles") and kind is not None and not practitioner:
            found.append(((*at, "roles"), "is for practitioners only (kind person, category practitioner)"))
    return kinds


def _tie_problems(data: dict[str, Any], kinds: dict[str, str | None], found: Found) -> None:
    seen: set[tuple[str, str, str]] = set()
    for i, t in _entries(data, "ties"):
        at: Path = ("ties", i)
        ends = [_text(t, "from"), _text(t, "to")]
        for end, value in zip(("from", "to"), ends, strict=True):
            if value is not None and value not in kinds:
                found.append(((*at, end), f"{short(value)} names no connection"))
        start, finish = ends
        if start is None or finish is None:
            continue
        if start == finish:
            found.append((at, f"a tie from {short(start)} to itself"))
            continue
        tie_type = _code(t.get("type"), _TIE_TYPES)
        if tie_type is None:
            continue
        if (start, tie_type, finish) in seen:
            found.append((at, "the same tie is listed twice"))
        seen.add((start, tie_type, finish))
        kind_from, kind_to = kinds.get(start), kinds.get(finish)
        if kind_from is None or kind_to is None:
            continue
        allowed_from, allowed_to = TIE_RULES[TieType(tie_type)]
        if kind_from not in allowed_from or kind_to not in allowed_to:
            found.append(
                (
                    (*at, "type"),
                    f"a {tie_type!r} tie goes from {_kinds(allowed_from)} to {_kinds(allowed_to)}, "
                    f"not from a {kind_from} to a {kind_to}",
                )
            )


def _goal_problems(data: dict[str, Any], kinds: dict[str, str | None], found: Found) -> set[str]:
    goal_ids: set[str] = set()
    for i, g in _entries(data, "goals"):
        at: Path = ("goals", i)
        gid = _text(g, "id")
        if gid is not None:
            if gid in goal_ids:
                found.append(((*at, "id"), f"{short(gid)} is used by another goal"))
            if gid in kinds:
                found.append(((*at, "id"), f"{short(gid)} is already the id of a connection"))
            goal_ids.add(gid)
        for j, ref in _strings(g, "about"):
            if ref not in kinds:
                found.append(((*at, "about", j), f"{short(ref)} names no connection"))
        for j, ref in _strings(g, "supporters"):
            if ref not in kinds:
                found.append(((*at, "supporters", j), f"{short(ref)} names no connection"))
            elif kinds[ref] is not None and kinds[ref] != Kind.PERSON:
                found.append(((*at, "supporters", j), f"{short(ref)} is a {kinds[ref]}, not a person"))
        _real_date(g.get("target"), (*at, "target"), found)
        milestone_ids: set[str] = set()
        for j, m in _entries(g, "milestones"):
            mat: Path = (*at, "milestones", j)
            mid = m.get("id", f"m{j + 1}")
            if isinstance(mid, str):
                if mid in milestone_ids:
                    found.append(((*mat, "id"), f"{short(mid)} is used by another milestone of this goal"))
                milestone_ids.add(mid)
            _real_date(m.get("due"), (*mat, "due"), found)
            done_on = _real_date(m.get("done_on"), (*mat, "done_on"), found)
            if done_on and m.get("done", False) is False:
                found.append(((*mat, "done_on"), "is set but the milestone is not done"))
    return goal_ids


def _signpost_problems(
    data: dict[str, Any],
    kinds: dict[str, str | None],
    goal_ids: set[str],
    assets: Collection[str] | None,
    when: date | None,
    found: Found,
) -> None:
    seen: set[tuple[str, str]] = set()
    for i, s in _entries(data, "signposts"):
        at: Path = ("signposts", i)
        reason, asset = _text(s, "reason"), _text(s, "asset")
        if reason is not None and reason not in kinds and reason not in goal_ids:
            found.append(((*at, "reason"), f"{short(reason)} names no connection or goal"))
        if asset is not None and assets is not None and asset not in assets:
            found.append(((*at, "asset"), f"{short(asset)} is not in the community asset directory"))
        if asset is not None and reason is not None:
            if (asset, reason) in seen:
                found.append((at, "the same sign-post is listed twice"))
            seen.add((asset, reason))
        _real_date(s.get("date"), (*at, "date"), found)
        _real_date(s.get("follow_up"), (*at, "follow_up"), found)
        _signpost_steps(s, at, when, found)


def _signpost_steps(s: dict[str, Any], at: Path, when: date | None, found: Found) -> None:
    """The dated steps of a sign-post: in order, not after the map, none beyond its status."""
    try:
        status = SignpostStatus(s.get("status", SignpostStatus.SUGGESTED))
    except ValueError:
        return  # the schema reports the code
    path = list(SIGNPOST_PATH)  # declined may end the path at any step before attended
    reached = path[: path.index(status) + 1] if status in path else [*path[:3], SignpostStatus.DECLINED]
    last: tuple[str, date] | None = None
    for step in SignpostStatus:
        key = f"{step.value}_on"
        day = _real_date(s.get(key), (*at, key), found)
        if day is None:
            continue
        if step not in reached:
            found.append(((*at, key), f"is set but the sign-post's status is {status.value!r}"))
        if when is not None and day > when:
            found.append(((*at, key), "is after the date of the map"))
        if last is not None and day < last[1]:
            found.append(((*at, key), f"is before {last[0]}"))
        last = (key, day)


def _kinds(allowed: frozenset[Kind]) -> str:
    if allowed == frozenset(Kind):
        return "anything"
    return " or ".join(sorted(f"a {k.value}" for k in allowed))


# --- all of it --------------------------------------------------------------------------


class _Positions:
    """Where places are in the file: keys in the order written, a missing key after the rest.

    Key orders are looked up once per mapping, so ordering many problems stays linear.
    """

    def __init__(self, data: Any) -> None:
        self.data = data
        self.orders: dict[int, dict[str, int]] = {}

    def of(self, path: Path) -> tuple[int, ...]:
        out: list[int] = []
        node = self.data
        for part in path:
            if isinstance(node, dict):
                order = self.orders.get(id(node))
                if order is None:
                    order = self.orders[id(node)] = {key: n for n, key in enumerate(node)}
                out.append(order.get(part, len(order)) if isinstance(part, str) else len(order))
                node = node.get(part) if isinstance(part, str) else None
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                out.append(part)
                node = node[part]
            else:
                out.append(0)
                node = None
        return tuple(out)


def problems(data: Any, assets: Collection[str] | None = None) -> list[Problem]:
    """Every problem of a map's plain data, in the order of the file (the first few hundred)."""
    found, fatal = shape_problems(data)
    if not fatal:
        found += schema_problems(data) + rule_problems(data, assets)
    unique = list(dict.fromkeys(found))
    positions = _Positions(data)
    ordered = sorted(unique, key=lambda item: positions.of(item[0]))
    out = [Problem(place(path), message) for path, message in ordered[: limits.MAX_PROBLEMS]]
    if len(ordered) > limits.MAX_PROBLEMS:
        out.append(Problem("", f"... and {len(ordered) - limits.MAX_PROBLEMS:,} more problems"))
    return out
