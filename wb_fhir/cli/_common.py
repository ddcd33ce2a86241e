"""Small helpers shared by the command modules."""

from __future__ import annotations

from typing import NoReturn

import click


class NotAvailableYet(click.ClickException):
    """A command whose feature has not been built yet: says so and exits 1."""

    exit_code = 1


def not_available(command: str) -> NoReturn:
    """Stop a command that does not work yet, saying so plainly."""
    raise NotAvailableYet(f"'wb-fhir {command}' is not available yet in this version of wb-fhir")


map_paths = click.argument("maps", nargs=-1, required=True, type=click.Path(path_type=str))
