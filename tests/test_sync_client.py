"""The FHIR client, its auth layers and errors, mocked at the requests seam (``responses``)."""

from __future__ import annotations

import email.utils
import json
import logging
import time
from typing import Any
from urllib.parse import parse_qs

import jwt
import pytest
import requests
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from wb_fhir import __version__
from wb_fhir.errors import AuthError, ConflictError, InputError, MatchError, ServerError
from wb_fhir.fhir.references import Search
from wb_fhir.sync.auth import Auth, BearerAuth, SmartBackendAuth, SmartKey
from wb_fhir.sync.client import (
    FhirClient,
    RetryPolicy,
    Timeouts,
    bundle_is_idempotent,
    missing_capabilities,
    retry_after_seconds,
)

BASE = "https://fhir.example.nhs.uk/R4"
FHIR = {"Content-Type": "application/fhir+json"}
OK = {"resourceType": "Patient", "id": "1"}
TOKEN = "s3cr3t-t0ken-value"


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(**kw: Any) -> tuple[FhirClient, Sleeps]:
    sleeps = Sleeps()
    kw.setdefault("retry", RetryPolicy(attempts=3, base=1.0))
    return FhirClient(BASE, sleep=sleeps, rng=lambda: 1.0, **kw), sleeps


def outcome(diagnostics: str, code: str = "processing", expression: str = "Observation.status") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics, "expression": [expression]}],
    }


# --- retries -------------------------------------------------------------------------------


@responses.activate
def test_retry_then_success_backs_off_exponentially():
    responses.get(f"{BASE}/Patient/1", status=503)
    responses.get(f"{BASE}/Patient/1", status=502)
    responses.get(f"{BASE}/Patient/1", json=OK, headers=FHIR)
    c, sleeps = client()
    assert c.read("Patient", "1") == OK
    assert sleeps == [1.0, 2.0]
    assert len(responses.calls) == 3


@responses.activate
def test_retry_exhausted_is_a_server_error_with_status_and_outcome():
    for _ in range(3):
        responses.get(f"{BASE}/Patient/1", status=503, json=outcome("overloaded", "transient", "Patient"))
    c, sleeps = client()
    with pytest.raises(ServerError) as err:
        c.read("Patient", "1")
    assert err.value.status == 503
    assert err.value.outcome is not None and err.value.outcome["issue"][0]["diagnostics"] == "overloaded"
    assert "failed: 503 Service Unavailable after 3 attempts" in str(err.value)
    assert "error [transient] at Patient: overloaded" in str(err.value)
    assert len(sleeps) == 2 and err.value.exit_code == 1


@responses.activate
def test_retry_after_seconds_is_honoured():
    responses.get(f"{BASE}/Patient/1", status=429, headers={"Retry-After": "7"})
    responses.get(f"{BASE}/Patient/1", json=OK, headers=FHIR)
    c, sleeps = client()
    c.read("Patient", "1")
    assert sleeps == [7.0]


@responses.activate
def test_retry_after_http_date_is_honoured():
    now = 1_800_000_000.0
    later = email.utils.formatdate(now + 30, usegmt=True)
    responses.get(f"{BASE}/Patient/1", status=503, headers={"Retry-After": later})
    responses.get(f"{BASE}/Patient/1", json=OK, headers=FHIR)
    c, sleeps = client(clock=lambda: now)
    c.read("Patient", "1")
    assert sleeps == [30.0]


def test_retry_after_parsing():
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None
    assert retry_after_seconds(email.utils.formatdate(1000, usegmt=True), now=lambda: 2000) == 0.0


@responses.activate
def test_retry_after_longer_than_the_limit_stops_at_once():
    responses.get(f"{BASE}/Patient/1", status=503, headers={"Retry-After": "3600"})
    c, sleeps = client()
    with pytest.raises(ServerError, match=r"asked to retry after 3600s: too long"):
        c.read("Patient", "1")
    assert sleeps == [] and len(responses.calls) == 1


@responses.activate
def test_jitter_stays_between_half_and_full_backoff():
    policy = RetryPolicy(base=2.0, cap=5.0)
    assert policy.backoff(0, lambda: 0.0) == 1.0
    assert policy.backoff(0, lambda: 1.0) == 2.0
    assert policy.backoff(10, lambda: 1.0) == 5.0


@responses.activate
def test_post_that_is_not_idempotent_is_sent_once():
    responses.post(f"{BASE}/", status=503)
    c, sleeps = client()
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"request": {"method": "POST", "url": "Observation"}}],
    }
    with pytest.raises(ServerError):
        c.transaction(bundle)
    assert len(responses.calls) == 1 and sleeps == []


@responses.activate
def test_idempotent_transaction_is_retried():
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"request": {"method": "PUT", "url": "Observation?identifier=s|1"}},
            {"request": {"method": "POST", "url": "Provenance", "ifNoneExist": "identifier=s|2"}},
        ],
    }
    responses.post(f"{BASE}/", status=504)
    responses.post(f"{BASE}/", json={"resourceType": "Bundle", "type": "transaction-response"}, headers=FHIR)
    c, _ = client()
    assert c.transaction(bundle)["type"] == "transaction-response"
    assert len(responses.calls) == 2
    assert json.loads(responses.calls[1].request.body) == bundle


@responses.activate
def test_raw_content_is_sent_as_is_with_its_type_and_retried_when_idempotent():
    xml = b'<Bundle xmlns="http://hl7.org/fhir"><type value="transaction"/></Bundle>'
    responses.post(f"{BASE}/", status=503)
    responses.post(f"{BASE}/", json={"resourceType": "Bundle", "type": "transaction-response"}, headers=FHIR)
    c, sleeps = client(auth=BearerAuth(TOKEN))
    answer = c.request("POST", "", content=xml, content_type="application/fhir+xml", idempotent=True)
    assert answer.body == {"resourceType": "Bundle", "type": "transaction-response"}
    assert len(responses.calls) == 2 and sleeps == [1.0]
    for call in responses.calls:
        assert call.request.body == xml
        assert call.request.headers["Content-Type"] == "application/fhir+xml"
        assert call.request.headers["Accept"] == "application/fhir+json"
        assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"


@responses.activate
def test_raw_content_post_is_sent_once_by_default():
    responses.post(f"{BASE}/", status=503)
    c, sleeps = client()
    with pytest.raises(ServerError):
        c.request("POST", "", content=b"<Bundle/>", content_type="application/fhir+xml")
    assert len(responses.calls) == 1 and sleeps == []


@responses.activate
def test_json_body_is_sent_as_fhir_json():
    responses.put(f"{BASE}/Patient/1", json=OK, headers=FHIR)
    c, _ = client()
    c.request("PUT", "Patient/1", body={"resourceType": "Patient", "id": "1", "name": [{"text": "Zoë"}]})
    request = responses.calls[0].request
    assert request.headers["Content-Type"] == "application/fhir+json; charset=utf-8"
    assert request.body == '{"resourceType": "Patient", "id": "1", "name": [{"text": "Zoë"}]}'.encode()


@pytest.mark.parametrize(
    "kw",
    [
        {"content": b"<Bundle/>"},
        {"content": b"<Bundle/>", "content_type": "application/fhir+xml", "body": {"resourceType": "Bundle"}},
    ],
)
def test_raw_content_needs_a_type_and_no_body(kw):
    c, _ = client()
    with pytest.raises(ValueError, match="content needs a content_type and excludes body"):
        c.request("POST", "", **kw)


def test_bundle_idempotence_rules():
    put = {"request": {"method": "PUT", "url": "X?identifier=a|b"}}
    post = {"request": {"method": "POST", "url": "X"}}
    guarded = {"request": {"method": "POST", "url": "X", "ifNoneExist": "identifier=a|b"}}
    assert bundle_is_idempotent({"entry": [put, guarded]})
    assert not bundle_is_idempotent({"entry": [put, post]})


@responses.activate
def test_timeouts_are_retried_then_reported():
    responses.get(f"{BASE}/Patient/1", body=requests.exceptions.ReadTimeout("read timed out"))
    responses.get(f"{BASE}/Patient/1", body=requests.exceptions.ConnectionError("connection reset by peer"))
    responses.get(f"{BASE}/Patient/1", body=requests.exceptions.ReadTimeout("read timed out"))
    c, sleeps = client(timeouts=Timeouts(connect=2, read=3))
    with pytest.raises(ServerError, match=r"GET https://fhir.example.nhs.uk/R4/Patient/1: timed out after 3 attempt"):
        c.read("Patient", "1")
    assert len(sleeps) == 2
    assert responses.calls[0].request.req_kwargs["timeout"] == (2, 3)


@responses.activate
def test_answer_cut_short_is_retried():
    responses.get(f"{BASE}/Patient/1", body=requests.exceptions.ChunkedEncodingError("Response ended prematurely"))
    responses.get(f"{BASE}/Patient/1", json=OK, headers=FHIR)
    c, sleeps = client()
    assert c.read("Patient", "1") == OK and sleeps == [1.0]


@responses.activate
def test_connection_error_then_success():
    responses.get(f"{BASE}/Patient/1", body=requests.exceptions.ConnectionError("refused"))
    responses.get(f"{BASE}/Patient/1", json=OK, headers=FHIR)
    c, sleeps = client()
    assert c.read("Patient", "1") == OK and sleeps == [1.0]


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [409, 412])
@responses.activate
def test_version_conflicts(status):
    responses.put(f"{BASE}/CarePlan/5", status=status, json=outcome("version 3 is not 2", "conflict", "CarePlan"))
    c, sleeps = client()
    with pytest.raises(ConflictError) as err:
        c.request("PUT", "CarePlan/5", body={"resourceType": "CarePlan"}, headers={"If-Match": 'W/"2"'})
    assert err.value.status == status and sleeps == []
    assert "error [conflict] at CarePlan: version 3 is not 2" in str(err.value)
    assert responses.calls[0].request.headers["If-Match"] == 'W/"2"'


@responses.activate
def test_operation_outcome_is_readable():
    responses.post(
        f"{BASE}/",
        status=422,
        json={
            "resourceType": "OperationOutcome",
            "issue": [
                {"severity": "error", "code": "invalid", "diagnostics": "bad code", "location": ["Bundle.entry[2]"]},
                {"severity": "warning", "code": "informational", "details": {"text": "just saying"}},
            ],
        },
    )
    c, _ = client()
    with pytest.raises(ServerError) as err:
        c.transaction({"resourceType": "Bundle", "entry": []})
    assert not isinstance(err.value, ConflictError)
    assert str(err.value) == (
        "POST https://fhir.example.nhs.uk/R4/ failed: 422 Unprocessable Entity\n"
        "error [invalid] at Bundle.entry[2]: bad code\n"
        "warning [informational]: just saying"
    )


@responses.activate
def test_malformed_json_from_the_server():
    responses.get(f"{BASE}/Patient/1", body='{"resourceType": "Pat', headers=FHIR)
    c, _ = client()
    with pytest.raises(ServerError, match=r"answered 200 with malformed JSON \(21 bytes\)"):
        c.read("Patient", "1")


@responses.activate
def test_non_fhir_content_type():
    responses.get(f"{BASE}/Patient/1", body="<html>Sign in</html>", content_type="text/html")
    c, _ = client()
    with pytest.raises(ServerError, match=r"answered 200 with text/html, not FHIR JSON"):
        c.read("Patient", "1")


@responses.activate
def test_json_that_is_not_a_resource():
    responses.get(f"{BASE}/Patient/1", json=[1, 2], headers=FHIR)
    c, _ = client()
    with pytest.raises(ServerError, match="not a FHIR resource"):
        c.read("Patient", "1")


@responses.activate
def test_bearer_401_is_an_auth_error_without_the_token(caplog):
    caplog.set_level(logging.DEBUG)
    responses.get(f"{BASE}/Patient/1", status=401)
    c, _ = client(auth=BearerAuth(TOKEN))
    with pytest.raises(AuthError) as err:
        c.read("Patient", "1")
    assert responses.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert err.value.status == 401 and TOKEN not in str(err.value)
    assert TOKEN not in repr(c) + repr(c.auth) + caplog.text


@responses.activate
def test_403_is_an_auth_error():
    responses.get(f"{BASE}/Patient/1", status=403)
    c, _ = client()
    with pytest.raises(AuthError, match="not allowed for these credentials"):
        c.read("Patient", "1")


def test_bearer_token_must_be_one_word():
    with pytest.raises(InputError):
        BearerAuth("two words")


# --- URLs, TLS and headers ------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/fhir", "http://localhost/fhir", "http://[::1]:9/fhir", "http://127.9.9.9/fhir"]
)
def test_http_is_allowed_on_loopback(url):
    assert FhirClient(url).base_url == url


def test_http_elsewhere_is_refused_unless_insisted_on():
    with pytest.raises(InputError, match=r"uses http:// to a host that is not this machine"):
        FhirClient("http://fhir.example.nhs.uk/R4")
    with pytest.raises(InputError):
        FhirClient("http://10.0.0.5/fhir")
    assert (
        FhirClient("http://fhir.example.nhs.uk/R4/", allow_insecure_http=True).base_url
        == "http://fhir.example.nhs.uk/R4"
    )
    with pytest.raises(InputError, match="must be an http:// or https:// URL"):
        FhirClient("ftp://x/fhir")


@responses.activate
def test_tls_verification_on_by_default_and_ca_bundle_wired(tmp_path):
    responses.get(f"{BASE}/Patient/1", json=OK, headers=FHIR)
    responses.get(f"{BASE}/Patient/1", json=OK, headers=FHIR)
    client()[0].read("Patient", "1")
    ca = tmp_path / "trust-ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    client(verify=str(ca))[0].read("Patient", "1")
    # On by default: True, or the system bundle that REQUESTS_CA_BUNDLE names.
    assert responses.calls[0].request.req_kwargs["verify"] not in (False, None, str(ca))
    assert responses.calls[1].request.req_kwargs["verify"] == str(ca)


@responses.activate
def test_tls_failure_says_what_to_do():
    responses.get(f"{BASE}/Patient/1", body=requests.exceptions.SSLError("certificate verify failed"))
    c, sleeps = client()
    with pytest.raises(
        ServerError, match=r"^GET https://\S+: TLS verification failed \(.*\): .*not one this machine trusts$"
    ) as err:
        c.read("Patient", "1")
    assert sleeps == []
    assert err.value.setting == "ca_bundle"  # the library names no flag: the command line advises


@responses.activate
def test_the_command_line_adds_the_flag_to_the_advice(tmp_path):
    from click.testing import CliRunner

    from wb_fhir.cli import main

    responses.get(f"{BASE}/Patient", body=requests.exceptions.SSLError("certificate verify failed"))
    result = CliRunner().invoke(main, ["pull", "--patient", "9434765919", "-o", str(tmp_path), "--server", BASE])
    assert result.exit_code == 1
    assert result.output.endswith(
        "is not one this machine trusts\nhint: give the trust's CA certificates with --ca-bundle\n"
    )


@responses.activate
def test_headers_user_agent_accept_and_no_cache_on_search():
    responses.get(f"{BASE}/Observation", json={"resourceType": "Bundle", "type": "searchset"}, headers=FHIR)
    c, _ = client()
    c.search("Observation", {"code": "x"})
    headers = responses.calls[0].request.headers
    assert headers["User-Agent"].startswith(f"wb-fhir/{__version__} ")
    assert headers["Accept"] == "application/fhir+json"
    assert headers["Cache-Control"] == "no-cache"


@responses.activate
def test_errors_never_show_the_query_string():
    responses.get(f"{BASE}/Patient", status=500)
    c, _ = client(retry=RetryPolicy(attempts=1))
    with pytest.raises(ServerError) as err:
        c.search("Patient", {"identifier": "https://fhir.nhs.uk/Id/nhs-number|9434765919"})
    assert "9434765919" not in str(err.value) and "Patient?..." in str(err.value)


# --- paging ------------------------------------------------------------------------------


def page(n: int, following: str | None) -> dict[str, Any]:
    link = [{"relation": "self", "url": "x"}] + ([{"relation": "next", "url": following}] if following else [])
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": link,
        "entry": [{"resource": {"resourceType": "Observation", "id": str(n)}, "search": {"mode": "match"}}],
    }


@responses.activate
def test_paging_follows_next_links():
    responses.get(f"{BASE}/Observation", json=page(1, f"{BASE}?_getpages=abc&_offset=1"), headers=FHIR)
    responses.get(f"{BASE}?_getpages=abc&_offset=1", json=page(2, f"{BASE}?_getpages=abc&_offset=2"), headers=FHIR)
    responses.get(f"{BASE}?_getpages=abc&_offset=2", json=page(3, None), headers=FHIR)
    c, _ = client()
    assert [r["id"] for r in c.search_all("Observation", {"_count": "1"})] == ["1", "2", "3"]


@responses.activate
def test_paging_refuses_a_next_link_to_another_host():
    responses.get(f"{BASE}/Observation", json=page(1, "https://evil.example.org/steal"), headers=FHIR)
    c, _ = client(auth=BearerAuth(TOKEN))
    with pytest.raises(ServerError, match=r"refusing to follow https://evil\.example\.org/steal"):
        list(c.search_all("Observation", {}))
    assert len(responses.calls) == 1


# --- several searches in one batch ----------------------------------------------------------

SEARCHES = [Search("CarePlan").where(identifier="s|p"), Search("Goal").where(identifier=["s|a", "s|b"])]


def batch_response(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "batch-response", "entry": list(entries)}


def found(first_page: dict[str, Any], status: str = "200 OK") -> dict[str, Any]:
    return {"resource": first_page, "response": {"status": status}}


@responses.activate
def test_searches_go_in_one_batch_and_later_pages_are_followed():
    responses.post(
        f"{BASE}/",
        json=batch_response(found(page(1, None)), found(page(2, f"{BASE}?_getpages=g&_offset=1"))),
        headers=FHIR,
    )
    responses.get(f"{BASE}?_getpages=g&_offset=1", json=page(3, None), headers=FHIR)
    c, _ = client()
    assert [[r["id"] for r in rs] for rs in c.search_each(SEARCHES)] == [["1"], ["2", "3"]]
    sent = responses.calls[0].request
    assert json.loads(sent.body) == {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"request": {"method": "GET", "url": "CarePlan?identifier=s|p"}},
            {"request": {"method": "GET", "url": "Goal?identifier=s|a,s|b"}},
        ],
    }
    assert sent.headers["Cache-Control"] == "no-cache"  # the searches in it are never answered from a cache
    assert len(responses.calls) == 2


@responses.activate
def test_one_search_is_a_plain_search():
    responses.get(f"{BASE}/CarePlan", json=page(1, None), headers=FHIR)
    c, _ = client()
    assert [[r["id"] for r in rs] for rs in c.search_each(SEARCHES[:1])] == [["1"]]
    assert [call.request.method for call in responses.calls] == ["GET"]


@responses.activate
def test_a_search_the_batch_could_not_answer_is_asked_alone_and_reports_its_error():
    responses.post(f"{BASE}/", json=batch_response(found(page(1, None)), found(outcome("busy"), "503")), headers=FHIR)
    responses.get(f"{BASE}/Goal", json=outcome("too busy to search Goal"), status=503)
    c, _ = client(retry=RetryPolicy(attempts=1))
    with pytest.raises(ServerError, match="too busy to search Goal") as err:
        c.search_each(SEARCHES)
    assert err.value.status == 503


@responses.activate
def test_a_server_that_refuses_batches_is_searched_one_at_a_time_from_then_on():
    responses.post(f"{BASE}/", json=outcome("batch is not supported"), status=405, headers=FHIR)
    responses.get(f"{BASE}/CarePlan", json=page(1, None), headers=FHIR)
    responses.get(f"{BASE}/Goal", json=page(2, None), headers=FHIR)
    c, _ = client()
    for _ in range(2):
        assert [[r["id"] for r in rs] for rs in c.search_each(SEARCHES)] == [["1"], ["2"]]
    assert [call.request.method for call in responses.calls] == ["POST", "GET", "GET", "GET", "GET"]


@responses.activate
@pytest.mark.parametrize(
    "answer",
    [batch_response(found(page(1, None))), {**batch_response(found(page(1, None)), found(page(2, None))), "type": "x"}],
    ids=["one-entry-short", "not-a-batch-response"],
)
def test_a_batch_answer_that_does_not_fit_the_searches_is_an_error(answer):
    responses.post(f"{BASE}/", json=answer, headers=FHIR)
    c, _ = client()
    with pytest.raises(ServerError, match="not a batch-response with as many entries"):
        c.search_each(SEARCHES)


@responses.activate
def test_refused_credentials_on_a_batch_are_not_taken_for_a_server_without_batches():
    responses.post(f"{BASE}/", status=401)
    c, _ = client(auth=BearerAuth(TOKEN))
    with pytest.raises(AuthError):
        c.search_each(SEARCHES)
    assert [call.request.method for call in responses.calls] == ["POST"]


# --- capabilities ---------------------------------------------------------------------------


def statement(**over: Any) -> dict[str, Any]:
    resources = [
        {
            "type": t,
            "interaction": [{"code": c} for c in ("read", "update", "create", "search-type")],
            "conditionalUpdate": True,
        }
        for t in (
            "Patient",
            "QuestionnaireResponse",
            "Observation",
            "Goal",
            "CarePlan",
            "DocumentReference",
            "Provenance",
        )
    ]
    rest = {"mode": "server", "interaction": [{"code": "transaction"}], "resource": resources}
    return {"resourceType": "CapabilityStatement", "fhirVersion": "4.0.1", "rest": [rest], **over}


def test_capabilities_complete():
    assert missing_capabilities(statement()) == []


def test_capabilities_say_exactly_what_is_lacking():
    s = statement(fhirVersion="5.0.0")
    rest = s["rest"][0]
    rest["interaction"] = [{"code": "batch"}]
    rest["resource"] = [r for r in rest["resource"] if r["type"] != "Provenance"]
    goal = next(r for r in rest["resource"] if r["type"] == "Goal")
    goal["interaction"] = [{"code": "read"}]
    goal["conditionalUpdate"] = False
    assert missing_capabilities(s) == [
        "FHIR version is 5.0.0, wb_fhir needs 4.0.x (R4)",
        "the system interaction 'transaction' is not supported",
        "Goal lacks the interaction(s) update, search-type",
        "Goal does not declare conditional update",
        "Provenance is not supported",
    ]


# --- SMART Backend Services -----------------------------------------------------------------


def keypair(alg: str) -> tuple[bytes, Any]:
    key: Any = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if alg == "RS384"
        else ec.generate_private_key(ec.SECP384R1())
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return pem, key.public_key()


TOKEN_URL = "https://auth.example.nhs.uk/token"


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
@responses.activate
def test_smart_assertion_is_signed_and_token_cached(alg):
    pem, public = keypair(alg)
    responses.get(f"{BASE}/.well-known/smart-configuration", json={"token_endpoint": TOKEN_URL})
    responses.post(TOKEN_URL, json={"access_token": TOKEN, "token_type": "bearer", "expires_in": 300})
    responses.get(f"{BASE}/Patient/1", json=OK, headers=FHIR)
    responses.get(f"{BASE}/Patient/1", json=OK, headers=FHIR)
    now = [time.time()]
    auth = SmartBackendAuth(client_id="wb-client", key=SmartKey(pem, "key-1", alg), base_url=BASE, clock=lambda: now[0])
    c, _ = client(auth=auth)
    c.read("Patient", "1")
    c.read("Patient", "1")
    token_calls = [call for call in responses.calls if call.request.url == TOKEN_URL]
    assert len(token_calls) == 1
    form = parse_qs(token_calls[0].request.body)
    assert form["grant_type"] == ["client_credentials"]
    assert form["scope"] == ["system/*.rs system/*.cu"]
    assert form["client_assertion_type"] == ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]
    assertion = form["client_assertion"][0]
    header = jwt.get_unverified_header(assertion)
    assert header["alg"] == alg and header["kid"] == "key-1"
    claims = jwt.decode(assertion, public, algorithms=[alg], audience=TOKEN_URL)
    assert claims["iss"] == claims["sub"] == "wb-client"
    assert 0 < claims["exp"] - int(now[0]) <= 300 and claims["jti"]
    assert responses.calls[-1].request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in repr(auth) and "PRIVATE" not in repr(auth)


@responses.activate
def test_smart_token_renewed_before_expiry():
    pem, _ = keypair("RS384")
    responses.post(TOKEN_URL, json={"access_token": "t1", "expires_in": 120})
    responses.post(TOKEN_URL, json={"access_token": "t2", "expires_in": 120})
    now = [1_000_000.0]
    auth = SmartBackendAuth(client_id="c", key=SmartKey(pem, "k"), token_url=TOKEN_URL, clock=lambda: now[0])
    assert auth.access_token() == "t1"
    now[0] += 50
    assert auth.access_token() == "t1"
    now[0] += 20  # within a minute of expiry
    assert auth.access_token() == "t2"


@responses.activate
def test_smart_one_renewal_on_401_then_auth_error():
    pem, _ = keypair("RS384")
    responses.post(TOKEN_URL, json={"access_token": "old", "expires_in": 300})
    responses.post(TOKEN_URL, json={"access_token": "new", "expires_in": 300})
    responses.post(TOKEN_URL, json={"access_token": "newer", "expires_in": 300})
    responses.get(f"{BASE}/Patient/1", status=401)
    responses.get(f"{BASE}/Patient/1", json=OK, headers=FHIR)
    responses.get(f"{BASE}/Patient/2", status=401)
    responses.get(f"{BASE}/Patient/2", status=401)
    auth = SmartBackendAuth(client_id="c", key=SmartKey(pem, "k"), token_url=TOKEN_URL)
    c, _ = client(auth=auth)
    assert c.read("Patient", "1") == OK
    gets = [call.request for call in responses.calls if "/Patient/1" in call.request.url]
    assert [r.headers["Authorization"] for r in gets] == ["Bearer old", "Bearer new"]
    with pytest.raises(AuthError) as err:
        c.read("Patient", "2")
    assert err.value.status == 401 and "newer" not in str(err.value)


@responses.activate
def test_smart_token_endpoint_error_is_an_auth_error():
    pem, _ = keypair("ES384")
    responses.post(TOKEN_URL, status=400, json={"error": "invalid_client", "error_description": "unknown kid"})
    auth = SmartBackendAuth(client_id="c", key=SmartKey(pem, "k", "ES384"), token_url=TOKEN_URL)
    with pytest.raises(
        AuthError, match=r"POST https://auth.example.nhs.uk/token failed: 400: invalid_client \(unknown kid\)"
    ):
        auth.access_token()


def test_smart_key_must_match_the_algorithm():
    pem, _ = keypair("RS384")
    with pytest.raises(InputError, match="ES384 needs an EC private key on curve P-384"):
        SmartKey(pem, "k", "ES384")
    with pytest.raises(InputError, match="not an unencrypted PEM private key"):
        SmartKey(b"nonsense", "k")
    with pytest.raises(InputError, match="must be one of RS384, ES384"):
        SmartKey(pem, "k", "HS256")


def test_smart_token_url_over_plain_http_is_refused():
    pem, _ = keypair("RS384")
    with pytest.raises(InputError, match=r"token endpoint http://auth\.example\.org/token uses http://"):
        SmartBackendAuth(client_id="c", key=SmartKey(pem, "k"), token_url="http://auth.example.org/token")


# --- exactly one Patient for an NHS number -------------------------------------------------------


NHS = "9434765919"


@pytest.mark.parametrize(("found", "message"), [(0, "has no Patient"), (2, "has more than one Patient")])
@responses.activate
def test_patient_is_exactly_one_or_a_match_error(found, message):
    patients = [{"resource": {"resourceType": "Patient", "id": f"p{n}"}} for n in range(found)]
    responses.get(f"{BASE}/Patient", json={"resourceType": "Bundle", "type": "searchset", "entry": patients})
    c, _ = client()
    with pytest.raises(MatchError, match=message) as err:
        c.patient(NHS)
    assert (err.value.resource_type, err.value.found, err.value.exit_code) == ("Patient", found, 2)
    assert err.value.setting == "nhs_number" and NHS not in str(err.value)
    assert parse_qs(responses.calls[0].request.url.split("?", 1)[1]) == {
        "identifier": [f"https://fhir.nhs.uk/Id/nhs-number|{NHS}"],
        "_count": ["2"],
    }


@responses.activate
def test_patient_found():
    entry = {"resource": {"resourceType": "Patient", "id": "p1"}, "search": {"mode": "match"}}
    included = {"resource": {"resourceType": "Organization", "id": "o"}, "search": {"mode": "include"}}
    responses.get(f"{BASE}/Patient", json={"resourceType": "Bundle", "type": "searchset", "entry": [entry, included]})
    assert client()[0].patient(NHS)["id"] == "p1"


def test_patient_refuses_a_number_that_is_not_an_nhs_number_before_asking():
    with responses.RequestsMock() as mock, pytest.raises(InputError, match="not a valid NHS number") as err:
        client()[0].patient("1234567890")
    assert len(mock.calls) == 0 and not isinstance(err.value, MatchError)


# --- the auth flow ----------------------------------------------------------------------------------


@responses.activate
def test_any_requests_auth_sends_once_and_a_bearer_401_is_not_sent_again():
    responses.get(f"{BASE}/Patient/1", status=401)
    c, _ = client(auth=requests.auth.HTTPBasicAuth("user", "pass"))
    with pytest.raises(AuthError):
        c.read("Patient", "1")
    assert len(responses.calls) == 1 and responses.calls[0].request.headers["Authorization"].startswith("Basic ")
    c, _ = client(auth=BearerAuth(TOKEN))
    with pytest.raises(AuthError):
        c.read("Patient", "1")
    assert len(responses.calls) == 2


@responses.activate
def test_an_auth_layer_owns_its_flow():
    class Countersign(Auth):
        """Sends, then once more with a header saying it saw the answer."""

        def auth_flow(self, request):
            response = yield request
            request = request.copy()
            request.headers["X-Seen"] = str(response.status_code)
            yield request

    responses.get(f"{BASE}/Patient/1", status=418)
    responses.get(f"{BASE}/Patient/1", json=OK, headers=FHIR)
    c, _ = client(auth=Countersign())
    assert c.read("Patient", "1") == OK
    assert [call.request.headers.get("X-Seen") for call in responses.calls] == [None, "418"]


# --- bounds: what a request may take, what it may read -------------------------------------------


def test_limits_and_deadlines_refuse_nonsense():
    from wb_fhir.sync import Deadline, Limits

    with pytest.raises(InputError, match="a deadline must be more than 0 seconds"):
        Limits(request_seconds=0)
    with pytest.raises(InputError, match="more than 0 bytes"):
        Limits(max_response_bytes=0)
    with pytest.raises(InputError, match="the command deadline must be more than 0 seconds"):
        Deadline(-1)
    assert Deadline(None).remaining() == float("inf")
    assert 0 < Deadline(5).remaining() <= 5


@responses.activate
def test_a_token_echoed_bare_is_scrubbed_from_the_message_and_the_outcome():
    body = outcome(f"token {TOKEN} is not valid here (saw {TOKEN}x)")
    responses.get(f"{BASE}/Patient/1", json=body, status=400)
    c, _ = client(auth=BearerAuth(TOKEN))
    with pytest.raises(ServerError) as err:
        c.read("Patient", "1")
    assert TOKEN not in str(err.value) and "token [token] is not valid here (saw [token]x)" in str(err.value)
    assert TOKEN not in json.dumps(err.value.outcome)


@responses.activate
def test_an_answer_over_the_cap_is_refused_with_the_advice_to_raise_it():
    from wb_fhir.sync import Limits

    responses.get(f"{BASE}/Patient/1", body=b"{" + b" " * 5000 + b"}", headers=FHIR)
    c, _ = client(limits=Limits(max_response_bytes=1000))
    with pytest.raises(ServerError, match="larger than the cap of 1000 bytes on one answer") as err:
        c.read("Patient", "1")
    assert err.value.setting == "max_response"


@responses.activate
def test_the_command_deadline_bounds_a_request_when_it_comes_first():
    from wb_fhir.sync import Deadline, Limits

    c, _ = client(limits=Limits(request_seconds=300), deadline=Deadline(0.001))
    time.sleep(0.01)
    with pytest.raises(ServerError, match=r"within the deadline of 0\.001 s for the whole command") as err:
        c.read("Patient", "1")
    assert err.value.setting == "command_deadline" and len(responses.calls) == 0
