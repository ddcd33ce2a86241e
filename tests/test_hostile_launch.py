"""Hostile servers against the web app's SMART launch and CDS Hooks service (real sockets on loopback).

The EHR here (its SMART configuration, its token endpoint, its key set) is a hand-written server
from tests/hostile_servers.py that drips, floods, nests or redirects. The launcher must hold it to
the bounds every FhirClient request has: a deadline on the whole exchange, a cap on the answer,
no redirect for a token request (the code, the PKCE verifier and the client secret go to the
token endpoint only, and no token from elsewhere is used), redirects for discovery and key sets on
their own origin only, and TLS verified. Times asserted are bounds against a hang, not speed.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hostile_servers import Exchange, HostileServer, self_signed
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from wb_fhir.errors import AuthError
from wb_fhir.sync._config import MIB, Limits
from wb_fhir.sync.client import Timeouts
from wb_fhir.web.cds_hooks import CdsConfig, CdsHooks, Unauthorized
from wb_fhir.web.smart import SmartConfig, SmartLauncher
from wb_fhir.web.smart.launch import COOKIE

APP = "http://127.0.0.1"
HANG = 8.0
"""Far more than the deadline of 1 s below, far less than a hostile server's own limit (30 s)."""
CODE = "the-authorization-code"
SECRET = "the-client-secret-4f2a"
GOOD_TOKEN = {"access_token": "access-1", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "refresh-1"}


class Ehr:
    """A hostile EHR: a SMART configuration naming its own endpoints, and a token endpoint the test writes."""

    def __init__(self, token: Callable[[Exchange], None], *, discovery: Callable[[Exchange], None] | None = None):
        self.token = token
        self.discovery = discovery
        self.server = HostileServer(self._handle)

    @property
    def iss(self) -> str:
        return f"{self.server.url}/fhir"

    def configuration(self) -> dict[str, Any]:
        return {
            "authorization_endpoint": f"{self.server.url}/authorize",
            "token_endpoint": f"{self.server.url}/token",
            "capabilities": ["launch-ehr", "permission-v2"],
        }

    def _handle(self, ex: Exchange) -> None:
        if ex.request.path == "/fhir/.well-known/smart-configuration":
            (self.discovery or (lambda e: e.json(self.configuration())))(ex)
        elif ex.request.path == "/token":
            self.token(ex)
        else:
            ex.answer(404, b"")

    def token_requests(self) -> list[Any]:
        return [r for r in self.server.requests if r.path == "/token"]

    def __enter__(self) -> Ehr:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)


def launcher_for(iss: str, **kw: Any) -> SmartLauncher:
    kw.setdefault("limits", Limits(request_seconds=1.0))
    kw.setdefault("timeouts", Timeouts(connect=2, read=5))
    return SmartLauncher(
        SmartConfig(client_id="wb-fhir", redirect_uri=f"{APP}/callback", issuers=(iss,), client_secret=SECRET, **kw)
    )


def app_of(launcher: SmartLauncher) -> TestClient:
    def home(request: Request) -> JSONResponse:
        context = launcher.current_context(request)
        return JSONResponse(None if context is None else {"patient": context.patient})

    return TestClient(Starlette(routes=[*launcher.routes(), Route("/", home)]), base_url=APP)


def launch(tc: TestClient, iss: str) -> str:
    """The state of a launch the EHR started (the browser was sent to its authorization endpoint)."""
    r = tc.get("/launch", params={"iss": iss, "launch": "L1"}, follow_redirects=False)
    assert r.status_code == 302, r.text
    return parse_qs(urlsplit(r.headers["location"]).query)["state"][0]


class Clock:
    def __enter__(self) -> Clock:
        self.start = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.took = time.monotonic() - self.start


def callback(tc: TestClient, state: str) -> tuple[Any, float]:
    with Clock() as clock:
        r = tc.get("/callback", params={"code": CODE, "state": state}, follow_redirects=False)
    return r, clock.took


GRANT = {**GOOD_TOKEN, "patient": "pat-1", "scope": "launch patient/Patient.rs"}
"""A grant without openid (no id_token to check), lacking scopes the app names on its page."""


def good_token(ex: Exchange) -> None:
    ex.json(GRANT)


# --- the control: a well-behaved token endpoint ------------------------------------------------


def test_a_well_behaved_ehr_gives_a_launch_context_through_the_bounded_layer() -> None:
    with Ehr(good_token) as ehr:
        launcher = launcher_for(ehr.iss)
        tc = app_of(launcher)
        r, _ = callback(tc, launch(tc, ehr.iss))
        assert r.status_code == 403 and "needs more permissions" in r.text  # the grant lacks scopes: named
        assert tc.get("/").json() == {"patient": "pat-1"}
        sent = ehr.token_requests()
    assert len(sent) == 1
    form = parse_qs(sent[0].body.decode())
    assert form["code"] == [CODE] and form["grant_type"] == ["authorization_code"] and form["code_verifier"]
    assert sent[0].headers["authorization"] == "Basic " + base64.b64encode(f"wb-fhir:{SECRET}".encode()).decode()
    assert sent[0].headers["user-agent"].startswith("wb-fhir/")


# --- slow -------------------------------------------------------------------------------------


def test_a_token_endpoint_that_drips_is_cut_off_at_the_deadline() -> None:
    def drip(ex: Exchange) -> None:
        ex.send(ex.head(200, {"Content-Type": "application/json", "Content-Length": "5000"}))
        ex.drip(b'{"access_token": "' + b"a" * 4900, every=0.05)

    with Ehr(drip) as ehr:
        tc = app_of(launcher_for(ehr.iss))
        r, took = callback(tc, launch(tc, ehr.iss))
        assert tc.get("/").json() is None
    assert r.status_code == 502 and "no complete answer within the deadline of 1 s" in r.text
    assert took < HANG


def test_a_token_endpoint_dripping_its_headers_is_cut_off_at_the_deadline() -> None:
    with Ehr(lambda ex: ex.drip(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" * 50, every=0.05)) as ehr:
        tc = app_of(launcher_for(ehr.iss))
        r, took = callback(tc, launch(tc, ehr.iss))
    assert r.status_code == 502 and "no complete answer within the deadline of 1 s" in r.text
    assert took < HANG


def test_a_discovery_that_drips_is_cut_off_at_the_deadline() -> None:
    def drip(ex: Exchange) -> None:
        body = json.dumps({"authorization_endpoint": "x", "token_endpoint": "y", "pad": " " * 4000}).encode()
        ex.send(ex.head(200, {"Content-Type": "application/json", "Content-Length": str(len(body))}))
        ex.drip(body, every=0.05)

    with Ehr(good_token, discovery=drip) as ehr:
        tc = app_of(launcher_for(ehr.iss))
        with Clock() as clock:
            r = tc.get("/launch", params={"iss": ehr.iss, "launch": "L1"}, follow_redirects=False)
    assert r.status_code == 502 and "no complete answer within the deadline of 1 s" in r.text
    assert clock.took < HANG


def test_a_refresh_at_a_token_endpoint_that_drips_is_cut_off_at_the_deadline() -> None:
    answers = iter([good_token])

    def first_good_then_drip(ex: Exchange) -> None:
        handler = next(answers, None)
        if handler is not None:
            handler(ex)
            return
        ex.send(ex.head(200, {"Content-Type": "application/json", "Content-Length": "5000"}))
        ex.drip(b'{"access_token": "' + b"a" * 4900, every=0.05)

    with Ehr(first_good_then_drip) as ehr:
        launcher = launcher_for(ehr.iss)
        tc = app_of(launcher)
        callback(tc, launch(tc, ehr.iss))
        sid = tc.cookies[COOKIE]
        assert launcher.access_token(sid) == "access-1"
        with Clock() as clock, pytest.raises(AuthError, match="no complete answer within the deadline of 1 s"):
            launcher.access_token(sid, renew=True)
    assert clock.took < HANG


# --- huge -------------------------------------------------------------------------------------


def test_a_token_endpoint_sending_a_gigabyte_is_refused_at_one_megabyte() -> None:
    def flood(ex: Exchange) -> None:
        ex.send(ex.head(200, {"Content-Type": "application/json"}))
        ex.send(b'{"access_token": "')
        block = b"a" * MIB
        for _ in range(1024):
            ex.send(block)

    with Ehr(flood) as ehr:
        tc = app_of(launcher_for(ehr.iss, limits=Limits(request_seconds=20.0)))
        r, took = callback(tc, launch(tc, ehr.iss))
        assert tc.get("/").json() is None
    assert r.status_code == 502 and "larger than the cap of 1 MB on one answer" in r.text
    assert took < HANG


def test_an_announced_huge_token_answer_is_refused_before_it_is_read() -> None:
    def announce(ex: Exchange) -> None:
        ex.send(ex.head(200, {"Content-Type": "application/json", "Content-Length": str(5 * 1024 * MIB)}))

    with Ehr(announce) as ehr:
        tc = app_of(launcher_for(ehr.iss))
        r, _ = callback(tc, launch(tc, ehr.iss))
    assert r.status_code == 502 and "it announced 5120 MB" in r.text


def test_a_token_answer_nested_too_deep_is_a_page_not_a_crash() -> None:
    with Ehr(lambda ex: ex.answer(200, b"[" * 500_000, content_type="application/json")) as ehr:
        tc = app_of(launcher_for(ehr.iss))
        r, _ = callback(tc, launch(tc, ehr.iss))
    assert r.status_code == 502 and "cannot get a token" in r.text


def test_a_huge_key_set_is_refused_by_the_cds_service() -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"keys": ["'
        for _ in range(64):
            yield b"k" * MIB

    def flood(ex: Exchange) -> None:
        ex.stream(200, chunks())

    with HostileServer(flood) as keys:
        hooks = CdsHooks(cds_config(keys.url + "/jwks.json", Limits(request_seconds=20.0)))
        with Clock() as clock, pytest.raises(Unauthorized, match="larger than the cap of 1 MB on one answer"):
            hooks.verify(f"Bearer {unsigned_jwt()}")
    assert clock.took < HANG


# --- redirects ---------------------------------------------------------------------------------


def test_the_token_request_is_never_redirected_and_no_token_from_elsewhere_is_used() -> None:
    with (
        HostileServer(lambda ex: ex.json({**GOOD_TOKEN, "patient": "stolen"})) as thief,
        Ehr(lambda ex: ex.redirect(f"{thief.url}/token", 307)) as ehr,
    ):
        launcher = launcher_for(ehr.iss)
        tc = app_of(launcher)
        r, _ = callback(tc, launch(tc, ehr.iss))
        assert tc.get("/").json() is None
        assert len(ehr.token_requests()) == 1
    assert r.status_code == 502 and "307" in r.text and "not followed" in r.text
    assert thief.requests == []  # neither the code, nor the verifier, nor the client secret went there


def test_the_token_request_is_not_redirected_even_on_its_own_server() -> None:
    def redirect_here(ex: Exchange) -> None:
        if ex.request.path == "/token":
            ex.redirect("/token2", 307)
        else:
            good_token(ex)

    with Ehr(redirect_here) as ehr:
        tc = app_of(launcher_for(ehr.iss))
        r, _ = callback(tc, launch(tc, ehr.iss))
        assert [r.path for r in ehr.server.requests if r.path.startswith("/token")] == ["/token"]
    assert r.status_code == 502 and "a redirect is not followed for POST" in r.text


def test_a_refresh_is_never_redirected() -> None:
    answers = iter([good_token])
    with HostileServer(lambda ex: ex.json({**GOOD_TOKEN, "access_token": "stolen"})) as thief:

        def first_good_then_redirect(ex: Exchange) -> None:
            handler = next(answers, None)
            if handler is not None:
                handler(ex)
            else:
                ex.redirect(f"{thief.url}/token", 307)

        with Ehr(first_good_then_redirect) as ehr:
            launcher = launcher_for(ehr.iss)
            tc = app_of(launcher)
            callback(tc, launch(tc, ehr.iss))
            with pytest.raises(AuthError, match="not followed"):
                launcher.access_token(tc.cookies[COOKIE], renew=True)
    assert thief.requests == []


def test_discovery_follows_redirects_on_its_own_server_only() -> None:
    with HostileServer(lambda ex: ex.json({"authorization_endpoint": "https://evil.example/a"})) as elsewhere:
        with Ehr(good_token, discovery=lambda ex: ex.redirect(f"{elsewhere.url}/conf", 302)) as ehr:
            tc = app_of(launcher_for(ehr.iss))
            r = tc.get("/launch", params={"iss": ehr.iss, "launch": "L1"}, follow_redirects=False)
        assert r.status_code == 502 and "it leads to another server" in r.text
        assert elsewhere.requests == []

    def moved(ex: Exchange) -> None:
        if ex.request.path == "/fhir/.well-known/smart-configuration":
            ex.redirect("/moved/smart-configuration", 301)
        elif ex.request.path == "/moved/smart-configuration":
            ex.json(ehr.configuration())

    ehr = Ehr(good_token)
    ehr.server = HostileServer(moved)
    with ehr:
        tc = app_of(launcher_for(ehr.iss))
        r = tc.get("/launch", params={"iss": ehr.iss, "launch": "L1"}, follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"].startswith(f"{ehr.server.url}/authorize?")


def test_a_key_set_redirected_to_another_server_is_not_fetched_there() -> None:
    with (
        HostileServer(lambda ex: ex.json({"keys": []})) as elsewhere,
        HostileServer(lambda ex: ex.redirect(f"{elsewhere.url}/jwks.json", 302)) as keys,
    ):
        hooks = CdsHooks(cds_config(keys.url + "/jwks.json"))
        with pytest.raises(Unauthorized, match="it leads to another server"):
            hooks.verify(f"Bearer {unsigned_jwt()}")
    assert elsewhere.requests == []


def test_a_discovered_token_endpoint_over_http_elsewhere_is_refused() -> None:
    with Ehr(good_token) as ehr:
        ehr.discovery = lambda ex: ex.json({**ehr.configuration(), "token_endpoint": "http://ehr.example/token"})
        tc = app_of(launcher_for(ehr.iss))
        r = tc.get("/launch", params={"iss": ehr.iss, "launch": "L1"}, follow_redirects=False)
    assert r.status_code == 502 and "http://" in r.text and "https://" in r.text


# --- TLS --------------------------------------------------------------------------------------


@pytest.fixture
def tls_ehr(tmp_path: Path) -> Iterator[tuple[Ehr, Path]]:
    context, ca = self_signed(tmp_path)
    ehr = Ehr(good_token)
    ehr.server = HostileServer(ehr._handle, tls=context)
    with ehr:
        yield ehr, ca


def test_an_ehr_whose_certificate_this_machine_does_not_trust_is_refused(tls_ehr: tuple[Ehr, Path]) -> None:
    ehr, _ = tls_ehr
    tc = app_of(launcher_for(ehr.iss))
    r = tc.get("/launch", params={"iss": ehr.iss, "launch": "L1"}, follow_redirects=False)
    assert r.status_code == 502 and "TLS verification" in r.text
    assert ehr.token_requests() == []


def test_an_ehr_certificate_from_the_given_ca_bundle_is_trusted(tls_ehr: tuple[Ehr, Path]) -> None:
    ehr, ca = tls_ehr
    tc = app_of(launcher_for(ehr.iss, verify=str(ca)))
    r, _ = callback(tc, launch(tc, ehr.iss))
    assert r.status_code == 403  # the exchange went through (the grant lacks scopes, and says so)
    assert tc.get("/").json() == {"patient": "pat-1"}


# --- odd answers --------------------------------------------------------------------------------


@pytest.mark.parametrize("expires_in", ["NaN", "Infinity", "1e400", "[1]", '{"a": 1}'])
def test_a_token_lifetime_that_is_no_number_is_refused(expires_in: str) -> None:
    def odd(ex: Exchange) -> None:
        body = json.dumps(GRANT).replace("3600", expires_in)
        ex.answer(200, body, content_type="application/json")

    with Ehr(odd) as ehr:
        tc = app_of(launcher_for(ehr.iss))
        r, _ = callback(tc, launch(tc, ehr.iss))
        assert tc.get("/").json() is None
    assert r.status_code == 502 and "cannot get a token" in r.text
    assert "ValueError" in r.text or "TypeError" in r.text or "OverflowError" in r.text


@pytest.mark.parametrize("expires_in", ["-5", "0"])
def test_a_token_lifetime_of_no_time_means_renewing_at_once(expires_in: str) -> None:
    def odd(ex: Exchange) -> None:
        body = json.dumps(GRANT).replace("3600", expires_in)
        ex.answer(200, body, content_type="application/json")

    with Ehr(odd) as ehr:
        launcher = launcher_for(ehr.iss)
        tc = app_of(launcher)
        callback(tc, launch(tc, ehr.iss))
        found = launcher.store.get(tc.cookies[COOKIE])
        assert found is not None and found.tokens is not None
        assert time.time() < found.tokens.expires_at <= time.time() + 60
        launcher.access_token(tc.cookies[COOKIE])  # renewed before use
        grants = [parse_qs(r.body.decode())["grant_type"][0] for r in ehr.token_requests()]
    assert grants == ["authorization_code", "refresh_token"]


def test_an_oauth_error_from_the_token_endpoint_is_shown_scrubbed_on_one_line() -> None:
    def error(ex: Exchange) -> None:
        ex.json({"error": "invalid_grant\n\x1b[2JBearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln 943 476 5919"}, 400)

    with Ehr(error) as ehr:
        tc = app_of(launcher_for(ehr.iss))
        r, _ = callback(tc, launch(tc, ehr.iss))
    assert r.status_code == 502 and "invalid_grant" in r.text
    assert "eyJ" not in r.text and "943 476 5919" not in r.text and "\x1b" not in r.text


# --- helpers for the CDS Hooks service -----------------------------------------------------------


def cds_config(jwks_url: str, limits: Limits | None = None) -> CdsConfig:
    return CdsConfig(
        service_base=f"{APP}/cds-services",
        trusted={"https://ehr.example": jwks_url},
        app_launch_url=f"{APP}/launch",
        limits=limits or Limits(request_seconds=1.0),
        timeouts=Timeouts(connect=2, read=5),
    )


def unsigned_jwt() -> str:
    """A JWT naming the trusted issuer: enough for the service to fetch that issuer's keys."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'ES384', 'typ': 'JWT'})}.{part({'iss': 'https://ehr.example'})}.c2ln"


def test_a_key_set_that_drips_is_cut_off_at_the_deadline() -> None:
    def drip(ex: Exchange) -> None:
        ex.send(ex.head(200, {"Content-Type": "application/json", "Content-Length": "5000"}))
        ex.drip(b'{"keys": [' + b" " * 4900, every=0.05)

    with HostileServer(drip) as keys:
        hooks = CdsHooks(cds_config(keys.url + "/jwks.json"))
        with Clock() as clock, pytest.raises(Unauthorized, match="no complete answer within the deadline of 1 s"):
            hooks.verify(f"Bearer {unsigned_jwt()}")
    assert clock.took < HANG
