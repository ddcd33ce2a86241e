"""``wb-fhir push``, ``pull``, ``outbox`` and ``check``: talking to FHIR servers."""

from __future__ import annotations

import click

from wb_fhir.cli._common import map_paths, not_available


@click.command()
@map_paths
def push(maps: tuple[str, ...]) -> None:
    """Push maps (files or folders) to the FHIR server, through the outbox."""
    not_available("push")


@click.command()
@click.option("--patient", required=True, help="NHS number of the person.")
@click.option("-o", "--output", required=True, help="Folder to write the maps into.")
def pull(patient: str, output: str) -> None:
    """Pull every map of a person from the FHIR server."""
    not_available("pull")


@click.group()
def outbox() -> None:
    """Work waiting to be sent to the FHIR server."""


@outbox.command("list")
def outbox_list() -> None:
    """List the outbox."""
    not_available("outbox list")


@outbox.command("flush")
def outbox_flush() -> None:
    """Send everything pending."""
    not_available("outbox flush")


@click.command()
@click.option("--server", envvar="WB_FHIR_SERVER", required=True, help="FHIR server base URL.")
def check(server: str) -> None:
    """Check whether a FHIR server can carry wb_fhir."""
    not_available("check")


COMMANDS = [push, pull, outbox, check]
