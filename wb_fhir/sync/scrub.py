"""Scrub personal data out of messages, keeping them readable.

A server's error may echo what it was sent: an NHS number, a search, a name, a label, an id, even
an ``Authorization`` header. Before such a message is printed or stored in the outbox, each of
these is replaced as a **whole value**, never as a piece of a word (the id ``ex`` leaves
``Practitioner/example-jess`` alone, the id ``sing`` leaves ``processing`` alone):

- NHS numbers (ten digits, spaced or not, with a valid check digit) -> ``[nhs-number]``;
- bearer tokens, ``Authorization`` / ``access_token`` / ``client_secret`` values, anything shaped
  like a JWT (``eyJ...``), and the credentials the client sent (``secrets``: a server may echo
  them bare) -> ``[token]``;
- search parameter values (``?name=value``, ``&name=value``; for ``system|value`` only the value;
  ``_count``, ``_sort`` and the like are kept) -> ``[value]``;
- the personal values of the Bundle that was sent (names, labels, free text, ids) -> ``[personal]``,
  case-insensitively, where the value stands as a token of its own. A value that is a short
  lowercase word (an id such as ``a`` or ``the``) is also an ordinary word of the message, so it
  is replaced only where it stands as a value: quoted, or after ``/``, ``|``, ``=`` or ``#``.

Everything is replaced in one pass, and placeholders are left as they are, so scrubbing twice
changes nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wb_fhir.mapfile import nhs_number_valid

NHS_NUMBER = "[nhs-number]"
TOKEN = "[token]"  # noqa: S105
VALUE = "[value]"
PERSONAL = "[personal]"

LONG_SECRET = 8
"""A secret at least this long is replaced wherever it appears, even inside a word."""
SHORT_WORD = 3
"""A lowercase value of at most this many letters may be an ordinary word: replaced only as a value."""

PLACEHOLDERS = (NHS_NUMBER, TOKEN, VALUE, PERSONAL)
_PLACEHOLDER = "(?P<placeholder>" + "|".join(re.escape(p) for p in PLACEHOLDERS) + ")"
_NHS = r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)"
_AUTH_FIELD = (
    r"(?i:authorization|access_token|refresh_token|id_token|client_assertion|client_secret)[\"']?\s*[:=]\s*[\"']?"
)
_AUTH_VALUE = r"(?P<scheme>(?i:bearer|basic|digest)\s+)?[^\s\"',;&]+"
# A token holds a digit or a punctuation mark, or is long: "Bearer tokens" stays as it is.
_BEARER = r"(?i:bearer)\s+(?:(?=[\w\-.~+/]*[\d\-.~+/])[\w\-.~+/]{6,}=*|[A-Za-z]{16,})"
_JWT = r"(?<![\w-])eyJ[\w-]{6,}\.[\w-]{6,}\.[\w-]*"
_PARAM = r"[?&][A-Za-z_][\w:.\-]*="
_PARAM_VALUE = r"[^&\s\"'<>()\[\]]*"
_KEPT_PARAMS = frozenset({"_count", "_sort", "_elements", "_summary", "_include", "_revinclude", "_format", "_total"})
_BEFORE, _AFTER = r"(?<![\w-])", r"(?![\w-])"
_QUOTES = "'\"`\u2018\u201c"
_CLOSING = "'\"`\u2019\u201d"


def _is_short_word(value: str) -> bool:
    return len(value) <= SHORT_WORD and value.isalpha() and value.islower()


@dataclass(frozen=True)
class Scrubber:
    """Replaces personal data in text; ``values`` are the personal values known to be in play."""

    values: frozenset[str] = field(default_factory=frozenset)
    secrets: frozenset[str] = field(default_factory=frozenset)
    """Credentials in play (a bearer token): replaced by ``[token]``."""
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_pattern", self._compile())

    def _compile(self) -> re.Pattern[str]:
        values = sorted({v.strip() for v in self.values if v and v.strip()}, key=len, reverse=True)
        anywhere = [re.escape(v) for v in values if not _is_short_word(v)]
        as_value = [re.escape(v) for v in values if _is_short_word(v)]
        secrets = sorted({v for v in self.secrets if v and v.strip()}, key=len, reverse=True)
        parts = [_PLACEHOLDER]
        if secrets:
            anywhere_secrets = [re.escape(v) for v in secrets if len(v) >= LONG_SECRET]
            whole_secrets = [re.escape(v) for v in secrets if len(v) < LONG_SECRET]
            found = anywhere_secrets + [f"{_BEFORE}{v}{_AFTER}" for v in whole_secrets]
            parts.append(f"(?P<secret>{'|'.join(found)})")
        parts += [
            f"(?P<jwt>{_JWT})",
            f"(?P<auth_field>{_AUTH_FIELD})(?P<auth_value>{_AUTH_VALUE})",
            f"(?P<bearer>{_BEARER})",
            f"(?P<param>{_PARAM})(?P<param_value>{_PARAM_VALUE})",
            f"(?P<nhs>{_NHS})",
        ]
        if anywhere:
            parts.append(f"(?P<known>{_BEFORE}(?i:{'|'.join(anywhere)}){_AFTER})")
        if as_value:
            words = "|".join(as_value)
            parts.append(f"(?<=[{_QUOTES}])(?P<quoted>(?i:{words}))(?=[{_CLOSING}])")
            parts.append(f"(?<=[/|=#])(?P<delimited>(?i:{words})){_AFTER}")
        return re.compile("|".join(parts))

    def __call__(self, text: str) -> str:
        """The text with every personal value replaced by a placeholder."""
        return self._pattern.sub(self._replace, text)

    @staticmethod
    def _replace(match: re.Match[str]) -> str:
        kind = match.lastgroup
        if kind == "placeholder":
            return match.group()
        if kind == "auth_value":
            return match.group("auth_field") + (match.group("scheme") or "") + TOKEN
        if kind == "bearer":
            return "Bearer " + TOKEN
        if kind in ("secret", "jwt"):
            return TOKEN
        if kind == "param_value":
            return match.group("param") + _search_value(match.group("param"), match.group("param_value"))
        if kind == "nhs":
            return NHS_NUMBER if nhs_number_valid(re.sub(r"[ -]", "", match.group())) else match.group()
        return PERSONAL


def _search_value(param: str, value: str) -> str:
    name = param[1:-1].split(":")[0]
    if not value or name in _KEPT_PARAMS:
        return value
    system, bar, code = value.rpartition("|")
    if bar:  # system|code: the system says what it is, the code is the value (a placeholder already if empty)
        return f"{system}|{_value(code)}" if code else value
    return _value(value)


def _value(value: str) -> str:
    return NHS_NUMBER if nhs_number_valid(value) else VALUE


scrub = Scrubber()
"""Replaces what can be recognised without knowing the values in play: NHS numbers, tokens, searches."""


def personal_values(bundle: Mapping[str, Any]) -> frozenset[str]:
    """Values in a Bundle that may name or identify people: free text, displays, ids, identifier values."""
    found: set[str] = set()

    def walk(node: Any, parent: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, str) and (
                    key in ("valueString", "valueMarkdown", "title")
                    or (key == "display" and "system" not in node)
                    or (key == "text" and parent in ("description", "note"))
                ):
                    found.add(value)
                elif key == "identifier" and isinstance(value, dict) and isinstance(value.get("value"), str):
                    found.add(value["value"])
                else:
                    walk(value, key)
        elif isinstance(node, list):
            for value in node:
                walk(value, parent)

    walk(bundle, "")
    return frozenset(found)
