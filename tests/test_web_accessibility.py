"""Accessibility in a real headless Chromium: axe-core (WCAG 2.2 A and AA rules) finds no
violation on any page, in any state the editor shows; the editor works at 200 % zoom."""

from __future__ import annotations

from typing import Any

import web_support
from web_figure1 import Keyboard
from web_mouse import wait_drawn
from web_support import FIGURE1, Guarded, Live, assert_no_axe_violations


def _import(page: Any, url: str, path: Any = FIGURE1) -> str:
    page.goto(url + "/")
    page.set_input_files("#import-file", str(path))
    page.click("button:text-is('Import')")
    page.wait_for_selector("#editor[data-ready=yes]")
    wait_drawn(page)
    return str(page.url)


def test_no_axe_violations_on_any_page(browser_page: Guarded, live: Live, tmp_path: Any) -> None:
    page = browser_page.page
    page.goto(live.url + "/")
    assert_no_axe_violations(page, "the home page, no maps yet")

    page.click("text=Start a new map")
    page.wait_for_selector("#editor[data-ready=yes]")
    wait_drawn(page)
    assert_no_axe_violations(page, "a blank map")
    page.click("#save")
    page.wait_for_selector("#problem-box:not([hidden])")
    assert_no_axe_violations(page, "a blank map with its problems shown")

    editor = _import(page, live.url)
    assert_no_axe_violations(page, "the editor with Figure 1")
    page.click("#connection-list li:first-child button:has-text('Change')")
    page.click("#goal-list li:first-child button:has-text('Change')")
    page.click("#tie-mode")
    page.fill("#s-search", "club")
    page.click("#s-search-go")
    page.wait_for_selector("#s-results li")
    assert_no_axe_violations(page, "the editor while changing a connection, a goal, a tie and a sign-post")
    page.click("#save")
    page.wait_for_selector("#save-result:not([hidden])")
    assert_no_axe_violations(page, "the editor after saving")

    page.goto(editor + "/review")
    assert_no_axe_violations(page, "the review of a first map")
    page.goto(live.url + "/")
    assert_no_axe_violations(page, "the home page with a person")
    page.click("ul.people a:text-is('Sam')")
    assert_no_axe_violations(page, "the person's maps")
    page.fill("#review-date", "2027-05-20")
    page.click("text=Start the review")
    page.wait_for_selector("#editor[data-ready=yes]")
    wait_drawn(page)
    k = Keyboard(page)
    k.press("#connection-list li:first-child button[data-focus-key$=':further']")
    page.click("#save")
    page.wait_for_selector("#save-result:not([hidden])")
    page.click("text=Review: what changed")
    assert "Comparing the map of 2026-11-20 with the map of 2027-05-20" in page.inner_text("main")
    assert_no_axe_violations(page, "the review of two maps")
    page.click("text=Open the review summary (web page)")
    assert_no_axe_violations(page, "the review summary")

    bad = tmp_path / "bad.yaml"
    bad.write_text("subject: {nhs_number: '123'}\ndate: 2026-13-01\n", encoding="utf-8")
    page.goto(live.url + "/")
    page.set_input_files("#import-file", str(bad))
    page.click("button:text-is('Import')")
    assert "has problems" in page.inner_text("main")
    assert_no_axe_violations(page, "the problems of an imported file")
    page.goto(live.url + "/maps/nothing-here")
    assert_no_axe_violations(page, "a page that does not exist")


def test_editor_at_200_percent_zoom_has_no_sideways_scroll_and_works(chromium: Any, live: Live) -> None:
    # 200 % zoom of a 1280 px wide window: the page lays out in 640 CSS px
    context = chromium.new_context(viewport={"width": 640, "height": 450}, device_scale_factor=2)
    guarded = web_support.open_guarded(context, live.url)
    page = guarded.page
    try:
        _import(page, live.url)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 640
        k = Keyboard(page)
        k.press("#connection-list li:first-child button[data-focus-key$=':further']")
        assert "ring 2" in page.inner_text("#connection-list li:first-child")
        assert page.evaluate("() => document.activeElement.dataset.focusKey") == "conn:mum:further"
        assert_no_axe_violations(page, "the editor at 200 % zoom")
    finally:
        context.close()
    guarded.check()


def test_focus_stays_on_the_control_after_moving_a_connection(browser_page: Guarded, live: Live) -> None:
    page = browser_page.page
    _import(page, live.url)
    k = Keyboard(page)
    k.press("#connection-list li:first-child button[data-focus-key='conn:mum:further']")
    k.press("#connection-list li:first-child button[data-focus-key='conn:mum:further']")
    # at the outer ring "Further" is disabled: the focus moves to "Closer", never to the page top
    assert page.evaluate("() => document.activeElement.dataset.focusKey") == "conn:mum:closer"
    visible = page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement); return s.outlineStyle !== 'none'; }"
    )
    assert visible
