"""Broken disks and shared workstations: the outbox is private, and damage is contained and reported."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hostile_servers import Exchange, HostileServer, bundle, read_only_run

from wb_fhir.cli import main
from wb_fhir.errors import InputError
from wb_fhir.sync import Outbox, State
from wb_fhir.sync.outbox import repair
from wb_fhir.sync.private_files import open_private_sqlite
from wb_fhir.web.store import MapStore

ROOT = Path(__file__).resolve().parent.parent


def transaction(n: int, size: int = 0) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "transaction", "entry": [{"n": n, "pad": "x" * size}]}


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def accepting(ex: Exchange) -> None:
    """A FHIR server that stores every transaction (and holds nothing a push would guard)."""
    if ex.request.method == "GET":
        ex.json(bundle([]))
        return
    sent = json.loads(ex.request.body)
    answers = [
        {"response": {"status": "201 Created", "location": f"Basic/{i}/_history/1"}}
        for i, _ in enumerate(sent["entry"])
    ]
    ex.json({"resourceType": "Bundle", "type": "transaction-response", "entry": answers})


# --- file modes ----------------------------------------------------------------------------------


def test_the_outbox_and_its_folders_are_private_whatever_the_umask(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "data" / "wb-fhir" / "outbox.sqlite"
    with Outbox(path) as box:
        box.add(transaction(1), map_id="m", map_date=None)
        for made in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            assert mode(made) == 0o600, made
    assert mode(tmp_path / "data") == mode(tmp_path / "data" / "wb-fhir") == 0o700
    probe = tmp_path / "probe"
    probe.touch()
    assert mode(probe) == 0o666  # the umask really is open


def test_the_web_store_is_private_the_same_way(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "web" / "maps.sqlite"
    MapStore(path).close()
    assert mode(path) == 0o600 and mode(path.parent) == 0o700


def test_an_outbox_an_older_version_made_readable_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    Outbox(path).close()
    os.chmod(path, 0o644)
    with Outbox(path) as box:
        box.add(transaction(1), map_id="m", map_date=None)
    assert mode(path) == 0o600


def test_a_folder_where_the_database_should_be_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "outbox.sqlite").mkdir()
    with pytest.raises(InputError, match="is a folder, not a database file"):
        Outbox(tmp_path / "outbox.sqlite")


# --- rows that cannot be read back ---------------------------------------------------------------


def spoil(path: Path, item_id: int, **columns: Any) -> None:
    with sqlite3.connect(path) as db:
        for column, value in columns.items():
            db.execute(f"UPDATE items SET {column} = ? WHERE id = ?", (value, item_id))


@pytest.mark.parametrize(
    "damage",
    [{"bundle": "{not json"}, {"bundle": "[1, 2]"}, {"bundle": "[" * 50_000}, {"attempts": "many"}],
    ids=["not-json", "not-a-bundle", "deep", "odd-attempts"],
)
def test_an_unreadable_row_is_quarantined_and_the_rest_is_sent(tmp_path: Path, damage: dict[str, str]) -> None:
    path = tmp_path / "outbox.sqlite"
    with Outbox(path) as box:
        ids = [box.add(transaction(n), map_id=f"m{n}", map_date="2026-01-0{n}").id for n in (1, 2, 3)]
    spoil(path, ids[1], **damage)
    listed = run("outbox", "list", "--outbox", str(path), "--json")
    assert listed.exit_code == 0, listed.output
    assert [r["state"] for r in json.loads(listed.stdout)] == ["pending", "quarantined", "pending"]
    with HostileServer(accepting) as server:
        flushed = run("outbox", "flush", "--server", server.url + "/fhir", "--outbox", str(path))
        again = run("outbox", "flush", "--server", server.url + "/fhir", "--outbox", str(path))
    assert flushed.exit_code == 1
    assert "sent 2 map(s)" in flushed.stdout
    assert f"outbox item {ids[1]} cannot be read back" in flushed.stderr and "quarantined, not sent" in flushed.stderr
    assert again.exit_code == 0 and "nothing pending" in again.stdout
    with Outbox(path) as box:
        assert [i.state for i in box.items()] == [State.SENT, State.QUARANTINED, State.SENT]
        assert (box.get(ids[1]).last_error or "").startswith("quarantined: ")
    checked = run("outbox", "check", "--outbox", str(path))
    assert checked.exit_code == 0 and f"item {ids[1]} is quarantined" in checked.stdout
    assert run("outbox", "drop", str(ids[1]), "--outbox", str(path)).exit_code == 0


def test_a_row_in_an_unknown_state_is_never_sent_and_check_finds_it(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    with Outbox(path) as box:
        first, second = (box.add(transaction(n), map_id=f"m{n}", map_date=None).id for n in (1, 2))
    spoil(path, second, state="exploded")
    with HostileServer(accepting) as server:
        flushed = run("outbox", "flush", "--server", server.url + "/fhir", "--outbox", str(path))
    assert flushed.exit_code == 0 and "sent 1 map(s)" in flushed.stdout
    assert sum(r.method == "POST" for r in server.requests) == 1
    checked = run("outbox", "check", "--outbox", str(path))
    assert checked.exit_code == 2 and f"item {second} cannot be sent: the stored state is unknown" in checked.stdout
    assert run("outbox", "check", "--repair", "--outbox", str(path)).exit_code == 0
    with Outbox(path) as box:
        assert [box.get(first).state, box.get(second).state] == [State.SENT, State.QUARANTINED]


def test_a_bundle_changed_on_disk_is_found_by_check_and_quarantined_by_repair(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    with Outbox(path) as box:
        item = box.add(transaction(1), map_id="m", map_date=None)
    spoil(path, item.id, bundle=json.dumps(transaction(99)))
    checked = run("outbox", "check", "--outbox", str(path))
    assert checked.exit_code == 2
    assert "its hash differs" in checked.stdout and "outbox check --repair" in checked.stderr
    repaired = run("outbox", "check", "--repair", "--outbox", str(path))
    assert repaired.exit_code == 0 and f"item {item.id} quarantined" in repaired.stdout
    assert run("outbox", "check", "--outbox", str(path)).exit_code == 0


# --- a damaged database file ---------------------------------------------------------------------


def test_a_database_file_of_garbage_is_a_clear_error_with_a_way_out(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    Outbox(path).close()
    path.write_bytes(b"this is not sqlite " * 200)
    for args in (["outbox", "list"], ["push", str(ROOT / "examples" / "figure1.yaml")], ["outbox", "check"]):
        result = run(*args, "--outbox", str(path))
        assert result.exit_code == 2, (args, result.output)
        assert "the outbox is damaged (file is not a database)" in result.stderr
        assert "outbox check --repair" in result.stderr
        assert "Traceback" not in result.output and "internal error" not in result.output
    repaired = run("outbox", "check", "--repair", "--outbox", str(path))
    assert repaired.exit_code == 0 and "moved aside to" in repaired.stdout
    aside = list(tmp_path.glob("outbox.sqlite.damaged-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not sqlite")
    assert mode(path) == 0o600
    assert run("outbox", "list", "--outbox", str(path)).exit_code == 0
    assert run("push", str(ROOT / "examples" / "figure1.yaml"), "--outbox", str(path)).exit_code == 0


def test_repair_keeps_every_item_it_can_still_read_from_a_damaged_file(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    with Outbox(path) as box:
        for n in range(60):
            box.add(transaction(n, size=3000), map_id=f"m{n}", map_date=None)
        box.record_seen("https://fhir.example/R4", [("Goal", f"s|{n}", str(n), "1") for n in range(20)])
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = db.execute("PRAGMA page_size").fetchone()[0]
        pages = db.execute("PRAGMA page_count").fetchone()[0]
    data = bytearray(path.read_bytes())
    middle = (pages // 2) * page
    data[middle : middle + page] = b"\xff" * page  # one page in the middle of the items
    path.write_bytes(bytes(data))
    result = repair(path)
    assert result.moved_to is not None and result.moved_to.exists()
    assert 40 <= result.items < 60  # what sat on the broken page is gone; the rest is kept
    with Outbox(path) as box:
        assert box.check().ok
        assert len(box.items()) == result.items
        assert all(i.bundle["entry"][0]["pad"] == "x" * 3000 for i in box.items())
        assert box.seen("https://fhir.example/R4", "Goal", "s|3") is not None


def test_open_private_sqlite_refuses_damage_in_words(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite"
    path.write_bytes(b"\x00" * 10 + b"garbage" * 100)
    with pytest.raises(Exception, match="the thing is damaged") as caught:
        open_private_sqlite(path, what="the thing", setting="thing_damaged")
    assert getattr(caught.value, "setting", None) == "thing_damaged"


# --- read-only --------------------------------------------------------------------------------------


def test_a_read_only_outbox_is_a_clear_error_with_exit_2(tmp_path: Path) -> None:
    box_dir = tmp_path / "box"
    path = box_dir / "outbox.sqlite"
    with Outbox(path) as box:
        box.add(transaction(1), map_id="m", map_date=None)
    try:
        pushed = read_only_run(["push", str(ROOT / "examples" / "figure1.yaml"), "--outbox", str(path)], box_dir)
        assert pushed.returncode == 2, pushed.stderr
        assert "the outbox cannot be written" in pushed.stderr and "read-only" in pushed.stderr
        assert "Traceback" not in pushed.stderr and "internal error" not in pushed.stderr
        assert "--repair" not in pushed.stderr  # nothing is damaged
        listed = read_only_run(["outbox", "list", "--outbox", str(path)], box_dir)
        assert "Traceback" not in listed.stderr and "internal error" not in listed.stderr
        assert listed.returncode == 0 or (listed.returncode == 2 and "cannot be written" in listed.stderr)
    finally:
        os.chmod(box_dir, 0o700)
        for each in box_dir.iterdir():
            os.chmod(each, 0o600)
    with Outbox(path) as box:
        assert len(box.items()) == 1  # nothing lost, nothing half-written
