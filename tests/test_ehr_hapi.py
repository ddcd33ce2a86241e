"""The SMART token flow against the tests' authorization server and a HAPI that refuses requests
without its tokens: what a token may do there, and the session client renewing a refused token.
(A whole launch into the app, to a saved map, is test_ehr_app.py's and test_ehr_browser.py's.)"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from joserfc.jwk import RSAKey
from smart_servers import authorize_at_ehr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from wb_fhir.web.smart import SmartConfig, SmartLauncher

APP = "http://127.0.0.1"
FHIR_JSON = {"Accept": "application/fhir+json", "Content-Type": "application/fhir+json"}
ROOT = Path(__file__).resolve().parent.parent


def _as(token: str) -> dict[str, str]:
    return {**FHIR_JSON, "Authorization": f"Bearer {token}"}


@pytest.fixture
def setup(smart_auth: Any, smart_hapi: str) -> dict[str, str]:
    """Headers with an all-powerful token: the EHR's own loading of the record."""
    return _as(smart_auth.mint(smart_hapi, "system/*.cruds"))


def _create(base: str, headers: dict[str, str], resource: dict[str, Any]) -> str:
    r = requests.post(f"{base}/{resource['resourceType']}", json=resource, headers=headers, timeout=60)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_the_server_refuses_requests_without_a_valid_token(smart_auth: Any, smart_hapi: str) -> None:
    assert requests.get(f"{smart_hapi}/metadata", headers=FHIR_JSON, timeout=60).status_code == 200
    discovery = requests.get(f"{smart_hapi}/.well-known/smart-configuration", timeout=60).json()
    assert discovery["token_endpoint"] == f"{smart_auth.url}/token" and "permission-v2" in discovery["capabilities"]
    none = requests.get(f"{smart_hapi}/Patient", headers=FHIR_JSON, timeout=60)
    assert none.status_code == 401 and none.headers["WWW-Authenticate"].startswith("Bearer")
    cases = {
        "expired": smart_auth.mint(smart_hapi, "system/*.cruds", expires_in=-60),
        "other key": smart_auth.mint(
            smart_hapi, "system/*.cruds", key=RSAKey.generate_key(2048, {"kid": smart_auth.key.kid})
        ),
        "other server": smart_auth.mint("http://127.0.0.1:9/fhir", "system/*.cruds"),
        "other issuer": smart_auth.mint(smart_hapi, "system/*.cruds", issuer="https://evil.example"),
        "not a JWT": "abc.def.ghi",
    }
    for why, token in cases.items():
        r = requests.get(f"{smart_hapi}/Patient", headers=_as(token), timeout=60)
        assert r.status_code == 401, (why, r.status_code, r.text[:300])
    ok = requests.get(
        f"{smart_hapi}/Patient?_count=1", headers=_as(smart_auth.mint(smart_hapi, "system/*.rs")), timeout=60
    )
    assert ok.status_code == 200, ok.text


def test_scopes_and_the_patient_decide_what_a_token_may_do(
    smart_auth: Any, smart_hapi: str, setup: dict[str, str]
) -> None:
    mine = _create(smart_hapi, setup, {"resourceType": "Patient", "name": [{"family": "Mine"}]})
    theirs = _create(smart_hapi, setup, {"resourceType": "Patient", "name": [{"family": "Theirs"}]})
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "x"}}
    v2 = _as(smart_auth.mint(smart_hapi, "patient/Patient.rs patient/Observation.cr", patient=mine))
    assert requests.get(f"{smart_hapi}/Patient/{mine}", headers=v2, timeout=60).status_code == 200
    assert requests.get(f"{smart_hapi}/Patient/{theirs}", headers=v2, timeout=60).status_code == 403
    created = requests.post(
        f"{smart_hapi}/Observation", json={**obs, "subject": {"reference": f"Patient/{mine}"}}, headers=v2, timeout=60
    )
    assert created.status_code == 201, created.text
    other = requests.post(
        f"{smart_hapi}/Observation", json={**obs, "subject": {"reference": f"Patient/{theirs}"}}, headers=v2, timeout=60
    )
    assert other.status_code == 403 and "another patient" in other.text
    update = requests.put(
        f"{smart_hapi}/Observation/{created.json()['id']}",
        json={**created.json(), "status": "amended"},
        headers=v2,
        timeout=60,
    )
    assert update.status_code == 403 and "'u' on Observation" in update.text
    assert requests.get(f"{smart_hapi}/Goal?subject=Patient/{mine}", headers=v2, timeout=60).status_code == 403
    v1 = _as(smart_auth.mint(smart_hapi, "patient/Patient.read patient/Observation.write", patient=mine))
    assert requests.get(f"{smart_hapi}/Patient/{mine}", headers=v1, timeout=60).status_code == 200
    assert requests.get(f"{smart_hapi}/Observation?subject=Patient/{mine}", headers=v1, timeout=60).status_code == 403
    again = requests.post(
        f"{smart_hapi}/Observation", json={**obs, "subject": {"reference": f"Patient/{mine}"}}, headers=v1, timeout=60
    )
    assert again.status_code == 201, again.text


def test_the_session_client_refreshes_after_the_server_refuses_an_old_token(
    smart_auth: Any, smart_hapi: str, setup: dict[str, str]
) -> None:
    from auth_server import Client

    patient = _create(smart_hapi, setup, {"resourceType": "Patient", "name": [{"family": "Refresh"}]})
    client = smart_auth.add_client(Client(f"wb-{uuid.uuid4().hex[:6]}", (f"{APP}/callback",)))
    launcher = SmartLauncher(
        SmartConfig(client_id=client.client_id, redirect_uri=f"{APP}/callback", issuers=(smart_hapi,))
    )

    def read(request: Request) -> JSONResponse:
        return JSONResponse(launcher.client_for(request).read("Patient", patient))

    tc = TestClient(Starlette(routes=[*launcher.routes(), Route("/read", read)]), base_url=APP)
    start = tc.get(
        "/launch", params={"iss": smart_hapi, "launch": smart_auth.new_launch(patient)}, follow_redirects=False
    )
    back = urlsplit(authorize_at_ehr(start.headers["location"]))
    tc.get(f"{back.path}?{back.query}", follow_redirects=False)
    session = launcher.store.get(tc.cookies["wbf-smart"])
    assert session is not None and session.tokens is not None
    # the token the session holds is no longer accepted (say, revoked): one 401, one refresh, then the read
    session.tokens.access_token = smart_auth.mint(smart_hapi, "patient/Patient.rs", patient=patient, expires_in=-60)
    stale = session.tokens.access_token
    r = tc.get("/read")
    assert r.status_code == 200 and r.json()["id"] == patient
    assert session.tokens.access_token != stale
