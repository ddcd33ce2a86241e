"""Where the data shipped with wb_fhir lives: profiles/, templates/, examples/ and ukcore/.

In an installed wheel they sit inside the package (``wb_fhir/_data/``); in a checkout
they are the top-level folders of the repository.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The folder of shipped data called ``name`` ("profiles", "templates", "examples" or "ukcore")."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"wb_fhir data folder {name!r} is missing from this installation")


def template_environment(*, keep_trailing_newline: bool = False) -> jinja2.Environment:
    """A new jinja2 environment for ``templates/``: everything escaped, an unknown name an error."""
    import jinja2  # here: only what draws or writes a document pays for it

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates"))),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=keep_trailing_newline,
    )


@lru_cache(maxsize=1)
def document_templates() -> jinja2.Environment:
    """The environment the HTML documents (review summary, population report) share."""
    return template_environment()
