"""The profiles of the asset bank and sign-post follow-up: generated, complete, part of what is installed."""

from __future__ import annotations

import json

from wb_fhir.conformance import conformance_resources, generate
from wb_fhir.conformance.assets_examples import build_asset_examples
from wb_fhir.conformance.assets_profiles import build_asset_structure_definitions
from wb_fhir.conformance.valuesets import build_value_sets
from wb_fhir.terminology import UK_CORE_PROFILES, AssetProfile, structure_definition_url, value_set_url


def test_every_asset_profile_has_a_structure_definition_that_is_installed() -> None:
    sds = {sd["id"]: sd for sd in build_asset_structure_definitions()}
    assert set(sds) == {p.value for p in AssetProfile}
    installed = {(r["resourceType"], r["id"]) for r in conformance_resources()}
    for profile, sd in sds.items():
        assert ("StructureDefinition", profile) in installed
        assert sd["url"] == structure_definition_url(profile)
        if sd["type"] != "Extension":
            assert sd["baseDefinition"] == UK_CORE_PROFILES[sd["type"]], profile
    assert ("ValueSet", "asset-category") in installed


def test_profiles_reference_only_known_value_sets_and_extensions() -> None:
    urls = {sd["url"] for r in [conformance_resources()] for sd in r if sd["resourceType"] == "StructureDefinition"}
    value_sets = {vs["url"] for vs in build_value_sets()}
    assert value_set_url("asset-category") in value_sets
    for sd in build_asset_structure_definitions():
        for element in sd["differential"]["element"]:
            if "binding" in element:
                assert element["binding"]["valueSet"] in value_sets
            for type_ in element.get("type", []):
                for profile in type_.get("profile", []):
                    assert profile in urls
            assert element["path"] == ".".join(p.split(":")[0] for p in element["id"].split("."))


def test_every_asset_profile_has_valid_and_invalid_examples_in_the_manifest() -> None:
    examples = build_asset_examples()
    manifest = json.loads(generate()["examples/manifest.json"])
    listed = {e["file"] for e in manifest}
    for sd in build_asset_structure_definitions():
        if sd["type"] == "Extension":
            continue
        mine = [e for e in examples if e.profile == sd["url"]]
        assert any(e.valid for e in mine), sd["id"]
        assert any(not e.valid for e in mine), sd["id"]
        for example in mine:
            assert example.resource["resourceType"] == sd["type"]
            assert example.file in listed
    assert len({e.resource["id"] for e in examples}) == len(examples)
