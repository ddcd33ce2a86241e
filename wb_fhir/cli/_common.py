"""Small helpers shared by the command modules."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from wb_fhir.bundles import DRAWINGS, parse_drawings
from wb_fhir.errors import InputError

map_paths = click.argument("maps", nargs=-1, required=True, type=click.Path(path_type=str))


def _nhs_number(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from wb_fhir.mapfile import nhs_number_valid

    number = value.replace(" ", "")
    if not nhs_number_valid(number):
        raise click.BadParameter("not a valid NHS number (ten digits with a modulus 11 check digit)")
    return number


patient_option = click.option(
    "--patient", required=True, callback=_nhs_number, help="NHS number of the person (spaces allowed)."
)
"""``--patient NHS``: the person, checked (ten digits, check digit) before anything is sent."""


def drawing_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """``--renderings svg,png,pdf|none`` (and ``--no-renderings``, the same as none), as ``formats``."""

    @click.option(
        "--renderings",
        "asked",
        metavar="svg,png,pdf|none",
        default=",".join(DRAWINGS),
        show_default=True,
        help="The drawings of the map its DocumentReference carries (none: no DocumentReference).",
    )
    @click.option("--no-renderings", is_flag=True, help="The same as --renderings none.")
    @functools.wraps(f)
    def wrapper(asked: str, no_renderings: bool, **kwargs: Any) -> Any:
        try:
            formats = parse_drawings(asked)
        except InputError as exc:
            raise click.BadParameter(str(exc), param_hint="--renderings") from None
        if no_renderings and formats:
            if asked != ",".join(DRAWINGS):
                raise click.UsageError("give --renderings or --no-renderings, not both")
            formats = ()
        return f(formats=formats, **kwargs)

    return wrapper
