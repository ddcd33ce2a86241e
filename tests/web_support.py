"""Helpers for the web app's tests: the app in-process or live on loopback, a real headless
Chromium (Debian's, through Playwright), and axe-core for accessibility checks.

Without Chromium (or npm for axe-core) the browser tests skip on a laptop; with ``CI=true``
that is a failure. Every page a test opens refuses requests to any other origin, and the test
fails if one was tried.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from wb_fhir.web import WebConfig, create_app

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("WB_FHIR_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_VERSION = "4.11.0"
NPM_DIR = Path(os.environ.get("WB_FHIR_TEST_NPM", Path.home() / ".cache" / "wb-fhir-tests" / "npm"))
ASSETS = ROOT / "examples" / "assets.yaml"
FIGURE1 = ROOT / "examples" / "figure1.yaml"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def unavailable(reason: str) -> None:
    """Skip locally, fail in CI."""
    if in_ci():
        pytest.fail(f"browser tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def config(tmp_path: Path, **changes: Any) -> WebConfig:
    """A config keeping everything under ``tmp_path``, with the example asset directory."""
    values: dict[str, Any] = {
        "store_path": tmp_path / "maps.sqlite",
        "outbox_path": tmp_path / "outbox.sqlite",
        "assets_path": ASSETS,
    }
    values.update(changes)
    return WebConfig(**values)


def app_client(cfg: WebConfig, identity: Any = None) -> Any:
    """An in-process HTTP client of the app (starlette's TestClient), reaching it as 127.0.0.1."""
    with warnings.catch_warnings():
        # starlette suggests another HTTP package for its test client; httpx is what it runs on
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        from starlette.testclient import TestClient
    return TestClient(create_app(cfg, identity=identity), base_url="http://127.0.0.1")


def csrf_of(html: str) -> str:
    marker = '<meta name="csrf-token" content="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


@dataclass
class Live:
    """The app served by uvicorn on a free loopback port, in a thread."""

    url: str
    config: WebConfig
    server: uvicorn.Server
    thread: threading.Thread


def serve(cfg: WebConfig) -> Live:
    server = uvicorn.Server(
        uvicorn.Config(create_app(cfg), host="127.0.0.1", port=0, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web app did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    return Live(f"http://127.0.0.1:{port}", cfg, server, thread)


def stop(live: Live) -> None:
    live.server.should_exit = True
    live.thread.join(timeout=10)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    """The app (embedded store, example asset directory) live on loopback."""
    running = serve(config(tmp_path))
    yield running
    stop(running)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright: one per test module.

    Not one per session: Playwright's sync API runs one driver per thread at a time, and
    tests/browser.py (the form fillers' tests) starts its own; with modules in random order
    a Chromium kept for the session would still be running when those tests start.
    """
    if not CHROMIUM.exists():
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright for Python is not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Guarded:
    """A browser page that may only talk to the app; what else it tried, and its errors."""

    page: Any
    foreign: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def check(self) -> None:
        assert not self.foreign, f"requests to other origins: {self.foreign}"
        assert not self.errors, f"errors in the page: {self.errors}"


@pytest.fixture
def browser_page(chromium: Any, live: Live) -> Iterator[Guarded]:
    """A fresh browser context and page on the live app (1280 x 900)."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    guarded = open_guarded(context, live.url)
    yield guarded
    context.close()
    guarded.check()


def open_guarded(context: Any, origin: str) -> Guarded:
    page = context.new_page()
    guarded = Guarded(page)

    def route(r: Any) -> None:
        if r.request.url.startswith(origin + "/"):
            r.continue_()
        else:
            guarded.foreign.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page.on("pageerror", lambda e: guarded.errors.append(str(e)))
    page.on(
        "console",
        lambda m: guarded.errors.append(m.text) if m.type == "error" and "Content Security Policy" in m.text else None,
    )
    return guarded


def axe_source() -> str:
    """axe-core's script (npm ``axe-core``), installed once into the tests' npm folder."""
    script = NPM_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None:
            unavailable("npm is missing: axe-core cannot be installed")
        NPM_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--silent", f"axe-core@{AXE_VERSION}"],
            cwd=NPM_DIR,
            check=True,
            timeout=600,
        )
    return script.read_text(encoding="utf-8")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.x A and AA violations on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated by the browser's debugging protocol, not as a page script, so the app's
        # strict CSP stays as it is.
        page.evaluate(axe_source() + "\n;undefined")
    result = page.evaluate(
        """() => axe.run(document, {runOnly: {type: 'tag',
             values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})
             .then(r => r.violations.map(v => ({id: v.id, help: v.help,
                 nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})))"""
    )
    return list(result)


def assert_no_axe_violations(page: Any, where: str) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe-core on {where}: " + json.dumps(violations, indent=1)
