"""``wb-fhir validate`` and ``wb-fhir demo``: check map files and show what they hold."""

from __future__ import annotations

import json
from pathlib import Path

import click

from wb_fhir._files import atomic_write
from wb_fhir._resources import data_dir
from wb_fhir.assets import assets_from_data, is_asset_directory, load_assets
from wb_fhir.cli._common import map_paths
from wb_fhir.errors import InputError
from wb_fhir.mapfile import iter_map_files, load_data, load_map, map_from_data
from wb_fhir.measures import measure
from wb_fhir.model import WellbeingMap
from wb_fhir.terminology import Kind


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
    assets = load_assets(assets_file).ids if assets_file else None
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
                    click.echo(f"{path}: {p}", err=True)
            continue
        report.append({"file": str(path), "valid": True, "problems": []})
        if not as_json:
            click.echo(f"ok  {path}: {line}")
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    bad = sum(1 for r in report if not r["valid"])
    if bad:
        if not as_json:
            click.echo(f"{bad} of {len(report)} file(s) have problems", err=True)
        raise click.exceptions.Exit(2)


def _check_file(path: Path, assets: frozenset[str] | None) -> str:
    data = load_data(path)
    if is_asset_directory(data):
        return f"community asset directory, {len(assets_from_data(data, str(path)).assets)} asset(s)"
    return _one_line(map_from_data(data, source=str(path), assets=assets))


def _one_line(wmap: WellbeingMap) -> str:
    m = measure(wmap)
    return (
        f"{wmap.date}, {m.size} current connection(s) "
        f"({m.by_kind[Kind.PERSON]} people, {m.by_kind[Kind.PLACE]} places, {m.by_kind[Kind.ACTIVITY]} activities), "
        f"{len(wmap.goals)} goal(s)"
    )


def summary(wmap: WellbeingMap) -> str:
    """A few lines a practitioner would want to know about a map."""
    m = measure(wmap)
    share = f"{m.family_or_home_share:.0%}" if m.family_or_home_share is not None else "n/a"
    home = f"{m.time_at_home}%" if m.time_at_home is not None else "not recorded"
    rings = ", ".join(f"{label} {m.by_ring.get(i + 1, 0)}" for i, label in enumerate(wmap.rings))
    statuses = ", ".join(f"{n} {s.value}" for s, n in m.by_status.items())
    return "\n".join(
        [
            f"  {m.size} current connection(s): {m.by_kind[Kind.PERSON]} people, "
            f"{m.by_kind[Kind.PLACE]} places, {m.by_kind[Kind.ACTIVITY]} activities ({statuses})",
            f"  by ring: {rings}",
            f"  impact: {m.positive} positive, {m.negative} negative, {m.mixed} mixed",
            f"  practitioner in inner circle: {'yes' if m.practitioner_in_inner_circle else 'no'}; "
            f"family or home based: {share}; waking time at home: {home}",
            f"  {len(wmap.goals)} goal(s), {len(wmap.signposts)} sign-post(s)",
        ]
    )


@click.command()
@click.option(
    "-o", "--output", "output", type=click.Path(file_okay=False, path_type=Path), help="Folder for the demo's outputs."
)
def demo(output: Path | None) -> None:
    """Validate and summarise the built-in example maps (no server needed).

    With -o DIR, also write each example's map as SVG, PNG and PDF into DIR.
    """
    from wb_fhir.render import FORMATS, render

    examples = data_dir("examples")
    assets = load_assets(examples / "assets.yaml")
    files = [p for p in iter_map_files([examples]) if not is_asset_directory(load_data(p))]
    texts = []
    maps = []
    for path in files:
        wmap = load_map(path, assets=assets.ids)
        maps.append((path, wmap))
        texts.append(f"{path.relative_to(examples)} ({wmap.display_name}, {wmap.date})\n{summary(wmap)}")
    click.echo("\n".join(texts))
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
        atomic_write(output / "summary.txt", ("\n".join(texts) + "\n").encode("utf-8"))
        click.echo(f"wrote {output / 'summary.txt'}")
        for path, wmap in maps:
            stem = "-".join(path.relative_to(examples).with_suffix("").parts)
            for fmt, (_, suffix) in FORMATS.items():
                atomic_write(output / f"{stem}{suffix}", render(wmap, fmt))
        click.echo(f"wrote SVG, PNG and PDF of {len(maps)} map(s) into {output}")
    click.echo(f"{len(files)} example map(s) valid")


COMMANDS = [validate, demo]
