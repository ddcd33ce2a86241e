"""The web app in-process: security (CSRF, CSP, hosts, cookies), save, problems, import, export, reviews."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from web_support import FIGURE1, app_client, config, csrf_of

from wb_fhir import load_map, map_from_data, map_to_data
from wb_fhir.mapfile import parse_text
from wb_fhir.web.store import MapStore


def _start(client: Any) -> tuple[str, str]:
    """Open the app, start a new map; (record id, CSRF token)."""
    home = client.get("/")
    token = csrf_of(home.text)
    answer = client.post("/maps/new", data={"csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 303
    return answer.headers["location"].rsplit("/", 1)[1], token


def _figure1() -> dict[str, Any]:
    return map_to_data(load_map(FIGURE1))


def test_every_page_has_the_strict_csp_and_security_headers(tmp_path: Path) -> None:
    client = app_client(config(tmp_path))
    record, _ = _start(client)
    for path in ("/", f"/maps/{record}", "/static/editor.js", "/no-such-page"):
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "http" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
    assert client.get("/").headers["cache-control"] == "no-store"


def test_session_cookie_is_httponly_and_samesite_strict_and_secure_under_tls(tmp_path: Path) -> None:
    cookie = app_client(config(tmp_path)).get("/").headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    secure = app_client(config(tmp_path, secure=True)).get("/").headers["set-cookie"]
    assert secure.startswith("__Host-wbf-session=") and "Secure" in secure and "HttpOnly" in secure


def test_writes_without_the_csrf_token_are_refused(tmp_path: Path) -> None:
    client = app_client(config(tmp_path))
    record, token = _start(client)
    before = client.get(f"/api/maps/{record}/draft").json()
    draft = {"data": {"subject": {"display": "changed"}, "date": "2026-01-01"}, "rev": 5}
    refused = [
        client.post("/maps/new", data={}),
        client.post("/maps/new", data={"csrf_token": "wrong"}),
        client.put(f"/api/maps/{record}/draft", json=draft),
        client.put(f"/api/maps/{record}/draft", json=draft, headers={"X-CSRF-Token": token + "x"}),
        client.post(f"/api/maps/{record}/save", json=draft),
        client.post("/import", files={"file": ("m.yaml", FIGURE1.read_bytes())}),
    ]
    for response in refused:
        assert response.status_code == 403, response.text
        assert "security token" in response.text
    assert client.get(f"/api/maps/{record}/draft").json() == before
    assert len(MapStore(tmp_path / "maps.sqlite").records()) == 1
    ok = client.put(f"/api/maps/{record}/draft", json=draft, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200


def test_a_write_from_another_origin_is_refused_even_with_the_token(tmp_path: Path) -> None:
    client = app_client(config(tmp_path))
    _, token = _start(client)
    response = client.post("/maps/new", data={"csrf_token": token}, headers={"Origin": "http://evil.example"})
    assert response.status_code == 403


def test_another_session_token_does_not_work(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    first, second = app_client(cfg), app_client(cfg)
    _, token = _start(first)
    second.get("/")
    assert second.post("/maps/new", data={"csrf_token": token}).status_code == 403


def test_unknown_host_names_are_refused(tmp_path: Path) -> None:
    client = app_client(config(tmp_path))
    assert client.get("/", headers={"Host": "attacker.example"}).status_code == 400
    assert client.get("/", headers={"Host": "localhost:8765"}).status_code == 200


def test_save_checks_like_validate_and_says_where_in_plain_words(tmp_path: Path) -> None:
    client = app_client(config(tmp_path))
    record, token = _start(client)
    data = _figure1()
    data["subject"]["nhs_number"] = "9434765918"
    data["ties"][0]["to"] = "nobody"
    answer = client.post(f"/api/maps/{record}/save", json={"data": data, "rev": 3}, headers={"X-CSRF-Token": token})
    assert answer.status_code == 422
    problems = answer.json()["problems"]
    assert {
        "path": "subject.nhs_number",
        "place": "The person: NHS number",
        "message": "'9434765918' fails the NHS number check digit",
    } in problems
    assert {"path": "ties[0].to", "place": "Tie 1: to", "message": "'nobody' names no connection"} in problems
    data["connections"][2]["ring"] = 7
    answer = client.post(f"/api/maps/{record}/save", json={"data": data, "rev": 4}, headers={"X-CSRF-Token": token})
    ring = answer.json()["problems"][0]
    assert ring["place"] == "Connection 3 (GP): ring"
    assert "7 is not one of 1..3" in ring["message"]
    assert MapStore(tmp_path / "maps.sqlite").latest(record) is None
    # the draft is kept all the same: nothing typed is lost
    assert client.get(f"/api/maps/{record}/draft").json()["data"] == data


def test_save_stores_a_version_equal_to_the_map_and_keeps_every_version(tmp_path: Path) -> None:
    client = app_client(config(tmp_path))
    record, token = _start(client)
    data = _figure1()
    first = client.post(f"/api/maps/{record}/save", json={"data": data, "rev": 1}, headers={"X-CSRF-Token": token})
    assert first.status_code == 200 and first.json()["version"] == 1 and first.json()["sent"] == "kept-here"
    data["time_at_home"] = 60
    second = client.post(f"/api/maps/{record}/save", json={"data": data, "rev": 2}, headers={"X-CSRF-Token": token})
    assert second.json()["version"] == 2
    store = MapStore(tmp_path / "maps.sqlite")
    versions = store.versions(record)
    assert [v.data["time_at_home"] for v in versions] == [75, 60]
    assert map_from_data(versions[0].data) == load_map(FIGURE1)


def test_draft_keeps_the_newest_revision(tmp_path: Path) -> None:
    client = app_client(config(tmp_path))
    record, token = _start(client)
    h = {"X-CSRF-Token": token}
    client.put(f"/api/maps/{record}/draft", json={"data": {"date": "2026-01-02"}, "rev": 9}, headers=h)
    late = client.put(f"/api/maps/{record}/draft", json={"data": {"date": "2026-01-01"}, "rev": 4}, headers=h)
    assert late.json() == {"rev": 9, "kept": False}
    assert client.get(f"/api/maps/{record}/draft").json()["data"] == {"date": "2026-01-02"}


def test_preview_draws_with_the_render_code_and_leaves_out_what_has_problems(tmp_path: Path) -> None:
    client = app_client(config(tmp_path))
    _, token = _start(client)
    data = _figure1()
    data["connections"][0]["label"] = "   "
    shown = client.post("/api/preview", json={"data": data, "rev": 1}, headers={"X-CSRF-Token": token}).json()
    assert shown["ok"] is False
    assert [p["path"] for p in shown["problems"]] == ["connections[0].label"]
    assert shown["svg"].startswith("<svg") and "Friend from the gym" in shown["svg"]
    assert [n["id"] for n in shown["geometry"]["nodes"]].count("mum") == 0
    assert [b["ring"] for b in shown["geometry"]["bands"]] == [1, 2, 3]


def test_hostile_labels_are_escaped_everywhere_they_are_shown(tmp_path: Path) -> None:
    client = app_client(config(tmp_path))
    record, token = _start(client)
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&"
    data = _figure1()
    data["subject"]["display"] = hostile
    data["connections"][0]["label"] = hostile
    data["goals"][0]["description"] = hostile
    saved = client.post(f"/api/maps/{record}/save", json={"data": data, "rev": 1}, headers={"X-CSRF-Token": token})
    assert saved.status_code == 200
    pages = [client.get("/").text, client.get(f"/maps/{record}").text, client.get(f"/maps/{record}/review").text]
    person = re.search(r'href="(/people/[0-9a-f]+)"', pages[0])
    assert person
    pages.append(client.get(person.group(1)).text)
    for html in pages:
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "onerror=alert" not in html.replace("onerror=alert(2)&gt;", "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0]


def test_no_nhs_number_in_page_addresses(tmp_path: Path) -> None:
    client = app_client(config(tmp_path))
    record, token = _start(client)
    client.post(f"/api/maps/{record}/save", json={"data": _figure1(), "rev": 1}, headers={"X-CSRF-Token": token})
    home = client.get("/").text
    assert "9434765919" not in home
    assert re.search(r'href="/people/[0-9a-f]{20}"', home)


def test_import_a_map_file_then_export_it_in_every_format(tmp_path: Path) -> None:
    client = app_client(config(tmp_path))
    token = csrf_of(client.get("/").text)
    answer = client.post(
        "/import",
        data={"csrf_token": token},
        files={"file": ("figure1.yaml", FIGURE1.read_bytes())},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    record = answer.headers["location"].rsplit("/", 1)[1]
    original = load_map(FIGURE1)
    as_yaml = client.get(f"/maps/{record}/download.yaml")
    assert map_from_data(parse_text(as_yaml.text, "download.yaml")) == original
    assert "attachment" in as_yaml.headers["content-disposition"]
    assert map_from_data(client.get(f"/maps/{record}/download.json").json()) == original
    svg = client.get(f"/maps/{record}/download.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and b"<title" in svg.content
    assert client.get(f"/maps/{record}/download.png").content.startswith(b"\x89PNG")
    assert client.get(f"/maps/{record}/download.pdf").content.startswith(b"%PDF")
    bundle = client.get(f"/maps/{record}/download.bundle.json").json()
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "transaction"
    types = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"QuestionnaireResponse", "Observation", "CarePlan", "DocumentReference", "Provenance"} <= types


def test_import_of_a_bad_file_says_every_problem_and_stores_nothing(tmp_path: Path) -> None:
    client = app_client(config(tmp_path))
    token = csrf_of(client.get("/").text)
    data = _figure1()
    data["connections"][0]["impact"] = "great"
    data["ties"][0]["to"] = "nobody"
    answer = client.post(
        "/import",
        data={"csrf_token": token},
        files={"file": ("bad.json", json.dumps(data).encode())},
    )
    assert answer.status_code == 422
    assert "Connection 1 (Mum): impact on wellbeing" in answer.text
    assert "&#39;great&#39; is not one of" in answer.text
    broken = client.post("/import", data={"csrf_token": token}, files={"file": ("x.yaml", b"a: [1,")})
    assert broken.status_code == 422 and "not valid YAML" in broken.text
    assert MapStore(tmp_path / "maps.sqlite").records() == []


@pytest.mark.parametrize("fmt", ["yaml", "svg", "bundle.json"])
def test_downloads_need_a_saved_map(tmp_path: Path, fmt: str) -> None:
    client = app_client(config(tmp_path))
    record, _ = _start(client)
    answer = client.get(f"/maps/{record}/download.{fmt}")
    assert answer.status_code == 404 and "Save the map first" in answer.text


def test_review_start_carries_the_last_map_forward_and_the_review_shows_what_changed(tmp_path: Path) -> None:
    client = app_client(config(tmp_path))
    record, token = _start(client)
    client.post(f"/api/maps/{record}/save", json={"data": _figure1(), "rev": 1}, headers={"X-CSRF-Token": token})
    person = re.search(r'href="(/people/[0-9a-f]+)"', client.get("/").text)
    assert person
    started = client.post(
        f"{person.group(1)}/review-start", data={"csrf_token": token, "date": "2027-05-20"}, follow_redirects=False
    )
    assert started.status_code == 303
    nxt = started.headers["location"].rsplit("/", 1)[1]
    draft = client.get(f"/api/maps/{nxt}/draft").json()["data"]
    assert draft["date"] == "2027-05-20"
    assert [c["id"] for c in draft["connections"]] == [c["id"] for c in _figure1()["connections"]]
    draft["connections"][0]["ring"] = 2
    draft["connections"] = [c for c in draft["connections"] if c["id"] != "church"]
    draft["goals"] = [g for g in draft["goals"] if g["id"] != "church-social"]
    saved = client.post(f"/api/maps/{nxt}/save", json={"data": draft, "rev": 1}, headers={"X-CSRF-Token": token})
    assert saved.status_code == 200, saved.text
    review = client.get(f"/maps/{nxt}/review").text
    assert "Comparing the map of 2026-11-20 with the map of 2027-05-20" in review
    assert "Church" in review and "Mum" in review
    summary = client.get(f"/maps/{nxt}/summary.html")
    assert summary.status_code == 200
    assert "script-src" not in summary.headers["content-security-policy"]
    assert "default-src 'none'" in summary.headers["content-security-policy"]
    assert "<script" not in summary.text and "Review summary" in summary.text
    assert client.get(f"/maps/{nxt}/summary.pdf").content.startswith(b"%PDF")


class _LaunchedFor:
    """An identity layer that limits each session to one person (as an EHR launch will)."""

    def __init__(self, person: str) -> None:
        self.person = person

    def start(self, session: Any) -> None:
        session.patient = self.person
        session.user = "Practitioner/launching"


def test_a_session_limited_to_one_person_reaches_no_other(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    store = MapStore(cfg.store_path)
    other = store.create(_figure1())
    store.save(other.id, _figure1())
    client = app_client(cfg, identity=_LaunchedFor("nhs:9990000018"))
    token = csrf_of(client.get("/").text)
    for path in (
        f"/maps/{other.id}",
        f"/api/maps/{other.id}/draft",
        f"/maps/{other.id}/download.yaml",
        f"/people/{store.handle(other.person)}",
    ):
        assert client.get(path).status_code == 403, path
    found = client.post("/people", data={"csrf_token": token, "nhs_number": "9434765919"})
    assert found.status_code == 403


def test_a_review_must_come_after_the_last_map(tmp_path: Path) -> None:
    client = app_client(config(tmp_path))
    record, token = _start(client)
    client.post(f"/api/maps/{record}/save", json={"data": _figure1(), "rev": 1}, headers={"X-CSRF-Token": token})
    person = re.search(r'href="(/people/[0-9a-f]+)"', client.get("/").text)
    assert person
    early = client.post(f"{person.group(1)}/review-start", data={"csrf_token": token, "date": "2026-11-20"})
    assert early.status_code == 422
    assert "2026-11-20 is not after the date of the previous map (2026-11-20)" in early.text
    bad = client.post(f"{person.group(1)}/review-start", data={"csrf_token": token, "date": "soon"})
    assert bad.status_code == 422 and "is not a date (YYYY-MM-DD)" in bad.text
    assert len(MapStore(tmp_path / "maps.sqlite").records()) == 1
