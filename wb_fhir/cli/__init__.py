"""The ``wb-fhir`` command line: the only place that prints and exits.

Each command opens what it needs, calls the library, and lets a
:class:`~wb_fhir.errors.WbFhirError` through; the group (:mod:`wb_fhir.cli._main`) turns that
into a message on stderr and the exit code (2 bad input, 1 server or network), with a traceback
only under ``--debug``, and adds the advice for the setting the error names (the library names
no flag: :mod:`wb_fhir.cli._advice` does).

Start-up is lazy: a command pays only for what it uses. This package imports nothing itself;
:data:`main` (the click group) loads on first use, each command's module only when that command
runs, and ``wb-fhir --version`` answers before click is even imported.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing itself costs start-up time

if TYPE_CHECKING:
    from typing import Any

    from wb_fhir.cli._main import WbFhirGroup, main

__all__ = ["WbFhirGroup", "main", "run"]


def run() -> None:
    """The ``wb-fhir`` program (and ``python -m wb_fhir``)."""
    if sys.argv[1:] == ["--version"]:
        from wb_fhir import __version__

        sys.stdout.write(f"wb-fhir, version {__version__}\n")
        return
    from wb_fhir.cli._main import main

    main(prog_name="wb-fhir")


def __getattr__(name: str) -> Any:
    if name in ("main", "WbFhirGroup"):
        from wb_fhir.cli import _main

        return getattr(_main, name)
    raise AttributeError(f"module 'wb_fhir.cli' has no attribute {name!r}")
