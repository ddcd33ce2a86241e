"""CDS Hooks: discovery, the patient-view card with and without prefetch, and who may call it."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from strategies import random_nhs_number

from wb_fhir.bundles import map_bundle
from wb_fhir.errors import InputError
from wb_fhir.mapfile import load_map
from wb_fhir.measures import measure
from wb_fhir.model import Subject, WellbeingMap
from wb_fhir.web.cds_hooks import PREFETCH, SERVICE_ID, CdsConfig, CdsHooks, map_card, review_status

ROOT = Path(__file__).resolve().parent.parent
EHR = "https://ehr.example.nhs.uk"
BASE = "https://maps.example.nhs.uk/cds-services"
LAUNCH = "https://maps.example.nhs.uk/launch"
TODAY = date(2026, 3, 1)


@pytest.fixture(scope="module")
def ehr_key() -> ECKey:
    return ECKey.generate_key("P-384", {"kid": "ehr-1", "use": "sig"}, private=True)


def _hooks(ehr_key: ECKey, **kwargs: Any) -> CdsHooks:
    jwks = KeySet([ehr_key]).as_dict(private=False)
    config = CdsConfig(service_base=BASE, trusted={EHR: jwks}, app_launch_url=LAUNCH, **kwargs)
    return CdsHooks(config, today=lambda: TODAY)


def _client(hooks: CdsHooks) -> TestClient:
    return TestClient(Starlette(routes=hooks.routes()), base_url="https://maps.example.nhs.uk")


def _signed(key: ECKey, **override: Any) -> dict[str, str]:
    now = int(time.time())
    claims = {"iss": EHR, "sub": "ehr-client", "aud": f"{BASE}/{SERVICE_ID}", "iat": now, "exp": now + 60}
    claims |= {"jti": uuid.uuid4().hex} | override
    header = {"alg": "ES384", "kid": key.kid or "", "typ": "JWT"}
    return {"Authorization": f"Bearer {jwt.encode(header, claims, key, algorithms=['ES384'])}"}


def _map(next_review: date | None = date(2026, 2, 1)) -> WellbeingMap:
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


def test_discovery_lists_the_patient_view_service(ehr_key: ECKey) -> None:
    r = _client(_hooks(ehr_key)).get("/cds-services")
    assert r.status_code == 200
    [service] = r.json()["services"]
    assert service["hook"] == "patient-view" and service["id"] == SERVICE_ID and service["title"]
    assert service["prefetch"] == PREFETCH
    assert service["prefetch"]["patient"] == "Patient/{{context.patientId}}"
    assert "subject=Patient/{{context.patientId}}" in service["prefetch"]["maps"]
    assert "_sort=-authored" in service["prefetch"]["maps"]


def test_a_signed_call_with_prefetch_gets_the_card(ehr_key: ECKey) -> None:
    wmap = _map()
    older = replace(wmap, date=date(2025, 5, 1), next_review=None)
    prefetch = {"patient": {"resourceType": "Patient", "id": "pat-1"}, "maps": _searchset(_qr(older, "old"), _qr(wmap))}
    r = _client(_hooks(ehr_key)).post(f"/cds-services/{SERVICE_ID}", json=_hook(prefetch), headers=_signed(ehr_key))
    assert r.status_code == 200, r.text
    [card] = r.json()["cards"]
    m = measure(wmap)
    assert card["summary"] == "Wellbeing map: review due (map of 2025-11-03)" and len(card["summary"]) < 140
    assert card["indicator"] == "warning"
    assert "Last made or reviewed on 2025-11-03. A review is due (planned for 2026-02-01)." in card["detail"]
    assert (
        f"Network: {m.size} connections, {m.inner_circle} in the inner circle, 75% of waking time at home."
        in card["detail"]
    )
    assert card["links"] == [{"label": "Open the wellbeing map", "url": LAUNCH, "type": "smart"}]
    assert wmap.subject.display not in str(card)  # counts and dates, never names
    assert all(c.label not in str(card) for c in wmap.connections)


def test_the_card_when_no_review_is_due_or_there_is_no_map(ehr_key: ECKey) -> None:
    later = _map(next_review=date(2026, 6, 1))
    assert review_status(later, TODAY).due is False and review_status(later, date(2026, 6, 1)).due is True
    card = map_card(later, TODAY, {"label": "x", "url": LAUNCH, "type": "smart"})
    assert card["indicator"] == "info" and "Next review on 2026-06-01" in card["detail"]
    assert "No review date is set" in map_card(_map(None), TODAY, {})["detail"]
    r = _client(_hooks(ehr_key)).post(
        f"/cds-services/{SERVICE_ID}", json=_hook({"maps": _searchset()}), headers=_signed(ehr_key)
    )
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
def test_calls_not_signed_by_a_trusted_ehr_are_refused(ehr_key: ECKey, why: str) -> None:
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
    r = _client(_hooks(ehr_key)).post(
        f"/cds-services/{SERVICE_ID}", json=_hook({"maps": _searchset()}), headers=headers
    )
    assert r.status_code == 401, (why, r.text)
    assert r.headers["WWW-Authenticate"] == "Bearer" and "cards" not in r.json()


def test_a_replayed_call_is_refused(ehr_key: ECKey) -> None:
    client = _client(_hooks(ehr_key))
    headers = _signed(ehr_key)
    assert (
        client.post(f"/cds-services/{SERVICE_ID}", json=_hook({"maps": _searchset()}), headers=headers).status_code
        == 200
    )
    again = client.post(f"/cds-services/{SERVICE_ID}", json=_hook({"maps": _searchset()}), headers=headers)
    assert again.status_code == 401 and "used before" in again.json()["error"]


def test_the_ehr_keys_are_read_from_its_jwks_url(ehr_key: ECKey, serve_app: Any) -> None:
    jwks = KeySet([ehr_key]).as_dict(private=False)
    base = serve_app(Starlette(routes=[Route("/jwks", lambda request: JSONResponse(jwks))]))
    config = CdsConfig(service_base=BASE, trusted={EHR: f"{base}/jwks"}, app_launch_url=LAUNCH)
    client = _client(CdsHooks(config, today=lambda: TODAY))
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


def test_bad_requests_get_clear_answers(ehr_key: ECKey) -> None:
    client = _client(_hooks(ehr_key))
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
    ehr_key: ECKey, smart_auth: Any, smart_hapi: str
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
    wmap = replace(_map(next_review=date(2026, 9, 1)), subject=Subject(nhs_number=nhs, fhir_id=f"Patient/{patient}"))
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
    r = _client(_hooks(ehr_key, allow_insecure_http=False)).post(
        f"/cds-services/{SERVICE_ID}", json=body, headers=_signed(ehr_key)
    )
    assert r.status_code == 200, r.text
    [card] = r.json()["cards"]
    assert card["summary"] == "Wellbeing map made or reviewed on 2025-11-03"
    assert "Next review on 2026-09-01" in card["detail"] and f"{measure(wmap).size} connections" in card["detail"]
    body["fhirAuthorization"]["access_token"] = smart_auth.mint(smart_hapi, "patient/Observation.rs", patient=patient)
    refused = _client(_hooks(ehr_key)).post(f"/cds-services/{SERVICE_ID}", json=body, headers=_signed(ehr_key))
    assert (
        refused.status_code == 200
        and refused.json()["cards"][0]["summary"] == "Wellbeing map: the record could not be read"
    )
