"""SMART App Launch against the tests' real authorization server (tests/auth_server), the app in-process.

The practitioner's part at the EHR (sign in, consent) is scripted over HTTP here
(:func:`smart_servers.authorize_at_ehr`); test_ehr_browser.py does it in Chromium.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from smart_servers import authorize_at_ehr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from wb_fhir.errors import AuthError, InputError
from wb_fhir.web.smart import SmartConfig, SmartLauncher
from wb_fhir.web.smart.launch import COOKIE, relative_to

APP = "http://127.0.0.1"


def _app(launcher: SmartLauncher) -> Starlette:
    def home(request: Request) -> JSONResponse:
        context = launcher.current_context(request)
        return JSONResponse(None if context is None else {**context.__dict__, "granted": list(context.granted)})

    return Starlette(routes=[*launcher.routes(), Route("/", home)])


@pytest.fixture
def ehr(smart_auth: Any) -> Iterator[tuple[Any, str, Any]]:
    """A FHIR base URL protected by the authorization server, and a registered client for the app."""
    from auth_server import Client

    iss = f"{smart_auth.url}/fhir-{uuid.uuid4().hex[:8]}"
    smart_auth.resource_servers.add(iss)
    client = smart_auth.add_client(Client(f"wb-fhir-{uuid.uuid4().hex[:8]}", (f"{APP}/callback",), name="wb_fhir"))
    yield smart_auth, iss, client
    smart_auth.resource_servers.discard(iss)


def _launcher(iss: str, client_id: str, **kwargs: Any) -> SmartLauncher:
    return SmartLauncher(SmartConfig(client_id=client_id, redirect_uri=f"{APP}/callback", issuers=(iss,), **kwargs))


def _back(tc: TestClient, location: str) -> Any:
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}" == APP, location
    return tc.get(f"{parts.path}?{parts.query}", follow_redirects=False)


def _launch(tc: TestClient, iss: str, launch: str) -> str:
    r = tc.get("/launch", params={"iss": iss, "launch": launch}, follow_redirects=False)
    assert r.status_code == 302, r.text
    return str(r.headers["location"])


def test_ehr_launch_opens_on_the_patient_with_the_practitioner(ehr: tuple[Any, str, Any]) -> None:
    auth, iss, client = ehr
    launcher = _launcher(iss, client.client_id)
    tc = TestClient(_app(launcher), base_url=APP)
    launch = auth.new_launch("pat-1", encounter="enc-1")

    location = _launch(tc, iss, launch)
    query = parse_qs(urlsplit(location).query)
    assert location.startswith(f"{auth.url}/authorize?")
    assert query["aud"] == [iss] and query["launch"] == [launch] and query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["redirect_uri"] == [f"{APP}/callback"] and len(query["state"][0]) >= 32
    scope = query["scope"][0].split()
    assert scope[:4] == ["launch", "openid", "fhirUser", "online_access"]
    assert "patient/QuestionnaireResponse.crus" in scope and "patient/Patient.rs" in scope
    cookie = tc.cookies.get(COOKIE)
    assert cookie and len(cookie) >= 40

    done = _back(tc, authorize_at_ehr(location))
    assert done.status_code == 303 and done.headers["location"] == "/"
    context = tc.get("/").json()
    assert context["patient"] == "pat-1" and context["encounter"] == "enc-1"
    assert context["fhir_user"] == "Practitioner/unknown"
    assert context["iss"] == iss and context["missing"] == [] and context["need_patient_banner"] is False
    # the tokens stay on the server: nothing of them in the browser's cookies or pages
    session = launcher.store.get(cookie)
    assert session is not None and session.tokens is not None
    assert session.tokens.access_token not in str(dict(tc.cookies)) + done.text + str(context)
    assert session.tokens.refresh_token and session.tokens.token_endpoint == f"{auth.url}/token"


def test_the_launch_cookie_is_http_only_and_lax(ehr: tuple[Any, str, Any]) -> None:
    auth, iss, client = ehr
    tc = TestClient(_app(_launcher(iss, client.client_id)), base_url=APP)
    r = tc.get("/launch", params={"iss": iss, "launch": auth.new_launch("pat-1")}, follow_redirects=False)
    header = r.headers["set-cookie"]
    assert header.startswith(f"{COOKIE}=") and "HttpOnly" in header and "SameSite=Lax" in header


def test_a_callback_with_another_state_is_refused_and_an_answer_is_used_once(ehr: tuple[Any, str, Any]) -> None:
    auth, iss, client = ehr
    launcher = _launcher(iss, client.client_id)
    tc = TestClient(_app(launcher), base_url=APP)
    back = authorize_at_ehr(_launch(tc, iss, auth.new_launch("pat-1")))
    forged = back.replace("state=", "state=x")
    r = _back(tc, forged)
    assert r.status_code == 400 and "did not belong to this sign-in" in r.text
    assert tc.get("/").json() is None
    assert _back(tc, back).status_code == 303
    again = _back(tc, back)  # the same answer twice: the sign-in is spent
    assert again.status_code == 400 and "expired" in again.text


def test_a_callback_in_another_browser_is_refused(ehr: tuple[Any, str, Any]) -> None:
    auth, iss, client = ehr
    launcher = _launcher(iss, client.client_id)
    back = authorize_at_ehr(_launch(TestClient(_app(launcher), base_url=APP), iss, auth.new_launch("pat-1")))
    other = TestClient(_app(launcher), base_url=APP)
    r = _back(other, back)
    assert r.status_code == 400
    assert other.get("/").json() is None


def test_an_unregistered_iss_is_refused_without_redirect(ehr: tuple[Any, str, Any]) -> None:
    _, iss, client = ehr
    tc = TestClient(_app(_launcher(iss, client.client_id)), base_url=APP)
    r = tc.get("/launch", params={"iss": "https://evil.example/fhir", "launch": "x"}, follow_redirects=False)
    assert r.status_code == 400 and "not registered" in r.text
    r = tc.get("/launch", params={"iss": iss}, follow_redirects=False)
    assert r.status_code == 400 and "iss and launch" in r.text


def test_an_unknown_launch_comes_back_as_an_error_page(ehr: tuple[Any, str, Any]) -> None:
    _, iss, client = ehr
    tc = TestClient(_app(_launcher(iss, client.client_id)), base_url=APP)
    back = authorize_at_ehr(_launch(tc, iss, "no-such-launch"))
    assert "error=invalid_request" in back
    r = _back(tc, back)
    assert r.status_code == 403 and "did not allow the app" in r.text and "launch" in r.text


def test_a_denied_consent_opens_nothing(ehr: tuple[Any, str, Any]) -> None:
    auth, iss, client = ehr
    tc = TestClient(_app(_launcher(iss, client.client_id)), base_url=APP)
    r = _back(tc, authorize_at_ehr(_launch(tc, iss, auth.new_launch("pat-1")), deny=True))
    assert r.status_code == 403 and "did not allow the app" in r.text and "denied" in r.text
    assert tc.get("/").json() is None


def test_a_token_missing_scopes_gets_a_page_naming_them(ehr: tuple[Any, str, Any]) -> None:
    auth, iss, client = ehr
    tc = TestClient(_app(_launcher(iss, client.client_id)), base_url=APP)
    location = _launch(tc, iss, auth.new_launch("pat-1"))
    r = _back(tc, authorize_at_ehr(location, untick=("patient/Goal.crus", "patient/Provenance.c")))
    assert r.status_code == 403
    assert "The app needs more permissions" in r.text
    assert "<li>patient/Goal.crus</li>" in r.text and "<li>patient/Provenance.c</li>" in r.text
    assert "patient/CarePlan.crus" not in r.text
    assert tc.get("/").json()["missing"] == ["patient/Goal.crus", "patient/Provenance.c"]


def test_a_server_speaking_only_v1_gets_v1_scopes() -> None:
    from auth_server import Client, SmartAuthServer, User
    from smart_servers import PRACTITIONER_USER

    v1 = SmartAuthServer(versions=("v1",))
    v1.start()
    try:
        v1.add_user(User(*PRACTITIONER_USER, fhir_user="Practitioner/p9"))
        iss = f"{v1.url}/fhir"
        v1.resource_servers.add(iss)
        client = v1.add_client(Client("wb-fhir", (f"{APP}/callback",)))
        tc = TestClient(_app(_launcher(iss, client.client_id)), base_url=APP)
        location = _launch(tc, iss, v1.new_launch("pat-7"))
        scope = parse_qs(urlsplit(location).query)["scope"][0].split()
        assert "patient/Goal.read" in scope and "patient/Goal.write" in scope
        assert "patient/Provenance.write" in scope and "patient/Provenance.read" not in scope
        assert not [s for s in scope if s.endswith((".rs", ".crus", ".cru", ".c", ".r"))]
        assert _back(tc, authorize_at_ehr(location)).status_code == 303
        context = tc.get("/").json()
        assert context["patient"] == "pat-7" and context["missing"] == [] and context["fhir_user"] == "Practitioner/p9"
    finally:
        v1.stop()


def test_v2_scopes_are_refused_by_a_v1_server_so_the_fallback_matters() -> None:
    from auth_server import Client, SmartAuthServer, User
    from smart_servers import PRACTITIONER_USER

    v1 = SmartAuthServer(versions=("v1",))
    v1.start()
    try:
        v1.add_user(User(*PRACTITIONER_USER, fhir_user="Practitioner/p9"))
        iss = f"{v1.url}/fhir"
        v1.resource_servers.add(iss)
        v1.add_client(Client("wb-fhir", (f"{APP}/callback",)))
        launch = v1.new_launch("pat-7")
        url = (
            f"{v1.url}/authorize?response_type=code&client_id=wb-fhir&redirect_uri={APP}/callback&state=s"
            f"&scope=launch+patient/Goal.crus&aud={iss}&launch={launch}&code_challenge_method=S256"
            "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        )
        assert "error=invalid_scope" in authorize_at_ehr(url)
    finally:
        v1.stop()


def test_standalone_launch_lets_the_practitioner_pick_the_patient(ehr: tuple[Any, str, Any]) -> None:
    auth, iss, client = ehr
    auth.patients.update({"pat-a", "pat-b"})
    tc = TestClient(_app(_launcher(iss, client.client_id)), base_url=APP)
    r = tc.get("/login", follow_redirects=False)
    assert r.status_code == 302
    query = parse_qs(urlsplit(r.headers["location"]).query)
    assert query["scope"][0].split()[0] == "launch/patient" and "launch" not in query
    assert _back(tc, authorize_at_ehr(r.headers["location"], patient="pat-b")).status_code == 303
    context = tc.get("/").json()
    assert context["patient"] == "pat-b" and context["need_patient_banner"] is True


def test_the_access_token_is_refreshed_and_the_refresh_token_rotated(ehr: tuple[Any, str, Any]) -> None:
    auth, iss, client = ehr
    launcher = _launcher(iss, client.client_id)
    tc = TestClient(_app(launcher), base_url=APP)
    _back(tc, authorize_at_ehr(_launch(tc, iss, auth.new_launch("pat-1"))))
    sid = tc.cookies[COOKIE]
    session = launcher.store.get(sid)
    assert session is not None and session.tokens is not None
    first, first_refresh = session.tokens.access_token, session.tokens.refresh_token
    assert launcher.access_token(sid) == first  # still fresh: no refresh
    renewed = launcher.access_token(sid, renew=True)
    assert renewed != first
    assert auth.refresh_tokens[first_refresh].revoked
    assert session.tokens.refresh_token not in (None, first_refresh)
    auth.refresh_tokens[session.tokens.refresh_token].revoked = True  # the EHR ends the session
    with pytest.raises(AuthError, match="refused to renew"):
        launcher.access_token(sid, renew=True)


def test_without_online_access_there_is_no_refresh(ehr: tuple[Any, str, Any]) -> None:
    auth, iss, client = ehr
    launcher = _launcher(iss, client.client_id)
    tc = TestClient(_app(launcher), base_url=APP)
    _back(tc, authorize_at_ehr(_launch(tc, iss, auth.new_launch("pat-1")), untick=("online_access",)))
    assert tc.get("/").json()["missing"] == []
    with pytest.raises(AuthError, match="no refresh token"):
        launcher.access_token(tc.cookies[COOKIE], renew=True)


def test_a_confidential_client_authenticates_at_the_token_endpoint(ehr: tuple[Any, str, Any]) -> None:
    from auth_server import Client

    auth, iss, _ = ehr
    secret = uuid.uuid4().hex
    client = auth.add_client(Client(f"conf-{secret[:6]}", (f"{APP}/callback",), client_secret=secret))
    wrong = TestClient(_app(_launcher(iss, client.client_id, client_secret="not-the-secret")), base_url=APP)
    r = _back(wrong, authorize_at_ehr(_launch(wrong, iss, auth.new_launch("pat-1"))))
    assert r.status_code == 502 and "refused the code" in r.text
    right = TestClient(_app(_launcher(iss, client.client_id, client_secret=secret)), base_url=APP)
    assert _back(right, authorize_at_ehr(_launch(right, iss, auth.new_launch("pat-1")))).status_code == 303


def test_no_client_without_a_launch(ehr: tuple[Any, str, Any]) -> None:
    _, iss, client = ehr
    launcher = _launcher(iss, client.client_id)

    def home(request: Request) -> JSONResponse:
        try:
            launcher.client_for(request)
        except AuthError as exc:
            return JSONResponse({"error": str(exc)}, status_code=401)
        return JSONResponse({})

    tc = TestClient(Starlette(routes=[Route("/", home)]), base_url=APP)
    r = tc.get("/")
    assert r.status_code == 401 and "no SMART launch" in r.json()["error"]


def test_configuration_is_checked() -> None:
    with pytest.raises(InputError, match="must be an http"):
        SmartConfig(client_id="a", redirect_uri="https://app/callback", issuers=("ftp://ehr.example/fhir",))
    with pytest.raises(InputError, match="http:// to a host that is not this machine"):
        SmartConfig(client_id="a", redirect_uri="https://app/callback", issuers=("http://ehr.example/fhir",))
    with pytest.raises(InputError, match="not one of the issuers"):
        SmartConfig(
            client_id="a", redirect_uri="https://app/cb", issuers=("https://a/fhir",), standalone_iss="https://b/fhir"
        )
    with pytest.raises(InputError, match="no FHIR server may launch"):
        SmartConfig(client_id="a", redirect_uri="https://app/cb", issuers=())
    config = SmartConfig(client_id="a", redirect_uri="https://app/cb", issuers=("https://ehr/fhir/",))
    assert config.issuers == ("https://ehr/fhir",) and config.issuer("https://ehr/fhir/") == "https://ehr/fhir"
    assert "secret" not in repr(
        SmartConfig(client_id="a", redirect_uri="https://a/cb", issuers=("https://e/f",), client_secret="secret")
    )


def test_fhir_user_is_made_relative_to_the_server() -> None:
    assert relative_to("https://ehr/fhir", "https://ehr/fhir/Practitioner/9") == "Practitioner/9"
    assert relative_to("https://ehr/fhir/", "https://other/fhir/Practitioner/9") == "https://other/fhir/Practitioner/9"
