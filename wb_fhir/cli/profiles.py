"""``wb-fhir profiles``: the FHIR conformance resources of wb_fhir."""

from __future__ import annotations

from pathlib import Path

import click

from wb_fhir._files import atomic_write


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
@click.option(
    "--server",
    envvar="WB_FHIR_SERVER",
    required=True,
    help="Base URL of the FHIR server (or WB_FHIR_SERVER); https, or http on loopback only.",
)
@click.option(
    "--token",
    envvar="WB_FHIR_TOKEN",
    default=None,
    show_envvar=True,
    help="Bearer token (or WB_FHIR_TOKEN); never printed.",
)
@click.option(
    "--uk-core",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Folder of the UK Core package (XML) to load first: the profiles derive from it.",
)
def install(server: str, token: str | None, uk_core: Path | None) -> None:
    """Load the conformance resources into a FHIR server (idempotent: PUT by id, one transaction)."""
    from wb_fhir.conformance.install import install as run

    result = run(server, token=token, uk_core=uk_core)
    click.echo(
        f"installed {len(result.statuses)} conformance resources ({result.created} created, {result.updated} updated)",
        err=True,
    )


COMMANDS = [profiles]
