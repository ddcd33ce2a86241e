"""The curated public API: every exported name exists, and nothing public is left out."""

from __future__ import annotations

import importlib
import inspect

import pytest

PACKAGES = ["wb_fhir", "wb_fhir.render", "wb_fhir.fhir", "wb_fhir.sync", "wb_fhir.review", "wb_fhir.report"]


@pytest.mark.parametrize("name", PACKAGES)
def test_exports_exist_and_are_sorted(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported)
    assert len(exported) == len(set(exported))
    for item in exported:
        assert hasattr(module, item), f"{name}.{item} is exported but missing"


@pytest.mark.parametrize("name", PACKAGES)
def test_exported_functions_and_classes_have_docstrings(name: str) -> None:
    module = importlib.import_module(name)
    for item in module.__all__:
        value = getattr(module, item)
        if inspect.isfunction(value) or inspect.isclass(value):
            assert inspect.getdoc(value), f"{name}.{item} has no docstring"


def test_top_level_api_is_the_map_file_and_concepts() -> None:
    import wb_fhir

    assert wb_fhir.load_map.__module__ == "wb_fhir.mapfile"
    assert wb_fhir.WellbeingMap.__module__ == "wb_fhir.model"
    assert issubclass(wb_fhir.InputError, wb_fhir.WbFhirError)
