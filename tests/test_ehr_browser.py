"""SMART launches in a real browser (Debian's Chromium under Playwright): the practitioner signs in
and consents at the EHR's authorization server, the app opens on the right patient and saves.

The app here is a small harness that mounts the launcher's routes; wiring them into
``wb-fhir serve``'s editor comes with the app (docs/ehr-integration.md).
"""

from __future__ import annotations

import html
import uuid
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import requests
from smart_servers import PRACTITIONER_USER, free_port
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from wb_fhir.bundles import map_bundle
from wb_fhir.mapfile import load_map
from wb_fhir.model import Practitioner, Subject
from wb_fhir.web.smart import SmartConfig, SmartLauncher

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "tests" / "fhir-server" / "run"


def _harness(launcher: SmartLauncher) -> Starlette:
    def home(request: Request) -> HTMLResponse:
        context = launcher.current_context(request)
        if context is None:
            return HTMLResponse(
                "<!doctype html><html lang='en'><title>Not launched</title><h1>Not launched</h1></html>"
            )
        return HTMLResponse(
            "<!doctype html><html lang='en'><head><title>Wellbeing map</title></head><body><main>"
            f"<h1>Map for <span id='patient'>{html.escape(context.patient or '')}</span></h1>"
            f"<p>Practitioner: <span id='user'>{html.escape(context.fhir_user or '')}</span></p>"
            "<form method='post' action='/save'><button type='submit'>Save map</button></form></main></body></html>"
        )

    def save(request: Request) -> HTMLResponse:
        context = launcher.current_context(request)
        assert context is not None and context.patient_reference and context.fhir_user
        wmap = replace(
            load_map(ROOT / "examples" / "figure1.yaml"),
            subject=Subject(fhir_id=context.patient_reference, display="Sam"),
            practitioners=(Practitioner("Dr Alex Jones", fhir_id=context.fhir_user),),
            date=date.today(),
        )
        launcher.client_for(request).transaction(map_bundle(wmap, ()))
        return HTMLResponse("<!doctype html><html lang='en'><title>Saved</title><h1>Saved</h1></html>")

    return Starlette(routes=[*launcher.routes(), Route("/", home), Route("/save", save, methods=["POST"])])


def _serve(serve_app: Any, smart_auth: Any, iss: str, **config: Any) -> tuple[str, SmartLauncher]:
    from auth_server import Client

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    client = smart_auth.add_client(Client(f"wb-{uuid.uuid4().hex[:6]}", (f"{base}/callback",), name="wb_fhir maps"))
    launcher = SmartLauncher(
        SmartConfig(client_id=client.client_id, redirect_uri=f"{base}/callback", issuers=(iss,), **config)
    )
    serve_app(_harness(launcher), port)
    return base, launcher


def _sign_in(page: Any, user: tuple[str, str] = PRACTITIONER_USER) -> None:
    page.get_by_label("User name").fill(user[0])
    page.get_by_label("Password").fill(user[1])
    page.get_by_role("button", name="Sign in").click()


def _only_loopback(page: Any) -> None:
    def check(route: Any) -> None:
        url = route.request.url
        if url.startswith(("http://127.0.0.1:", "data:", "about:")):
            route.continue_()
        else:
            raise AssertionError(f"request to another origin: {url}")

    page.route("**/*", check)


def test_an_ehr_launch_in_the_browser_saves_a_map_with_the_practitioner_as_author(
    chromium: Any, serve_app: Any, smart_auth: Any, smart_hapi: str
) -> None:
    from auth_server import User

    setup = {
        "Authorization": f"Bearer {smart_auth.mint(smart_hapi, 'system/*.cruds')}",
        "Accept": "application/fhir+json",
    }
    patient = requests.post(
        f"{smart_hapi}/Patient", json={"resourceType": "Patient"}, headers=setup, timeout=60
    ).json()["id"]
    practitioner = requests.post(
        f"{smart_hapi}/Practitioner",
        json={"resourceType": "Practitioner", "name": [{"text": "Dr Alex Jones"}]},
        headers=setup,
        timeout=60,
    ).json()["id"]
    user = smart_auth.add_user(User(f"dr-{uuid.uuid4().hex[:6]}", "pw-b", fhir_user=f"Practitioner/{practitioner}"))
    base, _ = _serve(serve_app, smart_auth, smart_hapi)

    page = chromium.new_page()
    _only_loopback(page)
    page.goto(f"{base}/launch?iss={smart_hapi}&launch={smart_auth.new_launch(patient)}")
    _sign_in(page, (user.username, user.password))
    page.get_by_role("heading", name="Allow wb_fhir maps to use the care record?").wait_for()
    assert page.get_by_label("patient/QuestionnaireResponse.crus").is_checked()
    page.screenshot(path=str(SHOTS / "ehr-consent.png"))
    page.get_by_role("button", name="Allow").click()
    page.get_by_role("heading", name=f"Map for {patient}").wait_for()
    assert page.locator("#user").inner_text() == f"Practitioner/{practitioner}"
    assert not [c for c in page.context.cookies() if "access" in c["value"] or len(c["value"]) > 100]
    page.get_by_role("button", name="Save map").click()
    page.get_by_role("heading", name="Saved").wait_for()
    page.close()

    found = requests.get(
        f"{smart_hapi}/QuestionnaireResponse?subject=Patient/{patient}", headers=setup, timeout=60
    ).json()
    [qr] = [e["resource"] for e in found["entry"]]
    assert qr["author"]["reference"] == f"Practitioner/{practitioner}"
    goals = requests.get(f"{smart_hapi}/Goal?subject=Patient/{patient}", headers=setup, timeout=60).json()
    assert len(goals["entry"]) == 2


def test_a_standalone_launch_lets_the_practitioner_pick_the_patient(
    chromium: Any, serve_app: Any, smart_auth: Any
) -> None:
    iss = f"{smart_auth.url}/fhir-{uuid.uuid4().hex[:6]}"
    smart_auth.resource_servers.add(iss)
    smart_auth.patients.update({"pat-browser-1", "pat-browser-2"})
    base, _ = _serve(serve_app, smart_auth, iss)
    page = chromium.new_page()
    _only_loopback(page)
    page.goto(f"{base}/login")
    _sign_in(page)
    page.get_by_label("Patient", exact=True).select_option("pat-browser-2")
    page.get_by_role("button", name="Allow").click()
    page.get_by_role("heading", name="Map for pat-browser-2").wait_for()
    page.close()


def test_a_token_missing_a_scope_is_named_in_the_browser(chromium: Any, serve_app: Any, smart_auth: Any) -> None:
    iss = f"{smart_auth.url}/fhir-{uuid.uuid4().hex[:6]}"
    smart_auth.resource_servers.add(iss)
    base, _ = _serve(serve_app, smart_auth, iss)
    page = chromium.new_page()
    _only_loopback(page)
    page.goto(f"{base}/launch?iss={iss}&launch={smart_auth.new_launch('pat-3')}")
    _sign_in(page)
    page.get_by_label("patient/CarePlan.crus").uncheck()
    page.get_by_role("button", name="Allow").click()
    page.get_by_role("heading", name="The app needs more permissions").wait_for()
    assert page.get_by_role("listitem").filter(has_text="patient/CarePlan.crus").count() == 1
    page.screenshot(path=str(SHOTS / "ehr-missing-scope.png"))
    page.goto(f"{base}/")
    assert page.get_by_role("heading", name="Map for pat-3").count() == 1  # the context is kept; saving would fail
    page.close()
