"""The curated public API: every exported name exists, nothing public is left out; and the layers hold."""

from __future__ import annotations
import __future__

import importlib
import inspect
import subprocess
import sys

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
def test_nothing_public_is_left_out(name: str) -> None:
    module = importlib.import_module(name)
    public = {
        item
        for item, value in vars(module).items()
        if not item.startswith("_") and not inspect.ismodule(value) and not isinstance(value, __future__._Feature)
    }
    assert public - set(module.__all__) == set(), f"public in {name} but not in __all__"


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


@pytest.mark.parametrize(
    ("layer", "never"),
    [
        ("wb_fhir.sync", "wb_fhir.render"),  # sync receives Bundles; it never draws
        ("wb_fhir.fhir", "wb_fhir.render"),  # the mapping is pure: attachments come from outside
        ("wb_fhir.sync", "wb_fhir.cli"),  # nothing below the command line knows about it
        ("wb_fhir.review", "wb_fhir.cli"),
        ("wb_fhir.conformance", "wb_fhir.cli"),
    ],
)
def test_a_layer_never_imports_another(layer: str, never: str) -> None:
    # A fresh interpreter: what this one has imported already does not count.
    code = (
        "import importlib, pkgutil, sys\n"
        f"package = importlib.import_module({layer!r})\n"
        "for info in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "    if not info.name.endswith('__main__'):\n"
        "        importlib.import_module(info.name)\n"
        f"print(sorted(m for m in sys.modules if m == {never!r} or m.startswith({never!r} + '.')))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
