"""The population report page (``wb-fhir report ... -o report.html``) in a real headless Chromium:
axe-core finds no WCAG 2.2 A or AA violation in any state (published, exact, mostly suppressed,
nobody in the period), it asks for nothing from another origin, and it reflows at 320 CSS px
(400 % zoom) without the page scrolling sideways.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from click.testing import CliRunner
from population import all_maps, population, write_map_files
from web_support import assert_no_axe_violations, open_guarded

from wb_fhir.cli import main

REPORTS = {
    "published": ("many", []),
    "exact": ("many", ["--no-suppression"]),
    "mostly-suppressed": ("few", ["--since", "2020-01-01", "--until", "2099-12-31"]),
    "nobody-in-the-period": ("few", ["--since", "2099-01-01"]),
}


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The reports written by the command line, served from loopback; their base URL."""
    folder = tmp_path_factory.mktemp("reports")
    sources = {
        "many": write_map_files(all_maps(population(150)), folder / "many"),
        "few": write_map_files(all_maps(population(6, seed=3)), folder / "few"),
    }
    for name, (source, options) in REPORTS.items():
        result = CliRunner().invoke(
            main, ["report", str(sources[source]), *options, "-o", str(folder / f"{name}.html")]
        )
        assert result.exit_code == 0, result.output
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("name", list(REPORTS))
def test_the_report_page_has_no_axe_violations_and_reflows(chromium: Any, reports: str, name: str) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    guarded = open_guarded(context, reports)
    page = guarded.page
    try:
        page.goto(f"{reports}/{name}.html")
        assert_no_axe_violations(page, f"the {name} report")
        assert page.locator("svg.chart[role=img]").count() == 6
        for chart in page.locator("svg.chart").all():  # each chart: a title and a description in words
            labelled = chart.get_attribute("aria-labelledby") or ""
            assert all(page.locator(f"[id='{part}']").text_content().strip() for part in labelled.split())
        text = page.inner_text("main")
        assert "none%" not in text and " ." not in text and "* people" not in text  # plain words

        page.set_viewport_size({"width": 320, "height": 800})
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 320
        # a table too wide for the screen scrolls in its own region, which the keyboard reaches
        for region in page.locator(".table-scroll").all():
            assert region.get_attribute("tabindex") == "0" and region.get_attribute("role") == "region"
        assert_no_axe_violations(page, f"the {name} report at 320 CSS px")
    finally:
        context.close()
    guarded.check()
