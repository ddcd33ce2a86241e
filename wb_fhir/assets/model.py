"""The community asset bank as frozen, typed values: assets, their places, opening times.

An :class:`Asset` is one entry of the local knowledge bank (a group, a service, a place)
that sign-posts point into. Build them from files with :mod:`wb_fhir.assets.directory`, from
Open Referral UK with :mod:`wb_fhir.assets.oruk`, or from FHIR with :mod:`wb_fhir.fhir.assets`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, time

from wb_fhir.terminology import DAYS_OF_WEEK, AssetCategory


@dataclass(frozen=True)
class Opening:
    """Regular opening: on ``days`` (``mon``...``sun``), from ``opens`` to ``closes`` (both None: all day)."""

    days: tuple[str, ...]
    opens: time | None = None
    closes: time | None = None

    def __post_init__(self) -> None:
        if not self.days or any(d not in DAYS_OF_WEEK for d in self.days):
            raise ValueError(f"days must be among {', '.join(DAYS_OF_WEEK)}")
        if (self.opens is None) != (self.closes is None):
            raise ValueError("give both the opening and the closing time, or neither")

    @property
    def all_day(self) -> bool:
        return self.opens is None


@dataclass(frozen=True)
class Place:
    """Where an asset is (one of its places): a name, an address, a position."""

    id: str = "main"
    name: str | None = None
    address: str | None = None
    """The street address in one line, as people write it (``Central Library, High Street``)."""
    town: str | None = None
    postcode: str | None = None
    latitude: float | None = None
    longitude: float | None = None

    @property
    def position(self) -> tuple[float, float] | None:
        if self.latitude is None or self.longitude is None:
            return None
        return (self.latitude, self.longitude)


@dataclass(frozen=True)
class Organisation:
    """The organisation that runs an asset."""

    id: str
    name: str
    url: str | None = None
    email: str | None = None
    phone: str | None = None
    identifiers: tuple[tuple[str, str], ...] = ()
    """(scheme, value): ``GB-CHC`` a registered charity, ``GB-COH`` a company, ``ODS`` an NHS organisation."""


@dataclass(frozen=True)
class Source:
    """Where an imported asset came from: the system, its id there, when the source last changed it."""

    system: str
    id: str
    modified: str | None = None


@dataclass(frozen=True)
class Asset:
    """One entry of the community asset bank."""

    id: str
    name: str
    categories: tuple[AssetCategory, ...] = (AssetCategory.OTHER,)
    description: str | None = None
    types: tuple[str, ...] = ()
    """Kinds of service in the words of the source's taxonomy (``Befriending``, ``Walking groups``)."""
    organisation: Organisation | None = None
    places: tuple[Place, ...] = ()
    area: str | None = None
    """The area served (``Plymouth``, ``Devon``)."""
    contact: str | None = None
    """How to get in touch, in words (``Ask at the front desk``)."""
    phone: str | None = None
    email: str | None = None
    url: str | None = None
    opening: tuple[Opening, ...] = ()
    opening_notes: str | None = None
    free: bool | None = None
    """True: free; False: it costs something; None: not known."""
    cost: str | None = None
    eligibility: str | None = None
    access: str | None = None
    """Accessibility: step-free access, hearing loop, quiet room..."""
    transport: str | None = None
    notes: str | None = None
    checked: date | None = None
    """When the entry was last checked to be right."""
    active: bool = True
    """False: withdrawn, closed or no longer offered."""
    source: Source | None = None
    added_by: str | None = None
    added_on: date | None = None

    def __post_init__(self) -> None:
        if not self.categories:
            raise ValueError("an asset has at least one category")

    @property
    def category(self) -> AssetCategory:
        """The main category (the first)."""
        return self.categories[0]

    @property
    def positions(self) -> list[tuple[float, float]]:
        """The positions of its places that have one."""
        return [p.position for p in self.places if p.position is not None]

    def open_on(self, day: str) -> bool:
        """True when a regular opening falls on ``day`` (``mon``...``sun``)."""
        return any(day in o.days for o in self.opening)


@dataclass(frozen=True)
class AssetDirectory:
    """The local knowledge bank of community assets."""

    assets: tuple[Asset, ...]

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(a.id for a in self.assets)

    @property
    def names(self) -> Mapping[str, str]:
        """``{asset id: name}``, to show an asset by its name."""
        return {a.id: a.name for a in self.assets}

    def get(self, asset_id: str) -> Asset | None:
        return next((a for a in self.assets if a.id == asset_id), None)

    def __iter__(self) -> Iterator[Asset]:
        return iter(self.assets)

    def __len__(self) -> int:
        return len(self.assets)
