"""pytest plugin: the EHR side for the SMART and CDS Hooks tests.

Fixtures:
  smart_auth    (session) a SMART authorization server (tests/auth_server, Authlib) on loopback,
                with a practitioner user ``dr-jones`` / ``pw-jones``; v2 and v1 scopes.
  smart_hapi    (session) a second HAPI FHIR server, from this checkout's build, that refuses
                requests without a valid access token from ``smart_auth`` (SmartAuthInterceptor,
                enabled by WB_FHIR_AUTH_ISSUER) on a free loopback port; stopped at session end.
                To keep one running between test runs (it takes a minute of both cores to start):
                start it with WB_FHIR_AUTH_ISSUER=http://127.0.0.1:PORT, and run the tests with
                WB_FHIR_AUTH_SERVER_PORT=PORT (the authorization server then listens there, with
                a key kept in tests/fhir-server/run/) and WB_FHIR_AUTH_TEST_SERVER=its base URL.
  serve_app     run an ASGI app on loopback in a thread: ``serve_app(app[, port]) -> base URL``.

Without their prerequisites (Flask and Authlib; Java and Maven) the tests are skipped, except with
``CI=true``, where that is a failure. The browser (``chromium``) is web_support's.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from fhir_server import FHIR_JSON, SERVER_DIR, _alive, _in_ci, _LocalServer, _tail
from strategies import random_nhs_number

from wb_fhir.bundles import map_bundle
from wb_fhir.mapfile import load_map
from wb_fhir.model import Subject, WellbeingMap
from wb_fhir.terminology import NHS_NUMBER_SYSTEM

HAPI_JAVA_OPTS = "-Xmx1g -Xss1m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
PRACTITIONER_USER = ("dr-jones", "pw-jones")
ROOT = Path(__file__).resolve().parent.parent
V3_ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"


def _unavailable(what: str, reason: str) -> None:
    if _in_ci():
        pytest.fail(f"{what} unavailable in CI: {reason}", pytrace=False)
    pytest.skip(f"{what} unavailable: {reason}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "smart_hapi" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.server)


@pytest.fixture(scope="session")
def smart_auth() -> Iterator[Any]:
    """The authorization server (started once); tests add clients, patients and launches."""
    try:
        from auth_server import SmartAuthServer, User
    except ImportError as exc:
        _unavailable("SMART authorization server", f"{exc} (pip install -e '.[test]')")
    port = int(os.environ.get("WB_FHIR_AUTH_SERVER_PORT", "0") or 0)
    server = SmartAuthServer(key=_kept_key(port) if port else None)
    server.start(port=port)
    server.add_user(User(*PRACTITIONER_USER, fhir_user="Practitioner/unknown", name="Dr Alex Jones"))
    yield server
    server.stop()


def _kept_key(port: int) -> Any:
    """The signing key of the authorization server on a fixed port, the same every run: a HAPI kept
    running between runs then needs no fresh look at the key set (which it makes at most twice a minute)."""
    from joserfc.jwk import RSAKey

    path = SERVER_DIR / "run" / f"auth-key-{port}.json"
    if path.exists():
        return RSAKey.import_key(json.loads(path.read_text()))
    key = RSAKey.generate_key(2048, {"kid": f"kept-{port}", "use": "sig", "alg": "RS256"}, private=True)
    path.parent.mkdir(exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps(key.as_dict(private=True)))
    return key


class _AuthHapi(_LocalServer):
    """A HAPI started by start.sh on a chosen port, with the auth interceptor on."""

    def __init__(self, issuer: str) -> None:
        super().__init__()
        self.issuer = issuer
        stamp = f"pytest-auth-{os.getpid()}"
        self.log = SERVER_DIR / "run" / f"server-{stamp}.log"
        self.pidfile = SERVER_DIR / "run" / f"server-{stamp}.pid"

    def start_on(self, port: int) -> str:
        env = dict(
            os.environ,
            WB_FHIR_AUTH_ISSUER=self.issuer,
            FHIR_SERVER_LOG=str(self.log),
            FHIR_SERVER_PIDFILE=str(self.pidfile),
            FHIR_SERVER_JAVA_OPTS=os.environ.get("WB_FHIR_AUTH_HAPI_JAVA_OPTS", HAPI_JAVA_OPTS),
        )
        proc = subprocess.run(
            ["nice", str(SERVER_DIR / "start.sh"), str(port)], capture_output=True, text=True, env=env, timeout=400
        )
        self._read_pid()
        if proc.returncode != 0:
            self.stop()
            pytest.fail(
                f"starting the auth-requiring HAPI failed (exit {proc.returncode}): {proc.stderr[-2000:]}\n"
                f"--- log ---\n{_tail(self.log)}",
                pytrace=False,
            )
        return proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def smart_hapi(smart_auth: Any) -> Iterator[str]:
    """Base URL of a HAPI that needs access tokens from ``smart_auth`` (one instance per session)."""
    external = os.environ.get("WB_FHIR_AUTH_TEST_SERVER", "").strip().rstrip("/")
    if external:  # a running auth-requiring HAPI whose WB_FHIR_AUTH_ISSUER is this session's server: rare
        smart_auth.resource_servers.add(external)
        yield external
        return
    missing = [tool for tool in ("java", "mvn") if shutil.which(tool) is None]
    if missing:
        _unavailable("auth-requiring FHIR server", f"{' and '.join(missing)} not found on PATH")
    server = _AuthHapi(smart_auth.url)
    server.build()
    try:
        base = server.start_on(free_port())
        smart_auth.resource_servers.add(base)
        yield base
    finally:
        server.stop()
        assert server.pid is None or not _alive(server.pid)


@pytest.fixture
def serve_app() -> Iterator[Callable[..., str]]:
    """Serve ASGI apps on loopback (uvicorn, in a thread) for the length of one test."""
    import uvicorn

    servers: list[tuple[Any, threading.Thread]] = []

    def serve(app: Any, port: int | None = None) -> str:
        port = port or free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                pytest.fail("the test app did not start", pytrace=False)
            time.sleep(0.05)
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield serve
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


def metadata_ok(base: str) -> bool:
    """Whether a FHIR server answers its CapabilityStatement (open without a token)."""
    try:
        return requests.get(f"{base}/metadata", headers={"Accept": "application/fhir+json"}, timeout=30).ok
    except requests.RequestException:
        return False


# --- the practitioner at the EHR, scripted (the browser tests do the same in Chromium) ---------------


def authorize_at_ehr(
    authorize_url: str,
    *,
    user: tuple[str, str] = PRACTITIONER_USER,
    untick: tuple[str, ...] = (),
    patient: str | None = None,
    deny: bool = False,
) -> str:
    """Sign in and consent at the authorization server; the redirect back to the app (its Location)."""
    import lxml.html

    with requests.Session() as http:
        login = http.get(authorize_url, timeout=30)
        assert login.status_code == 200 and "Sign in" in login.text, login.text[:500]
        form = lxml.html.fromstring(login.text).forms[0]
        fields = dict(form.fields)
        fields.update(username=user[0], password=user[1])
        consent = http.post(
            requests.compat.urljoin(login.url, form.action), data=fields, timeout=30, allow_redirects=False
        )
        if consent.status_code in (302, 303):
            consent = http.get(
                requests.compat.urljoin(login.url, consent.headers["Location"]), timeout=30, allow_redirects=False
            )
        if consent.status_code in (302, 303):  # an error sent straight back to the app
            return str(consent.headers["Location"])
        assert consent.status_code == 200 and "Allow" in consent.text, consent.text[:500]
        page = lxml.html.fromstring(consent.text)
        form = page.forms[0]
        scopes = [box.get("value") for box in page.xpath("//input[@name='granted']")]
        data: list[tuple[str, str]] = [("csrf", form.fields["csrf"]), ("decision", "deny" if deny else "allow")]
        data += [("granted", s) for s in scopes if s not in untick]
        if patient is not None:
            data.append(("patient", patient))
        answer = http.post(
            requests.compat.urljoin(consent.url, form.action), data=data, timeout=30, allow_redirects=False
        )
        assert answer.status_code == 302, answer.text[:500]
        return str(answer.headers["Location"])


# --- a person's record at the EHR, for the launch tests ---------------------------------------


@dataclass(frozen=True)
class EhrRecord:
    """What the EHR holds about one person, made on the auth-requiring HAPI for a test."""

    patient: str
    """The Patient's id."""
    nhs_number: str
    practitioner: str
    """``Practitioner/id`` of the practitioner who launches the app."""
    user: tuple[str, str]
    """Their user name and password at the authorization server."""
    previous: WellbeingMap | None
    """The person's latest map in the record, if the test made one."""

    @property
    def patient_reference(self) -> str:
        return f"Patient/{self.patient}"


def setup_headers(smart_auth: Any, smart_hapi: str) -> dict[str, str]:
    """Headers with an all-powerful token: the EHR's own loading of the record."""
    token = smart_auth.mint(smart_hapi, "system/*.cruds")
    return {"Authorization": f"Bearer {token}", "Accept": FHIR_JSON, "Content-Type": FHIR_JSON}


def _create(base: str, headers: dict[str, str], resource: dict[str, Any]) -> str:
    r = requests.post(f"{base}/{resource['resourceType']}", json=resource, headers=headers, timeout=120)
    assert r.status_code == 201, r.text[:500]
    return str(r.json()["id"])


def ehr_record(smart_auth: Any, smart_hapi: str, *, previous_map: bool = True) -> EhrRecord:
    """A person (Sam Test) with a sister in RelatedPerson, a care coordinator in their CareTeam and,
    if asked, a map of 90 days ago; and a practitioner (Dr Alex Jones) who can sign in."""
    from auth_server import User

    headers = setup_headers(smart_auth, smart_hapi)
    nhs = random_nhs_number()
    patient = _create(
        smart_hapi,
        headers,
        {
            "resourceType": "Patient",
            "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": nhs}],
            "name": [{"given": ["Sam"], "family": "Test"}],
            "birthDate": "1990-04-12",
        },
    )
    practitioner = _create(
        smart_hapi,
        headers,
        {"resourceType": "Practitioner", "name": [{"given": ["Alex"], "family": "Jones", "prefix": ["Dr"]}]},
    )
    coordinator = _create(smart_hapi, headers, {"resourceType": "Practitioner", "name": [{"text": "Chris Lee"}]})
    _create(
        smart_hapi,
        headers,
        {
            "resourceType": "RelatedPerson",
            "patient": {"reference": f"Patient/{patient}"},
            "relationship": [{"coding": [{"system": V3_ROLE_CODE, "code": "SIS", "display": "sister"}]}],
            "name": [{"text": "Jo"}],
        },
    )
    _create(
        smart_hapi,
        headers,
        {
            "resourceType": "CareTeam",
            "status": "active",
            "subject": {"reference": f"Patient/{patient}"},
            "participant": [
                {
                    "role": [{"text": "Care coordinator"}],
                    "member": {"reference": f"Practitioner/{coordinator}", "display": "Chris Lee"},
                }
            ],
        },
    )
    previous = None
    if previous_map:
        previous = replace(
            load_map(ROOT / "examples" / "figure1.yaml"),
            subject=Subject(nhs_number=nhs, fhir_id=f"Patient/{patient}", display="Sam"),
            date=date.today() - timedelta(days=90),
            next_review=date.today() - timedelta(days=1),
        )
        stored = requests.post(smart_hapi, json=map_bundle(previous, ()), headers=headers, timeout=300)
        assert stored.status_code == 200, stored.text[:500]
    user = smart_auth.add_user(
        User(f"dr-{uuid.uuid4().hex[:6]}", "pw-record", fhir_user=f"Practitioner/{practitioner}", name="Dr Alex Jones")
    )
    return EhrRecord(patient, nhs, f"Practitioner/{practitioner}", (user.username, user.password), previous)


def search(smart_auth: Any, smart_hapi: str, query: str) -> list[dict[str, Any]]:
    """The resources a search finds on the auth-requiring HAPI (with the EHR's own token)."""
    r = requests.get(f"{smart_hapi}/{query}", headers=setup_headers(smart_auth, smart_hapi), timeout=120)
    assert r.status_code == 200, r.text[:500]
    return [e["resource"] for e in r.json().get("entry", [])]
