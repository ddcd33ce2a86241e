"""The network in plain words: for screen readers (the SVG ``<desc>``) and care plan narratives."""

from __future__ import annotations

from collections.abc import Sequence

from wb_fhir.measures import NEGATIVE, POSITIVE, measure
from wb_fhir.model import Connection, WellbeingMap
from wb_fhir.render import _text
from wb_fhir.render.layout import format_date
from wb_fhir.terminology import Impact, Kind, Status, TieType, display

MAX_NAMES = 8
"""Longer lists are cut short ("and 12 more") so that the text stays readable aloud."""

_KIND_WORDS = {
    Kind.PERSON: ("person", "people"),
    Kind.PLACE: ("place", "places"),
    Kind.ACTIVITY: ("activity", "activities"),
}
_TIE_WORDS = {
    TieType.BRIDGED: "got them to",
    TieType.SUPPORTS: "supports them with",
    TieType.MET_AT: "was met at",
    TieType.TAKES_PLACE_AT: "takes place at",
    TieType.KNOWS: "knows",
}
_HOPED_TIE_WORDS = {
    TieType.BRIDGED: "could help them get to",
    TieType.SUPPORTS: "could support them with",
    TieType.MET_AT: "could be met at",
    TieType.TAKES_PLACE_AT: "could take place at",
    TieType.KNOWS: "knows",
}
"""A tie to a connection that is only hoped for has not happened yet."""


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _label(c: Connection, limit: int | None) -> str:
    text = _text.clean(c.label)
    if limit is None:
        return text
    pieces = _text.clusters(text)
    return text if len(pieces) <= limit else "".join(pieces[:limit]).rstrip() + "…"


def _names(connections: Sequence[Connection], limit: int | None = None) -> str:
    names = [_label(c, limit) for c in connections]
    if len(names) > MAX_NAMES:
        names = [*names[:MAX_NAMES], f"{len(names) - MAX_NAMES} more"]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def describe(wmap: WellbeingMap, *, label_limit: int | None = None) -> str:
    """A few plain sentences about the network: size, inner circle, balance, practitioners,
    lost and hoped-for connections, notable ties and time at home (labels cut to
    ``label_limit`` characters when given)."""
    n = label_limit
    m = measure(wmap)
    owner = f"{_text.clean(wmap.subject.display)}'s" if wmap.subject.display else "This"
    first = f"{owner} wellbeing network, mapped on {format_date(wmap.date)}"
    if wmap.practitioners:
        first += " with " + "; ".join(
            _text.clean(p.display + (f" ({p.role})" if p.role else "")) for p in wmap.practitioners
        )
    sentences = [first + "."]
    current = [c for c in wmap.connections if c.is_current]
    if not wmap.connections:
        sentences.append("No connections recorded yet.")
    else:
        kinds = [_count(m.by_kind[k], *_KIND_WORDS[k]) for k in Kind if m.by_kind[k]]
        if kinds:
            listing = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " and " + kinds[-1]
            sentences.append(f"{_count(m.size, 'current connection', 'current connections')}: {listing}.")
        else:
            sentences.append("No current connections.")
        inner = [c for c in current if c.ring == 1]
        ring1 = _text.clean(wmap.rings[0])
        sentences.append(
            f"{ring1} (ring 1): {_names(inner, n)}." if inner else f"Nobody and nothing is in ring 1 ({ring1})."
        )
        sentences.extend(_balance(current, n))
        sentences.extend(_practitioners(current, n))
        for status, words in ((Status.LOST, "Lost"), (Status.WISHED_FOR, "Hoped for")):
            these = [c for c in wmap.connections if c.status is status]
            if these:
                sentences.append(f"{words}: {_names(these, n)}.")
        sentences.extend(_ties(wmap, n))
    if wmap.time_at_home is not None:
        sentences.append(f"About {wmap.time_at_home}% of the waking day is spent at home.")
    return " ".join(sentences)


def _balance(current: Sequence[Connection], n: int | None) -> list[str]:
    good = [c for c in current if c.impact in POSITIVE]
    bad = [c for c in current if c.impact in NEGATIVE]
    mixed = [c for c in current if c.impact is Impact.MIXED]
    out = []
    if good:
        out.append(
            f"Good for wellbeing: {_names(sorted(good, key=lambda c: c.impact is not Impact.VERY_POSITIVE), n)}."
        )
    if bad:
        out.append(
            f"Harmful to wellbeing: {_names(sorted(bad, key=lambda c: c.impact is not Impact.VERY_NEGATIVE), n)}."
        )
    if mixed:
        out.append(f"Mixed: {_names(mixed, n)}.")
    if current:
        out.append(f"Balance: {len(good)} positive against {len(bad)} negative.")
    return out


def _practitioners(current: Sequence[Connection], n: int | None) -> list[str]:
    parts = []
    for c in (c for c in current if c.is_practitioner):
        roles = " and ".join(display(r).lower() for r in c.roles)
        where = "in the closest ring" if c.ring == 1 else f"in ring {c.ring}"
        parts.append(f"{_label(c, n)} ({where}{', as ' + roles if roles else ''})")
    if not parts:
        return []
    return [f"Practitioners: {'; '.join(parts)}."]


def _ties(wmap: WellbeingMap, n: int | None) -> list[str]:
    notable = [t for t in wmap.ties if t.type in (TieType.BRIDGED, TieType.SUPPORTS, TieType.MET_AT)]
    if not notable:
        return []
    order = list(_TIE_WORDS)
    notable.sort(key=lambda t: (order.index(t.type), t.id))
    by_id = {c.id: c for c in wmap.connections}
    phrases = []
    for t in notable[:MAX_NAMES]:
        a, b = by_id[t.from_id], by_id[t.to_id]
        hoped = Status.WISHED_FOR in (a.status, b.status)
        words = (_HOPED_TIE_WORDS if hoped else _TIE_WORDS)[t.type]
        phrases.append(f"{_label(a, n)} {words} {_label(b, n)}{' (hoped for)' if hoped else ''}")
    more = f" ({_count(len(notable) - MAX_NAMES, 'more tie', 'more ties')})" if len(notable) > MAX_NAMES else ""
    return [f"Ties of note: {'; '.join(phrases)}{more}."]
