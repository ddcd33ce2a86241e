"""``wb-fhir profiles``: the FHIR conformance resources of wb_fhir."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from wb_fhir._files import atomic_write
from wb_fhir.cli._server import collect_server_options, needs_client, server_options


@click.group()
def profiles() -> None:
    """The FHIR profiles, terminology and Questionnaire of wb_fhir."""


@profiles.command("package")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the FHIR NPM package (.tgz).",
)
def package(output: Path) -> None:
    """Build the FHIR NPM package of the profiles (loadable by HAPI and the HL7 validator)."""
    from wb_fhir.conformance.package import build_package

    data = build_package()
    atomic_write(output, data)
    click.echo(f"wrote {output} ({len(data)} bytes)", err=True)


@profiles.command("install")
@server_options(server_required=True, outbox=False)
@click.option(
    "--uk-core",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Folder of the UK Core package (XML) to load first: the profiles derive from it.",
)
@collect_server_options
def install(opts: dict[str, Any], uk_core: Path | None) -> None:
    """Load the conformance resources into a FHIR server (idempotent: PUT by id, one transaction)."""
    from wb_fhir.conformance.install import install as run

    result = run(needs_client(opts), uk_core=uk_core)
    click.echo(
        f"installed {len(result.statuses)} conformance resources ({result.created} created, {result.updated} updated)",
        err=True,
    )


COMMANDS = [profiles]
