"""Find assets: by category, words, distance from a point, the day they are open, and cost (pure).

A :class:`Query` is a small immutable value; :func:`search` applies it to assets from any
source (the local directory, or a FHIR server's, see :mod:`wb_fhir.assets.server`), so both
give the same answer for the same assets. Withdrawn (inactive) assets are left out unless asked.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from wb_fhir.assets.model import Asset
from wb_fhir.errors import InputError
from wb_fhir.terminology import DAYS_OF_WEEK, AssetCategory

EARTH_RADIUS_KM = 6371.0088
DEFAULT_WITHIN_KM = 5.0


@dataclass(frozen=True)
class Query:
    """What to look for; every part given must hold (AND)."""

    category: AssetCategory | None = None
    text: str | None = None
    """Words that must all appear (in the name, description, types, organisation, area...)."""
    near: tuple[float, float] | None = None
    within_km: float = DEFAULT_WITHIN_KM
    open_on: str | None = None
    """A day of the week (``mon``...``sun``)."""
    free: bool = False
    include_inactive: bool = False

    def __post_init__(self) -> None:
        if self.open_on is not None and self.open_on not in DAYS_OF_WEEK:
            raise InputError(f"{self.open_on!r} is not a day of the week ({', '.join(DAYS_OF_WEEK)})")
        if self.within_km <= 0:
            raise InputError("the distance must be more than 0 km")
        if self.near is not None:
            lat, lon = self.near
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise InputError(f"{lat},{lon} is not a position on Earth (latitude -90..90, longitude -180..180)")

    @property
    def words(self) -> list[str]:
        return _words(self.text or "")


@dataclass(frozen=True)
class Hit:
    """An asset that matches, and how far its nearest place is (when searching near a point)."""

    asset: Asset
    distance_km: float | None = None


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in km between two (latitude, longitude) points (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def parse_point(text: str) -> tuple[float, float]:
    """``"50.37,-4.14"`` as (latitude, longitude)."""
    parts = [p.strip() for p in text.split(",")]
    try:
        if len(parts) != 2:
            raise ValueError
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise InputError(f"{text!r} is not a position: give LAT,LON in degrees, e.g. 50.3715,-4.1427") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InputError(f"{text!r} is not a position on Earth (latitude -90..90, longitude -180..180)")
    return lat, lon


def fold(text: str) -> str:
    """Text without case or accents, for matching."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9£]+", fold(text))


def searchable_text(asset: Asset) -> str:
    """Everything a word search looks at, folded (no case, no accents)."""
    parts = [
        asset.name,
        asset.description,
        *asset.types,
        asset.organisation.name if asset.organisation else None,
        asset.area,
        asset.eligibility,
        asset.notes,
        asset.cost,
        asset.access,
        *(p.name for p in asset.places),
        *(p.address for p in asset.places),
        *(p.town for p in asset.places),
        *(p.postcode for p in asset.places),
    ]
    return " ".join(fold(p) for p in parts if p)


def match(asset: Asset, query: Query) -> Hit | None:
    """The hit when ``asset`` meets every part of ``query``, else None."""
    if not asset.active and not query.include_inactive:
        return None
    if query.category is not None and query.category not in asset.categories:
        return None
    if query.free and asset.free is not True:
        return None
    if query.open_on is not None and not asset.open_on(query.open_on):
        return None
    if query.words:
        haystack = set(_words(searchable_text(asset)))
        if not all(any(h.startswith(w) for h in haystack) for w in query.words):
            return None
    distance = None
    if query.near is not None:
        distances = [distance_km(query.near, p) for p in asset.positions]
        if not distances or min(distances) > query.within_km:
            return None
        distance = min(distances)
    return Hit(asset, distance)


def search(assets: Iterable[Asset], query: Query) -> list[Hit]:
    """The assets that match, nearest first when searching near a point, else by name."""
    hits = [h for h in (match(a, query) for a in assets) if h is not None]
    if query.near is not None:
        return sorted(hits, key=lambda h: (h.distance_km or 0.0, h.asset.name.casefold()))
    return sorted(hits, key=lambda h: (h.asset.name.casefold(), h.asset.id))
