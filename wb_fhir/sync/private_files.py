"""Private files on a shared workstation: SQLite databases and their folders, for their owner only.

The outbox and the web app's map store hold whole mental health records. Whatever the umask,
:func:`open_private_sqlite` makes the folders it creates 0700 and the database 0600 (SQLite
gives its ``-wal`` and ``-shm`` files the database's mode), and tightens an existing database
that group or others could read. Its errors are :class:`~wb_fhir.errors.InputError`\\ s that say
what is wrong in words (:func:`database_error`): a damaged file, a read-only one, a folder where
the file should be. :func:`move_aside` is the way out for a damaged database: it is renamed,
never deleted, so nothing in it is lost.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path

from wb_fhir.errors import InputError

log = logging.getLogger(__name__)

FOLDER_MODE = 0o700
FILE_MODE = 0o600
SIDE_FILES = ("-wal", "-shm", "-journal")
"""The files SQLite keeps beside a database (they hold its latest changes: they move with it)."""
_DAMAGED = ("file is not a database", "malformed", "disk image", "corrupt")
_READ_ONLY = ("readonly", "read-only", "unable to open", "permission", "access")


def make_private_folder(folder: Path) -> None:
    """Make ``folder`` and its missing parents, each created one 0700 (existing ones are left as they are)."""
    missing = []
    current = folder
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            continue
        os.chmod(path, FOLDER_MODE)  # the umask may have taken bits off


def _make_private_file(path: Path) -> None:
    if path.is_dir():
        raise InputError("is a folder, not a database file", str(path))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        _tighten(path)
        return
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def _tighten(path: Path) -> None:
    # An existing database (an older version made it 0644): made private if it is ours.
    for each in (path, *(Path(f"{path}{suffix}") for suffix in SIDE_FILES)):
        try:
            info = each.stat()
        except FileNotFoundError:
            continue
        if stat.S_ISREG(info.st_mode) and info.st_mode & 0o077 and info.st_uid == os.geteuid():
            os.chmod(each, FILE_MODE)
            log.info("made %s readable by its owner only", each.name)


def open_private_sqlite(
    path: Path, *, what: str, setting: str | None = None, check_same_thread: bool = True
) -> sqlite3.Connection:
    """Open (or create) a private SQLite database in WAL mode with full sync; errors in words.

    ``what`` names the database in messages ("the outbox"); ``setting`` is what the error
    about a *damaged* database names, for advice (how to check it, or move it aside).
    """
    try:
        make_private_folder(path.parent)
        _make_private_file(path)
        db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=check_same_thread)
    except InputError:
        raise
    except (OSError, sqlite3.Error) as exc:
        raise database_error(exc, what, path, setting) from None
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
    except sqlite3.Error as exc:
        db.close()
        raise database_error(exc, what, path, setting) from None
    return db


def database_error(exc: BaseException, what: str, path: Path, setting: str | None = None) -> InputError:
    """An error of SQLite or the file system, as a message that says what is wrong with the database.

    ``setting`` goes with damage only: a read-only or busy database needs no repair.
    """
    text = str(exc) or type(exc).__name__
    lowered = text.lower()
    if isinstance(exc, sqlite3.DatabaseError) and any(word in lowered for word in _DAMAGED):
        return InputError(f"{what} is damaged ({text})", str(path), setting=setting)
    if isinstance(exc, PermissionError) or any(word in lowered for word in _READ_ONLY):
        return InputError(
            f"{what} cannot be written ({text}): is the file or its folder read-only, or someone else's?", str(path)
        )
    if isinstance(exc, sqlite3.OperationalError) and "locked" in lowered:
        return InputError(f"{what} is busy: another wb-fhir is using it ({text}); try again", str(path))
    if isinstance(exc, OSError):
        return InputError(f"{what} cannot be opened: {exc.strerror or text}", str(path))
    return InputError(f"{what} cannot be used: {text}", str(path))


def move_aside(path: Path, *, now: datetime | None = None) -> Path:
    """Rename a database and its side files to ``NAME.damaged-YYYYMMDDTHHMMSS``; the new name of the database."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    try:
        for suffix in SIDE_FILES:
            side = Path(f"{path}{suffix}")
            if side.exists():
                side.rename(Path(f"{aside}{suffix}"))
        path.rename(aside)
    except OSError as exc:
        raise InputError(f"cannot move the damaged database aside: {exc.strerror or exc}", str(path)) from None
    return aside
