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
@server_options(outbox=False)
@click.option(
    "--uk-core",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="A newer UK Core to load first instead of the copy shipped with wb_fhir: a FHIR package "
    "folder, or UK Core's repository (XML).",
)
@click.option("--no-uk-core", is_flag=True, help="Do not load UK Core (the server already holds it).")
@click.option("--dry-run", is_flag=True, help="List what would be installed; needs no server.")
@collect_server_options
def install(opts: dict[str, Any], uk_core: Path | None, no_uk_core: bool, dry_run: bool) -> None:
    """Load UK Core, then wb_fhir's conformance resources, into a FHIR server.

    UK Core ships with wb_fhir and goes first: the profiles derive from it. Each package is one
    transaction of PUTs by id, so running it again changes nothing.
    """
    from wb_fhir.conformance.install import install_package, plan
    from wb_fhir.conformance.packages import load_uk_core

    if uk_core is not None and no_uk_core:
        raise click.UsageError("give --uk-core DIR or --no-uk-core, not both")
    packages = plan(None if no_uk_core else load_uk_core(uk_core))
    if dry_run:
        for package in packages:
            kinds = ", ".join(f"{n} {t}" for t, n in package.counts().items())
            click.echo(f"would install {package}: {package.count} conformance resources ({kinds})")
        return
    client = needs_client(opts)
    for package in packages:
        result = install_package(client, package)
        click.echo(
            f"installed {package}: {package.count} conformance resources "
            f"({result.created} created, {result.updated} updated)"
        )


COMMANDS = [profiles]
