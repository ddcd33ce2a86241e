"""The community asset directory as the web app sees it: loaded once, searched by the library.

The sign-post search is :func:`wb_fhir.assets.search.search` with the words typed, as
``wb-fhir assets search --text`` runs it (withdrawn assets left out, every word matched at the
start of a word, accents and case aside, by name); names and categories are the library's too.
All use of ``wb_fhir.assets`` by the web app is in this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from wb_fhir.assets import Asset, AssetDirectory, load_assets
from wb_fhir.assets.search import Query, search
from wb_fhir.terminology import display

MAX_RESULTS = 20


@dataclass(frozen=True)
class AssetView:
    """One community asset, in the words shown to people."""

    id: str
    name: str
    category: str
    details: tuple[str, ...]

    @classmethod
    def of(cls, asset: Asset) -> AssetView:
        place = asset.places[0] if asset.places else None
        where = ", ".join(dict.fromkeys(x for x in (place.name, place.address, place.town) if x)) if place else ""
        details = (where, asset.contact, asset.access, asset.transport, asset.notes)
        return cls(
            asset.id,
            asset.name,
            ", ".join(display(c) for c in asset.categories),
            tuple(d for d in details if d),
        )

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "category": self.category, "details": list(self.details)}


@dataclass(frozen=True)
class Directory:
    """The assets of one directory file (empty when the app has none)."""

    assets: AssetDirectory = field(default_factory=lambda: AssetDirectory(()))

    @property
    def ids(self) -> frozenset[str] | None:
        """The asset ids to check sign-posts against (None: no directory, nothing to check)."""
        return self.assets.ids if len(self.assets) else None

    def names(self, data: object) -> dict[str, str]:
        """``{asset id: name}`` of the assets a draft's sign-posts point to (checked or not)."""
        signposts = data.get("signposts") if isinstance(data, dict) else None
        wanted = {s.get("asset") for s in signposts if isinstance(s, dict)} if isinstance(signposts, list) else set()
        known = self.assets.names
        return {a: known[a] for a in wanted if isinstance(a, str) and a in known}

    def search(self, text: str) -> list[AssetView]:
        """The assets ``wb-fhir assets search --text TEXT`` finds (all of them for no text), the first 20."""
        return [AssetView.of(hit.asset) for hit in search(self.assets, Query(text=text))[:MAX_RESULTS]]


def load_directory(path: Path | None) -> Directory:
    """The directory at ``path`` (an InputError when it has problems), or an empty one."""
    return Directory(load_assets(path)) if path is not None else Directory()
