"""The one exception tree of wb_fhir.

    WbFhirError                 anything wb_fhir refuses or cannot do
    ├── InputError              bad input: a map file, a FHIR resource, an option (exit 2)
    │   └── MatchError          a search that must find exactly one resource found none, or several
    └── ServerError             a FHIR server or the network failed (exit 1)
        ├── ConflictError       someone else changed a resource since it was read (409/412)
        └── AuthError           authentication or authorisation failed (401/403, token endpoint)

Errors from the layer below (requests, YAML, JSON) are translated into these in exactly one
place each; the command line turns them into a message and an exit code. An error names no
command-line flag: where a setting would help, it names the setting (``setting="ca_bundle"``)
and the command line gives the advice (``--ca-bundle``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One problem with an input, at a place (``connections[3].ring``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class WbFhirError(Exception):
    """Base of every error wb_fhir raises on purpose.

    ``setting`` names the setting that would help (a parameter name such as ``ca_bundle``), if any.
    """

    exit_code = 1
    setting: str | None = None


class InputError(WbFhirError):
    """Bad input; carries every problem found, each with its place."""

    exit_code = 2

    def __init__(
        self, problems: Iterable[Problem] | str, source: str | None = None, *, setting: str | None = None
    ) -> None:
        if isinstance(problems, str):
            problems = [Problem("", problems)]
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.source = source
        if setting is not None:
            self.setting = setting
        super().__init__(self._text())

    def _text(self) -> str:
        lines = [str(p) for p in self.problems]
        if self.source is not None:
            lines = [f"{self.source}: {line}" for line in lines]
        return "\n".join(lines)


class MatchError(InputError):
    """A search that must find exactly one resource found ``found`` of them (0, or 2 meaning several)."""

    def __init__(self, message: str, *, resource_type: str, found: int, setting: str | None = None) -> None:
        self.resource_type = resource_type
        self.found = found
        super().__init__(message, setting=setting)


class ServerError(WbFhirError):
    """A FHIR server answered with an error, or could not be reached."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        outcome: dict[str, Any] | None = None,
        setting: str | None = None,
    ) -> None:
        self.status = status
        self.outcome = outcome
        if setting is not None:
            self.setting = setting
        super().__init__(message)


class ConflictError(ServerError):
    """A version conflict: the resource changed on the server since it was read."""

    setting = "force"


class AuthError(ServerError):
    """Authentication or authorisation failed."""
