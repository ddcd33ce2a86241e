"""``wb-fhir push``, ``pull``, ``outbox`` and ``check``: talking to FHIR servers."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from wb_fhir._files import atomic_write
from wb_fhir.cli._advice import with_advice
from wb_fhir.cli._common import drawing_options, map_paths, patient_option
from wb_fhir.cli._server import collect_server_options, make_client, needs_client, server_options
from wb_fhir.errors import InputError
from wb_fhir.sync.outbox import DAMAGED, Item, Outbox, repair
from wb_fhir.sync.scrub import printable

if TYPE_CHECKING:
    from wb_fhir.sync.client import FhirClient
    from wb_fhir.sync.push import FlushReport

log = logging.getLogger(__name__)


def _report_flush(report: FlushReport, outbox: Outbox, as_json: bool) -> None:
    created, updated, unchanged = report.totals
    if as_json:
        click.echo(
            json.dumps(
                {
                    "sent": [r.__dict__ for r in report.sent],
                    "failed": [f.__dict__ for f in report.failed],
                    "waiting": report.waiting,
                    "resources": {"created": created, "updated": updated, "unchanged": unchanged},
                },
                indent=2,
            )
        )
    else:
        if report.sent:
            click.echo(
                f"sent {len(report.sent)} map(s): {created} resource(s) created, {updated} updated, "
                f"{unchanged} unchanged"
            )
        for failure in report.failed:
            state = "still waiting in the outbox" if failure.kept else "failed (see 'wb-fhir outbox list')"
            message = with_advice(failure.message, failure.setting)
            click.echo(f"outbox item {failure.item_id} ({failure.map_date}): {state}\n{message}", err=True)
        if report.waiting:
            click.echo(f"{report.waiting} map(s) wait in the outbox {outbox.path}", err=True)
    for bad in outbox.quarantined:
        click.echo(
            f"outbox item {bad.id} cannot be read back ({bad.reason}): quarantined, not sent; the rest was sent. "
            "'wb-fhir outbox list' shows it, 'wb-fhir outbox drop' forgets it",
            err=True,
        )
    if report.failed or outbox.quarantined:
        raise click.exceptions.Exit(1)


class _Progress:
    """A bar with the count, the rate and the time left, on a terminal only (a log or a pipe gets nothing)."""

    def __init__(self, total: int, label: str) -> None:
        self._start = time.monotonic()
        self._done = 0
        self._bar = (
            click.progressbar(
                length=total,
                label=label,
                file=sys.stderr,
                show_eta=True,
                show_pos=True,
                item_show_func=lambda rate: rate,
            )
            if total > 1 and sys.stderr.isatty()
            else None
        )

    def __enter__(self) -> _Progress:
        if self._bar is not None:
            self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)

    def step(self, _item: object = None) -> None:
        self._done += 1
        if self._bar is not None:
            elapsed = max(time.monotonic() - self._start, 1e-6)
            self._bar.update(1, f"{self._done / elapsed:.1f} maps/s")


def _flush_with_progress(
    client: FhirClient,
    outbox: Outbox,
    opts: dict[str, Any],
    force: bool,
    jobs: int,
    items: Iterator[int] | None = None,
    total: int | None = None,
) -> FlushReport:
    from wb_fhir.sync.push import flush

    count = outbox.count() if total is None else total
    with _Progress(count, "pushing maps") as bar:
        return flush(
            client,
            outbox,
            force=force,
            progress=bar.step,
            jobs=min(jobs, max(count, 1)),
            connect=lambda: needs_client(opts),
            items=items,
        )


jobs_option = click.option(
    "--jobs",
    type=click.IntRange(1, 16),
    default=4,
    show_default=True,
    envvar="WB_FHIR_JOBS",
    help="Transactions sent at once (one person's maps always go one after another, in order).",
)


@click.command()
@map_paths
@server_options()
@click.option("--force", is_flag=True, help="Overwrite a plan or goals someone else changed (after checking!).")
@drawing_options
@jobs_option
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@collect_server_options
def push(
    maps: tuple[str, ...], opts: dict[str, Any], force: bool, formats: tuple[str, ...], jobs: int, as_json: bool
) -> None:
    """Push maps (files or folders) to the FHIR server, through the outbox.

    Each map is stored in the outbox first, then sent as one transaction (with anything
    already waiting there, oldest first). Without a server the maps wait in the outbox.
    Maps are read, drawn, stored and sent one at a time (--jobs at once), so memory stays
    the same for ten maps or ten thousand.
    """
    from wb_fhir.bundles import map_bundle
    from wb_fhir.mapfile import iter_map_files, load_map

    paths = list(iter_map_files(maps))
    problems: list[str] = []
    for path in paths:  # every file checked before one is queued: bad input queues nothing
        try:
            load_map(path)
        except InputError as exc:
            problems.append(str(exc))
    if problems:
        raise InputError("\n".join(problems))
    if not paths:
        raise InputError("no map files found in the paths given")
    client = make_client(opts)
    with Outbox(opts["outbox_path"]) as outbox:

        def queued() -> Iterator[int]:
            for path in paths:
                wmap = load_map(path)
                yield outbox.store(map_bundle(wmap, formats), map_id=wmap.id, map_date=wmap.date.isoformat())

        if client is None:
            with _Progress(len(paths), "storing maps in the outbox") as bar:
                for _ in queued():
                    bar.step()
            click.echo(
                f"no FHIR server configured: {len(paths)} map(s) stored in the outbox {outbox.path}; "
                "they wait there until 'wb-fhir outbox flush --server URL'"
            )
            return
        waiting = outbox.pending_ids()
        report = _flush_with_progress(
            client, outbox, opts, force, jobs, chain(waiting, queued()), total=len(waiting) + len(paths)
        )
        _report_flush(report, outbox, as_json)


@click.command()
@patient_option
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only maps from this date on (YYYY-MM-DD).")
@server_options()
@collect_server_options
def pull(patient: str, output: Path, since: datetime | None, opts: dict[str, Any]) -> None:
    """Pull every map of a person, their plan and goals from the FHIR server into a folder."""
    from wb_fhir.sync.pull import pull as pull_person

    client = needs_client(opts)
    with Outbox(opts["outbox_path"]) as outbox:
        report = pull_person(client, outbox, patient, output, since=since.date() if since else None)
    for warning in report.warnings:
        click.echo(f"warning: {printable(client.scrub(warning))}", err=True)
    click.echo(
        f"wrote {len(report.maps)} map(s), {'a plan' if report.plan else 'no plan'} and "
        f"{len(report.goals)} goal(s) to {output}"
    )


@click.group()
def outbox() -> None:
    """Work waiting to be sent to the FHIR server."""


def _subject(item: Item) -> tuple[str, str]:
    for entry in item.bundle.get("entry", []):
        resource = entry.get("resource", {})
        if resource.get("resourceType") == "QuestionnaireResponse":
            subject = resource.get("subject", {})
            ref = str(subject.get("reference", "")) or str(subject.get("identifier", {}).get("value", ""))
            return ref.rsplit("|", 1)[-1], str(subject.get("display", ""))
    return "", ""


@outbox.command("list")
@click.option("--outbox", "outbox_path", envvar="WB_FHIR_OUTBOX", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--show-personal", is_flag=True, help="Also show the person's NHS number and name.")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def outbox_list(outbox_path: Path | None, show_personal: bool, as_json: bool) -> None:
    """List the outbox: id, state, attempts, created, map date, last error."""
    with Outbox(outbox_path) as box:
        items = box.items()
        rows = []
        for item in items:
            row: dict[str, Any] = {
                "id": item.id,
                "state": item.state.value,
                "attempts": item.attempts,
                "created": item.created,
                "map_date": item.map_date,
                "last_error": (item.last_error or "").split("\n")[0],
            }
            if show_personal:
                row["patient"], row["name"] = _subject(item)
            rows.append(row)
        if as_json:
            click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
            return
        if not rows:
            click.echo(f"the outbox {box.path} is empty")
            return
        cols = list(rows[0])
        widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols if c != "last_error"}
        click.echo("  ".join(c.ljust(widths.get(c, 0)) for c in cols).rstrip())
        for r in rows:
            click.echo("  ".join(str(r[c]).ljust(widths.get(c, 0)) for c in cols).rstrip())


@outbox.command("flush")
@server_options()
@click.option("--force", is_flag=True, help="Overwrite a plan or goals someone else changed.")
@jobs_option
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@collect_server_options
def outbox_flush(opts: dict[str, Any], force: bool, jobs: int, as_json: bool) -> None:
    """Send everything pending, oldest first."""
    client = needs_client(opts)
    with Outbox(opts["outbox_path"]) as box:
        if not box.count() and not box.quarantined:
            click.echo("nothing pending in the outbox")
            return
        _report_flush(_flush_with_progress(client, box, opts, force, jobs), box, as_json)


@outbox.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--outbox", "outbox_path", envvar="WB_FHIR_OUTBOX", type=click.Path(dir_okay=False, path_type=Path))
def outbox_retry(ids: tuple[int, ...], outbox_path: Path | None) -> None:
    """Put failed items (all, or those IDS) back to pending; 'outbox flush' sends them."""
    with Outbox(outbox_path) as box:
        moved = box.retry(ids or None)
    click.echo(f"{moved} item(s) pending again")


@outbox.command("drop")
@click.argument("ids", nargs=-1, type=int, required=True)
@click.option("--outbox", "outbox_path", envvar="WB_FHIR_OUTBOX", type=click.Path(dir_okay=False, path_type=Path))
def outbox_drop(ids: tuple[int, ...], outbox_path: Path | None) -> None:
    """Delete items from the outbox for good (they will not be sent)."""
    with Outbox(outbox_path) as box:
        dropped = box.drop(ids)
    click.echo(f"dropped {dropped} item(s)")


@outbox.command("check")
@click.option(
    "--repair", "repair_it", is_flag=True, help="Quarantine unreadable items; move a damaged file aside for a new one."
)
@click.option("--outbox", "outbox_path", envvar="WB_FHIR_OUTBOX", type=click.Path(dir_okay=False, path_type=Path))
def outbox_check(repair_it: bool, outbox_path: Path | None) -> None:
    """Check the outbox: the database file, and every item can be read back and sent.

    Exit 0 when all is sound, 2 when something needs --repair. With --repair, unreadable items
    are quarantined (kept, never sent) and a damaged database file is renamed
    (outbox.sqlite.damaged-DATE) for a new outbox holding every item that could still be read.
    """
    if repair_it:
        done = repair(outbox_path)
        if done.moved_to is not None:
            click.echo(
                f"the damaged outbox was moved aside to {done.moved_to}; the new outbox holds the "
                f"{done.items} item(s) and {done.versions} version record(s) that could be read from it"
            )
        for bad in done.quarantined:
            click.echo(f"item {bad.id} quarantined: {bad.reason}")
        if done.moved_to is None and not done.quarantined:
            click.echo("nothing to repair")
        return
    try:
        box = Outbox(outbox_path)
    except InputError as exc:
        if exc.setting != DAMAGED:
            raise
        raise InputError(f"{exc}\nnothing was changed; 'wb-fhir outbox check --repair' moves it aside") from None
    with box:
        health = box.check()
    counts = ", ".join(f"{n} {state}" for state, n in sorted(health.counts.items())) or "no items"
    click.echo(f"the outbox {health.path}: {counts}")
    for problem in health.integrity[:20]:
        click.echo(f"damaged: {problem}")
    for bad in health.unreadable:
        click.echo(f"item {bad.id} cannot be sent: {bad.reason}")
    for bad in health.quarantined:
        click.echo(f"item {bad.id} is quarantined ({bad.reason}): 'wb-fhir outbox drop {bad.id}' forgets it")
    if not health.ok:
        raise InputError("the outbox needs repair: run 'wb-fhir outbox check --repair' (nothing is deleted)")
    click.echo("sound")


@click.command()
@server_options(server_required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Also write JUnit XML here.")
@click.option("--allow-writes", is_flag=True, help="Run the checks that write (and then delete) test data.")
@click.option("--test-patient", help="NHS number of an existing test patient (for --allow-writes).")
@collect_server_options
def check(
    opts: dict[str, Any], as_json: bool, junit: Path | None, allow_writes: bool, test_patient: str | None
) -> None:
    """Check whether a FHIR server can carry wb_fhir; exits 1 when a check fails."""
    from wb_fhir.conformance.packages import wb_fhir_package
    from wb_fhir.sync.check import WRITES_NOT_ALLOWED, Outcome, junit_xml, run_checks

    client = needs_client(opts)
    ours = wb_fhir_package()
    results = run_checks(client, conformance=ours.resources, allow_writes=allow_writes, test_patient=test_patient)
    if junit is not None:
        atomic_write(junit, junit_xml(results, client.base_url))
    if as_json:
        click.echo(json.dumps({"server": client.base_url, "checks": [r.as_dict() for r in results]}, indent=2))
    else:
        width = max(len(r.name) for r in results)
        click.echo(f"{'check'.ljust(width)}  result  detail")
        for r in results:
            click.echo(f"{r.name.ljust(width)}  {r.outcome.value.upper().ljust(6)}  {r.detail}")
        tally = {o: sum(r.outcome is o for r in results) for o in Outcome}
        click.echo(f"checks: {tally[Outcome.PASS]} pass, {tally[Outcome.FAIL]} fail, {tally[Outcome.SKIP]} skip")
        if any(r.detail == WRITES_NOT_ALLOWED for r in results):
            click.echo("the checks that write run with --allow-writes --test-patient NHS (an existing test patient)")
    if any(r.outcome is Outcome.FAIL for r in results):
        raise click.exceptions.Exit(1)


COMMANDS = [push, pull, outbox, check]
