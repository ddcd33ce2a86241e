"""pytest plugin: a real FHIR R4 server (HAPI FHIR JPA, H2 in memory) for integration tests.

Fixtures:
  fhir_server  (session) base URL of the server, e.g. ``http://127.0.0.1:PORT/fhir``.
               Builds ``tests/fhir-server`` once (build.sh), starts it on a free loopback
               port (start.sh), warms up ``$validate``, and stops it at session end.
               With ``WB_FHIR_TEST_SERVER=URL`` an already running server is used instead.
  fhir         a small ``requests.Session`` bound to that base URL, sending FHIR JSON.

Tests using ``fhir_server`` (directly or through ``fhir``) get the ``server`` marker, so
``pytest -m server`` runs just them and ``pytest -m "not server"`` skips them.

Without Java or Maven the tests are skipped, except with ``CI=true``, where that is a
failure. A failed build or start is always a failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

SERVER_DIR = Path(__file__).resolve().parent / "fhir-server"
ENV_URL = "WB_FHIR_TEST_SERVER"
START_TIMEOUT = int(os.environ.get("FHIR_SERVER_TIMEOUT", "300"))
BUILD_TIMEOUT = 1800
FHIR_JSON = "application/fhir+json"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _unavailable(reason: str) -> None:
    """Skip locally, fail in CI (where the server must run)."""
    if _in_ci():
        pytest.fail(f"FHIR test server unavailable in CI: {reason}", pytrace=False)
    pytest.skip(f"FHIR test server unavailable: {reason}")


def _tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(cannot read {path}: {exc})"


# --- hooks ---------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "server: needs the real FHIR test server (fixture fhir_server)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "fhir_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.server)


# --- server lifecycle ----------------------------------------------------------------


class _LocalServer:
    """A server process started by start.sh (it runs in its own session)."""

    def __init__(self) -> None:
        run_dir = SERVER_DIR / "run"
        run_dir.mkdir(exist_ok=True)
        for old in run_dir.glob("server-pytest-*.log"):  # logs of earlier sessions: 2 days
            if time.time() - old.stat().st_mtime > 2 * 86400:
                old.unlink(missing_ok=True)
        stamp = f"pytest-{os.getpid()}"
        self.log = run_dir / f"server-{stamp}.log"
        self.pidfile = run_dir / f"server-{stamp}.pid"
        self.pid: int | None = None

    def build(self) -> None:
        try:
            proc = subprocess.run(
                [str(SERVER_DIR / "build.sh")],
                capture_output=True,
                text=True,
                timeout=BUILD_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"building the FHIR test server took over {BUILD_TIMEOUT} s", pytrace=False)
        if proc.returncode != 0:
            pytest.fail(
                "building the FHIR test server failed (tests/fhir-server/build.sh, "
                f"exit {proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}",
                pytrace=False,
            )

    def start(self) -> str:
        env = dict(
            os.environ,
            FHIR_SERVER_LOG=str(self.log),
            FHIR_SERVER_PIDFILE=str(self.pidfile),
            FHIR_SERVER_TIMEOUT=str(START_TIMEOUT),
        )
        try:
            proc = subprocess.run(
                [str(SERVER_DIR / "start.sh")],
                capture_output=True,
                text=True,
                env=env,
                timeout=START_TIMEOUT + 60,
            )
        except subprocess.TimeoutExpired:
            proc = None
        self._read_pid()
        if proc is None or proc.returncode != 0:
            self.stop()
            detail = "timed out" if proc is None else f"exit {proc.returncode}: {proc.stderr[-2000:]}"
            pytest.fail(
                f"starting the FHIR test server failed ({detail})\n"
                f"log: {self.log}\n--- last lines of the log ---\n{_tail(self.log)}",
                pytrace=False,
            )
        return proc.stdout.strip().splitlines()[-1]

    def _read_pid(self) -> None:
        try:
            self.pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            self.pid = None

    def stop(self) -> None:
        if self.pid is None:
            return
        pid, self.pid = self.pid, None
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if not _alive(pid):
                break
            time.sleep(0.5)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.pidfile.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        # start.sh's java is not our child, so there is nothing to reap: look at /proc
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
        return state != "Z"
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def _wait_for_metadata(base: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            r = requests.get(f"{base}/metadata", headers={"Accept": FHIR_JSON}, timeout=20)
            if r.status_code == 200:
                return
            last = f"HTTP {r.status_code}"
        except requests.RequestException as exc:
            last = exc
        time.sleep(1)
    pytest.fail(f"FHIR server {base} did not answer /metadata within {timeout} s: {last}", pytrace=False)


def _warm_up_validation(base: str) -> None:
    """The first $validate loads the core definitions (slow): do it once, up front."""
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "warm-up"}}
    # a real problem shows up in the tests themselves
    with contextlib.suppress(requests.RequestException):
        requests.post(
            f"{base}/Observation/$validate",
            json=obs,
            headers={"Content-Type": FHIR_JSON, "Accept": FHIR_JSON},
            timeout=180,
        )


@pytest.fixture(scope="session")
def fhir_server() -> Iterator[str]:
    """Base URL of a running FHIR R4 test server (started once per test session)."""
    external = os.environ.get(ENV_URL, "").strip().rstrip("/")
    if external:
        _wait_for_metadata(external, 30)
        _warm_up_validation(external)
        yield external
        return

    missing = [tool for tool in ("java", "mvn") if shutil.which(tool) is None]
    if missing:
        _unavailable(
            f"{' and '.join(missing)} not found on PATH (needs Java 17+ and Maven 3.8+; "
            f"or set {ENV_URL}=http://host:port/fhir to use a running server)"
        )

    server = _LocalServer()
    server.build()
    try:
        base = server.start()
        _wait_for_metadata(base, 30)
        _warm_up_validation(base)
        yield base
    finally:
        server.stop()


# --- a small FHIR-aware HTTP session -------------------------------------------------


class FhirSession(requests.Session):
    """requests.Session bound to a FHIR base URL.

    Relative URLs ("Patient/1", "Observation?code=x") are joined to the base; absolute
    URLs (e.g. paging ``next`` links) are used as they are. Sends FHIR JSON and
    ``Cache-Control: no-cache`` so the server never answers a search from its cache.
    """

    def __init__(self, base: str, timeout: float = 120) -> None:
        super().__init__()
        self.base = base.rstrip("/")
        self.timeout = timeout
        self.headers.update({"Accept": FHIR_JSON, "Content-Type": FHIR_JSON, "Cache-Control": "no-cache"})

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base}/{path.lstrip('/')}"

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, self.url(url), *args, **kwargs)


@pytest.fixture
def fhir(fhir_server: str) -> Iterator[FhirSession]:
    """A FhirSession bound to the test server: ``fhir.post("Patient", json=...)``."""
    with FhirSession(fhir_server) as session:
        yield session
