"""Hostile servers against the HTTP layer: slow, huge, deep, redirecting (real sockets on loopback).

Each server here is written by hand in tests/hostile_servers.py; a client that is not bounded
would hang on it, read it whole, or send credentials where they were not meant to go. Times
asserted are generous bounds against a hang (a deadline of 1 s must not take 30), not speed.
"""

from __future__ import annotations

import socket
import time
from typing import Any
from urllib.parse import parse_qs

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hostile_servers import Exchange, HostileServer, bundle, gzip_bomb, self_signed, zeros

from wb_fhir.errors import AuthError, ServerError
from wb_fhir.sync._config import MIB, Deadline, Limits
from wb_fhir.sync.auth import BearerAuth, SmartBackendAuth, SmartKey
from wb_fhir.sync.client import FhirClient, RetryPolicy, Timeouts

OK = {"resourceType": "Patient", "id": "1"}
TOKEN = "s3cr3t-t0ken-value"
HANG = 8.0
"""Far more than any deadline below, far less than a server's own time limit (30 s): a hang."""


def fhir_client(server: HostileServer, **kw: Any) -> FhirClient:
    kw.setdefault("limits", Limits(request_seconds=1.0))
    kw.setdefault("timeouts", Timeouts(connect=2, read=5))
    kw.setdefault("retry", RetryPolicy(attempts=3, base=0.01))
    return FhirClient(server.url + "/fhir", **kw)


def pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class Clock:
    def __enter__(self) -> Clock:
        self.start = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.took = time.monotonic() - self.start


# --- slow: the deadline holds in every phase ----------------------------------------------------


def test_a_body_dripped_a_byte_a_second_is_cut_off_at_the_deadline() -> None:
    def drip(ex: Exchange) -> None:
        ex.send(ex.head(200, {"Content-Type": "application/fhir+json", "Content-Length": "100000"}))
        ex.drip(b'{"resourceType": "Patient", "id": "1"' + b" " * 99_960, every=0.1)

    with HostileServer(drip) as server, Clock() as clock, pytest.raises(ServerError) as caught:
        fhir_client(server).read("Patient", "1")
    assert "no complete answer within the deadline of 1 s for one request" in str(caught.value)
    assert caught.value.setting == "deadline"
    assert clock.took < HANG


def test_headers_dripped_a_byte_at_a_time_are_cut_off_at_the_deadline() -> None:
    def drip(ex: Exchange) -> None:
        ex.drip(ex.head(200, {"Content-Type": "application/fhir+json", "X-Padding": "x" * 500}), every=0.05)

    with HostileServer(drip) as server, Clock() as clock, pytest.raises(ServerError, match="no complete answer"):
        fhir_client(server).read("Patient", "1")
    assert clock.took < HANG


def test_a_tls_server_that_drips_is_cut_off_at_the_deadline(tmp_path: Any) -> None:
    context, ca = self_signed(tmp_path)

    def drip(ex: Exchange) -> None:
        ex.send(ex.head(200, {"Content-Type": "application/fhir+json", "Content-Length": "100000"}))
        ex.drip(b"{" + b" " * 99_999, every=0.1)

    with HostileServer(drip, tls=context) as server, Clock() as clock, pytest.raises(ServerError) as caught:
        fhir_client(server, verify=str(ca)).read("Patient", "1")
    assert "no complete answer within the deadline of 1 s" in str(caught.value)
    assert server.requests and clock.took < HANG


def test_a_tls_server_that_never_shakes_hands_is_cut_off_at_the_deadline(tmp_path: Any) -> None:
    context, ca = self_signed(tmp_path)
    with (
        HostileServer(lambda ex: None, tls=context, handshake=False) as server,
        Clock() as clock,
        pytest.raises(ServerError, match="no complete answer within the deadline of 1 s"),
    ):
        fhir_client(server, verify=str(ca), timeouts=Timeouts(connect=60, read=60)).read("Patient", "1")
    assert clock.took < HANG


def test_a_server_that_never_answers_is_cut_off_before_the_read_timeout() -> None:
    def silent(ex: Exchange) -> None:
        ex.stop.wait(20)

    with HostileServer(silent) as server, Clock() as clock, pytest.raises(ServerError, match="no complete answer"):
        fhir_client(server, timeouts=Timeouts(connect=2, read=60)).read("Patient", "1")
    assert clock.took < HANG


def test_retries_stop_where_the_deadline_would_be_passed() -> None:
    def busy(ex: Exchange) -> None:
        ex.json({"resourceType": "OperationOutcome", "issue": []}, status=503, Retry_After="2")

    retry = RetryPolicy(attempts=5, base=0.01)
    with HostileServer(busy) as server, Clock() as clock, pytest.raises(ServerError, match="failed: 503"):
        fhir_client(server, limits=Limits(request_seconds=1.5), retry=retry).read("Patient", "1")
    assert len(server.requests) == 1  # a 2 s wait would end past the deadline: no retry
    assert clock.took < HANG


def test_the_command_deadline_ends_an_endless_search() -> None:
    def endless(ex: Exchange) -> None:
        ex.stop.wait(0.3)
        page = bundle([OK])
        page["link"] = [
            {
                "relation": "next",
                "url": f"http://127.0.0.1:{ex.request.headers['host'].split(':')[1]}/fhir/Patient?page=next",
            }
        ]
        ex.json(page)

    with HostileServer(endless) as server, Clock() as clock, pytest.raises(ServerError) as caught:
        client = fhir_client(server, limits=Limits(request_seconds=5), deadline=Deadline(1.5))
        for _ in client.search_all("Patient"):
            pass
    assert "the deadline of 1.5 s for the whole command" in str(caught.value)
    assert caught.value.setting == "command_deadline"
    assert clock.took < HANG


def test_a_token_endpoint_that_drips_is_cut_off_at_the_deadline() -> None:
    def drip(ex: Exchange) -> None:
        ex.send(ex.head(200, {"Content-Type": "application/json", "Content-Length": "5000"}))
        ex.drip(b'{"access_token": "' + b"a" * 4900, every=0.05)

    with HostileServer(drip) as server, Clock() as clock, pytest.raises(AuthError) as caught:
        auth = SmartBackendAuth(
            client_id="c", key=SmartKey(pem(), "k"), token_url=server.url + "/token", limits=Limits(request_seconds=1.0)
        )
        auth.access_token()
    assert "no complete answer within the deadline of 1 s" in str(caught.value)
    assert clock.took < HANG


def test_a_name_lookup_that_never_answers_is_cut_off_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def stuck(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "stuck.test":
            time.sleep(HANG)  # a resolver that never answers (getaddrinfo itself takes no timeout)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", stuck)
    client = FhirClient("http://stuck.test:9/fhir", allow_insecure_http=True, limits=Limits(request_seconds=1.0))
    with Clock() as clock, pytest.raises(ServerError) as caught:
        client.read("Patient", "1")
    assert "no complete answer within the deadline of 1 s for one request" in str(caught.value)
    assert clock.took < HANG


def test_a_name_that_resolves_is_looked_up_and_answered(monkeypatch: pytest.MonkeyPatch) -> None:
    looked_up: list[str] = []
    real = socket.getaddrinfo

    def spy(host: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(host)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", spy)
    with HostileServer(lambda ex: ex.json(OK)) as server:
        port = server.url.rsplit(":", 1)[1]
        client = FhirClient(f"http://localhost:{port}/fhir", limits=Limits(request_seconds=5.0))
        assert client.read("Patient", "1") == OK
    assert "localhost" in looked_up


# --- huge: answers are streamed and capped ------------------------------------------------------


def test_an_announced_huge_answer_is_refused_before_it_is_read() -> None:
    def huge(ex: Exchange) -> None:
        ex.send(ex.head(200, {"Content-Type": "application/fhir+json", "Content-Length": str(1536 * MIB)}))
        for chunk in zeros(1536 * MIB):
            ex.send(chunk)

    with HostileServer(huge) as server, pytest.raises(ServerError) as caught:
        fhir_client(server).read("Patient", "1")
    assert "larger than the cap of 64 MB on one answer (it announced 1536 MB)" in str(caught.value)
    assert caught.value.setting == "max_response"


def test_a_huge_answer_of_unknown_length_is_refused_at_the_cap() -> None:
    sent: list[int] = []

    def huge(ex: Exchange) -> None:
        for chunk in zeros(512 * MIB):
            ex.send(chunk)
            sent.append(len(chunk))

    def streamed(ex: Exchange) -> None:
        ex.send(ex.head(200, {"Content-Type": "application/fhir+json"}))
        huge(ex)

    limits = Limits(request_seconds=20, max_response_bytes=2 * MIB)
    with HostileServer(streamed) as server, pytest.raises(ServerError, match="larger than the cap of 2 MB"):
        fhir_client(server, limits=limits).read("Patient", "1")
    time.sleep(0.2)
    assert sum(sent) < 64 * MIB  # the client hung up; the server could not push the rest


def test_a_compressed_answer_is_capped_by_what_it_inflates_to() -> None:
    bomb = gzip_bomb(64 * MIB)

    def inflating(ex: Exchange) -> None:
        ex.answer(200, bomb, Content_Encoding="gzip")

    assert len(bomb) < MIB
    limits = Limits(request_seconds=20, max_response_bytes=4 * MIB)
    with HostileServer(inflating) as server, pytest.raises(ServerError, match="larger than the cap of 4 MB"):
        fhir_client(server, limits=limits).read("Patient", "1")


def test_a_token_endpoint_sending_a_gigabyte_is_refused_at_one_megabyte() -> None:
    def huge(ex: Exchange) -> None:
        ex.send(ex.head(200, {"Content-Type": "application/json"}))
        ex.send(b'{"access_token": "')
        for _ in range(1024):
            ex.send(b"a" * MIB)

    with HostileServer(huge) as server, pytest.raises(AuthError) as caught:
        SmartBackendAuth(client_id="c", key=SmartKey(pem(), "k"), token_url=server.url + "/token").access_token()
    assert "larger than the cap of 1 MB on one answer" in str(caught.value)


@pytest.mark.parametrize("depth", [150, 100_000])
def test_json_nested_deeper_than_any_fhir_resource_is_refused(depth: int) -> None:
    def deep(ex: Exchange) -> None:
        ex.answer(200, b'{"resourceType": "Patient", "x": ' + b"[" * depth + b"]" * depth + b"}")

    with HostileServer(deep) as server, pytest.raises(ServerError, match="nested deeper than 100 levels"):
        fhir_client(server).read("Patient", "1")


# --- redirecting: credentials never leave their origin --------------------------------------------


def test_a_redirect_to_another_server_is_not_followed_and_the_token_stays_home() -> None:
    with HostileServer(lambda ex: ex.json(OK)) as elsewhere:

        def away(ex: Exchange) -> None:
            ex.redirect(f"{elsewhere.url}/fhir/Patient/1", 307)

        with HostileServer(away) as server, pytest.raises(ServerError) as caught:
            fhir_client(server, auth=BearerAuth(TOKEN)).read("Patient", "1")
    assert "answered 307, a redirect to http://127.0.0.1:" in str(caught.value)
    assert "not followed (it leads to another server)" in str(caught.value)
    assert elsewhere.requests == []
    assert TOKEN not in str(caught.value)


def test_a_redirect_on_the_same_server_is_followed_with_the_credentials() -> None:
    def moved(ex: Exchange) -> None:
        if ex.request.path == "/fhir/Patient/1":
            ex.redirect("/fhir/Patient/1/_history/3", 301)
        else:
            ex.json(OK)

    with HostileServer(moved) as server:
        assert fhir_client(server, auth=BearerAuth(TOKEN)).read("Patient", "1") == OK
    assert [r.path for r in server.requests] == ["/fhir/Patient/1", "/fhir/Patient/1/_history/3"]
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in server.requests)


def test_a_redirect_is_never_followed_for_a_write() -> None:
    def moved(ex: Exchange) -> None:
        ex.redirect("/fhir/elsewhere", 307)

    with (
        HostileServer(moved) as server,
        pytest.raises(ServerError, match=r"not followed \(a redirect is not followed for POST\)"),
    ):
        fhir_client(server).transaction({"resourceType": "Bundle", "type": "transaction", "entry": []})
    assert len(server.requests) == 1


def test_a_redirect_loop_ends() -> None:
    with (
        HostileServer(lambda ex: ex.redirect(ex.request.target, 302)) as server,
        pytest.raises(ServerError, match="more than 5 redirects"),
    ):
        fhir_client(server).read("Patient", "1")
    assert len(server.requests) == 6


def test_the_token_request_is_never_redirected_and_its_token_never_used() -> None:
    thief = HostileServer(lambda ex: ex.json({"access_token": "stolen-token-value", "expires_in": 300}))
    token_endpoint = HostileServer(lambda ex: ex.redirect(f"{thief.url}/token", 307))
    fhir = HostileServer(lambda ex: ex.json(OK))
    with thief, token_endpoint, fhir, pytest.raises(AuthError) as caught:
        auth = SmartBackendAuth(client_id="c", key=SmartKey(pem(), "k"), token_url=token_endpoint.url + "/token")
        fhir_client(fhir, auth=auth).read("Patient", "1")
    assert "answered 307, a redirect to http://127.0.0.1:" in str(caught.value)
    assert "not followed (a redirect is not followed for POST)" in str(caught.value)
    assert thief.requests == []  # the signed assertion never reached it
    assert fhir.requests == []  # and no token was used
    assert len(token_endpoint.requests) == 1
    assert "client_assertion" in parse_qs(token_endpoint.requests[0].body.decode())


def test_smart_discovery_follows_only_redirects_on_its_own_server() -> None:
    with HostileServer(lambda ex: ex.json({"token_endpoint": "https://evil.example/token"})) as elsewhere:

        def discovery(ex: Exchange) -> None:
            ex.redirect(f"{elsewhere.url}/.well-known/smart-configuration", 302)

        with HostileServer(discovery) as fhir:
            auth = SmartBackendAuth(client_id="c", key=SmartKey(pem(), "k"), base_url=fhir.url + "/fhir")
            with pytest.raises(AuthError, match="it leads to another server"):
                auth.access_token()
    assert elsewhere.requests == []


def test_downloads_elsewhere_go_without_credentials_and_only_over_https() -> None:
    with HostileServer(lambda ex: ex.answer(200, b"{}\n", content_type="application/fhir+ndjson")) as server:
        client = fhir_client(server, auth=BearerAuth(TOKEN))
        with pytest.raises(ServerError, match=r"refusing to fetch http://example\.org/file\.ndjson: not on the server"):
            client.download("http://example.org/file.ndjson", accept="application/fhir+ndjson", auth=False)
        with pytest.raises(ServerError, match=r"refusing to fetch https://example\.org/file\.ndjson"):
            client.download("https://example.org/file.ndjson", accept="application/fhir+ndjson", auth=True)
        assert client.download(server.url + "/fhir/file.ndjson", accept="application/fhir+ndjson").content == b"{}\n"
    assert server.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"


def test_a_download_to_a_file_is_capped_too(tmp_path: Any) -> None:
    def endless(ex: Exchange) -> None:
        ex.stream(200, zeros(256 * MIB), Content_Type="application/fhir+ndjson")

    limits = Limits(request_seconds=5, max_download_bytes=3 * MIB)
    target = tmp_path / "export.ndjson"
    with HostileServer(endless) as server, target.open("wb") as f, pytest.raises(ServerError, match="cap of 3 MB"):
        fhir_client(server, limits=limits).download(server.url + "/fhir/x.ndjson", accept="x", into=f)
    assert target.stat().st_size <= 3 * MIB
