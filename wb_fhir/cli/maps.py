"""``wb-fhir validate`` and ``wb-fhir demo``: check map files and show what they hold."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from wb_fhir._files import shown
from wb_fhir.cli._common import map_paths
from wb_fhir.errors import InputError
from wb_fhir.mapfile import iter_map_files, load_data, map_from_data
from wb_fhir.measures import measure
from wb_fhir.terminology import Kind, Status

if TYPE_CHECKING:
    from wb_fhir.measures import NetworkMeasures
    from wb_fhir.model import WellbeingMap


@click.command()
@map_paths
@click.option("--json", "as_json", is_flag=True, help="Print one JSON report for all files.")
@click.option(
    "--assets",
    "assets_file",
    type=click.Path(path_type=str),
    help="Community asset directory to check sign-posts against.",
)
def validate(maps: tuple[str, ...], as_json: bool, assets_file: str | None) -> None:
    """Check map files (or folders of them); report every problem with its place.

    Exits 2 when any file has a problem.
    """
    if assets_file:
        from wb_fhir.assets import load_assets

        assets = load_assets(assets_file).ids
    else:
        assets = None
    report = []
    for path in iter_map_files(maps):
        try:
            line = _check_file(path, assets)
        except InputError as exc:
            report.append(
                {
                    "file": str(path),
                    "valid": False,
                    "problems": [{"path": p.path, "message": p.message} for p in exc.problems],
                }
            )
            if not as_json:
                for p in exc.problems:
                    click.echo(f"{shown(path)}: {p}", err=True)
            continue
        report.append({"file": str(path), "valid": True, "problems": []})
        if not as_json:
            click.echo(f"ok  {shown(path)}: {line}")
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    bad = sum(1 for r in report if not r["valid"])
    if bad:
        if not as_json:
            click.echo(
                f"{bad} of {_plural(len(report), 'file', 'files')} {'has' if bad == 1 else 'have'} problems", err=True
            )
        raise click.exceptions.Exit(2)


def _check_file(path: Path, assets: frozenset[str] | None) -> str:
    data = load_data(path)
    if isinstance(data, dict) and "assets" in data:
        # perhaps an asset directory: only then load that code (a map is checked without it)
        from wb_fhir.assets import assets_from_data, is_asset_directory

        if is_asset_directory(data):
            return f"community asset directory, {len(assets_from_data(data, shown(path)).assets)} asset(s)"
    return _one_line(map_from_data(data, source=shown(path), assets=assets))


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _kinds(m: NetworkMeasures) -> str:
    return ", ".join(
        _plural(m.by_kind[kind], one, many)
        for kind, one, many in (
            (Kind.PERSON, "person", "people"),
            (Kind.PLACE, "place", "places"),
            (Kind.ACTIVITY, "activity", "activities"),
        )
    )


def _one_line(wmap: WellbeingMap) -> str:
    m = measure(wmap)
    return (
        f"{wmap.date}, {_plural(m.size, 'current connection', 'current connections')} ({_kinds(m)}), "
        f"{_plural(len(wmap.goals), 'goal', 'goals')}"
    )


def summary(wmap: WellbeingMap) -> str:
    """A few lines a practitioner would want to know about a map."""
    m = measure(wmap)
    share = f"{m.family_or_home_share:.0%}" if m.family_or_home_share is not None else "n/a"
    home = f"{m.time_at_home}%" if m.time_at_home is not None else "not recorded"
    rings = ", ".join(f"{label} {m.by_ring.get(i + 1, 0)}" for i, label in enumerate(wmap.rings))
    others = [(Status.LOST, "lost"), (Status.WISHED_FOR, "hoped for")]
    also = ", ".join(f"{m.by_status.get(s, 0)} {words}" for s, words in others if m.by_status.get(s, 0))
    return "\n".join(
        [
            f"  {_plural(m.size, 'current connection', 'current connections')}: {_kinds(m)}"
            + (f"; also {also}" if also else ""),
            f"  by ring: {rings}",
            f"  impact: {m.positive} positive, {m.negative} negative, {m.mixed} mixed",
            f"  practitioner in inner circle: {'yes' if m.practitioner_in_inner_circle else 'no'}; "
            f"family or home based: {share}; waking time at home: {home}",
            f"  {_plural(len(wmap.goals), 'goal', 'goals')}, {_plural(len(wmap.signposts), 'sign-post', 'sign-posts')}",
        ]
    )


@click.command()
@click.option(
    "-o", "--output", "output", type=click.Path(file_okay=False, path_type=Path), help="Folder for the demo's outputs."
)
def demo(output: Path | None) -> None:
    """Run wb-fhir on the built-in example maps (no server needed).

    Validates and summarises every example and shows what changed between the two maps of
    the review pair. With -o DIR, also writes into DIR each example drawn as SVG, PNG and PDF,
    its FHIR transaction Bundle (the drawings attached), and the review pair's summary as
    HTML and PDF.
    """
    from wb_fhir._files import atomic_write, json_chunks
    from wb_fhir._resources import data_dir
    from wb_fhir.assets import is_asset_directory, load_assets
    from wb_fhir.bundles import drawings
    from wb_fhir.fhir import transaction_bundle
    from wb_fhir.mapfile import load_map
    from wb_fhir.review.compare import compare_pair
    from wb_fhir.review.summary import html_to_pdf, review_html
    from wb_fhir.review.text import format_changes

    examples = data_dir("examples")
    assets = load_assets(examples / "assets.yaml")
    files = [p for p in iter_map_files([examples]) if not is_asset_directory(load_data(p))]
    maps = [(p, load_map(p, assets=assets.ids)) for p in files]
    texts = [f"{p.relative_to(examples)} ({m.display_name}, {m.date})\n{summary(m)}" for p, m in maps]
    click.echo("\n".join(texts))
    pair = sorted((m for p, m in maps if p.parent.name == "review"), key=lambda m: m.date)
    changes = compare_pair(pair[0], pair[1])
    click.echo(f"\nreview pair, what changed from {pair[0].date} to {pair[1].date}:")
    click.echo(format_changes(changes), nl=False)
    if output is not None:
        try:
            output.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot make the folder: {exc.strerror or exc}", shown(output)) from None
        atomic_write(output / "summary.txt", ("\n".join(texts) + "\n").encode("utf-8"))
        with click.progressbar(maps, label="drawing and bundling the examples", file=sys.stderr) as bar:
            for path, wmap in bar:
                stem = "-".join(path.relative_to(examples).with_suffix("").parts)
                drawn = drawings(wmap)
                for drawing in drawn:
                    atomic_write(output / f"{stem}{drawing.suffix}", drawing.data)
                bundle = transaction_bundle(wmap, attachments=drawn, asset_names=assets.names)
                atomic_write(output / f"{stem}.bundle.json", json_chunks(bundle))
        html = review_html(pair, asset_names=assets.names)
        atomic_write(output / "review.html", html.encode("utf-8"))
        atomic_write(output / "review.pdf", html_to_pdf(html))
        click.echo(
            f"wrote into {output}: summary.txt; SVG, PNG, PDF and FHIR bundle of {len(maps)} map(s); "
            "review.html and review.pdf of the review pair"
        )
    click.echo(f"{len(files)} example map(s) valid")


COMMANDS = [validate, demo]
