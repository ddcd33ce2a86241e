"""The community asset directory as the web app sees it: load once, search by words.

All use of ``wb_fhir.assets`` by the web app is in this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from wb_fhir.assets import load_assets

MAX_RESULTS = 20


@dataclass(frozen=True)
class AssetView:
    """One community asset, in the words shown to people."""

    id: str
    name: str
    category: str
    details: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "category": self.category, "details": list(self.details)}


@dataclass(frozen=True)
class Directory:
    """The assets of one directory file (empty when the app has none)."""

    assets: tuple[AssetView, ...] = ()

    @property
    def ids(self) -> frozenset[str] | None:
        """The asset ids to check sign-posts against (None: no directory, nothing to check)."""
        return frozenset(a.id for a in self.assets) if self.assets else None

    def name(self, asset_id: str) -> str:
        """The asset's name, or its id when the directory does not know it."""
        return next((a.name for a in self.assets if a.id == asset_id), asset_id)

    def search(self, text: str) -> list[AssetView]:
        """Assets whose words contain every word of ``text`` (all of them for no text)."""
        words = text.casefold().split()
        found = []
        for asset in self.assets:
            haystack = " ".join((asset.id, asset.name, asset.category, *asset.details)).casefold()
            if all(w in haystack for w in words):
                found.append(asset)
        return found[:MAX_RESULTS]


def load_directory(path: Path | None) -> Directory:
    """The directory at ``path`` (an InputError when it has problems), or an empty one."""
    if path is None:
        return Directory()
    directory = load_assets(path)
    return Directory(
        tuple(
            AssetView(
                a.id,
                a.name,
                a.category.replace("-", " "),
                tuple(d for d in (*(p.address for p in a.places), a.contact, a.access, a.transport, a.notes) if d),
            )
            for a in directory.assets
        )
    )
