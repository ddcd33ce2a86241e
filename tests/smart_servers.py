"""pytest plugin: the EHR side for the SMART and CDS Hooks tests.

Fixtures:
  smart_auth    (session) a SMART authorization server (tests/auth_server, Authlib) on loopback,
                with a practitioner user ``dr-jones`` / ``pw-jones``; v2 and v1 scopes.
  smart_hapi    (session) a second HAPI FHIR server, from this checkout's build, that refuses
                requests without a valid access token from ``smart_auth`` (SmartAuthInterceptor,
                enabled by WB_FHIR_AUTH_ISSUER) on a free loopback port; stopped at session end.
  chromium      (session) Debian's Chromium driven by Playwright, headless.
  serve_app     run an ASGI app on loopback in a thread: ``serve_app(app[, port]) -> base URL``.

Without their prerequisites (Flask and Authlib; Java and Maven; Playwright and /usr/bin/chromium)
the tests are skipped, except with ``CI=true``, where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from fhir_server import SERVER_DIR, _alive, _in_ci, _LocalServer, _tail

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HAPI_JAVA_OPTS = "-Xmx1g -Xss1m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
PRACTITIONER_USER = ("dr-jones", "pw-jones")


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
    server = SmartAuthServer()
    server.start()
    server.add_user(User(*PRACTITIONER_USER, fhir_user="Practitioner/unknown", name="Dr Alex Jones"))
    yield server
    server.stop()


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


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """A headless Chromium (Debian's) under Playwright."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _unavailable("Playwright", str(exc))
    if not CHROMIUM.exists():
        _unavailable("Chromium", f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


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
