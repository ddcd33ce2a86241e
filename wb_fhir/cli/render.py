"""``wb-fhir render``: draw a map as SVG, PNG or PDF."""

from __future__ import annotations

import click

from wb_fhir.cli._common import not_available


@click.command()
@click.argument("map_file", metavar="MAP", type=click.Path(path_type=str))
@click.option("-o", "--output", required=True, help="Output file: .svg, .png or .pdf.")
def render(map_file: str, output: str) -> None:
    """Draw the concentric map of MAP as SVG, PNG or PDF."""
    not_available("render")


COMMANDS = [render]
