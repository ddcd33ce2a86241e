"""The shipped Questionnaire in CSIRO's Smart Forms renderer, in real headless Chromium, with no network.

``@aehrc/smart-forms-renderer`` 1.4.0 is a React library: the page ``tests/js/smart-forms.html``
runs ``tests/js/smart-forms.jsx``, bundled from npm with esbuild when the tests start, served from
loopback. Any request to another origin, console error or uncaught exception fails a test.

What Smart Forms 1.4.0 cannot do with the Questionnaire (docs/forms.md) is pinned by
:func:`test_what_smart_forms_cannot_do_yet`, so that a release that can is noticed.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from browser import JS_DIR, PageLog, assert_looks_like_reference, bundle, open_page

from wb_fhir.conformance.questionnaire import build_questionnaire
from wb_fhir.fhir import extract_map, observations, populate, questionnaire_response
from wb_fhir.mapfile import load_map, map_to_data
from wb_fhir.terminology import NHS_NUMBER_SYSTEM, Category, Kind, display

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MAPS = sorted(str(p.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("*.yaml") if p.name != "assets.yaml")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("smart-forms-site")
    bundle(JS_DIR / "smart-forms.jsx", folder)
    shutil.copy(JS_DIR / "smart-forms.html", folder / "index.html")
    return folder


@pytest.fixture
def page(chromium: Any, site: Path) -> Iterator[tuple[Any, PageLog]]:
    with open_page(chromium, site) as (page, log):
        page.wait_for_function("() => window.wbReady === true")
        yield page, log
    assert log.foreign == [], "requests to another origin"


def _show(page: Any, response: dict[str, Any] | None = None) -> None:
    page.evaluate("([q, r]) => wbShow(q, r)", [build_questionnaire(), response])
    page.wait_for_selector("[data-linkid='connection.kind']")


def _read(page: Any) -> dict[str, Any]:
    read: dict[str, Any] = page.evaluate("() => wbRead()")
    return read


def _expansion_totals() -> dict[str, int]:
    """How many options each coded question has, by linkId (from the contained ValueSets)."""
    questionnaire = build_questionnaire()
    totals = {r["id"]: r["expansion"]["total"] for r in questionnaire["contained"] if r["resourceType"] == "ValueSet"}
    out: dict[str, int] = {}

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            if "answerValueSet" in item:
                out[item["linkId"]] = totals[item["answerValueSet"][1:]]
            walk(item.get("item", []))

    walk(questionnaire["item"])
    return out


def _box(page: Any, link: str) -> Any:
    return page.locator(f"[data-linkid='{link}']").first


def _listbox(page: Any, box: Any) -> Any:
    """Open a drop-down (click it, as a person does) and return the list of options it shows."""
    combobox = box.locator("[role='combobox']")
    combobox.focus()
    combobox.press("ArrowDown")  # opens it (a click toggles it, and races with a list just closed)
    page.wait_for_function("(e) => e.getAttribute('aria-expanded') === 'true'", arg=combobox.element_handle())
    return page.locator(f"[id='{combobox.get_attribute('aria-controls')}']")


def _options(page: Any, link: str) -> int:
    """The options a coded question shows: its radio buttons or check boxes, else its drop-down's list."""
    box = _box(page, link)
    buttons = box.locator("input[type=radio], input[type=checkbox]")
    if buttons.count():
        return int(buttons.count())
    listbox = _listbox(page, box)
    count = int(listbox.locator("[role='option']").count())
    # not waited for to close: it sometimes opens again as the form re-renders; the next drop-down
    # is opened by keyboard, which an open list cannot get in the way of
    page.keyboard.press("Escape")
    return count


def _pick(page: Any, link: str, shown: str) -> None:
    _listbox(page, _box(page, link)).locator("[role='option']", has_text=shown).first.click()


def _top(page: Any, link: str) -> None:
    """Scroll so that the item is at the top of the viewport (for a screenshot of that part)."""
    _box(page, link).evaluate("e => e.scrollIntoView({block: 'start'})")


def test_renders_every_coded_question_with_its_options(page: tuple[Any, PageLog], tmp_path: Path) -> None:
    p, log = page
    _show(p)
    p.wait_for_load_state("networkidle")  # the fonts
    assert_looks_like_reference(p, "smart-forms-empty", tmp_path)
    expected = _expansion_totals()
    assert len(expected) == 12
    shown: dict[str, int] = {}
    kinds = _box(p, "connection.kind")
    for kind in (Kind.PLACE, Kind.ACTIVITY, Kind.PERSON):  # each kind shows its own categories
        kinds.locator(f"input[value='{kind.value}']").click()
        link = f"connection.category-{kind.value}"
        shown[link] = _options(p, link)
    _pick(p, "connection.category-person", display(Category.PRACTITIONER))  # shows the roles
    for link in expected:
        if link not in shown:
            shown[link] = _options(p, link)
    assert shown == expected
    assert log.errors == []


@pytest.mark.parametrize("name", MAPS)
def test_every_example_loads_reads_back_and_extracts_equal(page: tuple[Any, PageLog], name: str) -> None:
    p, log = page
    wmap = load_map(EXAMPLES / name)
    _show(p, questionnaire_response(wmap))
    response = _read(p)["response"]
    result = extract_map(response)
    assert result.warnings == ()
    assert map_to_data(result.map) == map_to_data(wmap)
    assert result.map.id == wmap.id
    assert log.errors == []


_ORDER = ["time-at-home", "connection", "tie"]


def _comparable(obs: dict[str, Any]) -> dict[str, Any]:
    """Our Observation less what wb_fhir adds to an extracted one: identifiers, derivedFrom, a tie's focus."""
    out = {k: v for k, v in obs.items() if k not in ("meta", "identifier", "derivedFrom")}
    if out["code"]["coding"][0]["code"] == "tie":
        out.pop("focus", None)
    return out


@pytest.mark.parametrize("name", ["figure1.yaml", "diverse-network.yaml", "alone.yaml"])
def test_smart_forms_extracts_our_observations_field_by_field(page: tuple[Any, PageLog], name: str) -> None:
    p, log = page
    wmap = load_map(EXAMPLES / name)
    _show(p, questionnaire_response(wmap))
    read = _read(p)
    assert read["issues"] == []
    theirs = sorted(read["extracted"], key=lambda o: _ORDER.index(o["code"]["coding"][0]["code"]))
    ours = sorted(
        (_comparable(o) for o in observations(wmap) if o["code"]["coding"][0]["code"] in _ORDER),
        key=lambda o: _ORDER.index(o["code"]["coding"][0]["code"]),
    )
    assert len(theirs) == len(ours) == len(wmap.connections) + len(wmap.ties) + (wmap.time_at_home is not None)
    for a, b in zip(theirs, ours, strict=True):
        assert a == b, json.dumps([a, b], indent=1)
    assert log.errors == []


def test_the_record_s_people_from_populate_show_in_the_form(page: tuple[Any, PageLog], tmp_path: Path) -> None:
    p, log = page
    patient = {
        "resourceType": "Patient",
        "id": "robin",
        "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": "9434765919"}],
        "name": [{"given": ["Robin"], "family": "Ahmed"}],
    }
    team = [
        {
            "resourceType": "CareTeam",
            "status": "active",
            "subject": {"reference": "Patient/robin"},
            "participant": [
                {"role": [{"text": "CPN"}], "member": {"reference": "Practitioner/alex", "display": "Alex"}}
            ],
        }
    ]
    populated = populate(build_questionnaire(), patient, [], team, on=date(2026, 9, 14))
    _show(p, populated)
    labels = p.locator("[data-linkid='connection.label'] textarea[id='string-connection.label']")
    assert labels.first.input_value() == "Alex (CPN)"
    confirmed = _box(p, "connection.confirmed").locator("input[value='false']")
    assert confirmed.is_checked()  # to confirm with the person
    _top(p, "connection")
    assert_looks_like_reference(p, "smart-forms-populated", tmp_path)
    assert extract_map(_read(p)["response"]).map == extract_map(populated).map
    assert log.errors == []


def test_what_smart_forms_cannot_do_yet(page: tuple[Any, PageLog], tmp_path: Path) -> None:
    """Smart Forms 1.4.0 limits documented in docs/forms.md: when one fails, update the docs."""
    p, log = page
    wmap = load_map(EXAMPLES / "figure1.yaml")
    _show(p, questionnaire_response(wmap))
    # answerExpression over the response (%resource) is not evaluated, and an open-choice without
    # answerOption is not drawn: tie ends, a goal's connections and supporters, a sign-post's reason
    for link in ("tie.from", "tie.to", "signpost.reason"):
        assert p.locator(f"[data-linkid='{link}']").count() == 0, link
    assert p.locator("[data-linkid='goal.about'] input, [data-linkid='goal.about'] textarea").count() == 0
    # enableWhen inside a repeating group is not applied to a loaded response: the categories
    # of figure 1's connections are hidden (their answers are kept, as the round trip shows)
    assert p.locator("[data-linkid^='connection.category']").count() == 0
    _top(p, "tie")
    assert_looks_like_reference(p, "smart-forms-loaded-ties", tmp_path)  # no ends to see or pick
    # initialExpression without Smart Forms' own population: the date is not prefilled
    _show(p)
    assert _box(p, "date").locator("input").input_value() == ""
    assert log.errors == []
