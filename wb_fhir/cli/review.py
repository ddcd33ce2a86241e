"""``wb-fhir diff``, ``review`` and ``prefill``: maps over time."""

from __future__ import annotations

import click

from wb_fhir.cli._common import not_available


@click.command()
@click.argument("old", type=click.Path(path_type=str))
@click.argument("new", type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
def diff(old: str, new: str, as_json: bool) -> None:
    """Show what changed between two maps of the same person."""
    not_available("diff")


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1)
@click.option("-o", "--output", help="Output file: .html or .pdf (or .yaml for 'review start').")
def review(args: tuple[str, ...], output: str | None) -> None:
    """Review summary of OLD NEW [MORE...], or 'review start PREVIOUS' for the next map."""
    not_available("review")


@click.command()
@click.option("--patient", required=True, help="NHS number of the person.")
@click.option("--server", envvar="WB_FHIR_SERVER", help="FHIR server base URL.")
@click.option("-o", "--output", required=True, help="Where to write the draft map.")
def prefill(patient: str, server: str | None, output: str) -> None:
    """Draft a first map from what the care record already knows."""
    not_available("prefill")


COMMANDS = [diff, review, prefill]
