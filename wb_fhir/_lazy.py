"""Package exports that load on first use (PEP 562), so importing a package costs next to nothing.

A package names what it exports and the module each name lives in; ``from wb_fhir.fhir import
transaction_bundle`` then imports ``wb_fhir.fhir.bundle`` and nothing else of the package. A name
that is also the name of its own module is bound at once (see :func:`exports`).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any


def exports(package: str, homes: Mapping[str, tuple[str, ...]]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, whose names live in ``homes`` (module -> names)."""
    where = {name: home for home, names in homes.items() for name in names}
    namespace = vars(sys.modules[package])
    for name, home in where.items():
        if home == f"{package}.{name}":
            # A name that is also its module's name (``fhir.provenance``) is bound now: importing
            # the module later would set the package's attribute to the module, hiding the name.
            namespace[name] = getattr(module(home), name)

    def __getattr__(name: str) -> Any:
        home = where.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(module(home), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(where))

    return __getattr__, __dir__


def module(name: str) -> Any:
    """The module of this name, imported if it is not yet (``importlib`` itself costs start-up time)."""
    __import__(name)
    return sys.modules[name]
