"""The counts the README and the docs state about the profiles, examples and Questionnaire are true.

Each stated count is found by a pattern and compared with what ``wb_fhir.conformance`` builds, so a
new profile, extension, example or coded question that leaves a number behind fails here. Any
"N profiles" or "N extensions" in these files must be one of the checked ones.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from wb_fhir.conformance import all_examples, conformance_resources
from wb_fhir.conformance.package import package_files
from wb_fhir.conformance.packages import load_uk_core
from wb_fhir.conformance.questionnaire import build_questionnaire

ROOT = Path(__file__).resolve().parent.parent
DOCS = ("README.md", "docs/profiles.md", "docs/forms.md", "docs/sync.md")
_WORDS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
NUMBER_WORDS = {word: n for n, word in enumerate(_WORDS.split(" "))}


def _items(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i for item in items for i in (item, *_items(item.get("item", [])))]


def _facts() -> dict[str, int]:
    resources = conformance_resources()
    definitions = [r for r in resources if r["resourceType"] == "StructureDefinition"]
    examples = all_examples()
    questionnaire = build_questionnaire()
    uk_core = load_uk_core()
    packed = package_files()
    return {
        "profiles": sum(1 for sd in definitions if sd["type"] != "Extension"),
        "extensions": sum(1 for sd in definitions if sd["type"] == "Extension"),
        "ours": len(resources),
        "structure definitions": len(definitions),
        "valid examples": sum(1 for e in examples if e.valid),
        "invalid examples": sum(1 for e in examples if not e.valid),
        "packed examples": sum(1 for name in packed if "/example/" in name and not name.endswith(".index.json")),
        "coded questions": sum(1 for i in _items(questionnaire["item"]) if "answerValueSet" in i),
        "contained value sets": sum(1 for r in questionnaire["contained"] if r["resourceType"] == "ValueSet"),
        "uk core": uk_core.count,
        **{f"uk core {kind}": n for kind, n in Counter(uk_core.counts()).items()},
    }


FACTS = _facts()

CHECKS: list[tuple[str, str, tuple[str, ...]]] = [
    ("README.md", r"\b(\d+) profiles \(", ("profiles",)),
    ("README.md", r"\) and (\w+) extensions, a CapabilityStatement", ("extensions",)),
    ("README.md", r"ImplementationGuide: (\d+) conformance resources in all", ("ours",)),
    ("README.md", r"`profiles/examples/`: (\d+) valid, (\d+) invalid", ("valid examples", "invalid examples")),
    ("README.md", r"all (\d+) CodeSystems, ValueSets and StructureDefinitions of UK Core", ("uk core",)),
    ("docs/profiles.md", r"\| (\w+) profiles: ", ("profiles",)),
    ("docs/profiles.md", r"\. (\w+) extensions: ", ("extensions",)),
    (
        "docs/profiles.md",
        r"wb-fhir\.r4 0\.1\.0: (\d+) conformance resources "
        r"\(0 created, (\d+) updated\)",
        ("ours", "ours"),
    ),
    ("docs/profiles.md", r"counts the same (\d+) resources of ours", ("ours",)),
    ("docs/profiles.md", r"`install --no-uk-core` \((\d+) resources", ("ours",)),
    ("docs/profiles.md", r"`install` \((\d+) \+ (\d+) resources\)", ("uk core", "ours")),
    ("docs/profiles.md", r"\.tgz \((\d+) resources, (\d+) examples\)", ("ours", "packed examples")),
    (
        "docs/profiles.md",
        r"and `example`, (\d+) resources, (\d+) examples, (\d+) StructureDefinitions",
        ("ours", "packed examples", "structure definitions"),
    ),
    ("docs/profiles.md", r"\((\d+) examples\) \|", ("valid examples",)),
    (
        "docs/profiles.md",
        r"all (\d+) conformance resources of UK Core "
        r"\((\d+) CodeSystems, (\d+) ValueSets, (\d+) StructureDefinitions\)",
        ("uk core", "uk core CodeSystem", "uk core ValueSet", "uk core StructureDefinition"),
    ),
    (
        "docs/profiles.md",
        r"(\d+) conformance resources \((\d+) CodeSystem, (\d+) ValueSet, (\d+) StructureDefinition\)",
        ("uk core", "uk core CodeSystem", "uk core ValueSet", "uk core StructureDefinition"),
    ),
    (
        "docs/profiles.md",
        r"\(shipped with wb_fhir\): (\d+) conformance resources "
        r"\(0 created, (\d+)",
        ("uk core", "uk core"),
    ),
    ("docs/forms.md", r"\((\d+) coded questions, (\d+) ValueSets\)", ("coded questions", "contained value sets")),
    ("docs/forms.md", r"all (\d+) coded questions show every option", ("coded questions",)),
    ("docs/sync.md", r"conformance resources, the (\d+) that `wb-fhir profiles install`", ("ours",)),
]


def _number(text: str) -> int:
    return int(text) if text.isdigit() else NUMBER_WORDS[text.casefold()]


@pytest.mark.parametrize(("doc", "pattern", "facts"), CHECKS, ids=lambda v: v if isinstance(v, str) else None)
def test_a_stated_count_is_true(doc: str, pattern: str, facts: tuple[str, ...]) -> None:
    found = list(re.finditer(pattern, (ROOT / doc).read_text(encoding="utf-8")))
    assert found, f"{doc} no longer says this: update the check or the doc"
    for match in found:
        stated = tuple(_number(g) for g in match.groups())
        assert stated == tuple(FACTS[f] for f in facts), f"{doc}: {match.group(0)!r} is not true: {facts}"


def test_every_count_of_profiles_or_extensions_is_checked() -> None:
    for doc in DOCS:
        text = (ROOT / doc).read_text(encoding="utf-8")
        for match in re.finditer(r"\b(\d+|[a-z]+) (profiles|extensions)\b", text, re.IGNORECASE):
            if match.group(1).isdigit() or match.group(1).casefold() in NUMBER_WORDS:
                stated = _number(match.group(1))
                assert stated == FACTS[match.group(2).casefold()], f"{doc}: {match.group(0)!r}"
