"""The limits of a map file: the largest map the loader accepts, and so every command must handle.

A map file comes from a person's keyboard, another tool, or someone hostile. These limits
are far above any real map (the largest network of the Community Health Networks study had
well under 100 connections) and low enough that every command stays within 500 MB of memory
and finishes in seconds for any map the loader accepts. Each is documented in the README's
map-file section and in ``docs/security.md``; the JSON Schema carries the list and text limits,
so editors see them too.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_FILE_BYTES = 5_000_000
"""Size of a map file on disk."""

MAX_DEPTH = 20
"""Nesting of lists and mappings (a real map needs 5: goals, a goal, milestones, a milestone)."""

MAX_VALUES = 250_000
"""Keys, values, lists and mappings in all, a YAML alias counted each time it is used."""

MAX_TEXT = 5_000_000
"""Characters of text in all, a YAML alias counted each time it is used."""

MAX_NUMBER_DIGITS = 20
"""Digits of a whole number."""

MAX_PROBLEMS = 200
"""Problems listed for one file; the rest are counted."""

MAX_CONNECTIONS = 2_000
MAX_TIES = 2_000
MAX_GOALS = 100
MAX_GOAL_ITEMS = 50
"""Entries of each list of one goal: about, supporters, resources, barriers, notes, milestones."""
MAX_SIGNPOSTS = 200
MAX_PRACTITIONERS = 10
MAX_RINGS = 6

MAX_NAME = 200
"""Characters of a label, a display name, a practitioner's role, a ring label."""

MAX_DESCRIPTION = 1_000
"""Characters of a goal or milestone description, a resource, a barrier."""

MAX_NOTE = 2_000
"""Characters of a note (of a connection, a goal, a sign-post)."""

MAX_REFLECTIONS = 10_000
"""Characters of the reflections."""


@dataclass(frozen=True)
class ReadLimits:
    """How large and deep a file may be while it is read (before any of its content is checked)."""

    file_bytes: int
    depth: int
    values: int
    text: int
    what: str
    """What such a file is, for messages: "a map file"."""


MAP_FILE = ReadLimits(MAX_FILE_BYTES, MAX_DEPTH, MAX_VALUES, MAX_TEXT, "a map file")
"""The limits of a map file."""

FHIR_FILE = ReadLimits(100_000_000, MAX_DEPTH, 2_000_000, 100_000_000, "a FHIR JSON file")
"""The limits of a FHIR JSON file read for a map (``wb-fhir extract``): a transaction Bundle of
the largest map, its drawings attached, is well within them."""
