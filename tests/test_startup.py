"""Start-up: a command imports only what it uses (checked in a fresh interpreter, by sys.modules)."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

import wb_fhir.cli
from wb_fhir.cli._main import COMMANDS, main

ROOT = Path(__file__).resolve().parent.parent
FIGURE1 = str(ROOT / "examples" / "figure1.yaml")

HEAVY = (
    "authlib",
    "cairocffi",
    "cairosvg",
    "cryptography",
    "duckdb",
    "fhirpathpy",
    "jinja2",
    "jsonschema",
    "jwt",
    "PIL",
    "requests",
    "sqlite3",
    "starlette",
    "uvicorn",
    "weasyprint",
)
"""Libraries neither ``--version`` nor ``validate`` needs (the map checks apply the schema themselves)."""


def loaded_after(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``wb-fhir ARGS`` in a fresh interpreter; what it printed and the modules it had loaded."""
    code = (
        "import json, sys\n"
        "from wb_fhir.cli import run\n"
        f"sys.argv = ['wb-fhir', *{list(args)!r}]\n"
        "try:\n"
        "    run()\n"
        "except SystemExit as exit:\n"
        "    assert not exit.code, exit.code\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done, set(json.loads(done.stderr.splitlines()[-1]))


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY)


def test_version_loads_neither_click_nor_any_command() -> None:
    done, modules = loaded_after("--version")
    assert done.stdout == f"wb-fhir, version {wb_fhir.__version__}\n"
    assert "click" not in modules and "typing" not in modules
    assert {m for m in modules if m.startswith("wb_fhir")} == {"wb_fhir", "wb_fhir._lazy", "wb_fhir.cli"}


def test_validate_loads_no_drawing_server_or_report_code() -> None:
    done, modules = loaded_after("validate", FIGURE1)
    assert done.stdout.startswith(f"ok  {FIGURE1}: 2026-11-20")
    assert heavy(modules) == []
    ours = {m for m in modules if m.startswith("wb_fhir.")}
    assert not {m for m in ours if m.split(".")[1] in ("render", "fhir", "sync", "review", "report", "web", "assets")}
    assert {m for m in ours if m.startswith("wb_fhir.cli.")} <= {
        "wb_fhir.cli._advice",
        "wb_fhir.cli._common",
        "wb_fhir.cli._main",
        "wb_fhir.cli.maps",
    }


def test_help_lists_every_command_with_its_summary_and_loads_none() -> None:
    done, modules = loaded_after("--help")
    for name in COMMANDS:
        assert f"\n  {name} " in done.stdout
    assert "Check map files (or folders of them); report every problem..." in done.stdout
    assert not [
        m for m in modules if m.startswith("wb_fhir.cli.") and m not in ("wb_fhir.cli._main", "wb_fhir.cli._advice")
    ]
    assert heavy(modules) == []


def test_the_command_table_is_every_command_with_its_own_summary() -> None:
    found: dict[str, click.Command] = {}
    for info in pkgutil.iter_modules(wb_fhir.cli.__path__, "wb_fhir.cli."):
        module = importlib.import_module(info.name)
        for command in getattr(module, "COMMANDS", []) if module is not wb_fhir.cli._main else []:
            assert command.name is not None
            found[command.name] = command
    assert sorted(found) == sorted(COMMANDS)
    ctx = click.Context(main)
    for name, (module_name, attribute, summary) in COMMANDS.items():
        command = main.get_command(ctx, name)
        assert command is found[name] is getattr(importlib.import_module(module_name), attribute)
        listed = click.Command(name, help=summary)
        for limit in (30, 45, 80, 300):
            assert listed.get_short_help_str(limit) == command.get_short_help_str(limit), name


def test_an_unknown_command_is_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "wb_fhir", "valdate", FIGURE1], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "No such command 'valdate'" in result.stderr


@pytest.mark.parametrize(
    ("package", "name", "never"),
    [
        ("wb_fhir", "WellbeingMap", ["wb_fhir.mapfile", "yaml"]),
        ("wb_fhir.fhir", "transaction_bundle", ["wb_fhir.fhir.sdc", "wb_fhir.fhir.extract", "fhirpathpy"]),
        ("wb_fhir.sync", "Outbox", ["wb_fhir.sync.push", "wb_fhir.sync.pull", "jwt", "cryptography"]),
    ],
)
def test_a_package_loads_the_module_of_the_name_asked_for_and_no_other(
    package: str, name: str, never: list[str]
) -> None:
    code = (
        "import importlib, json, sys\n"
        f"value = getattr(importlib.import_module({package!r}), {name!r})\n"
        "print(json.dumps([value.__module__, sorted(sys.modules)]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    home, modules = json.loads(done.stdout)
    assert home in modules and home.startswith(f"{package}.")
    assert [m for m in never if m in modules] == []


def test_a_name_that_is_also_a_module_name_stays_the_name() -> None:
    # importing the module ``wb_fhir.fhir.provenance`` sets the package's attribute to the module
    code = (
        "import wb_fhir.fhir.observations, wb_fhir.fhir.provenance, wb_fhir.fhir.questionnaire_response\n"
        "from wb_fhir.fhir import observations, provenance, questionnaire_response\n"
        "print(all(callable(f) for f in (observations, provenance, questionnaire_response)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True"
