"""``wb-fhir profiles``: the FHIR conformance resources of wb_fhir."""

from __future__ import annotations

import click

from wb_fhir.cli._common import not_available


@click.group()
def profiles() -> None:
    """The FHIR profiles, terminology and Questionnaire of wb_fhir."""


@profiles.command("package")
@click.option("-o", "--output", required=True, help="Where to write the FHIR NPM package (.tgz).")
def package(output: str) -> None:
    """Build the FHIR NPM package of the profiles."""
    not_available("profiles package")


COMMANDS = [profiles]
