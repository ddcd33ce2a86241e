"""``wb-fhir assets`` (import, search, suggest, add, show) and ``wb-fhir signposts``: the asset bank and follow-up."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from wb_fhir.assets import (
    Asset,
    AssetDirectory,
    Organisation,
    Place,
    default_directory_path,
    example_directory_path,
    is_asset_directory,
    load_assets,
    local_asset_names,
    parse_opening,
    save_assets,
    user_directory_path,
)
from wb_fhir.assets.directory import ID_PATTERN, asset_to_data
from wb_fhir.assets.duplicates import likely_duplicates
from wb_fhir.assets.followup import FollowUp, FollowUpState, follow_ups, latest_per_person
from wb_fhir.assets.merge import ImportResult, merge_import
from wb_fhir.assets.oruk import DEFAULT_PREFIX, ORUK, read_oruk
from wb_fhir.assets.search import Hit, Query, parse_point, search
from wb_fhir.assets.suggest import by_need, suggest
from wb_fhir.cli._server import collect_server_options, make_client, server_options
from wb_fhir.errors import InputError, Problem
from wb_fhir.mapfile import iter_map_files, load_data, load_map
from wb_fhir.model import WellbeingMap
from wb_fhir.terminology import DAYS_OF_WEEK, AssetCategory, display

CATEGORIES = [c.value for c in AssetCategory]


def _directory_option(help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--assets",
        "assets_path",
        envvar="WB_FHIR_ASSETS",
        type=click.Path(dir_okay=False, path_type=Path),
        help=help_text,
    )


def _read_directory(path: Path | None) -> tuple[AssetDirectory, Path]:
    """The local directory to read: the one named, else the default (see ``wb_fhir.assets.directory``)."""
    where = path or default_directory_path()
    return load_assets(where), where


def _echo_problems(warnings: list[Problem] | tuple[Problem, ...], source: str) -> None:
    for w in warnings:
        click.echo(f"warning: {source}: {w}", err=True)


@click.group()
def assets() -> None:
    """The community asset bank: import, search, suggest, add.

    Without a server the bank is a local YAML directory: --assets FILE (or WB_FHIR_ASSETS),
    else assets.yaml in your data directory once something was imported or added there, else
    the example directory shipped with wb-fhir. With --server (or WB_FHIR_SERVER) it is the
    server's HealthcareServices.
    """


# --- import ------------------------------------------------------------------------------------------


def _report_import(result: ImportResult, where: str, as_json: bool) -> None:
    if as_json:
        click.echo(
            json.dumps(
                {
                    "into": where,
                    "added": list(result.added),
                    "updated": list(result.updated),
                    "unchanged": list(result.unchanged),
                    "withdrawn": list(result.withdrawn),
                },
                indent=2,
            )
        )
        return
    click.echo(
        f"imported into {where}: {len(result.added)} added, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged, {len(result.withdrawn)} withdrawn (made inactive)"
    )


@assets.command("import")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--prefix",
    default=DEFAULT_PREFIX,
    show_default=True,
    help="Start of the asset ids of this feed (PREFIX-service id); give each feed its own.",
)
@_directory_option("Local asset directory to import into (without a server).")
@click.option("--json", "as_json", is_flag=True, help="Print what the import did as JSON.")
@server_options(outbox=False)
@collect_server_options
def import_(source: Path, prefix: str, assets_path: Path | None, as_json: bool, opts: dict[str, Any]) -> None:
    """Import an Open Referral UK directory: SOURCE is ORUK JSON, or its CSV form (a folder or .zip).

    Idempotent: ids are stable (PREFIX-service id), unchanged services stay as they are, changed
    ones are updated, and services of the same feed it no longer lists are withdrawn (inactive).
    Into the server when one is given (only what changed is written, with a Provenance), else
    into the local directory.
    """
    read = read_oruk(source, prefix=prefix)
    _echo_problems(read.warnings, str(source))
    client = make_client(opts)
    if client is not None:
        from wb_fhir.assets.server import upload_import

        result = upload_import(
            client, read.assets, prefix=prefix, recorded=datetime.now(UTC).replace(microsecond=0), source=source.name
        )
        _report_import(result, client.base_url, as_json)
        return
    target = assets_path or user_directory_path()
    current = load_assets(target) if target.exists() else AssetDirectory(())
    result = merge_import(current, read.assets, system=ORUK, prefix=prefix)
    others = [a for a in current if a.id not in {x.id for x in read.assets}]
    for asset in read.assets:
        for dup in likely_duplicates(asset, others):
            click.echo(f"warning: {asset.name!r} ({asset.id}) is likely {dup.asset.id}: {dup.reason}", err=True)
    save_assets(result.directory, target)
    _report_import(result, str(target), as_json)


# --- search ------------------------------------------------------------------------------------------


def _hours(asset: Asset) -> str:
    parts = []
    for o in asset.opening:
        days = ", ".join(d.capitalize() for d in o.days) if len(o.days) < 7 else "every day"
        parts.append(days + (f" {o.opens:%H:%M}-{o.closes:%H:%M}" if o.opens and o.closes else ""))
    return "; ".join(parts)


def _cost(asset: Asset) -> str:
    if asset.free is True:
        return "free"
    return asset.cost or ("costs" if asset.free is False else "")


def _place(asset: Asset) -> str:
    if not asset.places:
        return ""
    p = asset.places[0]
    parts = [x for x in (p.name, p.address, p.town, p.postcode) if x]
    return ", ".join(dict.fromkeys(parts))


def hit_lines(hit: Hit) -> list[str]:
    """A search hit in a few lines of plain text."""
    a = hit.asset
    head = f"{a.name} ({a.id})" + ("" if a.active else " [withdrawn]")
    facts = [", ".join(display(c) for c in a.categories)]
    if hit.distance_km is not None:
        facts.append(f"{hit.distance_km:.1f} km")
    facts += [x for x in (_hours(a), _cost(a)) if x]
    lines = [head, "  " + " · ".join(facts)]
    where = [x for x in (_place(a), a.phone, a.url) if x]
    if where:
        lines.append("  " + " · ".join(where))
    return lines


@assets.command("search")
@click.option("--category", type=click.Choice(CATEGORIES), help="Only assets of this category.")
@click.option("--text", help="Words that must all appear (name, description, kinds of service, place...).")
@click.option("--near", metavar="LAT,LON", help="Only assets within --within km of this point, nearest first.")
@click.option(
    "--within", type=click.FloatRange(min=0, min_open=True), default=5.0, show_default=True, help="Distance in km."
)
@click.option("--open-on", type=click.Choice(DAYS_OF_WEEK), help="Only assets open on this day of the week.")
@click.option("--free", is_flag=True, help="Only free assets.")
@click.option("--all", "include_inactive", is_flag=True, help="Also withdrawn (inactive) assets.")
@click.option("--json", "as_json", is_flag=True, help="Print the assets found as JSON.")
@_directory_option("Local asset directory to search (without a server).")
@server_options(outbox=False)
@collect_server_options
def search_command(
    category: str | None,
    text: str | None,
    near: str | None,
    within: float,
    open_on: str | None,
    free: bool,
    include_inactive: bool,
    as_json: bool,
    assets_path: Path | None,
    opts: dict[str, Any],
) -> None:
    """Find assets by category, words, distance, opening day and cost, in the local directory or on a server."""
    query = Query(
        category=AssetCategory(category) if category else None,
        text=text,
        near=parse_point(near) if near else None,
        within_km=within,
        open_on=open_on,
        free=free,
        include_inactive=include_inactive,
    )
    client = make_client(opts)
    if client is not None:
        from wb_fhir.assets.server import search_server

        hits = search_server(client, query)
        where = client.base_url
    else:
        directory, path = _read_directory(assets_path)
        hits = search(directory, query)
        where = str(path)
    if as_json:
        click.echo(
            json.dumps(
                [{**asset_to_data(h.asset), "distance_km": h.distance_km} for h in hits], indent=2, ensure_ascii=False
            )
        )
        return
    for hit in hits:
        click.echo("\n".join(hit_lines(hit)))
    click.echo(f"{len(hits)} asset(s) found in {where}", err=True)


# --- suggest -----------------------------------------------------------------------------------------


@assets.command("suggest")
@click.argument("map_file", metavar="MAP", type=click.Path(path_type=str))
@click.option("--per-need", type=click.IntRange(min=1), default=3, show_default=True, help="Assets per goal or wish.")
@click.option("--json", "as_json", is_flag=True, help="Print the suggestions as JSON.")
@_directory_option("Local asset directory to suggest from (without a server).")
@server_options(outbox=False)
@collect_server_options
def suggest_command(
    map_file: str, per_need: int, as_json: bool, assets_path: Path | None, opts: dict[str, Any]
) -> None:
    """Rank assets for the goals and wished-for connections of MAP, with the reason for each."""
    wmap = load_map(map_file)
    client = make_client(opts)
    if client is not None:
        from wb_fhir.assets.server import fetch_assets

        pool: list[Asset] = fetch_assets(client, [("active", "true")])
    else:
        pool = list(_read_directory(assets_path)[0])
    found = suggest(wmap, pool, per_need=per_need)
    if as_json:
        click.echo(json.dumps([s.to_json() for s in found], indent=2, ensure_ascii=False))
        return
    if not found:
        click.echo("no suggestions: the map has no open goals or wished-for connections an asset meets")
        return
    for need, items in by_need(found).items():
        click.echo(f"For {need.describe()}:")
        for n, s in enumerate(items, start=1):
            click.echo(f"  {n}. {s.asset.name} ({s.asset.id}), score {s.score}")
            for reason in s.reasons:
                click.echo(f"     - {reason}")


# --- add ---------------------------------------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:64].strip("-")


@assets.command("add")
@click.option("--name", required=True, help="The asset's name.")
@click.option("--by", "who", required=True, help="Who is adding it (your name), recorded with the date.")
@click.option("--id", "asset_id", help="Its id (default: made from the name).")
@click.option("--category", "categories", multiple=True, type=click.Choice(CATEGORIES), help="Category (repeat).")
@click.option("--description", help="What it offers, in a sentence or two.")
@click.option("--organisation", help="Who runs it.")
@click.option("--address", help="Street address, in one line.")
@click.option("--town", help="Town or city.")
@click.option("--postcode", help="Postcode.")
@click.option("--position", metavar="LAT,LON", help="Where it is, in degrees.")
@click.option("--area", help="The area it serves.")
@click.option("--contact", help="How to get in touch, in words.")
@click.option("--phone", help="Phone number.")
@click.option("--email", help="Email address.")
@click.option("--url", help="Web site.")
@click.option("--opening", "openings", multiple=True, help="Opening, e.g. 'mon-fri 09:00-17:00' (repeat).")
@click.option("--opening-notes", help="Opening times in words (monthly, term time...).")
@click.option("--free/--not-free", default=None, help="Whether it is free.")
@click.option("--cost", help="What it costs, in words.")
@click.option("--eligibility", help="Who it is for.")
@click.option("--access", help="Accessibility: step-free, hearing loop, quiet room...")
@click.option("--transport", help="How to get there.")
@click.option("--notes", help="Anything else.")
@click.option("--force", is_flag=True, help="Add it even when it looks like an asset already in the bank.")
@_directory_option("Local asset directory to add to (without a server).")
@server_options(outbox=False)
@collect_server_options
def add_command(
    name: str,
    who: str,
    asset_id: str | None,
    categories: tuple[str, ...],
    position: str | None,
    openings: tuple[str, ...],
    organisation: str | None,
    address: str | None,
    town: str | None,
    postcode: str | None,
    force: bool,
    assets_path: Path | None,
    opts: dict[str, Any],
    **fields: Any,
) -> None:
    """Add an asset to the bank, with who added it and when; likely duplicates are flagged and not added.

    On a server it is written with a Provenance (who, when); locally, added_by and added_on.
    """
    problems: list[Problem] = []
    new_id = asset_id or _slug(name)
    if not ID_PATTERN.match(new_id):
        problems.append(Problem("--id", f"{new_id!r} is not a valid id (letters, digits, '-', '_', '.'; up to 64)"))
    opening = []
    for text in openings:
        try:
            opening.append(parse_opening(text))
        except ValueError as exc:
            problems.append(Problem("--opening", str(exc)))
    lat = lon = None
    if position:
        lat, lon = parse_point(position)
    if problems:
        raise InputError(problems)
    today = date.today()
    place = (
        (Place("main", address=address, town=town, postcode=postcode, latitude=lat, longitude=lon),)
        if any((address, town, postcode, position))
        else ()
    )
    asset = Asset(
        id=new_id,
        name=name.strip(),
        categories=tuple(AssetCategory(c) for c in categories) or (AssetCategory.OTHER,),
        organisation=Organisation(_slug(organisation) or "organisation", organisation) if organisation else None,
        places=place,
        opening=tuple(opening),
        checked=today,
        added_by=who,
        added_on=today,
        **fields,
    )
    client = make_client(opts)
    if client is not None:
        from wb_fhir.assets.server import fetch_assets, write_assets

        bank: list[Asset] = fetch_assets(client)
        where = client.base_url
    else:
        where_path = assets_path or user_directory_path()
        local = load_assets(where_path) if where_path.exists() else AssetDirectory(())
        bank = list(local)
        where = str(where_path)
    if any(a.id == asset.id for a in bank):
        raise InputError(f"the bank already has an asset {asset.id!r}: give another --id", where)
    duplicates = likely_duplicates(asset, bank)
    for dup in duplicates:
        click.echo(f"likely duplicate: {dup.asset.name!r} ({dup.asset.id}): {dup.reason}", err=True)
    if duplicates and not force:
        raise InputError("not added: it looks like an asset already in the bank (add it anyway with --force)", where)
    if client is not None:
        write_assets(client, [asset], recorded=datetime.now(UTC).replace(microsecond=0), who=who)
    else:
        save_assets(AssetDirectory((*bank, asset)), where_path)
    click.echo(f"added {asset.name!r} as {asset.id} to {where} (by {who}, {today.isoformat()})")


# --- show --------------------------------------------------------------------------------------------


@assets.command("where")
def where_command() -> None:
    """Say which local asset directory the commands use, and where imports and additions go."""
    reading = default_directory_path()
    writing = user_directory_path()
    shipped = " (the example directory shipped with wb-fhir)" if reading == example_directory_path() else ""
    click.echo(f"reading: {reading}{shipped}")
    click.echo(f"imports and additions go to: {writing}")


# --- sign-posts ----------------------------------------------------------------------------------------

_STATE_WORDS = {
    FollowUpState.FOLLOWED_UP: "followed up",
    FollowUpState.OPEN: "open",
    FollowUpState.DUE: "due",
    FollowUpState.OVERDUE: "OVERDUE",
}


@click.command()
@click.argument("maps", nargs=-1, type=click.Path(path_type=str))
@click.option("--due", is_flag=True, help="Only sign-posts due or overdue (not yet followed up).")
@click.option("--on", "on_day", type=click.DateTime(["%Y-%m-%d"]), help="The day to judge by (default: today).")
@click.option("--show-personal", is_flag=True, help="Also show the person's NHS number and name.")
@click.option("--json", "as_json", is_flag=True, help="Print the sign-posts as JSON.")
@_directory_option("Local asset directory, for the assets' names.")
@server_options(outbox=False)
@collect_server_options
def signposts(
    maps: tuple[str, ...],
    due: bool,
    on_day: datetime | None,
    show_personal: bool,
    as_json: bool,
    assets_path: Path | None,
    opts: dict[str, Any],
) -> None:
    """List sign-posts and their follow-up: from the maps given (each person's newest), or a server's caseload.

    Followed up means attended or declined; an open sign-post is due on its follow-up date (or
    28 days after its last step) and overdue after it. With --due, only those due or overdue.
    """
    on = on_day.date() if on_day else date.today()
    names = dict(load_assets(assets_path).names) if assets_path else local_asset_names()
    client = make_client(opts)
    rows: list[FollowUp] = []
    if maps:
        loaded: list[tuple[Path, WellbeingMap]] = []
        problems: list[str] = []
        for path in iter_map_files(maps):
            if is_asset_directory(load_data(path)):
                continue
            try:
                loaded.append((path, load_map(path)))
            except InputError as exc:
                problems.append(str(exc))
        if problems:
            raise InputError("\n".join(problems))
        newest = {id(m): p for p, m in loaded}
        for wmap in latest_per_person(m for _, m in loaded):
            rows += follow_ups(wmap, on=on, asset_names=names, where=str(newest[id(wmap)]))
    elif client is not None:
        from wb_fhir.assets.server import caseload_follow_ups

        rows = caseload_follow_ups(client, on=on, asset_names=names)
    else:
        raise InputError("give map files or folders, or a FHIR server (--server URL or WB_FHIR_SERVER)")
    if due:
        rows = [r for r in rows if r.state in (FollowUpState.DUE, FollowUpState.OVERDUE)]
    rows.sort(key=lambda r: (r.state is not FollowUpState.OVERDUE, r.due or date.max, r.where))
    if as_json:
        click.echo(json.dumps([r.to_json(personal=show_personal) for r in rows], indent=2, ensure_ascii=False))
        return
    for r in rows:
        who = f" [{r.nhs_number or ''} {r.person or ''}]".replace("[ ", "[").replace(" ]", "]") if show_personal else ""
        click.echo(f"{_STATE_WORDS[r.state]:<11}  {r.line()}  ({r.where}){who}")
    overdue = sum(r.state is FollowUpState.OVERDUE for r in rows)
    followed = sum(r.state is FollowUpState.FOLLOWED_UP for r in rows)
    click.echo(f"{len(rows)} sign-post(s): {followed} followed up, {overdue} overdue (on {on.isoformat()})", err=True)


COMMANDS = [assets, signposts]
