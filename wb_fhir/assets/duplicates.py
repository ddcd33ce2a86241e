"""Likely duplicates in the asset bank: the same group entered twice, under nearly the same name.

Two entries are likely the same when their names are the same once case, punctuation and
small words are set aside, or nearly the same (a similarity ratio of 0.85) at the same postcode
or within 200 m, or when they share a website or phone number and their names are alike.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

from wb_fhir.assets.model import Asset
from wb_fhir.assets.search import distance_km

SIMILAR = 0.85
ALIKE = 0.6
NEAR_KM = 0.2
_SMALL_WORDS = frozenset({"the", "a", "an", "and", "of", "for", "at", "in", "on", "group", "club"})


@dataclass(frozen=True)
class Duplicate:
    """An entry that is likely the same as another, and why."""

    asset: Asset
    reason: str


def normal_name(name: str) -> str:
    """A name without case, accents, punctuation and small words: ``The Book Club!`` -> ``book``."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    words = [w for w in re.findall(r"[a-z0-9]+", text) if w not in _SMALL_WORDS]
    return " ".join(words) or text.strip()


def _postcodes(asset: Asset) -> set[str]:
    return {re.sub(r"\s+", "", p.postcode.upper()) for p in asset.places if p.postcode}


def _url(url: str | None) -> str | None:
    return re.sub(r"^https?://(www\.)?", "", url.casefold()).rstrip("/") if url else None


def _phone(phone: str | None) -> str | None:
    digits = re.sub(r"\D", "", phone or "")
    return digits[-10:] if len(digits) >= 10 else None


def why_alike(a: Asset, b: Asset) -> str | None:
    """Why ``a`` and ``b`` are likely the same entry, or None."""
    name_a, name_b = normal_name(a.name), normal_name(b.name)
    if name_a == name_b:
        return "the same name"
    ratio = SequenceMatcher(None, name_a, name_b).ratio()
    if ratio >= SIMILAR:
        if _postcodes(a) & _postcodes(b):
            return "a similar name at the same postcode"
        close = [distance_km(p, q) for p in a.positions for q in b.positions]
        if close and min(close) <= NEAR_KM:
            return f"a similar name {min(close) * 1000:.0f} m away"
        if not a.places and not b.places:
            return "a similar name"
    if ratio >= ALIKE:
        if _url(a.url) and _url(a.url) == _url(b.url):
            return "the same website and a similar name"
        if _phone(a.phone) and _phone(a.phone) == _phone(b.phone):
            return "the same phone number and a similar name"
    return None


def likely_duplicates(asset: Asset, others: Iterable[Asset]) -> list[Duplicate]:
    """The entries of ``others`` (not the asset itself) that are likely the same as ``asset``."""
    out = []
    for other in others:
        if other.id == asset.id:
            continue
        reason = why_alike(asset, other)
        if reason is not None:
            out.append(Duplicate(other, reason))
    return out
