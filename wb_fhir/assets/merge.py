"""Bring an import into a directory: added, updated, unchanged, withdrawn (pure).

An import is idempotent: the asset ids are stable (``PREFIX-service id``), an asset whose
content did not change stays as it is, a changed one is replaced, and an asset of the same
feed (same prefix) that the feed no longer lists is withdrawn: kept, but inactive, so that
sign-posts to it still show its name. Give each feed its own prefix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from wb_fhir.assets.model import Asset, AssetDirectory


@dataclass(frozen=True)
class ImportResult:
    """The directory after an import, and what the import did (asset ids)."""

    directory: AssetDirectory
    added: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]
    withdrawn: tuple[str, ...]

    @property
    def changed(self) -> tuple[Asset, ...]:
        """The assets to write: added, updated and withdrawn ones."""
        wanted = {*self.added, *self.updated, *self.withdrawn}
        return tuple(a for a in self.directory if a.id in wanted)


def of_feed(asset: Asset, system: str, prefix: str) -> bool:
    """True when an asset came from this feed (its source system, and an id with the feed's prefix)."""
    return asset.source is not None and asset.source.system == system and asset.id.startswith(f"{prefix}-")


def merge_import(directory: AssetDirectory, imported: Sequence[Asset], *, system: str, prefix: str) -> ImportResult:
    """The directory with ``imported`` brought in (see the module's docstring)."""
    incoming = {a.id: a for a in imported}
    added: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    withdrawn: list[str] = []
    out: list[Asset] = []
    for old in directory:
        new = incoming.pop(old.id, None)
        if new is not None:
            (unchanged if new == old else updated).append(old.id)
            out.append(new)
        elif of_feed(old, system, prefix) and old.active:
            withdrawn.append(old.id)
            out.append(replace(old, active=False))
        else:
            out.append(old)
    for new in incoming.values():
        added.append(new.id)
        out.append(new)
    return ImportResult(AssetDirectory(tuple(out)), tuple(added), tuple(updated), tuple(unchanged), tuple(withdrawn))
