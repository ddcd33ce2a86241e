"""The web app's own store: maps, every saved version, and the draft being edited (SQLite).

A *record* is one map as the app knows it, with a local id of its own (the map's FHIR identity
follows from the person and the date, which may change while it is drafted). Each save adds a
*version* (the map file data, checked); the *draft* is whatever the editor holds now, checked
or not, with the editor's revision number so that the newest copy wins after a reload.

The database sits beside the outbox by default, runs in WAL mode, and is readable by its owner
only: it holds mental health information.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wb_fhir.errors import InputError
from wb_fhir.sync.private_files import database_error, open_private_sqlite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY,
    person TEXT NOT NULL,
    person_display TEXT,
    map_date TEXT,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_person ON records(person, map_date);
CREATE TABLE IF NOT EXISTS versions (
    record_id TEXT NOT NULL REFERENCES records(id),
    n INTEGER NOT NULL,
    data TEXT NOT NULL,
    saved TEXT NOT NULL,
    origin TEXT NOT NULL DEFAULT 'saved',
    PRIMARY KEY (record_id, n)
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS drafts (
    record_id TEXT PRIMARY KEY REFERENCES records(id),
    data TEXT NOT NULL,
    rev INTEGER NOT NULL,
    updated TEXT NOT NULL
);
"""
NEW_PERSON = "new"
"""Person key of a record whose person is not known yet (a blank draft)."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Record:
    """One map as the app knows it."""

    id: str
    person: str
    person_display: str | None
    map_date: str | None
    created: str
    updated: str
    versions: int


@dataclass(frozen=True)
class Version:
    """One saved version of a record's map (``data`` in the map file's shape)."""

    record_id: str
    n: int
    data: dict[str, Any]
    saved: str
    origin: str


@dataclass(frozen=True)
class Draft:
    """What the editor holds now, with the editor's revision number."""

    record_id: str
    data: dict[str, Any]
    rev: int
    updated: str


def person_key(data: Any) -> str:
    """The person a map's data is about (``nhs:...`` or ``fhir:...``), or :data:`NEW_PERSON`."""
    subject = data.get("subject") if isinstance(data, dict) else None
    if isinstance(subject, dict):
        if isinstance(subject.get("nhs_number"), str) and subject["nhs_number"].strip():
            return f"nhs:{subject['nhs_number'].replace(' ', '')}"
        if isinstance(subject.get("fhir_id"), str) and subject["fhir_id"].strip():
            return f"fhir:{subject['fhir_id'].strip()}"
    return NEW_PERSON


def _display(data: Any) -> str | None:
    subject = data.get("subject") if isinstance(data, dict) else None
    value = subject.get("display") if isinstance(subject, dict) else None
    return value if isinstance(value, str) and value.strip() else None


def _date(data: Any) -> str | None:
    value = data.get("date") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


class MapStore:
    """The SQLite store at ``path`` (created, with its folder, when missing)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        # Private whatever the umask: folder 0700, file 0600 (as the outbox).
        self._db = open_private_sqlite(self.path, what="the map store", check_same_thread=False)
        try:
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise database_error(exc, "the map store", self.path) from None
        self._db.row_factory = sqlite3.Row
        self._salt = self._meta_salt()

    def _meta_salt(self) -> bytes:
        with self._tx() as db:
            db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('salt', ?)", (secrets.token_hex(16),))
            return bytes.fromhex(db.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()[0])

    def handle(self, person: str) -> str:
        """An opaque name for a person, for page addresses (no NHS number in a URL or a log)."""
        return hmac.new(self._salt, person.encode(), hashlib.sha256).hexdigest()[:20]

    def person_of(self, handle: str) -> str | None:
        """The person a handle names, if they have maps here."""
        return next((key for key, _, _ in self.people() if hmac.compare_digest(self.handle(key), handle)), None)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        # One connection, used by the event loop and by worker threads (a pull): one at a time.
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _rows(self, query: str, args: tuple[str, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(query, args).fetchall()

    # --- records -----------------------------------------------------------------------

    def create(self, data: dict[str, Any]) -> Record:
        """A new record whose draft is ``data`` (nothing saved yet)."""
        record_id = secrets.token_hex(8)
        stamp = _now()
        with self._tx() as db:
            db.execute(
                "INSERT INTO records (id, person, person_display, map_date, created, updated) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (record_id, person_key(data), _display(data), _date(data), stamp, stamp),
            )
            db.execute(
                "INSERT INTO drafts (record_id, data, rev, updated) VALUES (?, ?, 0, ?)",
                (record_id, json.dumps(data, ensure_ascii=False), stamp),
            )
        return self.record(record_id)

    def record(self, record_id: str) -> Record:
        """One record by id (InputError when there is none)."""
        rows = self._rows(
            "SELECT r.*, (SELECT COUNT(*) FROM versions v WHERE v.record_id = r.id) AS n FROM records r WHERE id = ?",
            (record_id,),
        )
        row = rows[0] if rows else None
        if row is None:
            raise InputError("there is no such map here")
        return _record(row)

    def records(self, person: str | None = None) -> list[Record]:
        """Every record (of one person), oldest map first."""
        query = "SELECT r.*, (SELECT COUNT(*) FROM versions v WHERE v.record_id = r.id) AS n FROM records r"
        args: tuple[str, ...] = ()
        if person is not None:
            query += " WHERE person = ?"
            args = (person,)
        rows = self._rows(query + " ORDER BY map_date, created", args)
        return [_record(r) for r in rows]

    def people(self) -> list[tuple[str, str | None, int]]:
        """Each person with maps here: (key, latest display name, number of maps)."""
        rows = self._rows(
            "SELECT person, COUNT(*) AS n, (SELECT person_display FROM records r2 WHERE r2.person = r.person "
            "ORDER BY updated DESC LIMIT 1) AS display FROM records r GROUP BY person ORDER BY display, person"
        )
        return [(r["person"], r["display"], int(r["n"])) for r in rows]

    # --- drafts ------------------------------------------------------------------------

    def draft(self, record_id: str) -> Draft:
        """The draft of a record (its last saved version when the draft is gone)."""
        found = self._rows("SELECT * FROM drafts WHERE record_id = ?", (record_id,))
        row = found[0] if found else None
        if row is None:
            latest = self.latest(record_id)
            if latest is None:
                raise InputError("there is no such map here")
            return Draft(record_id, latest.data, 0, latest.saved)
        return Draft(record_id, json.loads(row["data"]), int(row["rev"]), row["updated"])

    def put_draft(self, record_id: str, data: dict[str, Any], rev: int) -> Draft:
        """Keep the editor's draft unless a newer revision is already here; the draft kept."""
        self.record(record_id)
        stamp = _now()
        with self._tx() as db:
            db.execute(
                "INSERT INTO drafts (record_id, data, rev, updated) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (record_id) DO UPDATE SET data = excluded.data, rev = excluded.rev, "
                "updated = excluded.updated WHERE excluded.rev >= drafts.rev",
                (record_id, json.dumps(data, ensure_ascii=False), rev, stamp),
            )
            db.execute(
                "UPDATE records SET person = ?, person_display = ?, map_date = ?, updated = ? WHERE id = ?",
                (person_key(data), _display(data), _date(data), stamp, record_id),
            )
        return self.draft(record_id)

    # --- versions ----------------------------------------------------------------------

    def save(self, record_id: str, data: dict[str, Any], *, origin: str = "saved") -> Version:
        """Add a version (checked map data); the draft now equals it."""
        self.record(record_id)
        stamp = _now()
        text = json.dumps(data, ensure_ascii=False)
        with self._tx() as db:
            n = db.execute("SELECT COALESCE(MAX(n), 0) + 1 FROM versions WHERE record_id = ?", (record_id,)).fetchone()[
                0
            ]
            db.execute(
                "INSERT INTO versions (record_id, n, data, saved, origin) VALUES (?, ?, ?, ?, ?)",
                (record_id, n, text, stamp, origin),
            )
            db.execute(
                "UPDATE drafts SET data = ?, updated = ? WHERE record_id = ?",
                (text, stamp, record_id),
            )
            db.execute(
                "UPDATE records SET person = ?, person_display = ?, map_date = ?, updated = ? WHERE id = ?",
                (person_key(data), _display(data), _date(data), stamp, record_id),
            )
        return Version(record_id, int(n), data, stamp, origin)

    def latest(self, record_id: str) -> Version | None:
        """The last saved version of a record, if any."""
        rows = self._rows("SELECT * FROM versions WHERE record_id = ? ORDER BY n DESC LIMIT 1", (record_id,))
        return _version(rows[0]) if rows else None

    def versions(self, record_id: str) -> list[Version]:
        """Every saved version of a record, first first."""
        rows = self._rows("SELECT * FROM versions WHERE record_id = ? ORDER BY n", (record_id,))
        return [_version(r) for r in rows]

    def find_by_map(self, person: str, map_date: str) -> Record | None:
        """The record of a person's map of a date, if the app has one."""
        for record in self.records(person):
            if record.map_date == map_date:
                return record
        return None


def _record(row: sqlite3.Row) -> Record:
    return Record(
        row["id"], row["person"], row["person_display"], row["map_date"], row["created"], row["updated"], int(row["n"])
    )


def _version(row: sqlite3.Row) -> Version:
    return Version(row["record_id"], int(row["n"]), json.loads(row["data"]), row["saved"], row["origin"])
