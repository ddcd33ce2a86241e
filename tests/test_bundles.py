"""A map's Bundle with the drawings asked for (wb_fhir.bundles), and the commands that take --renderings."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from wb_fhir.bundles import DRAWINGS, drawings, map_bundle, parse_drawings
from wb_fhir.cli import main
from wb_fhir.errors import InputError
from wb_fhir.mapfile import load_map
from wb_fhir.sync import Outbox

ROOT = Path(__file__).resolve().parent.parent
ALONE = ROOT / "examples" / "alone.yaml"


@pytest.mark.parametrize(
    ("text", "formats"),
    [("svg,png,pdf", DRAWINGS), ("PNG", ("png",)), (" svg , svg ", ("svg",)), ("none", ()), ("", ())],
)
def test_parse_drawings(text: str, formats: tuple[str, ...]) -> None:
    assert parse_drawings(text) == formats


def test_parse_drawings_refuses_other_formats() -> None:
    with pytest.raises(InputError, match="cannot draw as gif, none: use some of svg, png, pdf, or none"):
        parse_drawings("svg,gif,none")


def _attachments(bundle: dict) -> list[dict]:
    docs = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference"]
    return [c["attachment"] for d in docs for c in d["content"]]


def test_the_bundle_carries_the_drawings_asked_for() -> None:
    wmap = load_map(ALONE)
    assert [a["contentType"] for a in _attachments(map_bundle(wmap))] == [
        "image/svg+xml",
        "image/png",
        "application/pdf",
    ]
    (png,) = _attachments(map_bundle(wmap, ("png",)))
    assert png["contentType"] == "image/png" and base64.b64decode(png["data"]).startswith(b"\x89PNG")
    assert _attachments(map_bundle(wmap, ())) == []  # and so no DocumentReference at all
    assert drawings(wmap, ()) == []


@pytest.mark.parametrize(
    ("args", "types"),
    [
        ([], ["image/svg+xml", "image/png", "application/pdf"]),
        (["--renderings", "svg"], ["image/svg+xml"]),
        (["--renderings", "none"], []),
        (["--no-renderings"], []),
        (["--no-renderings", "--renderings", "none"], []),
    ],
)
def test_cli_bundle_attaches_what_the_user_asks_for(tmp_path: Path, args: list[str], types: list[str]) -> None:
    out = tmp_path / "b.json"
    result = CliRunner().invoke(main, ["bundle", str(ALONE), "-o", str(out), *args])
    assert result.exit_code == 0, result.output
    assert [a["contentType"] for a in _attachments(json.loads(out.read_text()))] == types


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--renderings", "gif"],
            "Invalid value for --renderings: cannot draw as gif: use some of svg, png, pdf, or none",
        ),
        (["--no-renderings", "--renderings", "svg"], "give --renderings or --no-renderings, not both"),
    ],
)
def test_cli_bundle_bad_renderings_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["bundle", str(ALONE), "-o", str(tmp_path / "b.json"), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "b.json").exists()


def test_cli_push_attaches_what_the_user_asks_for(tmp_path: Path) -> None:
    env = {"WB_FHIR_OUTBOX": str(tmp_path / "o.sqlite"), "WB_FHIR_SERVER": ""}
    result = CliRunner().invoke(main, ["push", str(ALONE), "--renderings", "svg,pdf"], env=env)
    assert result.exit_code == 0, result.output
    with Outbox(tmp_path / "o.sqlite") as box:
        (item,) = box.items()
    assert [a["contentType"] for a in _attachments(item.bundle)] == ["image/svg+xml", "application/pdf"]
