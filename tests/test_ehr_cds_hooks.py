"""CDS Hooks, mounted in the app (``wb-fhir serve`` with SMART and CDS Hooks configured): discovery,
the patient-view card with and without prefetch, and who may call it (signed, unsigned, wrongly
signed, replayed); the hook endpoints need no CSRF token and start no session."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from strategies import random_nhs_number
from web_support import app_client, config

from wb_fhir.bundles import map_bundle
from wb_fhir.errors import InputError
from wb_fhir.mapfile import load_map
from wb_fhir.measures import measure
from wb_fhir.model import Subject, WellbeingMap
from wb_fhir.web.cds_hooks import PREFETCH, SERVICE_ID, CdsConfig, map_card, review_status
from wb_fhir.web.smart import SmartConfig

ROOT = Path(__file__).resolve().parent.parent
EHR = "https://ehr.example.nhs.uk"
BASE = "https://maps.example.nhs.uk/cds-services"
LAUNCH = "https://maps.example.nhs.uk/launch"
TODAY = date(2026, 3, 1)
"""The day of the pure card tests; the mounted app's card is of the real today."""


@pytest.fixture(scope="module")
def ehr_key() -> ECKey:
    return ECKey.generate_key("P-384", {"kid": "ehr-1", "use": "sig"}, private=True)


@pytest.fixture
def hooks_app(tmp_path: Path, ehr_key: ECKey) -> Any:
    """The app with its SMART registration and the CDS Hooks service trusting the EHR's key set."""
    return _app(tmp_path, {EHR: KeySet([ehr_key]).as_dict(private=False)})


def _app(tmp_path: Path, trusted: dict[str, Any]) -> Any:
    smart = SmartConfig(
        client_id="wb-fhir", redirect_uri="https://maps.example.nhs.uk/callback", issuers=(f"{EHR}/fhir",)
    )
    cds = CdsConfig(service_base=BASE, trusted=trusted, app_launch_url=LAUNCH)
    return app_client(config(tmp_path, smart=smart, cds=cds))


def _signed(key: ECKey, **override: Any) -> dict[str, str]:
    now = int(time.time())
    claims = {"iss": EHR, "sub": "ehr-client", "aud": f"{BASE}/{SERVICE_ID}", "iat": now, "exp": now + 60}
    claims |= {"jti": uuid.uuid4().hex} | override
    header = {"alg": "ES384", "kid": key.kid or "", "typ": "JWT"}
    return {"Authorization": f"Bearer {jwt.encode(header, claims, key, algorithms=['ES384'])}"}


def _map(next_review: date | None = date(2026, 2, 1)) -> WellbeingMap:
    """Figure 1 as a map of 2025-11-03 with a review planned for ``next_review``."""
    wmap = load_map(ROOT / "examples" / "figure1.yaml")
    return replace(wmap, date=date(2025, 11, 3), next_review=next_review)


def _qr(wmap: WellbeingMap, rid: str = "qr-1") -> dict[str, Any]:
    [qr] = [
        e["resource"] for e in map_bundle(wmap, ())["entry"] if e["resource"]["resourceType"] == "QuestionnaireResponse"
    ]
    return {**qr, "id": rid}


def _hook(prefetch: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/p1", "patientId": "pat-1"},
        **extra,
    }
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body


def _searchset(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def test_discovery_lists_the_patient_view_service(hooks_app: Any) -> None:
    r = hooks_app.get("/cds-services")
    assert r.status_code == 200 and "set-cookie" not in r.headers
    [service] = r.json()["services"]
    assert service["hook"] == "patient-view" and service["id"] == SERVICE_ID and service["title"]
    assert service["prefetch"] == PREFETCH
    assert service["prefetch"]["patient"] == "Patient/{{context.patientId}}"
    assert "subject=Patient/{{context.patientId}}" in service["prefetch"]["maps"]
    assert "_sort=-authored" in service["prefetch"]["maps"]


def test_a_signed_call_with_prefetch_gets_the_card(hooks_app: Any, ehr_key: ECKey) -> None:
    planned = date.today() - timedelta(days=3)
    wmap = _map(next_review=planned)
    older = replace(wmap, date=date(2025, 5, 1), next_review=None)
    prefetch = {"patient": {"resourceType": "Patient", "id": "pat-1"}, "maps": _searchset(_qr(older, "old"), _qr(wmap))}
    # no CSRF token, no session: the EHR's signed JWT is what authenticates the call
    r = hooks_app.post(f"/cds-services/{SERVICE_ID}", json=_hook(prefetch), headers=_signed(ehr_key))
    assert r.status_code == 200, r.text
    assert "set-cookie" not in r.headers and r.headers["cache-control"] == "no-store"
    [card] = r.json()["cards"]
    m = measure(wmap)
    assert card["summary"] == "Wellbeing map: review due (map of 2025-11-03)" and len(card["summary"]) < 140
    assert card["indicator"] == "warning"
    assert (
        f"Last made or reviewed on 2025-11-03. A review is due (planned for {planned.isoformat()})." in card["detail"]
    )
    assert (
        f"Network: {m.size} connections, {m.inner_circle} in the inner circle, 75% of waking time at home."
        in card["detail"]
    )
    assert card["links"] == [{"label": "Open the wellbeing map", "url": LAUNCH, "type": "smart"}]
    assert wmap.subject.display not in str(card)  # counts and dates, never names
    assert all(c.label not in str(card) for c in wmap.connections)


def test_the_card_when_no_review_is_due_or_there_is_no_map(hooks_app: Any, ehr_key: ECKey) -> None:
    later = _map(next_review=date(2026, 6, 1))
    assert review_status(later, TODAY).due is False and review_status(later, date(2026, 6, 1)).due is True
    card = map_card(later, TODAY, {"label": "x", "url": LAUNCH, "type": "smart"})
    assert card["indicator"] == "info" and "Next review on 2026-06-01" in card["detail"]
    assert "No review date is set" in map_card(_map(None), TODAY, {})["detail"]
    r = hooks_app.post(f"/cds-services/{SERVICE_ID}", json=_hook({"maps": _searchset()}), headers=_signed(ehr_key))
    [card] = r.json()["cards"]
    assert card["summary"] == "No wellbeing network map yet" and card["links"][0]["type"] == "smart"


@pytest.mark.parametrize(
    "why",
    [
        "unsigned",
        "not a JWT",
        "wrong key",
        "untrusted issuer",
        "other service",
        "expired",
        "no jti",
        "too long-lived",
        "alg none",
    ],
)
def test_calls_not_signed_by_a_trusted_ehr_are_refused(hooks_app: Any, ehr_key: ECKey, why: str) -> None:
    other = ECKey.generate_key("P-384", {"kid": "ehr-1"}, private=True)
    now = int(time.time())
    headers = {
        "unsigned": {},
        "not a JWT": {"Authorization": "Bearer not.a.jwt"},
        "wrong key": _signed(other),
        "untrusted issuer": _signed(ehr_key, iss="https://evil.example"),
        "other service": _signed(ehr_key, aud=f"{BASE}/another"),
        "expired": _signed(ehr_key, iat=now - 600, exp=now - 300),
        "no jti": _signed(ehr_key, jti=None),
        "too long-lived": _signed(ehr_key, exp=now + 3600),
        "alg none": {"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJpc3MiOiJodHRwczovL2Voci5leGFtcGxlLm5ocy51ayJ9."},
    }[why]
    r = hooks_app.post(f"/cds-services/{SERVICE_ID}", json=_hook({"maps": _searchset()}), headers=headers)
    assert r.status_code == 401, (why, r.text)
    assert r.headers["WWW-Authenticate"] == "Bearer" and "cards" not in r.json()


def test_a_replayed_call_is_refused(hooks_app: Any, ehr_key: ECKey) -> None:
    client = hooks_app
    headers = _signed(ehr_key)
    assert (
        client.post(f"/cds-services/{SERVICE_ID}", json=_hook({"maps": _searchset()}), headers=headers).status_code
        == 200
    )
    again = client.post(f"/cds-services/{SERVICE_ID}", json=_hook({"maps": _searchset()}), headers=headers)
    assert again.status_code == 401 and "used before" in again.json()["error"]


def test_the_ehr_keys_are_read_from_its_jwks_url(tmp_path: Path, ehr_key: ECKey, serve_app: Any) -> None:
    jwks = KeySet([ehr_key]).as_dict(private=False)
    base = serve_app(Starlette(routes=[Route("/jwks", lambda request: JSONResponse(jwks))]))
    client = _app(tmp_path, {EHR: f"{base}/jwks"})
    assert (
        client.post(
            f"/cds-services/{SERVICE_ID}", json=_hook({"maps": _searchset()}), headers=_signed(ehr_key)
        ).status_code
        == 200
    )
    other = ECKey.generate_key("P-384", {"kid": "ehr-1"}, private=True)
    assert (
        client.post(
            f"/cds-services/{SERVICE_ID}", json=_hook({"maps": _searchset()}), headers=_signed(other)
        ).status_code
        == 401
    )


def test_bad_requests_get_clear_answers(hooks_app: Any, ehr_key: ECKey) -> None:
    client = hooks_app
    assert client.post("/cds-services/other", json=_hook(), headers=_signed(ehr_key)).status_code == 404
    r = client.post(f"/cds-services/{SERVICE_ID}", content=b"{", headers=_signed(ehr_key))
    assert r.status_code == 400 and "not JSON" in r.json()["error"]
    r = client.post(f"/cds-services/{SERVICE_ID}", json={**_hook(), "hook": "order-select"}, headers=_signed(ehr_key))
    assert r.status_code == 400
    r = client.post(f"/cds-services/{SERVICE_ID}", json=_hook(), headers=_signed(ehr_key))
    assert r.status_code == 412 and "fhirAuthorization" in r.json()["error"]


def test_configuration_is_checked() -> None:
    with pytest.raises(InputError, match="no EHR may call"):
        CdsConfig(service_base=BASE, trusted={}, app_launch_url=LAUNCH)
    with pytest.raises(InputError, match="JWKS URL of https://ehr"):
        CdsConfig(service_base=BASE, trusted={EHR: "http://ehr.example.nhs.uk/jwks"}, app_launch_url=LAUNCH)


def test_without_prefetch_the_map_is_read_with_the_hooks_fhir_authorization(
    hooks_app: Any, ehr_key: ECKey, smart_auth: Any, smart_hapi: str
) -> None:
    setup = {
        "Authorization": f"Bearer {smart_auth.mint(smart_hapi, 'system/*.cruds')}",
        "Accept": "application/fhir+json",
    }
    nhs = random_nhs_number()
    patient = requests.post(
        f"{smart_hapi}/Patient",
        json={"resourceType": "Patient", "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs}]},
        headers=setup,
        timeout=60,
    ).json()["id"]
    planned = date.today() + timedelta(days=90)
    wmap = replace(_map(next_review=planned), subject=Subject(nhs_number=nhs, fhir_id=f"Patient/{patient}"))
    stored = requests.post(smart_hapi, json=map_bundle(wmap, ()), headers=setup, timeout=120)
    assert stored.status_code == 200, stored.text[:500]
    token = smart_auth.mint(smart_hapi, "patient/QuestionnaireResponse.rs", patient=patient)
    body = _hook(
        fhirServer=smart_hapi,
        fhirAuthorization={
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/QuestionnaireResponse.rs",
            "subject": "ehr",
        },
    )
    body["context"]["patientId"] = patient
    r = hooks_app.post(f"/cds-services/{SERVICE_ID}", json=body, headers=_signed(ehr_key))
    assert r.status_code == 200, r.text
    [card] = r.json()["cards"]
    assert card["summary"] == "Wellbeing map made or reviewed on 2025-11-03" and card["indicator"] == "info"
    assert f"Next review on {planned.isoformat()}" in card["detail"]
    assert f"{measure(wmap).size} connections" in card["detail"]
    body["fhirAuthorization"]["access_token"] = smart_auth.mint(smart_hapi, "patient/Observation.rs", patient=patient)
    refused = hooks_app.post(f"/cds-services/{SERVICE_ID}", json=body, headers=_signed(ehr_key))
    assert (
        refused.status_code == 200
        and refused.json()["cards"][0]["summary"] == "Wellbeing map: the record could not be read"
    )


def test_only_the_hook_endpoints_go_without_the_csrf_token(hooks_app: Any, ehr_key: ECKey) -> None:
    hook = _hook({"maps": _searchset()})
    assert hooks_app.post(f"/cds-services/{SERVICE_ID}", json=hook, headers=_signed(ehr_key)).status_code == 200
    # every other write of the app still needs the page's token, even to a look-alike path
    for path in ("/maps/new", "/cds-services-other", "/api/preview"):
        refused = hooks_app.post(path, json=hook, headers=_signed(ehr_key))
        assert refused.status_code == 403 and "security token" in refused.text, path
    # and the hook endpoints keep the host check and the app's security headers
    assert hooks_app.get("/cds-services", headers={"Host": "attacker.example"}).status_code == 400
    discovery = hooks_app.get("/cds-services")
    assert "default-src 'none'" in discovery.headers["content-security-policy"]
    assert discovery.headers["x-content-type-options"] == "nosniff"
