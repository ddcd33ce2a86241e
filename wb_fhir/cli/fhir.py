"""``wb-fhir bundle`` and ``wb-fhir extract``: map to FHIR and back."""

from __future__ import annotations

from pathlib import Path

import click

from wb_fhir._files import atomic_write, json_chunks
from wb_fhir.assets import local_asset_names
from wb_fhir.bundles import map_bundle
from wb_fhir.cli._common import drawing_options
from wb_fhir.errors import InputError
from wb_fhir.fhir import extract_map, questionnaire_response_of
from wb_fhir.mapfile import load_fhir_data, load_map, save_map


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
