"""Writing files: `-o` naming a folder or a read-only folder is bad input (exit 2, one clear line,
nothing half-written), and every file is written 0600 whatever the umask."""

from __future__ import annotations

import os
import resource
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from wb_fhir._files import atomic_write
from wb_fhir.cli import main
from wb_fhir.errors import InputError
from wb_fhir.mapfile import load_map, save_map

ROOT = Path(__file__).resolve().parent.parent
FIGURE1 = str(ROOT / "examples" / "figure1.yaml")


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _bundle(tmp_path: Path) -> str:
    path = tmp_path / "bundle.json"
    assert run("bundle", FIGURE1, "-o", str(path), "--no-renderings").exit_code == 0
    return str(path)


# Each command that writes a file named by -o, with OUT in the place of that file.
WRITERS = {
    "render": lambda tmp, out: ["render", FIGURE1, "-o", out],
    "bundle": lambda tmp, out: ["bundle", FIGURE1, "--no-renderings", "-o", out],
    "extract": lambda tmp, out: ["extract", _bundle(tmp), "-o", out],
    "review": lambda tmp, out: ["review", FIGURE1, FIGURE1, "--force", "-o", out],
    "review start": lambda tmp, out: ["review", "start", FIGURE1, "--force", "-o", out],
}
SUFFIX = {"render": ".svg", "bundle": ".json", "extract": ".yaml", "review": ".html", "review start": ".yaml"}


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder this process cannot write into (for root, who ignores modes, a sysfs folder)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    if not os.access(folder, os.W_OK):
        yield folder
        folder.chmod(0o755)
        return
    for candidate in (Path("/sys/kernel"), Path("/sys")):
        try:
            fd, name = tempfile.mkstemp(dir=candidate)
        except OSError:
            yield candidate
            return
        os.close(fd)
        os.unlink(name)
    pytest.skip("no folder this process cannot write into")


@pytest.mark.parametrize("command", list(WRITERS))
def test_output_naming_a_folder(command: str, tmp_path: Path) -> None:
    folder = tmp_path / f"out{SUFFIX[command]}"
    folder.mkdir()
    (folder / "keep.txt").write_text("x")
    result = run(*WRITERS[command](tmp_path, str(folder)))
    assert result.exit_code == 2
    assert result.stderr == f"error: {folder}: is a folder: name a file to write\n"
    assert [p.name for p in folder.iterdir()] == ["keep.txt"]


@pytest.mark.parametrize("command", list(WRITERS))
def test_output_in_a_read_only_folder(command: str, tmp_path: Path, read_only_folder: Path) -> None:
    before = sorted(p.name for p in read_only_folder.iterdir())
    out = read_only_folder / f"out{SUFFIX[command]}"
    result = run(*WRITERS[command](tmp_path, str(out)))
    assert result.exit_code == 2
    assert result.stderr == f"error: {out}: cannot write into its folder (permission denied or read-only)\n"
    assert sorted(p.name for p in read_only_folder.iterdir()) == before


def test_output_in_a_missing_folder(tmp_path: Path) -> None:
    out = tmp_path / "missing" / "b.json"
    result = run("bundle", FIGURE1, "--no-renderings", "-o", str(out))
    assert result.exit_code == 2
    assert result.stderr == f"error: {out}: the folder to write into does not exist\n"


def test_demo_output_folder_that_is_a_file_or_read_only(tmp_path: Path, read_only_folder: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    result = run("demo", "-o", str(a_file))
    assert result.exit_code == 2
    assert f"Directory '{a_file}' is a file" in result.stderr
    inside = read_only_folder / "demo"
    result = run("demo", "-o", str(inside))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {inside}: cannot make the folder: ")
    assert "internal error" not in result.stderr


def test_profiles_package_output_naming_a_folder(tmp_path: Path) -> None:
    result = run("profiles", "package", "-o", str(tmp_path))
    assert result.exit_code == 2
    assert "is a directory" in result.stderr


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("command", list(WRITERS))
def test_files_are_written_0600_whatever_the_umask(command: str, tmp_path: Path, open_umask: None) -> None:
    out = tmp_path / f"out{SUFFIX[command]}"
    out.write_text("old")
    out.chmod(0o666)
    assert run(*WRITERS[command](tmp_path, str(out))).exit_code == 0
    assert mode(out) == 0o600
    assert out.read_text(encoding="utf-8") != "old"


def test_demo_files_are_0600(tmp_path: Path, open_umask: None) -> None:
    assert run("demo", "-o", str(tmp_path / "demo")).exit_code == 0
    written = list((tmp_path / "demo").iterdir())
    assert len(written) > 10
    assert {p.name: mode(p) for p in written} == {p.name: 0o600 for p in written}


def test_save_map_and_atomic_write(tmp_path: Path, open_umask: None) -> None:
    out = tmp_path / "m.json"
    save_map(load_map(FIGURE1), out)
    assert mode(out) == 0o600
    atomic_write(out, b"{}")
    assert out.read_bytes() == b"{}"
    assert mode(out) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]
    with pytest.raises(InputError, match="is a folder: name a file to write"):
        atomic_write(tmp_path, b"x")


def test_a_full_disk_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    """A write that fails half way (here: a file size limit, as a full disk would) is bad output, exit 2."""
    out = tmp_path / "bundle.json"
    out.write_text("old")

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (10_000, 10_000))

    done = subprocess.run(
        [sys.executable, "-m", "wb_fhir", "bundle", FIGURE1, "--no-renderings", "-o", str(out)],
        capture_output=True,
        text=True,
        preexec_fn=small_files,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"error: {out}: cannot be written: File too large\n"
    assert out.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["bundle.json"]
