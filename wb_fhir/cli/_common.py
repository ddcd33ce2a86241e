"""Small helpers shared by the command modules."""

from __future__ import annotations

import click

map_paths = click.argument("maps", nargs=-1, required=True, type=click.Path(path_type=str))
