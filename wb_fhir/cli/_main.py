"""The ``wb-fhir`` group: error handling, and commands loaded by name when they run.

Commands are registered by name with their module and their one-line summary
(:data:`COMMANDS`): ``wb-fhir --help`` lists them from that table, and only the command
that runs imports its module (and, through it, what it needs: cairo for drawing, requests
for a server, DuckDB for a report...). A test checks the table against the commands.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from wb_fhir import __version__, _lazy
from wb_fhir.cli._advice import advice
from wb_fhir.errors import WbFhirError

COMMANDS: dict[str, tuple[str, str, str]] = {
    "assets": ("wb_fhir.cli.assets", "assets", "The community asset bank: import, search, suggest, add."),
    "bundle": ("wb_fhir.cli.fhir", "bundle", "Write the FHIR transaction Bundle of MAP."),
    "check": (
        "wb_fhir.cli.sync",
        "check",
        "Check whether a FHIR server can carry wb_fhir; exits 1 when a check fails.",
    ),
    "demo": ("wb_fhir.cli.maps", "demo", "Run wb-fhir on the built-in example maps (no server needed)."),
    "diff": (
        "wb_fhir.cli.review",
        "diff",
        "Show what changed between two maps of the same person (oldest first, whatever the order given).",
    ),
    "export": (
        "wb_fhir.cli.report",
        "export",
        "De-identified research export of maps, connections and ties: CSV, GraphML or Network Canvas CSV.",
    ),
    "extract": (
        "wb_fhir.cli.fhir",
        "extract",
        "Rebuild a map from a FHIR QuestionnaireResponse (or the transaction Bundle holding one).",
    ),
    "outbox": ("wb_fhir.cli.sync", "outbox", "Work waiting to be sent to the FHIR server."),
    "prefill": (
        "wb_fhir.cli.review",
        "prefill",
        "Draft a map from the care record: its people, and the latest map if there is one.",
    ),
    "populate": (
        "wb_fhir.cli.fhir",
        "populate",
        "Write the QuestionnaireResponse a form filler opens for the person: SDC $populate.",
    ),
    "profiles": ("wb_fhir.cli.profiles", "profiles", "The FHIR profiles, terminology and Questionnaire of wb_fhir."),
    "pull": (
        "wb_fhir.cli.sync",
        "pull",
        "Pull every map of a person, their plan and goals from the FHIR server into a folder.",
    ),
    "push": ("wb_fhir.cli.sync", "push", "Push maps (files or folders) to the FHIR server, through the outbox."),
    "render": ("wb_fhir.cli.render", "render", "Draw the concentric map of MAP as SVG, PNG or PDF."),
    "report": (
        "wb_fhir.cli.report",
        "report",
        "The study's measures over a caseload: map files or folders, Bulk Data NDJSON or Parquet, or --server.",
    ),
    "review": (
        "wb_fhir.cli.review",
        "review",
        "Review maps over time: the review summary, or the next map to start a review with.",
    ),
    "serve": (
        "wb_fhir.cli.serve",
        "serve",
        "Start the map editor in the browser (co-production with the person).",
    ),
    "signposts": (
        "wb_fhir.cli.assets",
        "signposts",
        "List sign-posts and their follow-up: from the maps given (each person's newest), or a server's caseload.",
    ),
    "validate": (
        "wb_fhir.cli.maps",
        "validate",
        "Check map files (or folders of them); report every problem with its place.",
    ),
}
"""Command name -> (module, attribute, the summary its ``--help`` starts with)."""


class WbFhirGroup(click.Group):
    """The root group: loads a command's module when it runs; reports wb_fhir errors as messages and exit codes."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        if cmd_name not in self.commands:
            module, attribute, _ = COMMANDS[cmd_name]
            command = getattr(_lazy.module(module), attribute)
            assert isinstance(command, click.Command)
            self.add_command(command, cmd_name)
        return self.commands[cmd_name]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The listing comes from the table (a command shown by its summary), so --help loads no command.
        listed = [(name, click.Command(name, help=COMMANDS[name][2])) for name in self.list_commands(ctx)]
        limit = formatter.width - 6 - max(len(name) for name, _ in listed)
        with formatter.section("Commands"):
            formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in listed])

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
    if debug or verbose:  # else Python's default: warnings and errors as they are (no logging to load)
        import logging

        level = logging.DEBUG if debug else logging.INFO
        logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
