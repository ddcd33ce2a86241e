"""``wb-fhir serve`` as a SMART app, in-process, against the tests' authorization server and the
HAPI that refuses requests without its tokens: what a launch opens, who saves, what a session
may reach, and the pages a launch that did not work gets.

The practitioner's part at the EHR (sign in, consent) is scripted over HTTP here
(:func:`smart_servers.authorize_at_ehr`); test_ehr_browser.py does it all in Chromium.
"""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from smart_servers import EhrRecord, authorize_at_ehr, ehr_record, search
from strategies import random_nhs_number
from web_support import FIGURE1, app_client, config, csrf_of

from wb_fhir.mapfile import map_from_data
from wb_fhir.terminology import PROVENANCE_PARTICIPANT_SYSTEM
from wb_fhir.web.smart import SmartConfig
from wb_fhir.web.store import MapStore

APP = "http://127.0.0.1"


def _app(tmp_path: Path, smart_auth: Any, iss: str) -> Any:
    """The app registered with the EHR whose FHIR server is ``iss``; an in-process client of it."""
    from auth_server import Client

    client = smart_auth.add_client(Client(f"wb-{uuid.uuid4().hex[:6]}", (f"{APP}/callback",), name="wb_fhir maps"))
    smart = SmartConfig(client_id=client.client_id, redirect_uri=f"{APP}/callback", issuers=(iss,))
    return app_client(config(tmp_path, smart=smart))


def _launch(tc: Any, iss: str, launch: str, user: tuple[str, str], **consent: Any) -> Any:
    """EHR launch, sign-in and consent at the EHR, back to the app: the answer to /callback."""
    start = tc.get("/launch", params={"iss": iss, "launch": launch}, follow_redirects=False)
    assert start.status_code == 302, start.text
    back = urlsplit(authorize_at_ehr(start.headers["location"], user=user, **consent))
    return tc.get(f"{back.path}?{back.query}", follow_redirects=False)


def _open(tc: Any, smart_auth: Any, smart_hapi: str, record: EhrRecord) -> str:
    """Launch the app on the record's person and follow it to the map it opens; that map's id."""
    answer = _launch(tc, smart_hapi, smart_auth.new_launch(record.patient), record.user)
    assert answer.status_code == 303 and answer.headers["location"] == "/ehr/open", answer.text
    opened = tc.get("/ehr/open", follow_redirects=False)
    assert opened.status_code == 303, opened.text
    assert opened.headers["location"].startswith("/maps/")
    return str(opened.headers["location"]).rsplit("/", 1)[1]


def test_a_launch_opens_the_persons_map_drafted_from_the_record_and_saves_it_as_the_practitioner(
    tmp_path: Path, smart_auth: Any, smart_hapi: str
) -> None:
    record = ehr_record(smart_auth, smart_hapi)
    assert record.previous is not None
    tc = _app(tmp_path, smart_auth, smart_hapi)
    map_id = _open(tc, smart_auth, smart_hapi, record)

    editor = tc.get(f"/maps/{map_id}")
    assert editor.status_code == 200
    assert "Opened from the care record by Alex Jones" in editor.text
    draft = tc.get(f"/api/maps/{map_id}/draft").json()["data"]
    # the person, from the launch: their NHS number and Patient id
    assert draft["subject"] == {"nhs_number": record.nhs_number, "fhir_id": record.patient_reference, "display": "Sam"}
    assert draft["date"] == date.today().isoformat()
    # the practitioner, from fhirUser, first (the author): the same Alex Jones as on the last map
    assert draft["practitioners"] == [{"display": "Alex Jones", "role": "CPN", "fhir_id": record.practitioner}]
    # the latest map carried forward (same ids), and the record's people added, to confirm
    labels = {c["id"]: c["label"] for c in draft["connections"]}
    assert {c.id for c in record.previous.connections} <= set(labels)
    added = [c for c in draft["connections"] if c.get("confirmed") is False]
    assert {c["label"] for c in added} == {"Jo", "Chris Lee (Care coordinator)"}
    assert {c["fhir_id"].split("/")[0] for c in added} == {"RelatedPerson", "Practitioner"}

    # the person's earlier map was pulled from the record: the person's page lists both
    person = tc.get(f"/people/{_handle(tc, map_id)}")
    assert person.status_code == 200 and record.previous.date.isoformat() in person.text

    # Save, the editor's own way: the same draft back, with the page's token
    token = csrf_of(editor.text)
    saved = tc.post(f"/api/maps/{map_id}/save", json={"data": draft, "rev": 1}, headers={"X-CSRF-Token": token})
    assert saved.status_code == 200, saved.text
    assert saved.json()["sent"] == "sent", saved.json()

    [qr] = search(
        smart_auth, smart_hapi, f"QuestionnaireResponse?subject=Patient/{record.patient}&authored={date.today()}"
    )
    assert qr["author"]["reference"] == record.practitioner
    saved_map = map_from_data(saved.json()["data"])
    [provenance] = [
        p
        for p in search(smart_auth, smart_hapi, f"Provenance?agent={record.practitioner}")
        if any(e["what"]["reference"] == f"QuestionnaireResponse/{qr['id']}" for e in p.get("entity", []))
    ]
    authors = [
        a["who"].get("reference")
        for a in provenance["agent"]
        if a["type"]["coding"][0] == {"system": PROVENANCE_PARTICIPANT_SYSTEM, "code": "author"}
    ]
    assert authors[0] == record.practitioner
    assert saved_map.practitioners[0].fhir_id == record.practitioner

    # opening the launch again opens today's map again, not a new one
    assert tc.get("/ehr/open", follow_redirects=False).headers["location"] == f"/maps/{map_id}"


def _handle(tc: Any, map_id: str) -> str:
    """The person's page address, as the editor's crumb gives it."""
    page = tc.get(f"/maps/{map_id}").text
    marker = '<a href="/people/'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def test_the_practitioner_stays_the_author_and_the_person_stays_the_launched_one(
    tmp_path: Path, smart_auth: Any, smart_hapi: str
) -> None:
    record = ehr_record(smart_auth, smart_hapi, previous_map=False)
    tc = _app(tmp_path, smart_auth, smart_hapi)
    map_id = _open(tc, smart_auth, smart_hapi, record)
    token = csrf_of(tc.get(f"/maps/{map_id}").text)
    draft = tc.get(f"/api/maps/{map_id}/draft").json()["data"]
    assert draft["connections"] and all(c["confirmed"] is False for c in draft["connections"])  # from the record
    # someone removes the practitioner and types another person's NHS number
    other = random_nhs_number()
    changed = {**draft, "subject": {"nhs_number": other, "display": "Sam"}, "practitioners": [{"display": "Kim"}]}
    kept = tc.put(f"/api/maps/{map_id}/draft", json={"data": changed, "rev": 2}, headers={"X-CSRF-Token": token})
    assert kept.status_code == 200
    draft = tc.get(f"/api/maps/{map_id}/draft").json()["data"]
    assert (
        draft["subject"]["nhs_number"] == record.nhs_number and draft["subject"]["fhir_id"] == record.patient_reference
    )
    saved = tc.post(f"/api/maps/{map_id}/save", json={"data": changed, "rev": 3}, headers={"X-CSRF-Token": token})
    assert saved.status_code == 200 and saved.json()["sent"] == "sent", saved.text
    assert saved.json()["data"]["practitioners"] == [
        {"display": "Alex Jones", "fhir_id": record.practitioner},
        {"display": "Kim"},
    ]
    assert saved.json()["data"]["subject"]["nhs_number"] == record.nhs_number
    [qr] = search(smart_auth, smart_hapi, f"QuestionnaireResponse?subject=Patient/{record.patient}")
    assert qr["author"]["reference"] == record.practitioner
    # the other person is out of reach of this session
    home = tc.get("/")
    assert home.status_code == 200 and home.text.count('<a href="/people/') == 1
    found = tc.post("/people", data={"nhs_number": other, "csrf_token": token})
    assert found.status_code == 403
    # nor can a map file of another person be imported into it
    before = len(MapStore(tmp_path / "maps.sqlite").records())
    imported = tc.post("/import", data={"csrf_token": token}, files={"file": ("m.yaml", FIGURE1.read_bytes())})
    assert imported.status_code == 403 and "another person" in imported.text
    assert len(MapStore(tmp_path / "maps.sqlite").records()) == before


def test_a_new_launch_moves_the_session_to_its_person(tmp_path: Path, smart_auth: Any, smart_hapi: str) -> None:
    first = ehr_record(smart_auth, smart_hapi, previous_map=False)
    second = ehr_record(smart_auth, smart_hapi, previous_map=False)
    tc = _app(tmp_path, smart_auth, smart_hapi)
    first_map = _open(tc, smart_auth, smart_hapi, first)
    assert tc.get(f"/maps/{first_map}").status_code == 200
    answer = _launch(tc, smart_hapi, smart_auth.new_launch(second.patient), second.user)
    assert answer.headers["location"] == "/ehr/open"
    # until the new launch is opened, pages send the browser to open it
    assert tc.get(f"/maps/{first_map}", follow_redirects=False).headers["location"] == "/ehr/open"
    second_map = tc.get("/ehr/open", follow_redirects=False).headers["location"].rsplit("/", 1)[1]
    assert tc.get(f"/api/maps/{second_map}/draft").json()["data"]["subject"]["nhs_number"] == second.nhs_number
    assert tc.get(f"/maps/{first_map}").status_code == 403


def test_without_a_launch_no_page_opens(tmp_path: Path, smart_auth: Any) -> None:
    iss = f"{smart_auth.url}/fhir-{uuid.uuid4().hex[:6]}"
    smart_auth.resource_servers.add(iss)
    tc = _app(tmp_path, smart_auth, iss)
    for path in ("/", "/maps/abc", "/people/abc", "/api/maps/abc/draft", "/ehr/open"):
        answer = tc.get(path, follow_redirects=False)
        assert answer.status_code == 401, path
        assert "Open the app from the care record" in answer.text and 'href="/login"' in answer.text
    # even a write with the session's own token runs nothing
    token = tc.app.sessions.get(tc.cookies["wbf-session"]).csrf
    refused = tc.post("/maps/new", data={"csrf_token": token}, follow_redirects=False)
    assert refused.status_code == 401 and "Open the app from the care record" in refused.text
    assert MapStore(tmp_path / "maps.sqlite").records() == []
    assert tc.get("/static/app.css").status_code == 200  # the page's own look still loads
    assert tc.get("/login", follow_redirects=False).status_code == 302  # the way in


@pytest.mark.parametrize("scope", ["patient/CarePlan.crus", "fhirUser"])
def test_a_token_missing_a_scope_gets_the_page_naming_it_on_every_page(
    tmp_path: Path, smart_auth: Any, scope: str
) -> None:
    iss = f"{smart_auth.url}/fhir-{uuid.uuid4().hex[:6]}"
    smart_auth.resource_servers.add(iss)
    tc = _app(tmp_path, smart_auth, iss)
    answer = _launch(tc, iss, smart_auth.new_launch("pat-missing"), ("dr-jones", "pw-jones"), untick=(scope,))
    assert answer.status_code == 403
    for page in (answer, tc.get("/"), tc.get("/ehr/open")):
        assert page.status_code == 403
        assert "The app needs more permissions" in page.text and f"<li>{scope}</li>" in page.text
        assert '<html lang="en-GB">' in page.text and "<main" in page.text  # the app's own page


def test_a_launch_whose_person_the_record_does_not_have_gets_a_clear_page(
    tmp_path: Path, smart_auth: Any, smart_hapi: str
) -> None:
    tc = _app(tmp_path, smart_auth, smart_hapi)
    answer = _launch(tc, smart_hapi, smart_auth.new_launch(f"gone-{uuid.uuid4().hex[:8]}"), ("dr-jones", "pw-jones"))
    assert answer.headers["location"] == "/ehr/open"
    opened = tc.get("/ehr/open", follow_redirects=False)
    assert opened.status_code == 502 and "The care record could not be read" in opened.text
    assert "Try opening it again" in opened.text and "The care record said: GET " in opened.text
    assert tc.get("/", follow_redirects=False).headers["location"] == "/ehr/open"  # nothing opened meanwhile
