"""The command line, called in-process: exact exit codes and messages."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import wb_fhir
from wb_fhir.cli import main, reference

ROOT = Path(__file__).resolve().parent.parent
FIGURE1 = str(ROOT / "examples" / "figure1.yaml")


def run(*args: str) -> click.testing.Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def all_commands(group: click.Group = main, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    ctx = click.Context(group)
    for name in sorted(group.list_commands(ctx)):
        command = group.get_command(ctx, name)
        assert command is not None
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found += all_commands(command, f"{prefix}{name} ")
    return found


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"wb-fhir, version {wb_fhir.__version__}"


@pytest.mark.parametrize(("name", "command"), all_commands(), ids=lambda x: x if isinstance(x, str) else "")
def test_every_command_has_help(name: str, command: click.Command) -> None:
    assert command.help, f"'wb-fhir {name}' has no help text"
    result = run(*name.split(), "--help")
    assert result.exit_code == 0
    assert f"Usage: main {name}" in result.stdout or f"Usage: wb-fhir {name}" in result.stdout


def test_readme_cli_reference_is_fresh() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert reference.START in readme and reference.END in readme
    assert reference.update(readme) == readme, "run: python -m wb_fhir.cli.reference README.md"
    for name, _ in all_commands():
        assert f"### `wb-fhir {name}`" in readme


def test_validate_good_files() -> None:
    result = run("validate", FIGURE1, str(ROOT / "examples" / "alone.yaml"))
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].startswith(
        f"ok  {FIGURE1}: 2026-11-20, 10 current connections (5 people, 4 places, 1 activity)"
    )
    assert result.stderr == ""


def test_validate_a_folder_recurses() -> None:
    result = run("validate", str(ROOT / "examples"))
    assert result.exit_code == 0
    assert "jordan-2026-11-12.yaml" in result.stdout
    assert "community asset directory, 17 asset(s)" in result.stdout


def test_validate_bad_file_exits_2_with_places(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "subject: {nhs_number: '9434765918'}\ndate: 2026-11-20\nconnections:\n"
        "  - {id: mum, kind: person, label: Mum, category: park, ring: 1, impact: positive}\n",
        encoding="utf-8",
    )
    result = run("validate", FIGURE1, str(bad))
    assert result.exit_code == 2
    assert f"ok  {FIGURE1}" in result.stdout
    assert f"{bad}: connections[0].category: 'park' is not a category of a person" in result.stderr
    assert result.stderr.strip().endswith("1 of 2 files has problems")
    assert "Traceback" not in result.output


def test_validate_rule_problems_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("subject: {nhs_number: '9434765918'}\ndate: 2026-11-20\n", encoding="utf-8")
    result = run("validate", str(bad))
    assert result.exit_code == 2
    assert f"{bad}: subject.nhs_number: '9434765918' fails the NHS number check digit" in result.stderr


def test_validate_json_report(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"subject": {"fhir_id": "Patient/1"}, "date": "2026-02-30"}', encoding="utf-8")
    result = run("validate", "--json", FIGURE1, str(bad))
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report == [
        {"file": FIGURE1, "valid": True, "problems": []},
        {
            "file": str(bad),
            "valid": False,
            "problems": [{"path": "date", "message": "'2026-02-30' is not a real date"}],
        },
    ]


def test_validate_missing_file_is_bad_input(tmp_path: Path) -> None:
    result = run("validate", str(tmp_path / "none.yaml"))
    assert result.exit_code == 2
    assert "none.yaml: no such file" in result.stderr


def test_validate_with_asset_directory(tmp_path: Path) -> None:
    assets = tmp_path / "assets.yaml"
    assets.write_text("assets:\n  - {id: gym-club, name: Gym club}\n", encoding="utf-8")
    result = run("validate", "--assets", str(assets), FIGURE1)
    assert result.exit_code == 2
    assert "signposts[0].asset: 'central-library-book-club' is not in the community asset directory" in result.stderr
    ok = run("validate", "--assets", str(ROOT / "examples" / "assets.yaml"), FIGURE1)
    assert ok.exit_code == 0


def test_bad_asset_directory(tmp_path: Path) -> None:
    assets = tmp_path / "assets.yaml"
    assets.write_text("assets:\n  - {id: a, name: A, kind: x}\n  - {id: a, name: ''}\n", encoding="utf-8")
    result = run("validate", str(assets))
    assert result.exit_code == 2
    assert f"{assets}: assets[0].kind: unknown key" in result.stderr
    assert f"{assets}: assets[1].name: is required text" in result.stderr
    assert f"{assets}: assets[1].id: 'a' is used by another asset" in result.stderr


def test_demo_summarises_every_example(tmp_path: Path) -> None:
    result = run("demo", "-o", str(tmp_path / "out"))
    assert result.exit_code == 0
    for name in ("figure1.yaml", "diverse-network.yaml", "alone.yaml", "jordan-2026-05-14.yaml"):
        assert name in result.stdout
    assert "practitioner in inner circle: yes" in result.stdout
    assert "review pair, what changed from 2026-05-14 to 2026-11-12:" in result.stdout
    out = tmp_path / "out"
    assert (out / "summary.txt").read_text(encoding="utf-8").startswith("alone.yaml (Rowan, 2026-10-02)")
    bundle = json.loads((out / "figure1.bundle.json").read_text(encoding="utf-8"))
    assert bundle["type"] == "transaction"
    (document,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference"]
    assert [c["attachment"]["contentType"] for c in document["content"]] == [
        "image/svg+xml",
        "image/png",
        "application/pdf",
    ]
    assert (out / "review.pdf").read_bytes().startswith(b"%PDF")
    assert "Review summary" in (out / "review.html").read_text(encoding="utf-8")


def test_unexpected_errors_give_no_traceback_unless_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kaput")

    monkeypatch.setattr("wb_fhir.cli.maps._check_file", boom)
    result = run("validate", FIGURE1)
    assert result.exit_code == 1
    assert result.stderr == "error: internal error: RuntimeError: kaput (run with --debug for details)\n"
    debug = run("--debug", "validate", FIGURE1)
    assert debug.exit_code == 1
    assert "Traceback" in debug.stderr


def test_usage_errors_exit_2() -> None:
    result = run("validate")
    assert result.exit_code == 2
    assert "Missing argument" in result.stderr
