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

The database runs in WAL mode; every change is one transaction. It is private: its folder is
made 0700 and the file 0600 whatever the umask (:mod:`wb_fhir.sync.private_files`).

Damage is contained. A row that cannot be read back (its Bundle is not JSON, its state is
unknown) is *quarantined* when a flush meets it: kept, never sent, reported, and the rest is
sent. :meth:`Outbox.check` looks at everything (SQLite's integrity check, every row, every
Bundle against its hash); :func:`repair` quarantines what is unreadable, and a damaged database
file is moved aside (renamed, never deleted) for a new one holding whatever could still be read.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import quote

import platformdirs

from wb_fhir.errors import InputError
from wb_fhir.sync.client import now_iso
from wb_fhir.sync.private_files import database_error, move_aside, open_private_sqlite

ENV_OUTBOX = "WB_FHIR_OUTBOX"
WHAT = "the outbox"
DAMAGED = "outbox_damaged"
"""The setting an error about a damaged outbox names (the command line advises ``outbox check --repair``)."""
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
    QUARANTINED = "quarantined"
    """Unreadable as stored: kept for a person to look at, never sent."""


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
class Quarantined:
    """A row that could not be read back, and why."""

    id: int
    reason: str


@dataclass(frozen=True)
class Health:
    """What :meth:`Outbox.check` found."""

    path: Path
    counts: dict[str, int]
    """Items per state."""
    integrity: list[str] = field(default_factory=list)
    """What SQLite's integrity check reports (empty: the file is sound)."""
    unreadable: list[Quarantined] = field(default_factory=list)
    """Rows that cannot be sent as they are, not quarantined yet."""
    quarantined: list[Quarantined] = field(default_factory=list)
    """Rows set aside already (they stay until dropped)."""

    @property
    def ok(self) -> bool:
        """Nothing to repair (quarantined rows are known and harmless)."""
        return not self.integrity and not self.unreadable


@dataclass(frozen=True)
class Repair:
    """What :func:`repair` did."""

    quarantined: list[Quarantined] = field(default_factory=list)
    moved_to: Path | None = None
    """Where a damaged database file went (None: it was sound enough to keep)."""
    items: int = 0
    versions: int = 0
    """Items and version records read back from the damaged file into the new outbox."""


class _Unreadable(Exception):
    """A row that cannot be read back as an Item."""


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
    """The outbox database at ``path`` (created private, with its folder, when missing).

    Every failure of the database is an :class:`~wb_fhir.errors.InputError` saying what is
    wrong (damaged, read-only); ``quarantined`` lists the rows this instance quarantined.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.quarantined: list[Quarantined] = []
        self._db = open_private_sqlite(self.path, what=WHAT, setting=DAMAGED)
        with self._sql():
            self._db.executescript(_SCHEMA)
        self._db.row_factory = sqlite3.Row

    @contextmanager
    def _sql(self) -> Iterator[None]:
        """SQLite's errors as messages about the outbox."""
        try:
            yield
        except sqlite3.Error as exc:
            raise database_error(exc, WHAT, self.path, DAMAGED) from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._sql():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _rows(self, query: str, args: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._sql():
            return list(self._db.execute(query, tuple(args)).fetchall())

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
        """One item by id (an unreadable one comes as quarantined, its Bundle empty)."""
        rows = self._rows("SELECT * FROM items WHERE id = ?", (item_id,))
        if not rows:
            raise InputError(f"the outbox has no item {item_id}")
        return _item_or_quarantined(rows[0])

    def items(self, states: Iterable[State] | None = None) -> list[Item]:
        """Items in the order they were stored, optionally only in some states.

        A row that cannot be read back comes as a quarantined item with an empty Bundle and
        the reason as its last error (nothing is written: listing works on a read-only outbox).
        """
        if states is None:
            rows = self._rows("SELECT * FROM items ORDER BY id")
        else:
            wanted = [s.value for s in states]
            marks = ",".join("?" * len(wanted))
            rows = self._rows(f"SELECT * FROM items WHERE state IN ({marks}) ORDER BY id", wanted)  # noqa: S608
        found = [_item_or_quarantined(r) for r in rows]
        return [i for i in found if states is None or i.state in wanted]

    def pending(self) -> list[Item]:
        """Items waiting to be sent, oldest first; unreadable ones are quarantined on the way (see ``quarantined``)."""
        good: list[Item] = []
        for row in self._rows("SELECT * FROM items WHERE state = 'pending' ORDER BY id"):
            try:
                good.append(_item(row))
            except _Unreadable as exc:
                self.quarantine(int(row["id"]), str(exc))
        return good

    def quarantine(self, item_id: int, reason: str) -> None:
        """Set an item aside for good: never sent, kept for a person to look at (``outbox drop`` forgets it)."""
        with self._tx() as db:
            db.execute(
                "UPDATE items SET state = 'quarantined', last_error = ?, updated = ? WHERE id = ?",
                (f"quarantined: {reason}", now_iso(), item_id),
            )
        self.quarantined.append(Quarantined(item_id, reason))

    def check(self) -> Health:
        """Look at everything: SQLite's integrity check, every row, every Bundle against its hash."""
        integrity = [str(r[0]) for r in self._rows("PRAGMA integrity_check")]
        integrity = [] if integrity == ["ok"] else integrity
        counts: dict[str, int] = {}
        unreadable: list[Quarantined] = []
        quarantined: list[Quarantined] = []
        for row in self._rows("SELECT * FROM items ORDER BY id"):
            state = str(row["state"])
            counts[state] = counts.get(state, 0) + 1
            if state == State.QUARANTINED:
                quarantined.append(
                    Quarantined(int(row["id"]), str(row["last_error"] or "").removeprefix("quarantined: "))
                )
                continue
            try:
                item = _item(row)
            except _Unreadable as exc:
                unreadable.append(Quarantined(int(row["id"]), str(exc)))
                continue
            if item.state is not State.SENT and bundle_hash(item.bundle) != item.hash:
                unreadable.append(Quarantined(item.id, "the stored Bundle is not the one pushed (its hash differs)"))
        return Health(self.path, counts, integrity, unreadable, quarantined)

    def pending_ids(self) -> list[int]:
        """The ids of the items waiting to be sent, oldest first (none read: a flush reads each in turn)."""
        return [int(r[0]) for r in self._rows("SELECT id FROM items WHERE state = 'pending' ORDER BY id")]

    def pending_item(self, item_id: int) -> Item | None:
        """The item, read when its turn comes; None when it is no longer pending (sent by another
        push) or cannot be read back (then it is quarantined on the way, as :meth:`pending` does)."""
        rows = self._rows("SELECT * FROM items WHERE id = ? AND state = 'pending'", (item_id,))
        if not rows:
            return None
        try:
            return _item(rows[0])
        except _Unreadable as exc:
            self.quarantine(item_id, str(exc))
            return None

    def count(self, state: State = State.PENDING) -> int:
        """How many items are in this state."""
        return int(self._rows("SELECT count(*) FROM items WHERE state = ?", (state.value,))[0][0])

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
        rows = self._rows(
            "SELECT resource_id, version FROM versions WHERE server = ? AND resource_type = ? AND identifier = ?",
            (server, resource_type, identifier),
        )
        return Seen(str(rows[0]["resource_id"]), str(rows[0]["version"])) if rows else None

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
    """The item a row holds; :class:`_Unreadable` saying why when it cannot be read back."""
    try:
        bundle = json.loads(row["bundle"])
    except (TypeError, ValueError, RecursionError) as exc:
        raise _Unreadable(f"the stored Bundle is not JSON ({str(exc)[:80]})") from None
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise _Unreadable("the stored Bundle is not a FHIR Bundle")
    try:
        state = State(row["state"])
        attempts = int(row["attempts"])
    except (TypeError, ValueError):
        raise _Unreadable(f"the stored state is unknown ({str(row['state'])[:20]!r})") from None
    return Item(
        id=int(row["id"]),
        map_id=str(row["map_id"]),
        map_date=row["map_date"],
        bundle=bundle,
        hash=str(row["hash"]),
        created=str(row["created"]),
        state=state,
        attempts=attempts,
        last_error=row["last_error"],
    )


def _item_or_quarantined(row: sqlite3.Row) -> Item:
    try:
        return _item(row)
    except _Unreadable as exc:
        attempts = row["attempts"]
        return Item(
            id=int(row["id"]),
            map_id=str(row["map_id"]),
            map_date=row["map_date"] if isinstance(row["map_date"], str) else None,
            bundle={},
            hash=str(row["hash"]),
            created=str(row["created"]),
            state=State.QUARANTINED,
            attempts=attempts if isinstance(attempts, int) else 0,
            last_error=f"quarantined: {exc}",
        )


def repair(path: str | Path | None = None) -> Repair:
    """Make the outbox usable again, losing nothing.

    Unreadable rows are quarantined. A database file SQLite finds damaged is moved aside
    (:func:`~wb_fhir.sync.private_files.move_aside`) and a new outbox made at ``path`` with
    every item and version record that can still be read from it.
    """
    path = Path(path) if path is not None else default_path()
    try:
        with Outbox(path) as box:
            health = box.check()
            if not health.integrity:
                for bad in health.unreadable:
                    box.quarantine(bad.id, bad.reason)
                return Repair(quarantined=box.quarantined)
    except InputError as exc:
        if exc.setting != DAMAGED:
            raise
    aside = move_aside(path)
    items, versions = _salvage(aside)
    with Outbox(path) as box, box._tx() as db:
        db.executemany(
            "INSERT OR IGNORE INTO items "
            "(id, map_id, map_date, bundle, hash, created, state, attempts, last_error, updated) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            items,
        )
        db.executemany(
            "INSERT OR IGNORE INTO versions (server, resource_type, identifier, resource_id, version, seen) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            versions,
        )
    return Repair(moved_to=aside, items=len(items), versions=len(versions))


_ITEMS = "SELECT id, map_id, map_date, bundle, hash, created, state, attempts, last_error, updated FROM items"
_VERSIONS = "SELECT server, resource_type, identifier, resource_id, version, seen FROM versions"


def _salvage(damaged: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every row that can still be read from a damaged outbox (read forwards, then backwards, around the damage)."""
    try:
        db = sqlite3.connect(f"file:{quote(str(damaged))}?mode=ro", uri=True)
    except sqlite3.Error:
        return [], []
    try:
        items = _readable(db, (f"{_ITEMS} ORDER BY id", f"{_ITEMS} ORDER BY id DESC"))
        versions = _readable(db, (f"{_VERSIONS} ORDER BY rowid", f"{_VERSIONS} ORDER BY rowid DESC"))
    finally:
        db.close()
    return items, versions


def _readable(db: sqlite3.Connection, queries: Iterable[str]) -> list[tuple[Any, ...]]:
    found: dict[tuple[Any, ...], None] = {}  # an ordered set: a row read both ways is one
    for query in queries:
        try:
            for row in db.execute(query):
                found.setdefault(tuple(row))
        except sqlite3.Error:
            continue  # read as far as the damage; the other direction reads from the other end
    return list(found)
