"""``wb-fhir bundle`` and ``wb-fhir extract``: map to FHIR and back."""

from __future__ import annotations

from pathlib import Path

import click

from wb_fhir._files import atomic_write, json_chunks
from wb_fhir.errors import InputError
from wb_fhir.fhir import extract_map, questionnaire_response_of, transaction_bundle
from wb_fhir.mapfile import load_fhir_data, load_map, save_map
from wb_fhir.render import renderings


@click.command()
@click.argument("map_file", metavar="MAP", type=click.Path(path_type=str))
@click.option("-o", "--output", required=True, help="Where to write the transaction Bundle (JSON).")
@click.option(
    "--no-renderings", is_flag=True, help="Leave out the drawn map (SVG, PNG, PDF) and its DocumentReference."
)
def bundle(map_file: str, output: str, no_renderings: bool) -> None:
    """Write the FHIR transaction Bundle of MAP.

    Conditional upserts by business identifier, so posting it twice creates nothing new.
    The Patient is referenced by NHS number or id, never created. The map's DocumentReference
    carries it drawn as SVG, PNG and PDF unless --no-renderings.
    """
    wmap = load_map(map_file)
    data = transaction_bundle(wmap, attachments=() if no_renderings else renderings(wmap))
    atomic_write(Path(output), json_chunks(data))
    click.echo(f"wrote {output}: {len(data['entry'])} entries")


@click.command()
@click.argument("response", metavar="QR.json", type=click.Path(path_type=str))
@click.option("-o", "--output", required=True, help="Where to write the map (YAML or JSON, by suffix).")
def extract(response: str, output: str) -> None:
    """Rebuild a map from a FHIR QuestionnaireResponse (or the transaction Bundle holding one).

    Items the Questionnaire does not have are reported on stderr as warnings.
    """
    data = load_fhir_data(response)
    try:
        result = extract_map(questionnaire_response_of(data))
    except InputError as exc:
        raise InputError(exc.problems, response) from None
    for warning in result.warnings:
        click.echo(f"warning: {response}: {warning}", err=True)
    save_map(result.map, output)
    click.echo(f"wrote {output}")


COMMANDS = [bundle, extract]
