"""A hostile server's ids never become paths outside ``pull -o`` (a loopback server names the files)."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hostile_servers import Exchange, HostileServer, bundle, read_only_run

from wb_fhir.cli import main
from wb_fhir.sync.pull import file_id
from wb_fhir.terminology import IdentifierKind, identifier_system

NHS = "9434765919"


def goal(goal_id: Any, n: int) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Goal",
        "identifier": [{"system": identifier_system(IdentifierKind.GOAL), "value": f"goal-{n}"}],
        "lifecycleStatus": "active",
        "description": {"text": "Join a choir"},
        "subject": {"reference": "Patient/p1"},
        "meta": {"versionId": "1"},
    }
    if goal_id is not None:
        resource["id"] = goal_id
    return resource


def record(goals: list[dict[str, Any]]) -> Any:
    """A FHIR server holding one Patient and these Goals (and nothing else)."""

    def handle(ex: Exchange) -> None:
        if ex.request.path == "/fhir/Patient":
            ex.json(bundle([{"resourceType": "Patient", "id": "p1"}]))
        elif ex.request.path == "/fhir/Goal":
            ex.json(bundle(goals))
        else:
            ex.json(bundle([]))

    return handle


def pull(server: HostileServer, out: Path, tmp_path: Path) -> Result:
    args = ["pull", "--patient", NHS, "-o", str(out), "--server", server.url + "/fhir"]
    return CliRunner().invoke(main, [*args, "--outbox", str(tmp_path / "box" / "outbox.sqlite")])


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def test_ids_that_would_be_paths_are_left_out_and_nothing_is_written_outside(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.json").write_text("mine")
    out = tmp_path / "area" / "out"
    hostile_ids = [
        "../../victim/keep",
        "../../../../../../../../tmp/escaped-by-pull",
        str(victim / "absolute"),
        "..",
        ".hidden",
        "a/b",
        "c\\d",
        "x" * 65,
        "nul\x00byte",
        42,
        None,
    ]
    goals = [goal(gid, n) for n, gid in enumerate([*hostile_ids, "ok-1"])]
    before = files_under(tmp_path)
    with HostileServer(record(goals)) as server:
        result = pull(server, out, tmp_path)
    assert result.exit_code == 0, result.output
    assert (victim / "keep.json").read_text() == "mine"
    assert not Path("/tmp/escaped-by-pull.json").exists()
    written = files_under(tmp_path) - before
    assert {p for p in written if "box" not in p.parts} == {out / "goals" / "ok-1.json"}
    assert result.stderr.count("a Goal whose id is not a FHIR id") == len(hostile_ids)
    assert "1 goal(s)" in result.stdout


def test_the_folder_pull_makes_is_private_and_its_files_are_owner_only(tmp_path: Path) -> None:
    out = tmp_path / "new" / "out"
    with HostileServer(record([goal("g-1", 1)])) as server:
        result = pull(server, out, tmp_path)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert stat.S_IMODE((out / "goals" / "g-1.json").stat().st_mode) == 0o600


def test_a_goals_folder_that_links_out_is_not_written_through(tmp_path: Path) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    os.symlink(elsewhere, out / "goals")
    with HostileServer(record([goal("g-1", 1)])) as server:
        result = pull(server, out, tmp_path)
    assert result.exit_code == 2
    assert "leads out of" in result.stderr and "Traceback" not in result.output
    assert list(elsewhere.iterdir()) == []


def test_output_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.write_text("not a folder")
    with HostileServer(record([])) as server:
        result = pull(server, out, tmp_path)
    assert result.exit_code == 2
    assert "is a file" in result.stderr and "Traceback" not in result.output
    assert out.read_text() == "not a folder"


@pytest.mark.parametrize(
    ("value", "ok"),
    [("abc-1.2", True), ("A" * 64, True), ("A" * 65, False), ("..", False), (".x", False), ("a/b", False), (7, False)],
)
def test_file_ids_are_fhir_ids_that_are_safe_file_names(value: Any, ok: bool) -> None:
    assert (file_id({"id": value}) == value) is ok


def test_output_that_is_read_only_is_a_clear_error(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with HostileServer(record([goal("g-1", 1)])) as server:
        args = ["pull", "--patient", NHS, "-o", str(out), "--server", server.url + "/fhir"]
        done = read_only_run([*args, "--outbox", str(tmp_path / "o.sqlite")], out)
    os.chmod(out, 0o700)
    assert done.returncode == 2, done.stderr
    assert "cannot make the folder: Read-only file system" in done.stderr or "Permission denied" in done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert list(out.iterdir()) == []
