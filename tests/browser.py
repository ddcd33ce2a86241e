"""Real headless Chromium for the browser tests: pages served from loopback, nothing else reachable.

Debian's ``/usr/bin/chromium`` driven by Playwright for Python: the session's browser, the
``chromium`` fixture of ``web_support`` (one Playwright per session). :func:`open_page` serves a
folder from 127.0.0.1 and opens it in a fresh context that blocks and records every request to
another origin, and records console errors and uncaught exceptions, so a test can assert both are
empty. npm packages (``tests/js/package.json``) are installed by ``.ci/run``, or by
:func:`npm_packages` on first use when npm is at hand; :func:`bundle` builds a page's script
from them (esbuild) for libraries that need a bundler, such as Smart Forms (React).

Without Chromium, Playwright or npm the tests skip; with ``CI=true`` a skip is a failure.
"""

from __future__ import annotations

import functools
import http.server
import io
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops, ImageStat
from web_support import unavailable

JS_DIR = Path(__file__).resolve().parent / "js"
REFERENCE = Path(__file__).resolve().parent / "reference" / "forms"
REFRESH = os.environ.get("WB_FHIR_REFRESH_FORM_REFERENCES") == "1"
MAX_MEAN_DIFFERENCE = 2.5
"""Mean difference per colour channel (0-255) allowed: text anti-aliasing, not a changed form."""


def npm_packages() -> Path:
    """``tests/js/node_modules``, installed with npm if any package of ``tests/js/package.json`` is missing."""
    modules = JS_DIR / "node_modules"
    wanted = json.loads((JS_DIR / "package.json").read_text(encoding="utf-8"))["dependencies"]
    if not all((modules / name / "package.json").exists() for name in wanted):
        npm = shutil.which("npm")
        if npm is None:
            unavailable("npm is needed to install the form fillers (tests/js/package.json)")
        subprocess.run(
            [str(npm), "install", "--legacy-peer-deps", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=JS_DIR,
            check=True,
            timeout=900,
        )
    return modules


def bundle(entry: Path, folder: Path) -> None:
    """Bundle a page's script (JSX, npm imports) into ``folder`` with esbuild: ``<stem>.js`` and ``<stem>.css``."""
    esbuild = npm_packages() / ".bin" / "esbuild"
    subprocess.run(
        [
            str(esbuild),
            str(entry),
            "--bundle",
            "--minify",
            "--format=iife",
            "--jsx=automatic",
            "--loader:.js=jsx",
            "--loader:.woff=file",
            "--loader:.woff2=file",
            '--define:process.env.NODE_ENV="production"',
            f"--outdir={folder}",
            "--log-level=error",
        ],
        check=True,
        timeout=600,
    )


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (an ephemeral port); yields the origin."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class PageLog:
    """What a page did that a test must check: console errors, exceptions, requests elsewhere."""

    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)


@contextmanager
def open_page(chromium: Any, folder: Path, path: str = "index.html") -> Iterator[tuple[Any, PageLog]]:
    """A page of ``chromium`` (the session's browser, fixture of ``web_support``) at ``folder/path``
    served from loopback; any other origin is refused and logged."""
    log = PageLog()
    with serve(folder) as origin:
        context = chromium.new_context(viewport={"width": 1280, "height": 1000}, locale="en-GB")
        try:
            page = context.new_page()
            page.on("console", lambda m: log.errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: log.errors.append(str(e)))

            def guard(route: Any) -> None:
                url = route.request.url
                if url.startswith(origin + "/") or url.startswith("data:"):
                    route.continue_()
                else:
                    log.foreign.append(url)
                    route.abort()

            context.route("**/*", guard)
            page.goto(f"{origin}/{path}")
            yield page, log
        finally:
            context.close()


def _stored(png: bytes) -> Image.Image:
    """A screenshot as references are kept: 256 colours (a form has few; a quarter of the bytes)."""
    return Image.open(io.BytesIO(png)).convert("RGB").quantize(256).convert("RGB")


def difference(a: Image.Image, b: Image.Image) -> float:
    """The largest mean difference of one colour channel between two pictures of the same size."""
    return float(max(ImageStat.Stat(ImageChops.difference(a, b)).mean))


def assert_looks_like_reference(page: Any, name: str, out: Path, mask: tuple[Any, ...] = ()) -> None:
    """The page's viewport equals ``tests/reference/forms/<name>.png`` (looked at when it was made).

    The screenshot is also written to ``out`` to look at. ``mask`` hides what changes from day to
    day (today's date). ``WB_FHIR_REFRESH_FORM_REFERENCES=1`` rewrites the reference: look at it.
    """
    png: bytes = page.screenshot(animations="disabled", caret="hide", mask=list(mask))
    (out / f"{name}.png").write_bytes(png)
    actual = _stored(png)
    path = REFERENCE / f"{name}.png"
    if REFRESH:
        REFERENCE.mkdir(parents=True, exist_ok=True)
        actual.convert("P", palette=Image.Palette.ADAPTIVE).save(path, optimize=True)
    expected = Image.open(path).convert("RGB")
    assert actual.size == expected.size, f"{out / name}.png is not the size of {path}"
    assert difference(actual, expected) < MAX_MEAN_DIFFERENCE, f"{out / name}.png differs from {path}"
