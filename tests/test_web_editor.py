"""The editor in a real headless Chromium: Figure 1 by keyboard only and by mouse, saving,
reloading in the middle of an edit, a review from the stored map, hostile labels."""

from __future__ import annotations

import re
from typing import Any

from web_figure1 import Keyboard, figure1, fill_connection_by_keyboard, us_date, without_ids
from web_support import Guarded, Live

from wb_fhir.web.store import MapStore


def _stored(live: Live) -> dict[str, Any]:
    store = MapStore(live.config.store_path)
    records = [r for r in store.records() if r.versions]
    assert len(records) == 1
    latest = store.latest(records[0].id)
    assert latest is not None
    return latest.data


def _wait_kept(page: Any) -> None:
    page.wait_for_function("() => document.getElementById('autosave').textContent === 'All changes are kept.'")


def _open_new_map(page: Any, url: str) -> None:
    page.goto(url + "/")
    k = Keyboard(page)
    k.press("button.primary[type=submit]")
    page.wait_for_selector("#editor[data-ready=yes]")


def test_figure1_by_keyboard_only_equals_the_example(browser_page: Guarded, live: Live) -> None:
    page = browser_page.page
    want = figure1()
    _open_new_map(page, live.url)
    k = Keyboard(page)
    k.type_into("#m-name", want["subject"]["display"])
    k.type_into("#m-nhs", want["subject"]["nhs_number"])
    k.date("#m-date", want["date"])
    for p in want["practitioners"]:
        k.type_into("#p-name", p["display"])
        k.type_into("#p-role", p["role"])
        k.press("#p-add")
    k.tab_to("#m-home")
    page.keyboard.press("End")
    for _ in range((100 - want["time_at_home"]) // 5):
        page.keyboard.press("ArrowLeft")
    for c in want["connections"]:
        fill_connection_by_keyboard(k, c)
        page.wait_for_function(
            "(n) => document.querySelectorAll('#connection-list > li').length === n",
            arg=want["connections"].index(c) + 1,
        )
    labels = {c["id"]: c["label"] for c in want["connections"]}
    for t in want["ties"]:
        k.select("#t-from", page.eval_on_selector(f"#t-from option:text-is('{labels[t['from']]}')", "o => o.value"))
        k.select("#t-type", t["type"])
        k.select("#t-to", page.eval_on_selector(f"#t-to option:text-is('{labels[t['to']]}')", "o => o.value"))
        k.press("#t-add")
    for g in want["goals"]:
        k.type_into("#g-description", g["description"])
        k.select("#g-status", g["status"])
        for ref in g.get("about", []):
            k.check(f"#g-about input[value='{_id_of(page, labels[ref])}']")
        for ref in g.get("supporters", []):
            k.check(f"#g-supporters input[value='{_id_of(page, labels[ref])}']")
        if g.get("resources"):
            k.type_into("#g-resources", "\n".join(g["resources"]))
        if g.get("barriers"):
            k.type_into("#g-barriers", "\n".join(g["barriers"]))
        for m in g.get("milestones", []):
            k.press("#g-milestone-add")
            page.keyboard.type(m["description"])
            page.keyboard.press("Tab")
            page.keyboard.type(us_date(m["due"]))
        k.press("#g-submit")
    for s in want["signposts"]:
        k.type_into("#s-search", "book club")
        page.keyboard.press("Enter")
        page.wait_for_selector("#s-results li")
        k.press("#s-results li:first-child button")
        goal = page.eval_on_selector("#s-reason option:text-is('Join a book club')", "o => o.value")
        k.select("#s-reason", goal)
        k.select("#s-status", s["status"])
        k.press("#s-add")
    k.type_into("#m-reflections", want["reflections"])
    k.date("#m-review", want["next_review"])
    k.press("#save")
    page.wait_for_selector("#save-result:not([hidden])")
    assert "Version 1 saved" in page.inner_text("#save-result")
    assert without_ids(_stored(live)) == without_ids(want)


def _id_of(page: Any, label: str) -> str:
    return str(page.eval_on_selector(f"#t-from option:text-is('{label}')", "o => o.value"))


def test_reload_in_the_middle_of_an_edit_loses_nothing(browser_page: Guarded, live: Live) -> None:
    page = browser_page.page
    _open_new_map(page, live.url)
    k = Keyboard(page)
    k.type_into("#m-name", "Sam")
    fill_connection_by_keyboard(
        k, {"kind": "place", "label": "Gym", "category": "sport-leisure", "ring": 2, "impact": "positive"}
    )
    # half-way through the next connection: typed, not added
    k.radio("#connection-form input[name=kind]", "activity")
    k.type_into("#c-label", "Reading")
    k.select("#c-category", "hobby")
    k.type_into("#m-reflections", "Reads every day")
    page.reload()
    page.wait_for_selector("#editor[data-ready=yes]")
    assert page.input_value("#m-name") == "Sam"
    assert page.input_value("#m-reflections") == "Reads every day"
    assert page.inner_text("#connection-list").startswith("Gym")
    assert page.input_value("#c-label") == "Reading"
    assert page.eval_on_selector("#connection-form input[name=kind]:checked", "e => e.value") == "activity"
    assert page.input_value("#c-category") == "hobby"
    # and the app has the draft too (another browser would see it)
    _wait_kept(page)
    record = page.eval_on_selector("#editor", "e => e.dataset.record")
    draft = MapStore(live.config.store_path).draft(record)
    assert draft.data["reflections"] == "Reads every day"
    assert [c["label"] for c in draft.data["connections"]] == ["Gym"]


def test_losing_the_network_keeps_changes_and_sends_them_when_back(browser_page: Guarded, live: Live) -> None:
    page = browser_page.page
    _open_new_map(page, live.url)
    record = page.eval_on_selector("#editor", "e => e.dataset.record")
    page.context.set_offline(True)
    k = Keyboard(page)
    k.type_into("#m-name", "Offline Sam")
    page.wait_for_function("() => document.getElementById('autosave').textContent.startsWith('Not connected')")
    page.context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    _wait_kept(page)
    assert MapStore(live.config.store_path).draft(record).data["subject"]["display"] == "Offline Sam"


def test_undo_and_redo(browser_page: Guarded, live: Live) -> None:
    page = browser_page.page
    _open_new_map(page, live.url)
    k = Keyboard(page)
    fill_connection_by_keyboard(
        k, {"kind": "person", "label": "Mum", "category": "family", "ring": 1, "impact": "negative"}
    )
    k.press("#connection-list li button[data-focus-key='conn:mum:further']")
    assert "ring 2" in page.inner_text("#connection-list li")
    k.tab_to("#undo")
    page.keyboard.press("Enter")
    assert "ring 1" in page.inner_text("#connection-list li")
    page.keyboard.press("Control+z")
    assert page.inner_text("#connection-list").strip() == ""
    page.keyboard.press("Control+y")
    page.keyboard.press("Control+y")
    assert "ring 2" in page.inner_text("#connection-list li")


def test_hostile_labels_stay_text_in_the_editor(browser_page: Guarded, live: Live) -> None:
    page = browser_page.page
    _open_new_map(page, live.url)
    hostile = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
    k = Keyboard(page)
    k.type_into("#m-name", hostile)
    fill_connection_by_keyboard(
        k, {"kind": "person", "label": hostile, "category": "friend", "ring": 1, "impact": "positive"}
    )
    page.wait_for_function(
        "() => document.querySelector('#map svg') && document.querySelector('#map svg').textContent.includes('<img')"
    )
    page.reload()
    page.wait_for_selector("#editor[data-ready=yes]")
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__pwned") is None
    assert page.query_selector("#connection-list img, #map img, #connection-list script") is None
    assert hostile in page.inner_text("#connection-list")
    assert re.search(r"<img", page.eval_on_selector("#map svg", "e => e.textContent"))
