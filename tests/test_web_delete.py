"""Deleting every map of a person: asked first, CSRF-protected, out of reach of sessions for others,
and gone from the store's file (no copy in its free pages or its write-ahead log)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from web_support import FIGURE1, app_client, config, csrf_of

from wb_fhir import load_map, map_to_data
from wb_fhir.web.store import MapStore

LABEL = "Quillon Zephyrine-Abernathy"
"""A label found nowhere else, to look for in the store's files."""


def _map(nhs: str, day: str, label: str = LABEL) -> dict[str, Any]:
    data = map_to_data(load_map(FIGURE1))
    data["subject"] = {"nhs_number": nhs, "display": f"Person {nhs[-3:]}"}
    data["date"] = day
    data["connections"][0]["label"] = label
    return data


def _two_people(store: MapStore) -> tuple[str, str]:
    """Sam (two saved maps and a draft) and someone else (one map); their person keys."""
    for day in ("2026-01-10", "2026-06-10"):
        record = store.create(_map("9434765919", day))
        store.save(record.id, _map("9434765919", day))
    store.create(_map("9434765919", "2026-12-01"))  # a draft, never saved
    other = store.create(_map("9990000018", "2026-02-02", "Someone else's friend"))
    store.save(other.id, _map("9990000018", "2026-02-02", "Someone else's friend"))
    return "nhs:9434765919", "nhs:9990000018"


def _files(store_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in store_path.parent.glob(store_path.name + "*"))


def test_deleting_asks_first_then_deletes_every_map_of_the_person_and_nothing_else(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    store = MapStore(cfg.store_path)
    sam, other = _two_people(store)
    records = [r.id for r in store.records(sam)]
    client = app_client(cfg)
    handle = store.handle(sam)

    person = client.get(f"/people/{handle}")
    assert f'href="/people/{handle}/delete"' in person.text
    asked = client.get(f"/people/{handle}/delete")
    assert asked.status_code == 200 and "Delete all maps of Person 919?" in asked.text
    assert "3 maps (2 saved versions)" in asked.text and "cannot be undone" in asked.text
    assert len(store.records(sam)) == 3  # asking deletes nothing

    done = client.post(f"/people/{handle}/delete", data={"csrf_token": csrf_of(asked.text)})
    assert done.status_code == 200 and "3 maps of Person 919 deleted" in done.text
    assert all(r in done.text for r in records)  # for this browser to forget its own copies
    assert store.records(sam) == [] and len(store.records(other)) == 1
    assert client.get(f"/people/{handle}").status_code == 404
    for record in records:
        assert client.get(f"/maps/{record}").status_code == 404
        assert client.get(f"/api/maps/{record}/draft").status_code == 404
    assert "Person 919" not in client.get("/").text and "Person 018" in client.get("/").text


def test_a_delete_without_the_csrf_token_or_from_another_session_deletes_nothing(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    store = MapStore(cfg.store_path)
    sam, _ = _two_people(store)
    handle = store.handle(sam)
    client = app_client(cfg)
    asked = client.get(f"/people/{handle}/delete")
    assert client.post(f"/people/{handle}/delete").status_code == 403
    assert client.post(f"/people/{handle}/delete", data={"csrf_token": "forged"}).status_code == 403
    elsewhere = app_client(cfg)  # another browser: its own session, its own token
    elsewhere.get("/")
    assert elsewhere.post(f"/people/{handle}/delete", data={"csrf_token": csrf_of(asked.text)}).status_code == 403
    assert len(store.records(sam)) == 3


class _LaunchedFor:
    """An identity layer that limits each session to one person (as an EHR launch does)."""

    def __init__(self, person: str) -> None:
        self.person = person

    def start(self, session: Any) -> None:
        session.patient = self.person


def test_a_session_limited_to_another_person_can_neither_see_nor_delete(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    store = MapStore(cfg.store_path)
    sam, other = _two_people(store)
    client = app_client(cfg, identity=_LaunchedFor(other))
    token = csrf_of(client.get("/").text)
    handle = store.handle(sam)
    assert client.get(f"/people/{handle}/delete").status_code == 403
    assert client.post(f"/people/{handle}/delete", data={"csrf_token": token}).status_code == 403
    assert len(store.records(sam)) == 3
    # its own person it may delete
    own = client.post(f"/people/{store.handle(other)}/delete", data={"csrf_token": token})
    assert own.status_code == 200 and store.records(other) == []


def test_an_editor_open_elsewhere_cannot_bring_a_deleted_map_back(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    store = MapStore(cfg.store_path)
    sam, _ = _two_people(store)
    record = store.records(sam)[0].id
    editor = app_client(cfg)
    token = csrf_of(editor.get(f"/maps/{record}").text)
    deleting = app_client(cfg)
    asked = deleting.get(f"/people/{store.handle(sam)}/delete")
    deleting.post(f"/people/{store.handle(sam)}/delete", data={"csrf_token": csrf_of(asked.text)})
    headers = {"X-CSRF-Token": token}
    late = editor.put(
        f"/api/maps/{record}/draft", json={"data": _map("9434765919", "2026-01-10"), "rev": 99}, headers=headers
    )
    saved = editor.post(
        f"/api/maps/{record}/save", json={"data": _map("9434765919", "2026-01-10"), "rev": 99}, headers=headers
    )
    assert late.status_code == 404 and saved.status_code == 404
    assert store.records(sam) == [] and store.records() != []


def test_what_was_deleted_is_not_left_in_the_store_files(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    store = MapStore(cfg.store_path)
    sam, _ = _two_people(store)
    assert LABEL.encode() in _files(cfg.store_path)
    # whatever SQLite was built with (Debian's overwrites by default, others do not)
    assert store._db.execute("PRAGMA secure_delete").fetchone()[0] == 1
    deleted = store.delete_person(sam)
    assert len(deleted) == 3
    assert LABEL.encode() not in _files(cfg.store_path)  # overwritten, in the database and its log
    assert b"Someone else's friend" in _files(cfg.store_path)
    store.close()
    assert MapStore(cfg.store_path).records(sam) == []
