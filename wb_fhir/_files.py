"""File reading and writing at the edges: clear errors, and never a half-written file.

Files are written owner-only (0600) whatever the umask: what wb_fhir writes (maps, bundles,
pictures, summaries) is about a person's mental health.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from wb_fhir.errors import InputError
from wb_fhir.limits import ReadLimits

FILE_MODE = 0o600
"""Mode of every file wb_fhir writes."""


def shown(path: str | Path) -> str:
    """A path as messages show it: as it is, or quoted with escapes when it holds a control
    character (a file name can hold a terminal escape sequence or a line break)."""
    text = str(path)
    return text if text.isprintable() else repr(text)


def read_text(path: Path, within: ReadLimits | None = None) -> str:
    """The UTF-8 text of a file, or an InputError saying why it cannot be read.

    ``within`` limits: a longer file is refused without reading more than its limit.
    """
    max_bytes = within.file_bytes if within is not None else None
    try:
        with open(path, "rb") as f:
            raw = f.read() if max_bytes is None else f.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError("no such file", shown(path)) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a file", shown(path)) from None
    except OSError as exc:
        raise InputError(f"cannot be read: {exc.strerror or exc}", shown(path)) from None
    if within is not None and len(raw) > within.file_bytes:
        raise InputError(f"is larger than {within.file_bytes:,} bytes, the most {within.what} may be", shown(path))
    if b"\x00" in raw:
        raise InputError("is a binary file, not YAML or JSON text", shown(path))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"is not UTF-8 text (byte {exc.start})", shown(path)) from None


def _write_problem(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "cannot write into its folder (permission denied or read-only)"
    if exc.errno == errno.ENOSPC:
        return "cannot be written: the disk is full"
    if exc.errno == errno.ENAMETOOLONG:
        return "cannot be written: the name is too long"
    return f"cannot be written: {exc.strerror or exc}"


def json_chunks(data: Any) -> Iterator[bytes]:
    """``data`` as indented JSON text in UTF-8, a piece at a time, ending with a newline.

    For :func:`atomic_write`: a large Bundle is written as it is encoded, never held whole in
    memory as text (``json.dumps`` with an indent would hold millions of pieces, then the text).
    """
    batch: list[str] = []
    size = 0
    for piece in json.JSONEncoder(indent=2, ensure_ascii=False).iterencode(data):
        batch.append(piece)
        size += len(piece)
        if size > 1 << 16:
            yield "".join(batch).encode("utf-8")
            batch, size = [], 0
    batch.append("\n")
    yield "".join(batch).encode("utf-8")


def atomic_write(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Write a file (mode 0600) so that readers see the old content or the new, never a part.

    ``data`` is the bytes, or pieces of them (see :func:`json_chunks`). An InputError says why
    the file cannot be written: the path is a folder, its folder is missing or read-only, the
    disk is full.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise InputError("is a folder: name a file to write", shown(path))
    if not folder.is_dir():
        raise InputError("the folder to write into does not exist", shown(path))
    import tempfile  # only commands that write pay for it (start-up)

    try:
        # mkstemp creates the file 0600 whatever the umask; the rename keeps that mode
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name[:40]}.", suffix=".tmp")
    except OSError as exc:
        raise InputError(_write_problem(exc), shown(path)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), FILE_MODE)
            if isinstance(data, bytes | bytearray):
                f.write(data)
            else:
                for piece in data:
                    f.write(piece)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, IsADirectoryError):
            raise InputError("is a folder: name a file to write", shown(path)) from None
        raise InputError(_write_problem(exc), shown(path)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _sync_folder(folder)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every file system can)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
