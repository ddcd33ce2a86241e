"""Text as the layout sees it: cleaned for XML, measured with DejaVu Sans metrics, wrapped.

Measuring from a fixed table keeps the layout pure and the same on every machine; widths of
characters outside the table are estimated generously (wide for CJK and emoji) so that the
real glyphs, whatever font draws them, fit the boxes the layout reserves.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from wb_fhir.render import _fontmetrics as fm

ELLIPSIS = "…"
# Characters XML 1.0 cannot hold, and the non-characters U+FFF0..U+FFFF (U+FFFD is kept).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\uffef\ufffd\U00010000-\U0010ffff]")
_SPACES = re.compile(r"\s+")
_SAFETY = 1.04


def clean(text: str) -> str:
    """One line of text that XML can hold: forbidden characters replaced, spaces collapsed."""
    text = _NOT_XML.sub("\ufffd", text)
    return _SPACES.sub(" ", text).strip()


def _advance(ch: str, bold: bool) -> int:
    code = ord(ch)
    table, extra = (fm.BOLD, fm.BOLD_EXTRA) if bold else (fm.REGULAR, fm.REGULAR_EXTRA)
    if fm.FIRST <= code < fm.FIRST + len(table):
        return table[code - fm.FIRST]
    if ch in extra:
        return extra[ch]
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    if unicodedata.east_asian_width(ch) in ("W", "F") or code >= 0x1F000:
        return 1050
    return 720


@lru_cache(maxsize=4096)
def width(text: str, size: float, *, bold: bool = False) -> float:
    """Width in px of ``text`` set at ``size`` px."""
    return sum(_advance(ch, bold) for ch in text) * size / 1000 * _SAFETY


def truncate(text: str, max_width: float, size: float, *, bold: bool = False) -> str:
    """``text``, shortened with an ellipsis when it is wider than ``max_width``."""
    if width(text, size, bold=bold) <= max_width:
        return text
    budget = max_width - width(ELLIPSIS, size, bold=bold)
    out = []
    used = 0.0
    for ch in text:
        w = _advance(ch, bold) * size / 1000 * _SAFETY
        if used + w > budget:
            break
        out.append(ch)
        used += w
    return "".join(out).rstrip() + ELLIPSIS


def wrap(text: str, max_width: float, size: float, max_lines: int, *, bold: bool = False) -> tuple[str, ...] | None:
    """``text`` broken at spaces into at most ``max_lines`` lines of at most ``max_width`` px,
    or None when it does not fit (a word wider than a line, or too many lines)."""
    lines: list[str] = []
    for word in text.split(" "):
        if width(word, size, bold=bold) > max_width:
            return None
        if lines and width(f"{lines[-1]} {word}", size, bold=bold) <= max_width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
        if len(lines) > max_lines:
            return None
    return tuple(lines)
