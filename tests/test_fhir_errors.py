"""Bad FHIR input: every problem named at its place, exit 2 from the command line."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from wb_fhir.cli import main
from wb_fhir.errors import InputError
from wb_fhir.fhir import (
    map_from_questionnaire_response,
    plan_from_resources,
    questionnaire_response,
    questionnaire_response_of,
    transaction_bundle,
)
from wb_fhir.mapfile import load_map

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FIGURE1 = EXAMPLES / "figure1.yaml"


@pytest.fixture
def qr() -> dict[str, Any]:
    return questionnaire_response(load_map(FIGURE1))


def _group(qr: dict[str, Any], link: str, n: int) -> dict[str, Any]:
    groups: list[dict[str, Any]] = [i for i in qr["item"] if i["linkId"] == link]
    return groups[n]


def _child(group: dict[str, Any], link: str) -> dict[str, Any]:
    item: dict[str, Any] = next(i for i in group["item"] if i["linkId"] == link)
    return item


def _problems(qr: Any) -> list[str]:
    with pytest.raises(InputError) as info:
        map_from_questionnaire_response(qr)
    return [str(p) for p in info.value.problems]


def test_another_questionnaire(qr: dict[str, Any]) -> None:
    qr["questionnaire"] = "http://example.org/Questionnaire/phq-9|1"
    assert _problems(qr) == [
        "questionnaire: 'http://example.org/Questionnaire/phq-9|1' is another Questionnaire "
        "(expected https://wb-fhir.org/fhir/Questionnaire/wellbeing-network-mapping)"
    ]


def test_wrong_answer_types_are_named_by_item_path(qr: dict[str, Any]) -> None:
    _child(_group(qr, "connection", 2), "connection.ring")["answer"] = [{"valueString": "2"}]
    _child(_group(qr, "connection", 0), "connection.impact")["answer"] = [
        {"valueCoding": {"system": "http://snomed.info/sct", "code": "positive"}}
    ]
    _child(_group(qr, "tie", 1), "tie.type")["answer"] = [{"valueCoding": {"code": "loves"}}]
    assert _problems(qr) == [
        "connection[0].connection.impact: 'http://snomed.info/sct' is not the code system "
        "https://wb-fhir.org/fhir/CodeSystem/wb-fhir",
        "connection[2].connection.ring: expects valueInteger, not valueString",
        "tie[1].tie.type: 'loves' is not one of: knows, bridged, met-at, takes-place-at, supports",
    ]


def test_a_tie_naming_no_connection(qr: dict[str, Any]) -> None:
    _child(_group(qr, "tie", 3), "tie.to")["answer"] = [{"valueString": "nobody"}]
    assert _problems(qr) == ["tie[3].tie.to: 'nobody' names no connection"]


def test_map_rules_are_reported_at_their_items(qr: dict[str, Any]) -> None:
    _child(_group(qr, "connection", 1), "connection.ring")["answer"] = [{"valueInteger": 5}]
    goal = _group(qr, "goal", 0)
    _child(goal, "goal.about")["answer"] = [{"valueString": "reading"}, {"valueString": "ghost"}]
    milestone = [i for i in goal["item"] if i["linkId"] == "goal.milestone"][1]
    milestone["item"].append({"linkId": "goal.milestone.done-on", "answer": [{"valueDate": "2026-12-01"}]})
    assert _problems(qr) == [
        "connection[1].connection.ring: 5 is not one of 1..3 (the map has 3 rings)",
        "goal[0].goal.about.answer[1]: 'ghost' names no connection",
        "goal[0].goal.milestone[1].goal.milestone.done-on: is set but the milestone is not done",
    ]


def test_missing_required_item(qr: dict[str, Any]) -> None:
    group = _group(qr, "connection", 3)
    group["item"].remove(_child(group, "connection.label"))
    assert _problems(qr) == ["connection[3].connection.label: is required but missing"]


def test_category_of_another_kind(qr: dict[str, Any]) -> None:
    group = _group(qr, "connection", 0)
    _child(group, "connection.category-person")["linkId"] = "connection.category-place"
    assert _problems(qr) == ["connection[0].connection.category-place: is only enabled when kind is place, not person"]


def test_repeated_single_items_and_answers(qr: dict[str, Any]) -> None:
    qr["item"].insert(1, copy.deepcopy(qr["item"][0]))
    _child(_group(qr, "connection", 0), "connection.label")["answer"].append({"valueString": "Mother"})
    assert _problems(qr) == [
        "date: appears more than once but does not repeat",
        "connection[0].connection.label: has 2 answers but takes one",
    ]


def test_not_a_questionnaire_response() -> None:
    assert _problems({"resourceType": "Patient"}) == ["resourceType: expected a QuestionnaireResponse, got a Patient"]
    assert _problems([1, 2]) == ["resourceType: expected a QuestionnaireResponse, got not a FHIR resource"]


def test_bundle_that_is_not_a_transaction_or_has_bad_entries() -> None:
    bundle = transaction_bundle(load_map(FIGURE1))
    with pytest.raises(InputError, match="type: 'batch': expected a transaction Bundle"):
        questionnaire_response_of(bundle | {"type": "batch"})
    broken = copy.deepcopy(bundle)
    broken["entry"][3] = {"request": {"method": "DELETE", "url": "Observation/1"}}
    with pytest.raises(InputError) as info:
        questionnaire_response_of(broken)
    assert [str(p) for p in info.value.problems] == ["entry[3]: has no resource"]
    assert questionnaire_response_of(bundle) == bundle["entry"][0]["resource"]


def test_plan_from_resources_refuses_other_resources() -> None:
    with pytest.raises(InputError, match="careplan: is not a CarePlan"):
        plan_from_resources({"resourceType": "Goal"}, [])
    with pytest.raises(InputError, match=r"goals\[0\]: is not a Goal"):
        plan_from_resources({"resourceType": "CarePlan"}, [{"resourceType": "Observation"}])


# --- the command line -------------------------------------------------------------------------


def test_cli_bundle_and_extract_round_trip(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "bundle.json"
    result = runner.invoke(main, ["bundle", str(FIGURE1), "-o", str(out)])
    assert result.exit_code == 0, result.output
    bundle = json.loads(out.read_text(encoding="utf-8"))
    assert result.output == f"wrote {out}: {len(bundle['entry'])} entries\n"
    map_file = tmp_path / "map.yaml"
    result = runner.invoke(main, ["extract", str(out), "-o", str(map_file)])
    assert result.exit_code == 0, result.output
    assert load_map(map_file) == load_map(FIGURE1)


def test_cli_extract_prints_warnings(tmp_path: Path, qr: dict[str, Any]) -> None:
    qr["item"].append({"linkId": "favourite-colour", "answer": [{"valueString": "blue"}]})
    source = tmp_path / "qr.json"
    source.write_text(json.dumps(qr), encoding="utf-8")
    result = CliRunner().invoke(main, ["extract", str(source), "-o", str(tmp_path / "m.yaml")])
    assert result.exit_code == 0
    assert result.stderr == f"warning: {source}: favourite-colour: is not an item of the Questionnaire here: ignored\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "line 1, column 1: not valid JSON: Expecting value"),
        ('{"resourceType": "Patient"}', "resourceType: expected a QuestionnaireResponse, got a Patient"),
        ('{"resourceType": "Bundle", "type": "searchset"}', "type: 'searchset': expected a transaction Bundle"),
    ],
)
def test_cli_extract_bad_input_exits_2_and_writes_nothing(tmp_path: Path, content: str, message: str) -> None:
    source = tmp_path / "in.json"
    source.write_text(content, encoding="utf-8")
    target = tmp_path / "map.yaml"
    result = CliRunner().invoke(main, ["extract", str(source), "-o", str(target)])
    assert result.exit_code == 2
    assert result.stderr == f"error: {source}: {message}\n"
    assert not target.exists()


def test_cli_bundle_bad_map_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("subject: {nhs_number: '9434765919'}\ndate: 2026-01-01\nconnections: [{id: a}]\n", encoding="utf-8")
    target = tmp_path / "b.json"
    result = CliRunner().invoke(main, ["bundle", str(bad), "-o", str(target)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error:\n{bad}: connections[0].")
    assert not target.exists()


def test_public_api_is_exactly_what_all_lists() -> None:
    import inspect

    import wb_fhir.fhir as api

    # dir(), not vars(): the package's names load on first use (wb_fhir._lazy)
    public = {n for n in dir(api) if not n.startswith("_") and not inspect.ismodule(getattr(api, n))}
    assert public == set(api.__all__)
    assert sorted(api.__all__) == api.__all__
