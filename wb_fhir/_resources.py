"""Where the data shipped with wb_fhir lives: profiles/, templates/, examples/ and ukcore/.

In an installed wheel they sit inside the package (``wb_fhir/_data/``); in a checkout
they are the top-level folders of the repository.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The folder of shipped data called ``name`` ("profiles", "templates", "examples" or "ukcore")."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"wb_fhir data folder {name!r} is missing from this installation")
