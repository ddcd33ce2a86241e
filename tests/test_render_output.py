"""PNG, PDF, determinism, reference pictures and the command line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image, ImageChops, ImageStat
from refresh_references import REFERENCE_OPTIONS, reference_maps
from render_samples import generated_map

from wb_fhir.cli import main
from wb_fhir.errors import InputError
from wb_fhir.mapfile import load_map
from wb_fhir.render import (
    DEFAULT_MAX_SIZE,
    RenderOptions,
    layout_map,
    render,
    render_pdf,
    render_png,
    render_svg,
    renderings,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
REFERENCE = Path(__file__).resolve().parent / "reference"
MAX_MEAN_DIFFERENCE = 1.5
"""Mean absolute difference per channel (0-255) tolerated against a reference picture:
enough for anti-aliasing differences between cairo builds, far below any moved node or label."""


@pytest.fixture(scope="module")
def figure1():
    return load_map(EXAMPLES / "figure1.yaml")


@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
@pytest.mark.parametrize("name", ["figure1", "multilingual", "alone"])
def test_same_input_same_bytes(fmt: str, name: str) -> None:
    wmap = load_map(EXAMPLES / f"{name}.yaml")
    assert render(wmap, fmt) == render(wmap, fmt)


def test_pdf_is_a4_landscape_and_dated_by_the_map(figure1) -> None:
    pdf = render_pdf(figure1)
    assert pdf.startswith(b"%PDF-")
    assert b"/MediaBox [ 0 0 841.889764 595.275591 ]" in pdf
    assert b"/CreationDate (20261120000000Z)" in pdf
    assert b"/MediaBox [ 0 0 1190.55" in render_pdf(figure1, RenderOptions(page="A3"))


def test_png_scale_and_dpi(figure1) -> None:
    base = Image.open(io.BytesIO(render_png(figure1)))
    double = Image.open(io.BytesIO(render_png(figure1, RenderOptions(scale=2))))
    dpi = Image.open(io.BytesIO(render_png(figure1, RenderOptions(dpi=192))))
    assert double.size == dpi.size == (base.size[0] * 2, base.size[1] * 2)


def test_renderings_for_a_document_reference(figure1) -> None:
    out = renderings(figure1)
    assert [(r.content_type, r.suffix) for r in out] == [
        ("image/svg+xml", ".svg"),
        ("image/png", ".png"),
        ("application/pdf", ".pdf"),
    ]
    assert out[0].data == render_svg(figure1).encode("utf-8")
    assert out[1].data.startswith(b"\x89PNG") and out[2].data.startswith(b"%PDF-")
    assert out[0].title == "Wellbeing network map, 20 November 2026 (SVG)"


def test_renderings_of_the_formats_asked_for_laid_out_once(figure1, monkeypatch: pytest.MonkeyPatch) -> None:
    from wb_fhir.render import raster

    calls = []
    real = raster.layout_map
    monkeypatch.setattr(raster, "layout_map", lambda *a, **k: calls.append(1) or real(*a, **k))
    every = renderings(figure1)
    assert len(calls) == 1
    only = renderings(figure1, formats=["pdf", "png"])
    assert [r.suffix for r in only] == [".png", ".pdf"] and len(calls) == 2
    assert [r.data for r in only] == [every[1].data, every[2].data]
    assert only[0].size == (1142, 822) and not only[0].scaled_down


def test_png_has_a_maximum_size_and_says_when_it_scaled_down() -> None:
    big = generated_map(1000)
    (png,) = renderings(big, formats=["png"])
    image = Image.open(io.BytesIO(png.data))
    assert max(image.size) == DEFAULT_MAX_SIZE == max(png.size or (0, 0)) and png.scaled_down
    small = renderings(big, RenderOptions(max_size=800), formats=["png"])[0]
    assert max(Image.open(io.BytesIO(small.data)).size) == 800
    layout = layout_map(big)
    assert abs(image.size[0] / image.size[1] - layout.width / layout.height) < 0.01


def test_huge_names_and_labels_keep_the_picture_bounded(figure1) -> None:
    from dataclasses import replace

    from wb_fhir.model import Subject

    name = "Sam " * 2500
    label = "🐕" * 10000
    wmap = replace(
        figure1,
        subject=Subject(nhs_number="9434765919", display=name),
        rings=("x" * 3000, "Middle", "Wider network"),
        connections=tuple(replace(c, label=label) if c.id == "mum" else c for c in figure1.connections),
    )
    layout = layout_map(wmap)
    assert layout.width < 2000 and layout.height < 1600
    assert layout.header[0].text.startswith("Sam Sam") and layout.header[1].text.endswith("…")
    assert render_png(wmap).startswith(b"\x89PNG")


def test_unknown_format_is_refused(figure1) -> None:
    with pytest.raises(InputError) as err:
        render(figure1, "gif")
    assert str(err.value) == "cannot render as 'gif': use one of svg, png, pdf"


@pytest.mark.parametrize("name", sorted(reference_maps()))
def test_matches_reference_picture(name: str) -> None:
    """Regenerate with ``python tests/refresh_references.py`` after a deliberate change."""
    expected = Image.open(REFERENCE / f"{name}.png").convert("RGB")
    actual = Image.open(io.BytesIO(render_png(reference_maps()[name], REFERENCE_OPTIONS))).convert("RGB")
    assert actual.size == expected.size
    difference = ImageStat.Stat(ImageChops.difference(actual, expected)).mean
    assert max(difference) < MAX_MEAN_DIFFERENCE, difference


def test_reference_comparison_catches_a_change() -> None:
    expected = Image.open(REFERENCE / "figure1.png").convert("RGB")
    other = Image.open(io.BytesIO(render_png(generated_map(10), REFERENCE_OPTIONS))).convert("RGB")
    other = other.resize(expected.size)
    assert max(ImageStat.Stat(ImageChops.difference(other, expected)).mean) > MAX_MEAN_DIFFERENCE


# --- command line --------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".svg", ".png", ".pdf"])
def test_cli_render_writes_the_file(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"map{suffix}"
    result = CliRunner().invoke(main, ["render", str(EXAMPLES / "figure1.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == render(load_map(EXAMPLES / "figure1.yaml"), suffix[1:])


def test_cli_render_nhs_number_and_dpi(tmp_path: Path) -> None:
    out = tmp_path / "map.svg"
    result = CliRunner().invoke(main, ["render", str(EXAMPLES / "figure1.yaml"), "-o", str(out), "--show-nhs-number"])
    assert result.exit_code == 0
    assert "NHS number 943 476 5919" in out.read_text(encoding="utf-8")
    png = tmp_path / "map.png"
    assert (
        CliRunner().invoke(main, ["render", str(EXAMPLES / "figure1.yaml"), "-o", str(png), "--dpi", "192"]).exit_code
        == 0
    )
    assert (
        Image.open(png).size
        == Image.open(io.BytesIO(render_png(load_map(EXAMPLES / "figure1.yaml"), RenderOptions(scale=2)))).size
    )


def test_cli_bad_suffix_exits_2_without_a_file(tmp_path: Path) -> None:
    out = tmp_path / "map.gif"
    result = CliRunner().invoke(main, ["render", str(EXAMPLES / "figure1.yaml"), "-o", str(out)])
    assert result.exit_code == 2
    assert result.output == f"error: {out}: cannot tell the format from the suffix '.gif': use .svg, .png or .pdf\n"
    assert list(tmp_path.iterdir()) == []


def test_cli_bad_map_exits_2_without_a_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("subject: {display: Sam}\ndate: 2026-11-20\n", encoding="utf-8")
    out = tmp_path / "map.svg"
    result = CliRunner().invoke(main, ["render", str(bad), "-o", str(out)])
    assert (result.exit_code, result.output) == (2, f"error: {bad}: subject: needs nhs_number or fhir_id (or both)\n")
    assert not out.exists()


def test_cli_render_says_when_a_png_was_scaled_down(tmp_path: Path) -> None:
    out = tmp_path / "map.png"
    args = ["render", str(EXAMPLES / "figure1.yaml"), "-o", str(out), "--scale", "4", "--max-size", "2000"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert Image.open(out).size == (2000, 1440)  # 4 x 1142 x 822, scaled down
    assert "note: the picture was scaled down to 2000 x 1440 px to stay within --max-size 2000" in result.output


def test_cli_scale_and_dpi_together_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "map.png"
    args = ["render", str(EXAMPLES / "figure1.yaml"), "-o", str(out), "--scale", "2", "--dpi", "300"]
    result = CliRunner().invoke(main, args)
    assert (result.exit_code, result.output) == (2, "error: options: give a scale or a dpi, not both\n")
    assert not out.exists()


def test_cli_demo_writes_pictures_of_every_example(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    names = {p.name for p in tmp_path.iterdir()}
    for stem in ("figure1", "diverse-network", "multilingual", "alone", "review-jordan-2026-05-14"):
        assert {f"{stem}.svg", f"{stem}.png", f"{stem}.pdf"} <= names
    assert (tmp_path / "figure1.png").read_bytes() == render_png(load_map(EXAMPLES / "figure1.yaml"))


def test_cli_demo_without_output_only_prints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 0
    assert "figure1.yaml (Sam, 2026-11-20)" in result.output
    assert list(tmp_path.iterdir()) == []
