"""``wb-fhir bundle`` and ``wb-fhir extract``: map to FHIR and back."""

from __future__ import annotations

import click

from wb_fhir.cli._common import not_available


@click.command()
@click.argument("map_file", metavar="MAP", type=click.Path(path_type=str))
@click.option("-o", "--output", required=True, help="Where to write the transaction Bundle (JSON).")
def bundle(map_file: str, output: str) -> None:
    """Write the FHIR transaction Bundle of MAP."""
    not_available("bundle")


@click.command()
@click.argument("response", metavar="QR.json", type=click.Path(path_type=str))
@click.option("-o", "--output", required=True, help="Where to write the map (YAML or JSON).")
def extract(response: str, output: str) -> None:
    """Rebuild a map from a FHIR QuestionnaireResponse."""
    not_available("extract")


COMMANDS = [bundle, extract]
