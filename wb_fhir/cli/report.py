"""``wb-fhir report`` and ``wb-fhir export``: population measures and the research export."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from wb_fhir._files import atomic_write
from wb_fhir.cli._server import collect_server_options, make_client, server_options
from wb_fhir.errors import InputError
from wb_fhir.report import (
    Dataset,
    Pseudonyms,
    measure_population,
    ndjson_dataset,
    open_engine,
    read_population,
    report_csv,
    report_html,
    report_json,
    research_export,
    split_sources,
    stage_map_files,
    summary_lines,
)
from wb_fhir.report.engines import ENGINES
from wb_fhir.report.export import FORMATS
from wb_fhir.review import html_to_pdf

REPORT_SUFFIXES = (".html", ".pdf", ".csv")


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


@contextmanager
def _workdir() -> Iterator[Path]:
    # Staged maps are mental health records: a private folder, removed afterwards.
    with tempfile.TemporaryDirectory(prefix="wb-fhir-report-") as name:
        yield Path(name)


def _gather(
    ctx: click.Context, sources: tuple[str, ...], opts: dict[str, Any], group: str | None, read_by: str, work: Path
) -> Dataset:
    """Every source as NDJSON: map files staged, NDJSON as it is, the server read."""
    from_env = ctx.get_parameter_source("server") is click.core.ParameterSource.ENVIRONMENT
    use_server = bool(opts.get("server")) and not (from_env and sources)
    if not sources and not use_server:
        raise InputError("nothing to report on: give map files, folders, NDJSON files or --server URL")
    if group and not use_server:
        raise InputError("--group names a Group on a server: give --server URL too")
    ndjson, maps = split_sources(sources)
    dataset = ndjson_dataset(ndjson) + stage_map_files(maps, work)
    if use_server:
        client = make_client(opts)
        assert client is not None
        fetched = work / "server"
        fetched.mkdir(mode=0o700)
        read = read_population(client, fetched, group=group, method=read_by, progress=lambda m: click.echo(m, err=True))
        click.echo(f"read {read.resources} resource(s) from the server by {read.method}", err=True)
        dataset = dataset + read.dataset
    return dataset


_since = click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only maps from this date on (YYYY-MM-DD).")
_until = click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Only maps up to this date (YYYY-MM-DD).")
_engine = click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default="duckdb",
    show_default=True,
    help="DuckDB in this process, or Spark (local, or WB_FHIR_SPARK_MASTER) for a whole system.",
)
_group = click.option("--group", help="With --server: only the maps of this Group's members (a caseload).")
_read_by = click.option(
    "--read-by",
    type=click.Choice(["auto", "export", "search"]),
    default="auto",
    show_default=True,
    help="With --server: Bulk Data $export, paged search, or $export when the server offers it.",
)


@click.command()
@click.argument("sources", nargs=-1, type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object (stable keys).")
@click.option("-o", "--output", help="Write the report as FILE.html, FILE.pdf or FILE.csv.")
@_since
@_until
@click.option(
    "--no-suppression",
    is_flag=True,
    help="Exact counts, for a team's own audit (printed on the report); never for publication.",
)
@_engine
@_group
@_read_by
@server_options(outbox=False)
@collect_server_options
@click.pass_context
def report(
    ctx: click.Context,
    sources: tuple[str, ...],
    as_json: bool,
    output: str | None,
    since: datetime | None,
    until: datetime | None,
    no_suppression: bool,
    engine: str,
    group: str | None,
    read_by: str,
    opts: dict[str, Any],
) -> None:
    """The study's measures over a caseload: map files or folders, Bulk Data NDJSON or Parquet, or --server.

    Each person counts once, by their latest map. Disclosure control is on by default (NHS
    Digital's rule: counts 1 to 7 suppressed, others rounded to the nearest 5).
    """
    if output and Path(output).suffix.lower() not in REPORT_SUFFIXES:
        raise InputError("the report is written as .html, .pdf or .csv", output)
    with _workdir() as work:
        dataset = _gather(ctx, sources, opts, group, read_by, work)
        measures = measure_population(dataset, work, engine=engine, since=_day(since), until=_day(until))
    published = report_json(measures, suppress=not no_suppression)
    if output:
        suffix = Path(output).suffix.lower()
        if suffix == ".csv":
            data = report_csv(published).encode("utf-8")
        else:
            html = report_html(published)
            data = html.encode("utf-8") if suffix == ".html" else html_to_pdf(html)
        atomic_write(Path(output), data)
        click.echo(f"wrote {output}", err=as_json)
    if as_json:
        click.echo(json.dumps(published, indent=2, ensure_ascii=False))
    elif not output:
        click.echo("\n".join(summary_lines(published)))


SECRET_ENV = "WB_FHIR_EXPORT_SECRET"  # noqa: S105 - the name of the env var, not a secret


def _secret(secret_file: Path | None) -> bytes:
    if secret_file is not None:
        return secret_file.read_bytes()
    value = os.environ.get(SECRET_ENV)
    if not value:
        raise InputError(
            f"the export needs a secret for its pseudonyms: --secret-file FILE or the {SECRET_ENV} env "
            "(keep it: the same secret gives the same pseudonyms in a later export)"
        )
    return value.encode("utf-8")


@click.command("export")
@click.argument("sources", nargs=-1, type=click.Path(path_type=str))
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="What to write.")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help="New folder for the export.")
@click.option(
    "--secret-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=f"File holding the secret of the keyed-hash pseudonyms (or the {SECRET_ENV} env; 16 bytes or more).",
)
@click.option("--keep-labels", is_flag=True, help="Also export connection labels (they can identify people).")
@_since
@_until
@_engine
@_group
@_read_by
@server_options(outbox=False)
@collect_server_options
@click.pass_context
def export(
    ctx: click.Context,
    sources: tuple[str, ...],
    fmt: str,
    output: Path,
    secret_file: Path | None,
    keep_labels: bool,
    since: datetime | None,
    until: datetime | None,
    engine: str,
    group: str | None,
    read_by: str,
    opts: dict[str, Any],
) -> None:
    """De-identified research export of maps, connections and ties: CSV, GraphML or Network Canvas CSV.

    People, maps and connections get keyed-hash pseudonyms (HMAC-SHA256 with your secret); no
    NHS number, name or connection id is written, and labels only with --keep-labels. A data
    dictionary (dictionary.csv) describes every column.
    """
    names = Pseudonyms(_secret(secret_file))
    if since and until and since > until:
        raise InputError(f"the period is empty: {since.date()} is after {until.date()}")
    with _workdir() as work:
        dataset = _gather(ctx, sources, opts, group, read_by, work)
        with open_engine(engine, work, dataset) as loaded:
            result = research_export(
                loaded.stream, output, fmt, names, keep_labels=keep_labels, since=_day(since), until=_day(until)
            )
    click.echo(
        f"wrote {result.folder}: {result.maps} map(s), {result.connections} connection(s), {result.ties} tie(s) "
        f"({', '.join(result.files)})"
    )


COMMANDS = [report, export]
