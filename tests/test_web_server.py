"""``wb-fhir serve --server``: against the real FHIR test server (HAPI), through the sync layer.

Saving pushes the map (outbox first); opening a person on another computer pulls their maps;
a plan changed in the record by someone else is shown as a conflict and not overwritten.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from strategies import random_nhs_number
from web_figure1 import figure1
from web_support import app_client, config, csrf_of, open_guarded, serve, stop

from wb_fhir import map_from_data, map_to_data
from wb_fhir.sync import FhirClient, Outbox, State
from wb_fhir.terminology import NHS_NUMBER_SYSTEM
from wb_fhir.web.store import MapStore

pytestmark = pytest.mark.server
RNG = random.Random()


@pytest.fixture
def person(fhir_server: str) -> str:
    """A new Patient on the test server (a random NHS number: the server is shared)."""
    nhs = random_nhs_number(RNG)
    patient = {"resourceType": "Patient", "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": nhs}], "active": True}
    answer = requests.put(
        f"{fhir_server}/Patient",
        params={"identifier": f"{NHS_NUMBER_SYSTEM}|{nhs}"},
        json=patient,
        headers={"Content-Type": "application/fhir+json"},
        timeout=60,
    )
    assert answer.status_code in (200, 201), answer.text
    return nhs


def _config(tmp_path: Path, fhir_server: str, name: str) -> Any:
    client = FhirClient(fhir_server)
    folder = tmp_path / name
    folder.mkdir()
    return config(folder, server=fhir_server, client=lambda _session: client)


def _map_of(nhs: str) -> dict[str, Any]:
    data = figure1()
    data["subject"] = {**data["subject"], "nhs_number": nhs}
    return data


def _save(client: Any, data: dict[str, Any], rev: int = 1) -> dict[str, Any]:
    token = csrf_of(client.get("/").text)
    answer = client.post("/maps/new", data={"csrf_token": token}, follow_redirects=False)
    record = answer.headers["location"].rsplit("/", 1)[1]
    saved = client.post(f"/api/maps/{record}/save", json={"data": data, "rev": rev}, headers={"X-CSRF-Token": token})
    assert saved.status_code == 200, saved.text
    return {"record": record, **saved.json()}


def _responses(base: str, nhs: str) -> list[dict[str, Any]]:
    patient = requests.get(f"{base}/Patient", params={"identifier": f"{NHS_NUMBER_SYSTEM}|{nhs}"}, timeout=60).json()
    pid = patient["entry"][0]["resource"]["id"]
    bundle = requests.get(f"{base}/QuestionnaireResponse", params={"subject": f"Patient/{pid}"}, timeout=60).json()
    return [e["resource"] for e in bundle.get("entry", [])]


def test_save_pushes_and_opening_the_person_elsewhere_pulls(fhir_server: str, person: str, tmp_path: Path) -> None:
    here = app_client(_config(tmp_path, fhir_server, "here"))
    saved = _save(here, _map_of(person))
    assert saved["sent"] == "sent", saved
    assert "written to the care record" in saved["message"]
    assert len(_responses(fhir_server, person)) == 1
    with Outbox(tmp_path / "here" / "outbox.sqlite") as box:
        assert [i.state for i in box.items()] == [State.SENT]

    elsewhere_config = _config(tmp_path, fhir_server, "elsewhere")
    elsewhere = app_client(elsewhere_config)
    token = csrf_of(elsewhere.get("/").text)
    opened = elsewhere.post("/people", data={"csrf_token": token, "nhs_number": person}, follow_redirects=False)
    assert opened.status_code == 303
    page = elsewhere.get(opened.headers["location"])
    assert "Read 1 map(s) from the care record" in page.text
    store = MapStore(elsewhere_config.store_path)
    (record,) = store.records(f"nhs:{person}")
    latest = store.latest(record.id)
    assert latest is not None and latest.origin == "record"
    pulled = latest.data
    assert pulled["subject"].pop("fhir_id").startswith("Patient/")  # the record adds its own id
    assert map_from_data(pulled) == map_from_data(_map_of(person))

    # opened again here, the map that came back from the record is no new version
    mine = here.post("/people", data={"csrf_token": csrf_of(here.get("/").text), "nhs_number": person})
    assert "Read 1 map(s) from the care record." in mine.text
    assert len(MapStore(tmp_path / "here" / "maps.sqlite").versions(saved["record"])) == 1

    # a later map saved here is pulled there when the person is opened again
    later = _map_of(person)
    later["date"] = "2027-05-20"
    later["time_at_home"] = 50
    assert _save(here, later)["sent"] == "sent"
    again = elsewhere.get(opened.headers["location"])
    assert "Read 2 map(s) from the care record; 1 new or changed." in again.text
    assert [r.map_date for r in store.records(f"nhs:{person}")] == ["2026-11-20", "2027-05-20"]


def test_without_the_server_the_map_waits_in_the_outbox(person: str, tmp_path: Path) -> None:
    dead = FhirClient("http://127.0.0.1:9/fhir")
    client = app_client(config(tmp_path, server=dead.base_url, client=lambda _session: dead))
    saved = _save(client, _map_of(person))
    assert saved["sent"] == "queued" and "waits in the outbox" in saved["message"]
    with Outbox(tmp_path / "outbox.sqlite") as box:
        assert [i.state for i in box.items()] == [State.PENDING]
    assert MapStore(tmp_path / "maps.sqlite").latest(saved["record"]) is not None


def test_a_plan_changed_elsewhere_is_shown_as_a_conflict_not_overwritten(
    chromium: Any, fhir_server: str, person: str, tmp_path: Path
) -> None:
    live = serve(_config(tmp_path, fhir_server, "app"))
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    guarded = open_guarded(context, live.url)
    page = guarded.page
    try:
        page.goto(live.url + "/")
        page.click("text=Start a new map")
        page.wait_for_selector("#editor[data-ready=yes]")
        record = page.eval_on_selector("#editor", "e => e.dataset.record")
        token = csrf_of(page.content())
        first = page.request.post(
            f"{live.url}/api/maps/{record}/save",
            data={"data": _map_of(person), "rev": 100},
            headers={"X-CSRF-Token": token},
        )
        assert first.json()["sent"] == "sent"

        # the GP changes the care plan in the record
        plans = requests.get(
            f"{fhir_server}/CarePlan",
            params={"subject:Patient.identifier": f"{NHS_NUMBER_SYSTEM}|{person}"},
            timeout=60,
        ).json()
        plan = plans["entry"][0]["resource"]
        plan["description"] = "Changed by the GP"
        put = requests.put(
            f"{fhir_server}/CarePlan/{plan['id']}",
            json=plan,
            headers={"Content-Type": "application/fhir+json"},
            timeout=60,
        )
        assert put.status_code == 200, put.text

        page.reload()
        page.wait_for_selector("#editor[data-ready=yes]")
        page.click("#goal-list li:first-child button:has-text('Change')")
        page.select_option("#g-status", "on-hold")
        page.click("#g-submit")
        page.click("#save")
        page.wait_for_selector("#save-result:not([hidden])")
        shown = page.inner_text("#save-result")
        assert "Not sent: someone else changed this person's plan or goals" in shown
        assert re.search(r"CarePlan/\S+ was changed on the server by someone else", shown)
        assert page.get_attribute("#save-result", "role") == "alert"
        assert "conflict" in page.get_attribute("#save-result", "class")
        assert person not in shown
    finally:
        context.close()
        stop(live)
    guarded.check()
    kept = requests.get(f"{fhir_server}/CarePlan/{plan['id']}", timeout=60).json()
    assert kept["description"] == "Changed by the GP"
    with Outbox(tmp_path / "app" / "outbox.sqlite") as box:
        assert [i.state for i in box.items()] == [State.SENT, State.FAILED]
    # the version is kept here all the same: nothing typed is lost
    versions = MapStore(tmp_path / "app" / "maps.sqlite").versions(record)
    assert [v.data["goals"][0]["status"] for v in versions] == ["active", "on-hold"]
    assert map_to_data(map_from_data(versions[0].data)) == _map_of(person)
