"""Text as the layout sees it: cleaned for XML, measured and broken into lines by Pango.

Widths come from Pango with the very font list the SVG names, so they are the widths librsvg
draws (PNG, PDF): shaped by HarfBuzz, with bidi and font fallback (Noto for Arabic, Urdu,
Bengali, Gurmukhi, Gujarati, Tamil, Chinese; Noto Color Emoji). Lines are broken by Pango's
Unicode line breaking, so Chinese wraps between characters. A text also gets its direction
(by its first strong character, as HTML's ``dir="auto"``) and, for a script that names one,
a language tag for screen readers and for the choice of font.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from wb_fhir.render import _native

ELLIPSIS = "…"
FONT_FAMILIES = (
    "DejaVu Sans",
    "Noto Sans",
    "Noto Sans Arabic",
    "Noto Sans Bengali",
    "Noto Sans Gurmukhi",
    "Noto Sans Gujarati",
    "Noto Sans Tamil",
    "Noto Sans Devanagari",
    "Noto Sans Hebrew",
    "Noto Sans CJK SC",
    "sans-serif",
)
"""Fonts in the order they are tried for each character (emoji fall back to Noto Color Emoji
through fontconfig: naming it here would let it draw plain digits too)."""
FONT_FIRST: dict[str, str] = {
    "ar": "Noto Sans Arabic",
    "ur": "Noto Sans Arabic",
    "bn": "Noto Sans Bengali",
    "pa": "Noto Sans Gurmukhi",
    "gu": "Noto Sans Gujarati",
    "ta": "Noto Sans Tamil",
    "hi": "Noto Sans Devanagari",
    "he": "Noto Sans Hebrew",
    "zh": "Noto Sans CJK SC",
    "ja": "Noto Sans CJK JP",
    "ko": "Noto Sans CJK KR",
}
"""The font put first for a text in a language: one font for a whole word, so that its
letters join (DejaVu Sans has most Arabic letters but not Urdu's ہ and ے)."""
FONT_FAMILY_CSS = ", ".join(f if f == "sans-serif" else f"'{f}'" for f in FONT_FAMILIES)

# Characters XML 1.0 cannot hold, and the non-characters U+FFF0..U+FFFF (U+FFFD is kept).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\uffef\ufffd\U00010000-\U0010ffff]")
_SPACES = re.compile(r"\s+")
# Script of a character range -> the language a label in it is most likely written in.
_SCRIPTS: tuple[tuple[int, int, str], ...] = (
    (0x0590, 0x05FF, "he"),
    (0x0600, 0x06FF, "ar"),
    (0x0750, 0x077F, "ar"),
    (0x08A0, 0x08FF, "ar"),
    (0xFB50, 0xFDFF, "ar"),
    (0xFE70, 0xFEFF, "ar"),
    (0x0900, 0x097F, "hi"),
    (0x0980, 0x09FF, "bn"),
    (0x0A00, 0x0A7F, "pa"),
    (0x0A80, 0x0AFF, "gu"),
    (0x0B80, 0x0BFF, "ta"),
    (0x3040, 0x30FF, "ja"),
    (0xAC00, 0xD7AF, "ko"),
    (0x4E00, 0x9FFF, "zh"),
    (0x3400, 0x4DBF, "zh"),
)
# Letters of the Arabic script that Urdu uses and Arabic does not (some are Persian too: in
# the UK, Urdu is by far the more common of the two).
_URDU = frozenset("ٹڈڑںےۓہھگکچپژۂی")
_JOINERS = frozenset("\u200c\u200d\ufe0e\ufe0f")


def clean(text: str) -> str:
    """One line of text that XML can hold: forbidden characters replaced, spaces collapsed."""
    text = _NOT_XML.sub("\ufffd", text)
    return _SPACES.sub(" ", text).strip()


def direction(text: str) -> str:
    """ "rtl" when the first strong character is right-to-left (Arabic, Hebrew...), else "ltr"."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def language(text: str) -> str | None:
    """The language a text is most likely in, by its script (None for Latin and the like)."""
    if text.isascii():
        return None
    counts: dict[str, int] = {}
    for ch in text:
        code = ord(ch)
        for start, end, lang in _SCRIPTS:
            if start <= code <= end:
                if lang == "ar" and ch in _URDU:
                    lang = "ur"
                counts[lang] = counts.get(lang, 0) + 1
                break
    if not counts:
        return None
    if "ur" in counts:  # a few Urdu letters make the whole text Urdu
        return "ur"
    if "ja" in counts and "zh" in counts:  # kana with kanji: Japanese
        return "ja"
    return max(sorted(counts), key=lambda k: counts[k])


def families(lang: str | None) -> tuple[str, ...]:
    """The fonts a text in ``lang`` is drawn with, in the order they are tried."""
    first = FONT_FIRST.get(lang or "")
    return FONT_FAMILIES if first is None else (first, *(f for f in FONT_FAMILIES if f != first))


def font_family_css(lang: str | None) -> str | None:
    """The SVG ``font-family`` of a text in ``lang`` when it differs from the map's own."""
    if (lang or "") not in FONT_FIRST:
        return None
    return ", ".join(f if f == "sans-serif" else f"'{f}'" for f in families(lang))


def _pango(text: str) -> tuple[str, str]:
    lang = language(text)
    return ",".join(families(lang)), lang or "en-gb"


@lru_cache(maxsize=16384)
def width(text: str, size: float, *, bold: bool = False) -> float:
    """Width in px of ``text`` set at ``size`` px, as it is drawn."""
    if not text:
        return 0.0
    family, lang = _pango(text)
    return _native.text_width(text, family, size, bold=bold, language=lang)


def clusters(text: str) -> list[str]:
    """``text`` cut into pieces that must not be split: a character with its combining marks,
    joiners and the character a joiner or virama binds it to (emoji sequences, conjuncts),
    and regional indicator pairs (flags)."""
    out: list[str] = []
    for ch in text:
        if out:
            last = out[-1]
            prev = last[-1]
            binds = (
                unicodedata.category(ch).startswith("M")
                or ch in _JOINERS
                or prev == "\u200d"
                or unicodedata.combining(prev) == 9  # a virama joins the next consonant
                or 0x1F3FB <= ord(ch) <= 0x1F3FF  # skin tone
                or 0xE0020 <= ord(ch) <= 0xE007F  # tag characters (subdivision flags)
                or (_regional(ch) and _regional(prev) and sum(map(_regional, last)) % 2 == 1)
            )
            if binds:
                out[-1] = last + ch
                continue
        out.append(ch)
    return out


def _regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def truncate(text: str, max_width: float, size: float, *, bold: bool = False) -> str:
    """``text``, shortened with an ellipsis (never inside a cluster) when wider than ``max_width``."""
    if width(text, size, bold=bold) <= max_width:
        return text
    pieces = clusters(text)
    # Binary search on the number of clusters kept: widths grow with every cluster added.
    low, high = 0, len(pieces)
    while low < high:
        mid = (low + high + 1) // 2
        if width("".join(pieces[:mid]).rstrip() + ELLIPSIS, size, bold=bold) <= max_width:
            low = mid
        else:
            high = mid - 1
    return "".join(pieces[:low]).rstrip() + ELLIPSIS


def wrap(text: str, max_width: float, size: float, max_lines: int, *, bold: bool = False) -> tuple[str, ...] | None:
    """``text`` broken into at most ``max_lines`` lines of at most ``max_width`` px,
    or None when it does not fit (a word wider than a line, or too many lines)."""
    lines = lines_of(text, max_width, size, bold=bold)
    if len(lines) > max_lines or any(width(line, size, bold=bold) > max_width + 0.01 for line in lines):
        return None
    return tuple(lines)


def wrap_all(text: str, max_width: float, size: float, max_lines: int, *, bold: bool = False) -> tuple[str, ...]:
    """``text`` in at most ``max_lines`` lines of ``max_width`` px: words too long for a line
    are broken, and the last line ends in an ellipsis when the text goes on."""
    lines = lines_of(text, max_width, size, bold=bold, split_words=True)
    if len(lines) > max_lines:
        rest = " ".join(lines[max_lines - 1 :])
        lines = [*lines[: max_lines - 1], truncate(rest, max_width, size, bold=bold)]
    return tuple(truncate(line, max_width, size, bold=bold) for line in lines)


def lines_of(text: str, max_width: float, size: float, *, bold: bool = False, split_words: bool = False) -> list[str]:
    """The lines Pango breaks ``text`` into at ``max_width`` px (words kept whole unless
    ``split_words``: then a word wider than a line is broken between clusters)."""
    if not text:
        return []
    family, lang = _pango(text)
    lines = _native.break_lines(text, family, size, max_width, bold=bold, language=lang)
    if not split_words:
        return lines
    out: list[str] = []
    for line in lines:
        while width(line, size, bold=bold) > max_width and len(clusters(line)) > 1:
            head = truncate(line, max_width, size, bold=bold)[: -len(ELLIPSIS)] or clusters(line)[0]
            out.append(head)
            line = line[len(head) :].lstrip()
        if line:
            out.append(line)
    return out
