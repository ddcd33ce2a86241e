"""Unit tests of the conformance resources: generated from terminology, fresh, consistent."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from wb_fhir import terminology as t
from wb_fhir._resources import data_dir
from wb_fhir.cli import main
from wb_fhir.conformance import all_examples, conformance_resources, file_name, generate, stale_files
from wb_fhir.conformance.codesystem import build_codesystem
from wb_fhir.conformance.examples import build_examples
from wb_fhir.conformance.package import build_package, read_package
from wb_fhir.conformance.packages import load_uk_core
from wb_fhir.conformance.questionnaire import all_link_ids, build_questionnaire
from wb_fhir.conformance.structuredefinitions import build_structure_definitions
from wb_fhir.conformance.valuesets import build_value_sets
from wb_fhir.errors import InputError
from wb_fhir.fhir.items import SIGNPOST_STEP_LINK_ID as STEP_LINK_ID
from wb_fhir.mapfile import map_from_data

FIGURE = {
    "subject": {"nhs_number": "9434765919"},
    "date": "2026-11-20",
    "connections": [
        {"id": "mum", "kind": "person", "label": "Mum", "category": "family", "ring": 1, "impact": "positive"}
    ],
}

BASE = "http://127.0.0.1:9/fhir"


def _items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for item in items:
        out.append(item)
        out += _items(item.get("item", []))
    return out


def _vs_codes(vs: dict[str, Any]) -> list[str]:
    return [c["code"] for inc in vs["compose"]["include"] for c in inc["concept"]]


# --- generation --------------------------------------------------------------------------


def test_generation_is_deterministic() -> None:
    assert generate() == generate()
    assert build_package() == build_package()


def test_committed_profiles_are_fresh() -> None:
    stale = stale_files(data_dir("profiles"))
    assert stale == [], f"run 'python -m wb_fhir.conformance' to regenerate: {stale}"


def test_stale_files_notices_an_edit(tmp_path: Path) -> None:
    from wb_fhir.conformance import write

    write(tmp_path)
    assert stale_files(tmp_path) == []
    (tmp_path / "CodeSystem-wb-fhir.json").write_text("{}")
    (tmp_path / "extra.json").write_text("{}")
    assert stale_files(tmp_path) == ["CodeSystem-wb-fhir.json", "extra.json"]


def test_only_fixed_dates_in_output() -> None:
    from wb_fhir.conformance._common import RELEASE_DATE

    dates = set(re.findall(r"\d{4}-\d{2}-\d{2}", "".join(generate().values())))
    # the release date, and the dates of the example map (conversation, milestone, target, review)
    assert dates == {RELEASE_DATE, "2026-11-20", "2026-12-15", "2027-03-01", "2027-05-20"}


# --- terminology -------------------------------------------------------------------------


def test_codesystem_holds_every_concept_once() -> None:
    cs = build_codesystem()
    codes = [c["code"] for c in cs["concept"]]
    assert codes == [c.code for c in t.concepts()]
    assert len(codes) == len(set(codes)) == cs["count"]
    assert cs["url"] == t.CODESYSTEM_URL
    assert cs["content"] == "complete"
    assert "no standard code fits" in cs["description"]
    for member in t.ObservationCode:
        assert member.value in codes


def test_impact_concepts_carry_their_weight() -> None:
    by_code = {c["code"]: c for c in build_codesystem()["concept"]}
    for impact, weight in t.IMPACT_WEIGHT.items():
        assert by_code[impact.value]["property"] == [{"code": "itemWeight", "valueDecimal": weight}]
    assert "property" not in by_code[t.Kind.PERSON.value]


def test_value_sets_match_the_enums() -> None:
    by_id = {vs["id"]: vs for vs in build_value_sets()}
    for name, enum in t.VALUE_SETS.items():
        assert by_id[name]["url"] == t.value_set_url(name)
        assert _vs_codes(by_id[name]) == [m.value for m in enum]
    for kind, name in t.CATEGORY_VALUE_SETS.items():
        assert _vs_codes(by_id[name]) == [c.value for c in t.CATEGORIES_BY_KIND[kind]]
    assert len(by_id) == len(t.VALUE_SETS) + len(t.CATEGORY_VALUE_SETS)


# --- Questionnaire ----------------------------------------------------------------------------


def test_every_link_id_and_no_other() -> None:
    ids = all_link_ids(build_questionnaire()["item"])
    assert sorted(ids) == sorted(m.value for m in t.LinkId)
    assert len(ids) == len(set(ids))


def test_questionnaire_identity() -> None:
    q = build_questionnaire()
    assert (q["id"], q["url"], q["version"]) == (t.QUESTIONNAIRE_ID, t.QUESTIONNAIRE_URL, t.QUESTIONNAIRE_VERSION)


def _contained(q: dict[str, Any], reference: str) -> dict[str, Any]:
    assert reference.startswith("#")
    return next(r for r in q["contained"] if r["id"] == reference[1:])


def test_enable_when_targets_exist_and_answers_are_allowed() -> None:
    q = build_questionnaire()
    items = {i["linkId"]: i for i in _items(q["item"])}
    seen = 0
    for item in items.values():
        for cond in item.get("enableWhen", []):
            target = items[cond["question"]]
            assert target["type"] == "choice"
            assert cond["answerCoding"]["code"] in _vs_codes(_contained(q, target["answerValueSet"]))
            seen += 1
    # three categories by kind, disclosure for people, roles for practitioners; a sign-post's dated
    # steps by its status: agreed (4 statuses), referred (3), attended (1), declined (1)
    assert seen == 5 + 4 + 3 + 1 + 1
    assert items[t.LinkId.CONNECTION_ROLES]["enableWhen"][0]["question"] == t.LinkId.CONNECTION_CATEGORY_PERSON


def test_a_sign_post_step_is_enabled_exactly_when_the_map_file_allows_its_date() -> None:
    """The form never asks for a step's date the map would refuse, nor hides one it accepts."""
    items = {i["linkId"]: i for i in _items(build_questionnaire()["item"])}
    for step, link in STEP_LINK_ID.items():
        conditions = items[link].get("enableWhen", [])
        assert all(c["question"] == t.LinkId.SIGNPOST_STATUS for c in conditions)
        assert items[link]["type"] == "date"
        assert not conditions or items[link]["enableBehavior"] == "any"
        enabled = {c["answerCoding"]["code"] for c in conditions} or {s.value for s in t.SignpostStatus}
        for status in t.SignpostStatus:
            signpost = {"asset": "library", "reason": "mum", "status": status.value, f"{step.value}_on": "2026-11-01"}
            try:
                map_from_data({**FIGURE, "signposts": [signpost]})
                accepted = True
            except InputError as exc:
                assert [p.path for p in exc.problems] == [f"signposts[0].{step.value}_on"], exc.problems
                accepted = False
            assert accepted is (status.value in enabled), (step, status)


def test_answer_value_sets_are_contained_with_their_expansion() -> None:
    """A filler with no terminology server shows every option: each answerValueSet is a contained
    ValueSet (``#name``) with the canonical url, compose and expansion of the ValueSet in profiles/."""
    q = build_questionnaire()
    published = {vs["url"]: vs for vs in build_value_sets()}
    choices = [i for i in _items(q["item"]) if i["type"] == "choice"]
    assert len(choices) == 12
    for item in choices:
        vs = _contained(q, item["answerValueSet"])
        assert vs["compose"] == published[vs["url"]]["compose"]
        codes = [c["code"] for c in vs["expansion"]["contains"]]
        assert codes == _vs_codes(published[vs["url"]]) and vs["expansion"]["total"] == len(codes)
        assert all(c["system"] == t.CODESYSTEM_URL and c["display"] for c in vs["expansion"]["contains"])


def _ext(item: dict[str, Any], url: str) -> list[dict[str, Any]]:
    return [e for e in item.get("extension", []) if e["url"] == url]


def test_sdc_extraction_annotations() -> None:
    """Template-based extraction for time at home, connections and ties; nothing observation-based
    (an SDC engine would otherwise extract answers without a code or without the impact as value)."""
    q = build_questionnaire()
    items = {i["linkId"]: i for i in _items(q["item"])}
    assert not [i for i in items.values() if _ext(i, t.EXT_OBSERVATION_EXTRACT)]
    for link, template_id, code in (
        (t.LinkId.TIME_AT_HOME, "time-at-home-observation", t.ObservationCode.TIME_AT_HOME),
        (t.LinkId.CONNECTION, "connection-observation", t.ObservationCode.CONNECTION),
        (t.LinkId.TIE, "tie-observation", t.ObservationCode.TIE),
    ):
        (extension,) = _ext(items[link], t.EXT_TEMPLATE_EXTRACT)
        assert extension["extension"] == [{"url": "template", "valueReference": {"reference": f"#{template_id}"}}]
        template = _contained(q, f"#{template_id}")
        assert template["resourceType"] == "Observation" and template["code"]["coding"][0]["code"] == code
    group = items[t.LinkId.CONNECTION]
    assert group["code"][0]["code"] == t.ObservationCode.CONNECTION
    assert items[t.LinkId.CONNECTION_RING]["code"][0]["code"] == t.ObservationCode.RING
    assert "code" not in items[t.LinkId.CONNECTION_IMPACT]  # the value, not a component


def test_references_are_picked_and_population_is_declared() -> None:
    q = build_questionnaire()
    items = {i["linkId"]: i for i in _items(q["item"])}
    for link in (
        t.LinkId.TIE_FROM,
        t.LinkId.TIE_TO,
        t.LinkId.GOAL_ABOUT,
        t.LinkId.GOAL_SUPPORTERS,
        t.LinkId.SIGNPOST_REASON,
    ):
        assert items[link]["type"] == "open-choice"
        (expression,) = _ext(items[link], t.EXT_ANSWER_EXPRESSION)
        assert "%resource.item.where(linkId='connection')" in expression["valueExpression"]["expression"]
    assert (
        "linkId='goal'"
        in _ext(items[t.LinkId.SIGNPOST_REASON], t.EXT_ANSWER_EXPRESSION)[0]["valueExpression"]["expression"]
    )
    (context,) = _ext(q, t.EXT_LAUNCH_CONTEXT)
    assert {e["url"]: e for e in context["extension"]}["name"]["valueCoding"]["code"] == "patient"
    assert (
        "%patient.identifier"
        in _ext(items[t.LinkId.SUBJECT_NHS_NUMBER], t.EXT_INITIAL_EXPRESSION)[0]["valueExpression"]["expression"]
    )
    assert _ext(items[t.LinkId.DATE], t.EXT_INITIAL_EXPRESSION)[0]["valueExpression"]["expression"] == "today()"
    assert not [i for i in items.values() if i["linkId"].startswith("goal.milestone") and i.get("required")]


def test_hidden_bounds_unit_and_controls() -> None:
    items = {i["linkId"]: i for i in _items(build_questionnaire()["item"])}
    assert _ext(items[t.LinkId.CONNECTION_ID], t.EXT_HIDDEN)[0]["valueBoolean"] is True
    for link, low, high in ((t.LinkId.CONNECTION_RING, 1, 6), (t.LinkId.TIME_AT_HOME, 0, 100)):
        assert _ext(items[link], t.EXT_MIN_VALUE)[0]["valueInteger"] == low
        assert _ext(items[link], t.EXT_MAX_VALUE)[0]["valueInteger"] == high
    assert _ext(items[t.LinkId.TIME_AT_HOME], t.EXT_UNIT)[0]["valueCoding"]["code"] == "%"
    control = _ext(items[t.LinkId.CONNECTION_ROLES], t.EXT_ITEM_CONTROL)[0]
    assert control["valueCodeableConcept"]["coding"][0]["code"] == "check-box"
    assert items[t.LinkId.CONNECTION_ROLES]["repeats"] is True


# --- StructureDefinitions ---------------------------------------------------------------------


def test_every_profile_has_a_structure_definition() -> None:
    sds = {sd["id"]: sd for sd in build_structure_definitions()}
    assert set(sds) == {p.value for p in t.Profile}
    for profile, sd in sds.items():
        assert sd["url"] == t.structure_definition_url(profile)
        if sd["type"] in t.UK_CORE_PROFILES:
            assert sd["baseDefinition"] == t.UK_CORE_PROFILES[sd["type"]]


def test_profiles_reference_only_known_value_sets_and_extensions() -> None:
    sds = build_structure_definitions()
    urls = {sd["url"] for sd in sds}
    vs_urls = {vs["url"] for vs in build_value_sets()}
    bound = set()
    for sd in sds:
        for element in sd["differential"]["element"]:
            if "binding" in element:
                assert element["binding"]["valueSet"] in vs_urls
                bound.add(element["binding"]["valueSet"])
            for type_ in element.get("type", []):
                for profile in type_.get("profile", []):
                    assert profile in urls
            assert element["path"] == ".".join(p.split(":")[0] for p in element["id"].split("."))
    assert t.value_set_url("impact") in bound


def test_connection_profile_requires_the_always_present_components() -> None:
    sd = next(s for s in build_structure_definitions() if s["id"] == t.Profile.CONNECTION)
    slices = {
        e["sliceName"]: e
        for e in sd["differential"]["element"]
        if e["path"] == "Observation.component" and "sliceName" in e
    }
    required = {name for name, e in slices.items() if e["min"] == 1}
    oc = t.ObservationCode
    assert required == {
        oc.CONNECTION_ID,
        oc.CONNECTION_KIND,
        oc.CONNECTION_LABEL,
        oc.CONNECTION_CATEGORY,
        oc.RING,
        oc.STATUS,
    }
    assert slices[oc.PRACTITIONER_ROLE]["max"] == "*"


# --- examples and package ------------------------------------------------------------------------


def test_every_profile_has_valid_and_invalid_examples() -> None:
    examples = build_examples()
    for sd in build_structure_definitions():
        if sd["type"] == "Extension":
            continue
        mine = [e for e in examples if e.profile == sd["url"]]
        assert any(e.valid for e in mine), sd["id"]
        assert any(not e.valid for e in mine), sd["id"]
        for example in mine:
            assert example.resource["resourceType"] == sd["type"]
    assert len({e.resource["id"] for e in examples}) == len(examples)


def test_package_contents() -> None:
    files = read_package(build_package())
    manifest = files["package/package.json"]
    assert manifest["name"] == t.PACKAGE_NAME
    assert manifest["version"] == t.PACKAGE_VERSION
    assert manifest["fhirVersions"] == [t.FHIR_VERSION]
    uk_core = load_uk_core()
    assert manifest["dependencies"] == {"hl7.fhir.r4.core": "4.0.1", uk_core.name: uk_core.version}
    index = files["package/.index.json"]["files"]
    resources = conformance_resources()
    assert len(index) == len(resources)
    for entry in index:
        resource = files[f"package/{entry['filename']}"]
        assert (resource["resourceType"], resource["id"]) == (entry["resourceType"], entry["id"])
    examples = files["package/example/.index.json"]["files"]
    assert len(examples) == len({e["filename"] for e in examples}) == sum(1 for e in all_examples() if e.valid)


def test_the_package_carries_every_valid_example_of_every_profile() -> None:
    files = read_package(build_package())
    packed = {name.removeprefix("package/example/"): r for name, r in files.items() if "/example/" in name}
    index = {e["filename"]: e for e in packed.pop(".index.json")["files"]}
    manifest = json.loads((data_dir("profiles") / "examples" / "manifest.json").read_text(encoding="utf-8"))
    valid = [e for e in manifest if e["valid"]]
    shipped = {e["file"]: json.loads((data_dir("profiles") / "examples" / e["file"]).read_text("utf-8")) for e in valid}
    assert sorted(file_name(r) for r in shipped.values()) == sorted(packed) == sorted(index)
    for resource in shipped.values():
        assert packed[file_name(resource)] == resource
        assert (index[file_name(resource)]["resourceType"], index[file_name(resource)]["id"]) == (
            resource["resourceType"],
            resource["id"],
        )
    profiles = [r for r in conformance_resources() if r["resourceType"] == "StructureDefinition"]
    for sd in profiles:
        if sd["type"] != "Extension":  # the map's and the assets' and follow-up's profiles alike
            assert any(e["profile"] == sd["url"] for e in valid), sd["id"]
            assert any(sd["url"] in r.get("meta", {}).get("profile", []) for r in packed.values()), sd["id"]


def test_cli_package_writes_the_package(tmp_path: Path) -> None:
    out = tmp_path / "wb-fhir.tgz"
    result = CliRunner().invoke(main, ["profiles", "package", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == build_package()
