"""``wb-fhir bundle``, ``extract`` and ``populate``: map to FHIR and back, and a response to fill in."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from wb_fhir._files import atomic_write, json_chunks
from wb_fhir.assets import local_asset_names
from wb_fhir.bundles import map_bundle
from wb_fhir.cli._common import drawing_options, patient_option
from wb_fhir.cli._server import (
    collect_server_options,
    echo_record_warnings,
    make_client,
    needs_client,
    server_options,
)
from wb_fhir.errors import InputError, Problem, ServerError
from wb_fhir.fhir import extract_map, populate_from_server, questionnaire_response_of
from wb_fhir.mapfile import load_fhir_data, load_map, save_map

if TYPE_CHECKING:
    from wb_fhir.sync.client import FhirClient


@click.command()
@click.argument("map_file", metavar="MAP", type=click.Path(path_type=str))
@click.option("-o", "--output", required=True, help="Where to write the transaction Bundle (JSON).")
@drawing_options
def bundle(map_file: str, output: str, formats: tuple[str, ...]) -> None:
    """Write the FHIR transaction Bundle of MAP.

    Conditional upserts by business identifier, so posting it twice creates nothing new.
    The Patient is referenced by NHS number or id, never created. The map's DocumentReference
    carries it drawn as SVG, PNG and PDF (or the formats --renderings names; none: no
    DocumentReference).
    """
    wmap = load_map(map_file)
    data = map_bundle(wmap, formats, asset_names=local_asset_names())
    atomic_write(Path(output), json_chunks(data))
    click.echo(f"wrote {output}: {len(data['entry'])} entries")


@click.command()
@click.argument("response", metavar="QR.json", type=click.Path(path_type=str))
@click.option("-o", "--output", required=True, help="Where to write the map (YAML or JSON, by suffix).")
@server_options(outbox=False)
@collect_server_options
def extract(response: str, output: str, opts: dict[str, Any]) -> None:
    """Rebuild a map from a FHIR QuestionnaireResponse (or the transaction Bundle holding one).

    Items the Questionnaire does not have are reported on stderr as warnings. A response that
    names the person only as Patient/id (a form filler's) gets their NHS number from the
    record's Patient with --server, so its map has the same id as the person's other maps.
    """
    data = load_fhir_data(response)
    try:
        qr = questionnaire_response_of(data)
        result = extract_map(qr)
        subject = result.map.subject
        client = make_client(opts) if subject.nhs_number is None and subject.fhir_id else None
        if client is not None and subject.fhir_id:
            result = extract_map(qr, patient=_patient(client, subject.fhir_id))
    except InputError as exc:
        raise InputError(exc.problems, response) from None
    for warning in result.warnings:
        click.echo(f"warning: {response}: {warning}", err=True)
    if result.map.subject.nhs_number is None:
        click.echo(
            f"warning: {response}: subject: the person is named only as {result.map.subject.fhir_id}, not by NHS "
            "number: give --server URL to read it from the record, so the map has the id of the person's other maps",
            err=True,
        )
    save_map(result.map, output)
    click.echo(f"wrote {output}")


def _patient(client: FhirClient, reference: str) -> dict[str, Any]:
    kind, _, patient_id = reference.partition("/")
    try:
        return client.read(kind, patient_id)
    except ServerError as exc:
        if exc.status in (404, 410):
            raise InputError([Problem("subject", f"the server has no {reference}")]) from None
        raise


@click.command()
@patient_option
@click.option("-o", "--output", required=True, help="Where to write the QuestionnaireResponse (.json).")
@click.option(
    "--date",
    "when",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Date of the conversation (YYYY-MM-DD; default today).",
)
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
@server_options(outbox=False)
@collect_server_options
def populate(patient: str, output: str, when: datetime | None, force: bool, opts: dict[str, Any]) -> None:
    """Write the QuestionnaireResponse a form filler opens for the person: SDC $populate.

    It is in progress and holds the date, the person, and the record's people (family and
    carers from RelatedPerson, the care team's practitioners from CareTeam) as connections to
    confirm with the person; when the record holds a map already, the newest is carried forward
    (as 'review start' does) and only the people it lacks are added. The same people as
    'wb-fhir prefill', as a response for the trust's own form filler rather than a map file.
    """
    out = Path(output)
    if out.suffix.lower() != ".json":
        raise InputError("the response is written as JSON: give a .json file", output)
    if out.exists() and not force:
        raise InputError("already exists (use --force to overwrite it)", str(out))
    on = when.date() if when is not None else date.today()
    client = needs_client(opts)
    result = populate_from_server(client, patient, on)
    echo_record_warnings(client, result.warnings, result.response)
    atomic_write(out, (json.dumps(result.response, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    if result.started_from is None:
        click.echo(f"wrote {out}: response of {on} with {result.added} connection(s) to confirm with the person")
    else:
        click.echo(
            f"wrote {out}: response of {on}, started from the map of {result.started_from} in the record, "
            f"with {result.added} new connection(s) from the record to confirm with the person"
        )


COMMANDS = [bundle, extract, populate]
