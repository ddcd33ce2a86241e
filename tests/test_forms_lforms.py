"""The shipped Questionnaire in NLM's LHC-Forms 40.1.3, in real headless Chromium, with no network.

LHC-Forms comes from npm (``tests/js/package.json``) and is served from loopback with the page
``tests/js/lforms.html``; any request to another origin, any console error and any uncaught
exception fails a test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from browser import (
    JS_DIR,
    MAX_MEAN_DIFFERENCE,
    REFERENCE,
    PageLog,
    assert_looks_like_reference,
    difference,
    npm_packages,
    open_page,
)
from click.testing import CliRunner
from lforms_ui import LFormsUser
from PIL import Image

from wb_fhir.cli import main
from wb_fhir.conformance.questionnaire import build_questionnaire
from wb_fhir.fhir import extract_map, observations, populate, questionnaire_response
from wb_fhir.mapfile import load_map, map_to_data
from wb_fhir.model import Subject
from wb_fhir.terminology import NHS_NUMBER_SYSTEM

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FILLED_BY_HAND = Path(__file__).resolve().parent / "forms" / "filled-in-lforms.yaml"
MAPS = sorted(str(p.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("*.yaml") if p.name != "assets.yaml")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lforms-site")
    (folder / "lforms").symlink_to(npm_packages() / "lforms" / "dist" / "lforms", target_is_directory=True)
    (folder / "index.html").write_text((JS_DIR / "lforms.html").read_text(encoding="utf-8"), encoding="utf-8")
    return folder


@pytest.fixture
def page(chromium: Any, site: Path) -> Iterator[tuple[Any, PageLog]]:
    with open_page(chromium, site) as (page, log):
        page.wait_for_function("() => !!(window.LForms && LForms.Util && LForms.FHIR && window.wbShow)")
        yield page, log
    assert log.foreign == [], "requests to another origin"


def _show(page: Any, response: dict[str, Any] | None = None, launch: dict[str, Any] | None = None) -> None:
    page.evaluate(
        "([q, r, l]) => wbShow(q, r, l)",
        [build_questionnaire(), response, launch],
    )


def _coded_items(items: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    contained = {r["id"]: r for r in build_questionnaire()["contained"]}
    for item in items:
        if "answerValueSet" in item:
            out[item["linkId"]] = contained[item["answerValueSet"][1:]]["expansion"]["total"]
        out.update(_coded_items_of(item, contained))
    return out


def _coded_items_of(item: dict[str, Any], contained: dict[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for child in item.get("item", []):
        if "answerValueSet" in child:
            out[child["linkId"]] = contained[child["answerValueSet"][1:]]["expansion"]["total"]
        out.update(_coded_items_of(child, contained))
    return out


def _top(page: Any, element: str) -> None:
    """Scroll so that the element is at the top of the viewport (for a screenshot of that part)."""
    page.locator(f"[id='{element}']").evaluate("e => e.scrollIntoView({block: 'start'})")


def test_renders_every_coded_question_with_its_options(page: tuple[Any, PageLog], tmp_path: Path) -> None:
    p, log = page
    _show(p)
    assert_looks_like_reference(p, "lforms-empty", tmp_path, mask=(p.locator("[id='date/1']"),))
    expected = _coded_items(build_questionnaire()["item"])
    assert len(expected) == 12
    counts = p.evaluate("() => wbAnswerCounts()")
    assert {link: counts.get(link) for link in expected} == expected
    assert log.errors == []


def _normal(value: Any) -> Any:
    """LHC-Forms 40.1.3 leaves ``[]`` where a template element found nothing: FHIR has no empty arrays."""
    if isinstance(value, dict):
        out = {k: _normal(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in ([], {}, None)}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


@pytest.mark.parametrize("name", MAPS)
def test_every_example_loads_reads_back_and_extracts_equal(page: tuple[Any, PageLog], name: str) -> None:
    p, log = page
    wmap = load_map(EXAMPLES / name)
    _show(p, questionnaire_response(wmap))
    read = p.evaluate("() => wbRead()")
    response = read["response"]
    assert "identifier" not in response and "subject" not in response  # what LHC-Forms drops
    result = extract_map(response)
    assert result.warnings == ()
    assert map_to_data(result.map) == map_to_data(wmap)
    assert result.map.id == wmap.id  # same person, same date: the same map, so a re-push updates it
    assert log.errors == []


_ORDER = ["time-at-home", "connection", "tie"]


def _without_zeros(value: Any) -> Any:
    """LHC-Forms 40.1.3 takes a templated 0 for no result (the ordinal weight of neutral and mixed)."""
    if isinstance(value, dict):
        return {
            k: _without_zeros(v)
            for k, v in value.items()
            if not (k.startswith("value") and type(v) in (int, float) and v == 0)
        }
    if isinstance(value, list):
        return [_without_zeros(v) for v in value]
    return value


def _comparable(obs: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in obs.items() if k not in ("meta", "identifier", "derivedFrom")}
    if out["code"]["coding"][0]["code"] == "tie":
        out.pop("focus", None)
    return out


@pytest.mark.parametrize("name", ["figure1.yaml", "diverse-network.yaml"])
def test_lforms_extracts_our_observations_field_by_field(page: tuple[Any, PageLog], name: str) -> None:
    p, log = page
    wmap = load_map(EXAMPLES / name)
    _show(p, questionnaire_response(wmap))
    extracted = [_normal(o) for o in p.evaluate("() => wbRead().extracted")]
    assert all(o["resourceType"] == "Observation" and o["code"]["coding"][0]["code"] for o in extracted)
    theirs = sorted(extracted, key=lambda o: _ORDER.index(o["code"]["coding"][0]["code"]))
    ours = sorted(
        (_without_zeros(_comparable(o)) for o in observations(wmap) if o["code"]["coding"][0]["code"] in _ORDER),
        key=lambda o: _ORDER.index(o["code"]["coding"][0]["code"]),
    )
    assert len(theirs) == len(ours) == len(wmap.connections) + len(wmap.ties) + 1
    for a, b in zip(theirs, ours, strict=True):
        assert a == b, json.dumps([a, b], indent=1)
    assert log.errors == []


def test_population_from_the_patient_launch_context(page: tuple[Any, PageLog]) -> None:
    p, log = page
    patient = {
        "resourceType": "Patient",
        "id": "sam",
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}],
        "name": [{"given": ["Sam"], "family": "Taylor"}],
    }
    _show(p, launch={"patient": patient})
    response = p.evaluate("(s) => wbRead(s).response", patient)
    items = {i["linkId"]: i for i in response["item"]}
    person = {i["linkId"]: i["answer"][0] for i in items["subject"]["item"]}
    assert person == {
        "subject.nhs-number": {"valueString": "9434765919"},
        "subject.name": {"valueString": "Sam Taylor"},
        "subject.reference": {"valueString": "Patient/sam"},
    }
    assert len(items["date"]["answer"][0]["valueDate"]) == 10
    assert response["subject"]["reference"] == "Patient/sam"
    assert log.errors == []
    # without the response's subject, the prefilled answers still say whose map it is
    wmap = extract_map({k: v for k, v in response.items() if k != "subject"} | {"item": response["item"]}).map
    assert (wmap.subject.nhs_number, wmap.subject.fhir_id, wmap.subject.display) == (
        "9434765919",
        "Patient/sam",
        "Sam Taylor",
    )


def _patient(subject: Subject) -> dict[str, Any]:
    """The Patient resource the record holds for ``subject`` (the filler's launch context)."""
    assert subject.fhir_id and subject.nhs_number and subject.display
    given, family = subject.display.rsplit(" ", 1)
    return {
        "resourceType": "Patient",
        "id": subject.fhir_id.removeprefix("Patient/"),
        "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": subject.nhs_number}],
        "name": [{"given": [given], "family": family}],
    }


def test_a_whole_map_entered_through_the_form_extracts_to_the_expected_map(
    page: tuple[Any, PageLog], tmp_path: Path
) -> None:
    p, log = page
    expected = load_map(FILLED_BY_HAND)
    _show(p, launch={"patient": _patient(expected.subject)})
    LFormsUser(p).enter(expected)
    _top(p, "label-tie/1")
    assert_looks_like_reference(p, "lforms-filled", tmp_path)  # ties and goals picked from the lists
    # a sign-post's dated steps are asked for once its status has reached them
    shown = {
        (link, n): p.locator(f"[id='signpost.{link}/{n}/1']").count() == 1
        for link in ("suggested-on", "agreed-on", "referred-on", "attended-on", "declined-on", "follow-up")
        for n in (1, 2, 3)
    }
    statuses = [s.status.value for s in expected.signposts]
    assert statuses == ["agreed", "suggested", "declined"]
    assert [link for (link, n), on in shown.items() if on and n == 1] == ["suggested-on", "agreed-on", "follow-up"]
    assert [link for (link, n), on in shown.items() if on and n == 2] == ["suggested-on", "follow-up"]
    assert [link for (link, n), on in shown.items() if on and n == 3] == [
        "suggested-on",
        "agreed-on",
        "referred-on",
        "declined-on",
        "follow-up",
    ]
    _top(p, "label-signpost/1")
    assert_looks_like_reference(p, "lforms-filled-signposts", tmp_path)
    response = p.evaluate("() => wbRead().response")  # as a trust's page stores it, without subject
    (tmp_path / "response.json").write_text(json.dumps(response), encoding="utf-8")
    run = CliRunner().invoke(main, ["extract", str(tmp_path / "response.json"), "-o", str(tmp_path / "map.yaml")])
    assert run.exit_code == 0, run.output
    assert "warning" not in run.output
    extracted = load_map(tmp_path / "map.yaml")
    assert map_to_data(extracted) == map_to_data(expected)
    assert extracted.id == expected.id
    assert log.errors == []


def test_the_record_s_people_from_populate_show_in_the_form(page: tuple[Any, PageLog], tmp_path: Path) -> None:
    p, log = page
    patient = {
        "resourceType": "Patient",
        "id": "robin",
        "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": "9434765919"}],
        "name": [{"given": ["Robin"], "family": "Ahmed"}],
    }
    sister = {
        "resourceType": "RelatedPerson",
        "id": "aisha",
        "patient": {"reference": "Patient/robin"},
        "relationship": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "code": "SIS"}]}],
        "name": [{"given": ["Aisha"], "family": "Ahmed"}],
    }
    team = [
        {
            "resourceType": "CareTeam",
            "status": "active",
            "subject": {"reference": "Patient/robin"},
            "participant": [{"role": [{"text": "CPN"}], "member": {"reference": "Practitioner/alex"}}],
        },
        {"resourceType": "Practitioner", "id": "alex", "name": [{"given": ["Alex"], "family": "Jones"}]},
    ]
    populated = populate(build_questionnaire(), patient, [sister], team, on=date(2026, 9, 14))
    _show(p, populated, launch={"patient": patient})
    shown = [
        (
            p.input_value(f"[id='connection.label/{n}/1']"),
            p.is_checked(f"[id='connection.confirmed/{n}/1|false']"),
        )
        for n in (1, 2)
    ]
    assert shown == [("Aisha Ahmed", True), ("Alex Jones (CPN)", True)]  # each to confirm with the person
    _top(p, "label-connection/1")
    assert_looks_like_reference(p, "lforms-populated", tmp_path)
    # the launch context's today() does not replace the date of the populated response
    assert p.locator("[id='date/1'] input").input_value() == "09/14/2026"
    response = p.evaluate("() => wbRead().response")
    assert extract_map(response).map == extract_map(populated).map
    assert log.errors == []


def test_the_screenshot_comparison_catches_a_different_form() -> None:
    empty, populated = (Image.open(REFERENCE / f"lforms-{name}.png").convert("RGB") for name in ("empty", "populated"))
    assert difference(empty, populated) > MAX_MEAN_DIFFERENCE
