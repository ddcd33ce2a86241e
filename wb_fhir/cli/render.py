"""``wb-fhir render``: draw a map as SVG, PNG or PDF."""

from __future__ import annotations

from pathlib import Path

import click

from wb_fhir._files import atomic_write
from wb_fhir.errors import InputError
from wb_fhir.mapfile import load_map
from wb_fhir.render import DEFAULT_MAX_SIZE, FORMATS, RenderOptions, renderings


def output_format(path: Path) -> str:
    """The format named by an output file's suffix, or an InputError."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise InputError(
            f"cannot tell the format from the suffix {path.suffix or '(none)'!r}: use .svg, .png or .pdf", str(path)
        )
    return fmt


@click.command()
@click.argument("map_file", metavar="MAP", type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help="Output file: .svg, .png or .pdf.")
@click.option("--show-nhs-number", is_flag=True, help="Print the person's NHS number under the title.")
@click.option("--scale", type=float, help="PNG size: CSS px to image px (default 1).")
@click.option("--dpi", type=float, help="PNG resolution in dots per inch (96 = scale 1); instead of --scale.")
@click.option(
    "--max-size",
    type=int,
    default=DEFAULT_MAX_SIZE,
    show_default=True,
    help="Longest side of a PNG in pixels: a larger picture is scaled down to fit (and says so).",
)
@click.option("--page", type=click.Choice(["A4", "A3"]), default="A4", show_default=True, help="PDF paper size.")
def render(
    map_file: Path,
    output: Path,
    show_nhs_number: bool,
    scale: float | None,
    dpi: float | None,
    max_size: int,
    page: str,
) -> None:
    """Draw the concentric map of MAP as SVG, PNG or PDF.

    The picture is accessible (title, description, a title per connection) and never
    relies on colour alone. Text in any script is shaped, and right-to-left labels run
    right to left. The NHS number is shown only with --show-nhs-number.
    """
    fmt = output_format(output)
    options = RenderOptions(show_nhs_number=show_nhs_number, scale=scale, dpi=dpi, max_size=max_size, page=page)
    (drawn,) = renderings(load_map(map_file), options, formats=(fmt,))
    atomic_write(output, drawn.data)
    if drawn.scaled_down and drawn.size is not None:
        width, height = drawn.size
        click.echo(
            f"note: the picture was scaled down to {width} x {height} px to stay within --max-size {max_size}",
            err=True,
        )
    click.echo(f"wrote {output}", err=True)


COMMANDS = [render]
