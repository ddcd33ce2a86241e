"""The Bundle build's shortcuts change nothing: identifiers, look-ups and the JSON, byte for byte."""

from __future__ import annotations

import dataclasses
import json
import sys
import uuid
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wb_fhir.fhir import transaction_bundle
from wb_fhir.fhir.references import Key, Search, Token, coding, concept
from wb_fhir.model import stable_uuid
from wb_fhir.terminology import CANONICAL, VALUE_SETS, AssetCategory, IdentifierKind, display

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.floor import floor_bundle  # noqa: E402
from benchmarks.maps import network  # noqa: E402

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, CANONICAL)


@given(st.lists(st.text(st.characters(exclude_categories=["Cs"])), min_size=1, max_size=4))
def test_stable_uuid_is_uuid5_of_the_joined_parts(parts: list[str]) -> None:
    assert stable_uuid(*parts) == str(uuid.uuid5(NAMESPACE, "\x1f".join(parts)))


def test_stable_uuid_refuses_what_uuid5_refuses() -> None:
    with pytest.raises(UnicodeEncodeError):
        stable_uuid("map", "\ud800")


@pytest.mark.parametrize("size", [0, 1, 7, 30, 150])
def test_the_bundle_is_the_json_the_plain_dict_floor_writes(size: int) -> None:
    # two ways to the same Bundle: wb_fhir's mapping and the benchmark's dict literals
    wmap = network(size)
    assert json.dumps(transaction_bundle(wmap)) == json.dumps(floor_bundle(wmap))


def test_connections_are_found_by_id_the_first_of_an_id_and_not_after_a_replace() -> None:
    wmap = network(30)
    assert wmap.connection("c17") is wmap.connections[17]
    with pytest.raises(KeyError):
        wmap.connection("nobody")
    first = dataclasses.replace(wmap.connections[3], label="first")
    twice = dataclasses.replace(wmap, connections=(first, dataclasses.replace(first, label="second")))
    assert twice.connection(first.id).label == "first"
    assert dataclasses.replace(wmap, connections=wmap.connections[:3]).connection("c2") is wmap.connections[2]
    with pytest.raises(KeyError):
        dataclasses.replace(wmap, connections=wmap.connections[:3]).connection("c17")
    assert wmap == network(30)  # the index is no part of the map's value


def test_a_conditional_url_is_the_search_by_identifier() -> None:
    for value in ("a1b2", "with space", "ümlaut", "x|y&z=1", "~tilde_.-"):
        key = Key("Observation", IdentifierKind.OBSERVATION, value)
        assert key.conditional_url == key.search.url
        assert key.identifier() == key.token.identifier() == Token(key.system, value).identifier()
    assert Search("Patient").where(identifier=Token("s", "a b|c")).url == "Patient?identifier=s|a%20b|c"


def test_every_coding_is_its_code_and_display() -> None:
    # displays are remembered per enum: codes of two enums may share a value (Category and AssetCategory do)
    for enum in (*VALUE_SETS.values(), AssetCategory):
        for member in enum:
            assert coding(member) == {
                "system": f"{CANONICAL}/CodeSystem/wb-fhir",
                "code": member.value,
                "display": display(member),
            }
            assert concept(member) == {"coding": [coding(member)]}


def test_the_drawings_a_push_offers_are_the_renderers_formats():
    # named in wb_fhir.bundles so that the command's options do not load the renderer (cairo)
    from wb_fhir.bundles import DRAWINGS
    from wb_fhir.render import FORMATS

    assert tuple(FORMATS) == DRAWINGS
