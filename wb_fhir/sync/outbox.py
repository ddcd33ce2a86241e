"""The outbox: a SQLite store where every push lands before it is sent.

It holds two things:

- **items**: one transaction Bundle per pushed map, with the map id, a SHA-256 of the Bundle,
  when it was stored, its state (``pending``, ``sent``, ``failed``), the attempts made and the
  last error (scrubbed of personal data by :mod:`wb_fhir.sync.scrub`). A process killed mid-push
  loses nothing: the item is committed before anything is sent, and a Bundle of conditional
  upserts can be sent again.
- **versions**: the last version (ETag) of each resource seen on each server, by business
  identifier, so that a push can tell when someone else changed the plan (conflicts) and
  whether a resource came back unchanged.

The database runs in WAL mode; every change is one transaction.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import platformdirs

from wb_fhir.errors import InputError
from wb_fhir.sync.client import now_iso

ENV_OUTBOX = "WB_FHIR_OUTBOX"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    map_id TEXT NOT NULL,
    map_date TEXT,
    bundle TEXT NOT NULL,
    hash TEXT NOT NULL,
    created TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    updated TEXT
);
CREATE INDEX IF NOT EXISTS items_state ON items(state, id);
CREATE INDEX IF NOT EXISTS items_hash ON items(hash, state);
CREATE TABLE IF NOT EXISTS versions (
    server TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    identifier TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    version TEXT NOT NULL,
    seen TEXT NOT NULL,
    PRIMARY KEY (server, resource_type, identifier)
);
"""


class State(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True)
class Item:
    """One push waiting in (or done by) the outbox."""

    id: int
    map_id: str
    map_date: str | None
    bundle: dict[str, Any]
    hash: str
    created: str
    state: State
    attempts: int
    last_error: str | None


@dataclass(frozen=True)
class Seen:
    """The last version of a resource that this machine saw on a server."""

    resource_id: str
    version: str


def default_path() -> Path:
    """``$WB_FHIR_OUTBOX``, else ``outbox.sqlite`` in the user's data directory."""
    env = os.environ.get(ENV_OUTBOX)
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("wb-fhir")) / "outbox.sqlite"


def bundle_hash(bundle: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a Bundle."""
    text = json.dumps(bundle, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Outbox:
    """The outbox database at ``path`` (created with its folder when missing)."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise InputError(f"cannot open the outbox: {exc}", str(self.path)) from None
        self._db.row_factory = sqlite3.Row

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- items ------------------------------------------------------------------------

    def add(self, bundle: dict[str, Any], *, map_id: str, map_date: str | None) -> Item:
        """Store a Bundle to send; the same Bundle already pending is not stored twice."""
        return self.get(self.store(bundle, map_id=map_id, map_date=map_date))

    def store(self, bundle: dict[str, Any], *, map_id: str, map_date: str | None) -> int:
        """:meth:`add`, giving the item's id only (a push of many maps reads none back)."""
        digest = bundle_hash(bundle)
        with self._tx() as db:
            row = db.execute(
                "SELECT id FROM items WHERE hash = ? AND state = 'pending' ORDER BY id LIMIT 1", (digest,)
            ).fetchone()
            if row is None:
                cur = db.execute(
                    "INSERT INTO items (map_id, map_date, bundle, hash, created) VALUES (?, ?, ?, ?, ?)",
                    (map_id, map_date, json.dumps(bundle, ensure_ascii=False), digest, now_iso()),
                )
                item_id = int(cur.lastrowid or 0)
            else:
                item_id = int(row["id"])
        return item_id

    def get(self, item_id: int) -> Item:
        """One item by id."""
        row = self._db.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise InputError(f"the outbox has no item {item_id}")
        return _item(row)

    def items(self, states: Iterable[State] | None = None) -> list[Item]:
        """Items in the order they were stored, optionally only in some states."""
        if states is None:
            rows = self._db.execute("SELECT * FROM items ORDER BY id").fetchall()
        else:
            wanted = [s.value for s in states]
            marks = ",".join("?" * len(wanted))
            rows = self._db.execute(f"SELECT * FROM items WHERE state IN ({marks}) ORDER BY id", wanted).fetchall()  # noqa: S608
        return [_item(r) for r in rows]

    def pending(self) -> list[Item]:
        return self.items([State.PENDING])

    def pending_ids(self) -> list[int]:
        """The ids of the items waiting to be sent, oldest first (none read: a flush reads each in turn)."""
        return [int(r[0]) for r in self._db.execute("SELECT id FROM items WHERE state = 'pending' ORDER BY id")]

    def pending_item(self, item_id: int) -> Item | None:
        """The item, read when its turn comes; None when it is no longer pending (sent by another push)."""
        row = self._db.execute("SELECT * FROM items WHERE id = ? AND state = 'pending'", (item_id,)).fetchone()
        return _item(row) if row is not None else None

    def count(self, state: State = State.PENDING) -> int:
        """How many items are in this state."""
        return int(self._db.execute("SELECT count(*) FROM items WHERE state = ?", (state.value,)).fetchone()[0])

    def mark_sent(self, item_id: int) -> None:
        self._set(item_id, State.SENT, None, count=True)

    def mark_failed(self, item_id: int, error: str) -> None:
        """Give up on an item the server refuses (it stays until retried or dropped)."""
        self._set(item_id, State.FAILED, error, count=True)

    def mark_attempt(self, item_id: int, error: str) -> None:
        """Record a failed attempt; the item stays pending."""
        self._set(item_id, State.PENDING, error, count=True)

    def retry(self, item_ids: Iterable[int] | None = None) -> int:
        """Put failed items (all, or those named) back to pending; how many moved."""
        with self._tx() as db:
            if item_ids is None:
                cur = db.execute("UPDATE items SET state = 'pending', updated = ? WHERE state = 'failed'", (now_iso(),))
                return cur.rowcount
            moved = 0
            for i in item_ids:
                self._exists(db, i)
                moved += db.execute(
                    "UPDATE items SET state = 'pending', updated = ? WHERE id = ? AND state = 'failed'", (now_iso(), i)
                ).rowcount
            return moved

    def drop(self, item_ids: Iterable[int]) -> int:
        """Delete items for good; how many went."""
        with self._tx() as db:
            dropped = 0
            for i in item_ids:
                self._exists(db, i)
                dropped += db.execute("DELETE FROM items WHERE id = ?", (i,)).rowcount
            return dropped

    def _exists(self, db: sqlite3.Connection, item_id: int) -> None:
        if db.execute("SELECT 1 FROM items WHERE id = ?", (item_id,)).fetchone() is None:
            raise InputError(f"the outbox has no item {item_id}")

    def _set(self, item_id: int, state: State, error: str | None, *, count: bool) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE items SET state = ?, last_error = ?, attempts = attempts + ?, updated = ? WHERE id = ?",
                (state.value, error, 1 if count else 0, now_iso(), item_id),
            )

    # --- versions seen -----------------------------------------------------------------

    def seen(self, server: str, resource_type: str, identifier: str) -> Seen | None:
        """The version of a resource (by ``system|value``) last seen on a server."""
        row = self._db.execute(
            "SELECT resource_id, version FROM versions WHERE server = ? AND resource_type = ? AND identifier = ?",
            (server, resource_type, identifier),
        ).fetchone()
        return Seen(row["resource_id"], row["version"]) if row else None

    def record_seen(self, server: str, seen: Iterable[tuple[str, str, str, str]]) -> None:
        """Remember versions: (resource type, ``system|value``, resource id, version) each."""
        stamp = now_iso()
        with self._tx() as db:
            db.executemany(
                "INSERT INTO versions (server, resource_type, identifier, resource_id, version, seen) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (server, resource_type, identifier) DO UPDATE SET "
                "resource_id = excluded.resource_id, version = excluded.version, seen = excluded.seen",
                [(server, t, i, r, v, stamp) for t, i, r, v in seen],
            )


def _item(row: sqlite3.Row) -> Item:
    return Item(
        id=int(row["id"]),
        map_id=row["map_id"],
        map_date=row["map_date"],
        bundle=json.loads(row["bundle"]),
        hash=row["hash"],
        created=row["created"],
        state=State(row["state"]),
        attempts=int(row["attempts"]),
        last_error=row["last_error"],
    )
