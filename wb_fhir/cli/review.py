"""``wb-fhir diff``, ``review`` (and ``review start``) and ``prefill``: maps over time."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from wb_fhir._files import atomic_write
from wb_fhir.assets import load_assets
from wb_fhir.cli._common import patient_option
from wb_fhir.cli._server import collect_server_options, echo_record_warnings, needs_client, server_options
from wb_fhir.errors import InputError, Problem
from wb_fhir.mapfile import dumps_map, load_map

if TYPE_CHECKING:
    from wb_fhir.model import WellbeingMap


def _load_all(paths: tuple[str, ...]) -> list[WellbeingMap]:
    """Every map, collecting the problems of all files before giving up."""
    maps: list[WellbeingMap] = []
    errors: list[InputError] = []
    for p in paths:
        try:
            maps.append(load_map(p))
        except InputError as exc:
            errors.append(exc)
    if errors:
        raise InputError([problem for e in errors for problem in _with_source(e)])
    return maps


def _with_source(exc: InputError) -> list[Problem]:
    return [Problem(f"{exc.source}: {p.path}" if p.path else str(exc.source), p.message) for p in exc.problems]


@click.command()
@click.argument("old", type=click.Path(path_type=str))
@click.argument("new", type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
def diff(old: str, new: str, as_json: bool) -> None:
    """Show what changed between two maps of the same person (oldest first, whatever the order given)."""
    from wb_fhir.review.compare import compare_pair
    from wb_fhir.review.text import format_changes

    a, b = _load_all((old, new))
    changes = compare_pair(a, b, names=(old, new))
    if as_json:
        click.echo(json.dumps(changes.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(format_changes(changes), nl=False)


def _parse_date(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"--date: {value!r} is not a date (YYYY-MM-DD)") from None


def _write_new(path: Path, data: bytes, force: bool) -> None:
    if path.exists() and not force:
        raise InputError("already exists (use --force to overwrite it)", str(path))
    atomic_write(path, data)


class DefaultGroup(click.Group):
    """A group that runs its default sub-command when the first argument names none of its own.

    ``review OLD NEW -o OUT`` is ``review summary OLD NEW -o OUT``; ``review start ...`` is the
    sub-command ``start``.
    """

    default = "summary"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [self.default, *args]
        return super().parse_args(ctx, args)


@click.group(cls=DefaultGroup)
def review() -> None:
    """Review maps over time: the review summary, or the next map to start a review with.

    \b
    wb-fhir review OLD NEW [MORE...] -o OUT.html|OUT.pdf   the summary (same as 'review summary')
    wb-fhir review start PREVIOUS -o NEXT.yaml              the next map, pre-filled from PREVIOUS
    """


@review.command("summary")
@click.argument("maps", nargs=-1, required=True, metavar="OLD NEW [MORE...]")
@click.option("-o", "--output", required=True, help="Where to write the summary (.html or .pdf).")
@click.option(
    "--assets",
    "assets_file",
    type=click.Path(path_type=str),
    help="Community asset directory to name sign-posts from (default: the local asset bank).",
)
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
def review_summary(maps: tuple[str, ...], output: str, force: bool, assets_file: str | None) -> None:
    """The review summary of OLD NEW [MORE...]: maps side by side, changes, goals, measures.

    \b
    wb-fhir review OLD.yaml NEW.yaml -o summary.html   (or 'review summary ...')
    wb-fhir review OLD.yaml NEW.yaml -o summary.pdf    the same, printable on A4
    """
    from wb_fhir.review.summary import html_to_pdf, review_html

    if len(maps) < 2:
        raise click.UsageError("a review needs at least two maps: review OLD NEW [MORE...] -o OUT.html")
    out = Path(output)
    suffix = out.suffix.lower()
    if suffix not in (".html", ".htm", ".pdf"):
        raise InputError("the review summary is written as .html or .pdf", output)
    loaded = _load_all(maps)
    names = dict(load_assets(assets_file).names) if assets_file else None
    html = review_html(loaded, names=maps, asset_names=names)
    data = html_to_pdf(html) if suffix == ".pdf" else html.encode("utf-8")
    _write_new(out, data, force)
    click.echo(f"wrote {out}: review of {len(loaded)} maps")


@review.command("start")
@click.argument("previous", metavar="PREVIOUS")
@click.option("-o", "--output", required=True, help="Where to write the next map (.yaml, .yml or .json).")
@click.option("--date", "when", help="Date of the next map (YYYY-MM-DD; default today).")
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
def review_start(previous: str, output: str, when: str | None, force: bool) -> None:
    """Write the next map, pre-filled from PREVIOUS (same ids, open goals and sign-posts)."""
    from wb_fhir.review.carry import carry_forward

    out = Path(output)
    if out.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise InputError("the next map is written as .yaml, .yml or .json", output)
    last = load_map(previous)
    carried = carry_forward(last, _parse_date(when))
    fmt = "json" if out.suffix.lower() == ".json" else "yaml"
    _write_new(out, dumps_map(carried.map, fmt).encode("utf-8"), force)
    click.echo(f"wrote {out}: map of {carried.map.date}, started from the map of {last.date}")
    if carried.closed_goals or carried.closed_signposts:
        click.echo(
            f"not carried (closed at the last review): {len(carried.closed_goals)} goal(s), "
            f"{len(carried.closed_signposts)} sign-post(s)"
        )


@click.command()
@patient_option
@click.option("-o", "--output", required=True, help="Where to write the draft map (.yaml or .json).")
@click.option("--date", "when", help="Date of the draft map (YYYY-MM-DD; default today).")
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
@server_options(outbox=False)
@collect_server_options
def prefill(patient: str, output: str, when: str | None, force: bool, opts: dict[str, Any]) -> None:
    """Draft a map from the care record: its people, and the latest map if there is one.

    Family and carers (RelatedPerson) and the care team's practitioners (CareTeam) become
    connections to confirm with the person. When the record holds a map already, the newest
    is carried forward (as 'review start' does) and only the people it lacks are added.
    """
    from wb_fhir.review.prefill import prefill as draft_from_record

    out = Path(output)
    if out.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise InputError("the draft map is written as .yaml, .yml or .json", output)
    if out.exists() and not force:
        raise InputError("already exists (use --force to overwrite it)", str(out))
    on = _parse_date(when)
    client = needs_client(opts)
    result = draft_from_record(client, patient, on)
    if result.warnings:
        from wb_fhir.bundles import map_bundle

        echo_record_warnings(client, result.warnings, map_bundle(result.map, ()))
    fmt = "json" if out.suffix.lower() == ".json" else "yaml"
    _write_new(out, dumps_map(result.map, fmt).encode("utf-8"), force)
    if result.started_from is None:
        click.echo(f"wrote {out}: draft with {result.added} connection(s) to confirm with the person")
    else:
        click.echo(
            f"wrote {out}: map of {result.map.date}, started from the map of {result.started_from} in the record, "
            f"with {result.added} new connection(s) from the record to confirm with the person"
        )


COMMANDS = [diff, review, prefill]
