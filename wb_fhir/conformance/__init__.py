"""The FHIR conformance resources of wb_fhir, generated from :mod:`wb_fhir.terminology`.

``python -m wb_fhir.conformance`` writes them to ``profiles/``; :func:`generate` builds the
same files in memory (a test compares the two so the committed files are never stale).
"""

from __future__ import annotations

from pathlib import Path

from wb_fhir._files import atomic_write
from wb_fhir.conformance._common import Resource, dumps
from wb_fhir.conformance.assets_examples import build_asset_examples
from wb_fhir.conformance.assets_profiles import build_asset_structure_definitions
from wb_fhir.conformance.capability import build_capability_statement, build_implementation_guide
from wb_fhir.conformance.codesystem import build_codesystem
from wb_fhir.conformance.examples import Example, build_examples
from wb_fhir.conformance.questionnaire import build_questionnaire
from wb_fhir.conformance.structuredefinitions import build_structure_definitions
from wb_fhir.conformance.summary import build_summary
from wb_fhir.conformance.valuesets import build_value_sets

MANIFEST = "examples/manifest.json"
SUMMARY = "SUMMARY.md"


def conformance_resources() -> list[Resource]:
    """Every conformance resource (no examples), in load order: terminology first."""
    resources = [
        build_codesystem(),
        *build_value_sets(),
        *build_structure_definitions(),
        *build_asset_structure_definitions(),
        build_questionnaire(),
        build_capability_statement(),
    ]
    return [*resources, build_implementation_guide(resources)]


def all_examples() -> list[Example]:
    """Every example of every profile (the map's, then the assets' and follow-up's), valid and invalid."""
    return build_examples() + build_asset_examples()


def file_name(resource: Resource) -> str:
    """The conventional file name of a resource: ``Type-id.json``."""
    return f"{resource['resourceType']}-{resource['id']}.json"


def _manifest(examples: list[Example]) -> list[dict[str, object]]:
    return [
        {
            "file": e.file,
            "resourceType": e.resource["resourceType"],
            "profile": e.profile,
            "valid": e.valid,
            "expect": e.expect,
        }
        for e in examples
    ]


def generate() -> dict[str, str]:
    """Every file of ``profiles/``, by path relative to it, with its exact text."""
    resources = conformance_resources()
    examples = all_examples()
    files = {file_name(r): dumps(r) for r in resources}
    files.update({f"examples/{e.file}": dumps(e.resource) for e in examples})
    files[MANIFEST] = dumps(_manifest(examples))
    files[SUMMARY] = build_summary(resources, examples)
    return files


def stale_files(folder: Path) -> list[str]:
    """Files of ``folder`` that differ from what :func:`generate` makes, or are missing or extra."""
    expected = generate()
    out = [name for name, text in expected.items() if _read(folder / name) != text]
    out += [name for name in _existing(folder) if name not in expected]
    return sorted(out)


def write(folder: Path) -> list[str]:
    """Regenerate ``folder``: write changed files, remove generated files no longer made; return changes."""
    expected = generate()
    changed = []
    for name, text in expected.items():
        path = folder / name
        if _read(path) != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, text.encode("utf-8"))
            changed.append(name)
    for name in _existing(folder):
        if name not in expected:
            (folder / name).unlink()
            changed.append(name)
    return sorted(changed)


def _existing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.suffix in (".json", ".md"))


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


__all__ = ["Example", "all_examples", "conformance_resources", "file_name", "generate", "stale_files", "write"]
