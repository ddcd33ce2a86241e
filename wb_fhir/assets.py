"""The community asset directory: the local knowledge bank that sign-posts point into.

A directory file is YAML or JSON: ``assets: [{id, name, category, address, contact,
access, transport, url, notes}]``; ``id`` and ``name`` are required.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wb_fhir.errors import InputError, Problem

ASSET_CATEGORIES = (
    "library",
    "sports-centre",
    "book-club",
    "faith-group",
    "volunteering",
    "peer-support",
    "learning",
    "arts",
    "outdoors",
    "employment",
    "advice",
    "other",
)
_FIELDS = ("id", "name", "category", "address", "contact", "access", "transport", "url", "notes")


@dataclass(frozen=True)
class Asset:
    """One entry of the community asset directory."""

    id: str
    name: str
    category: str = "other"
    address: str | None = None
    contact: str | None = None
    access: str | None = None
    transport: str | None = None
    url: str | None = None
    notes: str | None = None


@dataclass(frozen=True)
class AssetDirectory:
    """The local knowledge bank of community assets."""

    assets: tuple[Asset, ...]

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(a.id for a in self.assets)

    def get(self, asset_id: str) -> Asset | None:
        return next((a for a in self.assets if a.id == asset_id), None)


def assets_from_data(data: Any, source: str | None = None) -> AssetDirectory:
    """Check plain data and build the directory, or raise InputError with every problem."""
    problems: list[Problem] = []
    if not isinstance(data, dict) or not isinstance(data.get("assets"), list):
        raise InputError("an asset directory holds 'assets:', a list of assets", source)
    unknown = sorted(set(data) - {"assets"})
    problems += [Problem(key, "unknown key (allowed here: assets)") for key in unknown]
    assets: list[Asset] = []
    seen: set[str] = set()
    for i, item in enumerate(data["assets"]):
        at = f"assets[{i}]"
        if not isinstance(item, dict):
            problems.append(Problem(at, "must be a mapping of keys to values"))
            continue
        for key in sorted(set(item) - set(_FIELDS)):
            problems.append(Problem(f"{at}.{key}", f"unknown key (allowed here: {', '.join(_FIELDS)})"))
        for key in ("id", "name"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                problems.append(Problem(f"{at}.{key}", "is required text"))
        for key in _FIELDS[2:]:
            if key in item and not isinstance(item[key], str):
                problems.append(Problem(f"{at}.{key}", "must be text"))
        category = item.get("category", "other")
        if category not in ASSET_CATEGORIES:
            problems.append(Problem(f"{at}.category", f"{category!r} is not one of: {', '.join(ASSET_CATEGORIES)}"))
        if isinstance(item.get("id"), str):
            if item["id"] in seen:
                problems.append(Problem(f"{at}.id", f"{item['id']!r} is used by another asset"))
            seen.add(item["id"])
        if not problems:
            assets.append(Asset(**{k: item[k] for k in _FIELDS if k in item}))
    if problems:
        raise InputError(problems, source)
    return AssetDirectory(tuple(assets))


def load_assets(path: str | Path) -> AssetDirectory:
    """Read and check a community asset directory file."""
    from wb_fhir.mapfile import load_data

    return assets_from_data(load_data(path), str(path))


def is_asset_directory(data: Any) -> bool:
    """True when plain data looks like an asset directory rather than a map."""
    return isinstance(data, dict) and "assets" in data and "subject" not in data
