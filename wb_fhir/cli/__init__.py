"""The ``wb-fhir`` command line: the only place that prints and exits.

Each command opens what it needs, calls the library, and lets a
:class:`~wb_fhir.errors.WbFhirError` through; :class:`WbFhirGroup` turns that into a
message on stderr and the exit code (2 bad input, 1 server or network), with a traceback
only under ``--debug``, and adds the advice for the setting the error names (the library names
no flag: :mod:`wb_fhir.cli._advice` does).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from wb_fhir import __version__
from wb_fhir.cli._advice import advice
from wb_fhir.errors import WbFhirError


class WbFhirGroup(click.Group):
    """A click group that reports wb_fhir errors as messages and exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except WbFhirError as exc:
            _fail(ctx, str(exc), exc.exit_code, exc, advice(exc.setting))
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            _fail(ctx, "interrupted", 130, None)
        except Exception as exc:
            _fail(ctx, f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)", 1, exc)


def _fail(ctx: click.Context, message: str, code: int, exc: BaseException | None, hint: str | None = None) -> None:
    debug = bool(ctx.find_root().params.get("debug"))
    if debug and exc is not None:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    click.echo(f"error: {message}" if "\n" not in message else f"error:\n{message}", err=True)
    if hint:
        click.echo(f"hint: {hint}", err=True)
    ctx.exit(code)


@click.group(cls=WbFhirGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="wb-fhir")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs (may contain personal data).")
@click.option("-v", "--verbose", is_flag=True, help="Log progress at INFO (never names, NHS numbers or tokens).")
def main(debug: bool, verbose: bool) -> None:
    """Wellbeing network maps in FHIR R4: validate, render, bundle, sync and review them.

    Exit codes: 0 success, 1 a server or network failure, 2 bad input.
    """
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _register() -> None:
    from wb_fhir.cli import assets, fhir, maps, profiles, render, report, review, serve, sync

    for module in (maps, render, fhir, review, sync, profiles, assets, report, serve):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
