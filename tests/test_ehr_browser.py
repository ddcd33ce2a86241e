"""``wb-fhir serve`` launched from an EHR in a real browser (Debian's Chromium under Playwright).

The whole way, as a practitioner goes it: the EHR's launch URL, sign-in and consent at the
EHR's authorization server (tests/auth_server), the app opening on the right person with a map
drafted from their record, the editor's own Save, and the resources on the HAPI that refuses
requests without a token, with the practitioner as author. Also: a standalone launch that picks
the person, a token missing a scope, and the app inside the EHR's frame on another site.
Only loopback is reachable from the pages.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from smart_servers import EhrRecord, ehr_record, free_port, search
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route
from web_support import assert_no_axe_violations, config

from wb_fhir.fhir import extract_map
from wb_fhir.terminology import PROVENANCE_PARTICIPANT_SYSTEM
from wb_fhir.web import create_app
from wb_fhir.web.smart import SmartConfig

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "tests" / "fhir-server" / "run"
LOOPBACK = ("http://127.0.0.1:", "http://localhost:", "data:", "about:", "blob:")


def _serve(
    serve_app: Any, smart_auth: Any, iss: str, tmp_path: Path, *, host: str = "127.0.0.1", **changes: Any
) -> str:
    """The app, registered with the EHR whose FHIR server is ``iss``, live on loopback; its base URL."""
    from auth_server import Client

    port = free_port()
    base = f"http://{host}:{port}"
    client = smart_auth.add_client(Client(f"wb-{uuid.uuid4().hex[:6]}", (f"{base}/callback",), name="wb_fhir maps"))
    smart = SmartConfig(client_id=client.client_id, redirect_uri=f"{base}/callback", issuers=(iss,))
    serve_app(create_app(config(tmp_path, smart=smart, **changes)), port)
    return base


@pytest.fixture
def browser(chromium: Any) -> Iterator[tuple[Any, list[str]]]:
    """A fresh browser context (1280 x 900) that reaches loopback only; the requests it refused."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    foreign: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith(LOOPBACK):
            r.continue_()
        else:
            foreign.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    yield context, foreign
    context.close()
    assert not foreign, f"requests to other origins: {foreign}"


def _sign_in(page: Any, user: tuple[str, str]) -> None:
    page.get_by_label("User name").fill(user[0])
    page.get_by_label("Password").fill(user[1])
    page.get_by_role("button", name="Sign in").click()


def _no_token_in_the_browser(context: Any, page: Any) -> None:
    """Access, refresh and id tokens (JWTs or not) never reach the browser: one short session id only.

    (Cookies are not kept apart by port: the EHR's sign-in cookie, ``smart_auth_session``, is the EHR's.)
    """
    cookies = [c for c in context.cookies() if c["name"] != "smart_auth_session"]
    assert [c["name"] for c in cookies] == ["wbf-session"]
    assert "eyJ" not in cookies[0]["value"] and len(cookies[0]["value"]) <= 64
    stored = page.evaluate("() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])")
    assert "eyJ" not in stored and "access_token" not in stored


def _written_with_the_practitioner_as_author(smart_auth: Any, smart_hapi: str, record: EhrRecord) -> dict[str, Any]:
    """Today's map of the person is in the record, the practitioner its author and the Provenance's."""
    [qr] = search(
        smart_auth, smart_hapi, f"QuestionnaireResponse?subject={record.patient_reference}&authored={date.today()}"
    )
    assert qr["author"]["reference"] == record.practitioner
    provenances = [
        p
        for p in search(smart_auth, smart_hapi, f"Provenance?agent={record.practitioner}")
        if any(e["what"]["reference"] == f"QuestionnaireResponse/{qr['id']}" for e in p.get("entity", []))
    ]
    assert len(provenances) == 1
    author = {"system": PROVENANCE_PARTICIPANT_SYSTEM, "code": "author"}
    assert [a["who"]["reference"] for a in provenances[0]["agent"] if a["type"]["coding"][0] == author] == [
        record.practitioner
    ]
    assert len(search(smart_auth, smart_hapi, f"Goal?subject={record.patient_reference}")) == 2
    return qr


def test_an_ehr_launch_opens_the_persons_map_from_the_record_and_saves_it_as_the_practitioner(
    browser: tuple[Any, list[str]], serve_app: Any, smart_auth: Any, smart_hapi: str, tmp_path: Path
) -> None:
    record = ehr_record(smart_auth, smart_hapi)
    assert record.previous is not None
    base = _serve(serve_app, smart_auth, smart_hapi, tmp_path)
    context, _ = browser
    page = context.new_page()

    page.goto(f"{base}/launch?iss={smart_hapi}&launch={smart_auth.new_launch(record.patient)}")
    _sign_in(page, record.user)
    page.get_by_role("heading", name="Allow wb_fhir maps to use the care record?").wait_for()
    assert page.get_by_label("patient/QuestionnaireResponse.crus").is_checked()
    assert page.get_by_label("launch", exact=True).is_checked()
    page.screenshot(path=str(SHOTS / "ehr-consent.png"), full_page=True)
    page.get_by_role("button", name="Allow").click()

    # the app opens on the person, with a map drafted from the record
    page.get_by_role("heading", name="Wellbeing network map").wait_for()
    assert page.url.startswith(f"{base}/maps/")
    assert page.get_by_text("Opened from the care record by Alex Jones").is_visible()
    nhs = page.get_by_label("NHS number")
    assert nhs.input_value() == record.nhs_number and nhs.get_attribute("readonly") is not None
    assert page.get_by_label("Name of the person").input_value() == "Sam"
    connections = page.locator("#connection-list")
    for label in ("Jo", "Chris Lee (Care coordinator)", "Gym", "Reading"):  # the record's people, the last map
        assert connections.get_by_text(label, exact=False).count() >= 1, label
    assert page.locator("#practitioner-list li").first.inner_text().startswith("Alex Jones")
    jo = connections.locator("li").filter(has_text="Jo")
    assert "from the care record, not yet confirmed with the person" in jo.inner_text()
    assert page.get_by_role("region", name="The person").count() == 0  # the EHR shows who it is
    page.screenshot(path=str(SHOTS / "ehr-launched.png"), full_page=True)
    assert_no_axe_violations(page, "the editor opened by an EHR launch")
    _no_token_in_the_browser(context, page)

    # the person says Jo is right; then Save, as the editor saves
    page.get_by_role("button", name="Confirm Jo").click()
    assert "not yet confirmed" not in jo.inner_text()
    page.get_by_role("button", name="Save the map").click()
    page.locator("#save-result").get_by_text("Saved, and written to the care record.", exact=False).wait_for()
    qr = _written_with_the_practitioner_as_author(smart_auth, smart_hapi, record)
    saved = {c.label: c for c in extract_map(qr).map.connections}
    assert saved["Jo"].confirmed and not saved["Chris Lee (Care coordinator)"].confirmed
    assert saved["Jo"].fhir_id and saved["Jo"].fhir_id.startswith("RelatedPerson/")

    # the person's maps over time: the one from the record and today's
    page.get_by_role("link", name="See all maps of this person").click()
    page.get_by_role("heading", name="Maps of Sam").wait_for()
    dates = page.locator("tbody tr td:first-child").all_inner_texts()
    assert dates == [record.previous.date.isoformat(), date.today().isoformat()]


def test_a_standalone_launch_lets_the_practitioner_pick_the_person(
    browser: tuple[Any, list[str]], serve_app: Any, smart_auth: Any, smart_hapi: str, tmp_path: Path
) -> None:
    record = ehr_record(smart_auth, smart_hapi, previous_map=False)
    smart_auth.patients.add(record.patient)
    base = _serve(serve_app, smart_auth, smart_hapi, tmp_path)
    context, _ = browser
    page = context.new_page()
    page.goto(f"{base}/")
    page.get_by_role("heading", name="Open the app from the care record").wait_for()
    page.get_by_role("link", name="Sign in through the care record").click()
    _sign_in(page, record.user)
    page.get_by_label("Patient", exact=True).select_option(record.patient)
    assert page.get_by_label("launch/patient").is_checked()
    page.get_by_role("button", name="Allow").click()
    page.get_by_role("heading", name="Wellbeing network map").wait_for()
    assert page.get_by_label("NHS number").input_value() == record.nhs_number
    # launched outside the record's own screen: the app says who the person is
    banner = page.get_by_role("region", name="The person")
    spaced = f"{record.nhs_number[:3]} {record.nhs_number[3:6]} {record.nhs_number[6:]}"
    assert "Sam Test" in banner.inner_text() and spaced in banner.inner_text() and "1990-04-12" in banner.inner_text()
    page.screenshot(path=str(SHOTS / "ehr-standalone.png"))
    assert_no_axe_violations(page, "the editor opened by a standalone launch")
    _no_token_in_the_browser(context, page)


def test_a_token_missing_a_scope_gets_a_page_naming_it(
    browser: tuple[Any, list[str]], serve_app: Any, smart_auth: Any, tmp_path: Path
) -> None:
    iss = f"{smart_auth.url}/fhir-{uuid.uuid4().hex[:6]}"
    smart_auth.resource_servers.add(iss)
    base = _serve(serve_app, smart_auth, iss, tmp_path)
    context, _ = browser
    page = context.new_page()
    page.goto(f"{base}/launch?iss={iss}&launch={smart_auth.new_launch('pat-3')}")
    _sign_in(page, ("dr-jones", "pw-jones"))
    page.get_by_label("patient/CarePlan.crus").uncheck()
    page.get_by_role("button", name="Allow").click()
    page.get_by_role("heading", name="The app needs more permissions").wait_for()
    assert page.get_by_role("listitem").filter(has_text="patient/CarePlan.crus").count() == 1
    assert page.get_by_role("listitem").count() == 1
    page.screenshot(path=str(SHOTS / "ehr-missing-scope.png"), full_page=True)
    assert_no_axe_violations(page, "the page naming a missing scope")
    page.goto(f"{base}/")  # nothing else opens with that token
    page.get_by_role("heading", name="The app needs more permissions").wait_for()


def test_inside_the_ehrs_frame_on_another_site_the_launch_and_save_work(
    browser: tuple[Any, list[str]], serve_app: Any, smart_auth: Any, smart_hapi: str, tmp_path: Path
) -> None:
    """The EHR's page (127.0.0.1) frames the app on another site (localhost): only cookies that are
    SameSite=None; Secure; Partitioned reach it there, and only frame-ancestors lets it be shown."""
    record = ehr_record(smart_auth, smart_hapi, previous_map=False)
    ehr_port = free_port()
    ehr = f"http://127.0.0.1:{ehr_port}"
    base = _serve(serve_app, smart_auth, smart_hapi, tmp_path, host="localhost", frame_ancestors=(ehr,))
    launch = f"{base}/launch?iss={smart_hapi}&launch={smart_auth.new_launch(record.patient)}"

    def ehr_page(request: Any) -> HTMLResponse:
        return HTMLResponse(
            "<!doctype html><html lang='en'><title>The EHR</title><h1>The EHR</h1>"
            f"<iframe title='Wellbeing map' src='{launch}' width='1200' height='800'></iframe></html>"
        )

    serve_app(Starlette(routes=[Route("/", ehr_page)]), ehr_port)
    context, _ = browser
    page = context.new_page()
    page.goto(f"{ehr}/")
    frame = page.frame_locator("iframe")
    frame.get_by_label("User name").fill(record.user[0])
    frame.get_by_label("Password").fill(record.user[1])
    frame.get_by_role("button", name="Sign in").click()
    frame.get_by_role("button", name="Allow").click()
    frame.get_by_role("heading", name="Wellbeing network map").wait_for()
    assert frame.get_by_label("NHS number").input_value() == record.nhs_number
    [cookie] = [c for c in context.cookies() if c["domain"] == "localhost"]
    assert cookie["name"] == "__Host-wbf-session" and cookie["sameSite"] == "None" and cookie["secure"]
    assert cookie["httpOnly"]
    frame.get_by_role("button", name="Save the map").click()
    frame.locator("#save-result").get_by_text("Saved, and written to the care record.", exact=False).wait_for()
    [qr] = search(smart_auth, smart_hapi, f"QuestionnaireResponse?subject={record.patient_reference}")
    assert qr["author"]["reference"] == record.practitioner
    page.screenshot(path=str(SHOTS / "ehr-framed.png"))

    # a page on a site that is not the EHR's may not frame the app
    other_port = free_port()
    serve_app(
        Starlette(
            routes=[
                Route(
                    "/",
                    lambda r: HTMLResponse(
                        f"<!doctype html><html lang='en'><title>x</title><iframe src='{base}/'></iframe></html>"
                    ),
                )
            ]
        ),
        other_port,
    )
    other = context.new_page()
    blocked: list[str] = []
    other.on("console", lambda m: blocked.append(m.text) if "frame-ancestors" in m.text else None)
    other.goto(f"http://127.0.0.1:{other_port}/")
    other.wait_for_timeout(500)
    assert blocked, "the app was shown in a frame of a site that is not the EHR's"
