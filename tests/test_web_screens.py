"""Screenshots of the app in Chromium, compared with reference pictures that were looked at.

After a deliberate change to the pages (or to the drawing of maps), regenerate them with
``WB_FHIR_REFRESH_WEB_REFERENCES=1 pytest tests/test_web_screens.py``, look at every picture in
``tests/reference/web/``, and commit them.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat
from web_mouse import wait_drawn
from web_support import FIGURE1, Live, open_guarded

REFERENCE = Path(__file__).resolve().parent / "reference" / "web"
REFRESH = os.environ.get("WB_FHIR_REFRESH_WEB_REFERENCES") == "1"
MAX_MEAN_DIFFERENCE = 2.5
"""Mean difference per colour channel (0-255) allowed: text anti-aliasing, not a changed page."""
SCREENS = {
    "editor-landscape": (1024, 768),
    "editor-portrait": (768, 1024),
    "home": (1024, 768),
}


def _shoot(chromium: Any, live: Live, name: str) -> bytes:
    width, height = SCREENS[name]
    context = chromium.new_context(viewport={"width": width, "height": height}, locale="en-GB")
    guarded = open_guarded(context, live.url)
    page = guarded.page
    try:
        page.goto(live.url + "/")
        page.set_input_files("#import-file", str(FIGURE1))
        page.click("button:text-is('Import')")
        page.wait_for_selector("#editor[data-ready=yes]")
        wait_drawn(page)
        if name == "home":
            page.goto(live.url + "/")
        page.mouse.move(0, 0)
        shot: bytes = page.screenshot(animations="disabled", caret="hide")
    finally:
        context.close()
    guarded.check()
    return shot


def _difference(a: Image.Image, b: Image.Image) -> float:
    return max(ImageStat.Stat(ImageChops.difference(a, b)).mean)


@pytest.mark.parametrize("name", sorted(SCREENS))
def test_screen_matches_its_reference(chromium: Any, live: Live, name: str) -> None:
    actual_png = _shoot(chromium, live, name)
    path = REFERENCE / f"{name}.png"
    if REFRESH:
        path.write_bytes(actual_png)
    actual = Image.open(io.BytesIO(actual_png)).convert("RGB")
    expected = Image.open(path).convert("RGB")
    assert actual.size == expected.size
    assert _difference(actual, expected) < MAX_MEAN_DIFFERENCE


def test_the_comparison_catches_a_different_page() -> None:
    editor = Image.open(REFERENCE / "editor-landscape.png").convert("RGB")
    home = Image.open(REFERENCE / "home.png").convert("RGB")
    assert _difference(editor, home) > MAX_MEAN_DIFFERENCE
