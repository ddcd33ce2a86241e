"""A map's transaction Bundle with the drawings asked for: the one place where pictures meet FHIR.

``wb_fhir.fhir`` maps without drawing (its DocumentReference takes whatever attachments it is
given) and ``wb_fhir.sync`` sends Bundles without drawing; the command line (``bundle``,
``push``, ``demo``) and the web app call this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from wb_fhir.errors import InputError

if TYPE_CHECKING:
    from wb_fhir.model import WellbeingMap
    from wb_fhir.render import Rendering

DRAWINGS = ("svg", "png", "pdf")
"""The formats a map can be drawn in for its DocumentReference, all of them by default: the
renderer's (``wb_fhir.render.FORMATS``, a test checks), named here so that a command's options
do not load the renderer."""


def parse_drawings(text: str) -> tuple[str, ...]:
    """Formats from a comma-separated list (``svg,png``), or none (``none`` or empty)."""
    asked = tuple(dict.fromkeys(p.strip().lower() for p in text.split(",") if p.strip()))
    if asked in ((), ("none",)):
        return ()
    unknown = [p for p in asked if p not in DRAWINGS]
    if unknown:
        raise InputError(f"cannot draw as {', '.join(unknown)}: use some of {', '.join(DRAWINGS)}, or none")
    return asked


def drawings(wmap: WellbeingMap, formats: Sequence[str] = DRAWINGS) -> list[Rendering]:
    """The map drawn in these formats, titled for a DocumentReference (none: nothing is drawn)."""
    if not formats:
        return []
    from wb_fhir.render import renderings  # cairo loads only when something is drawn

    return renderings(wmap, formats=formats)


def map_bundle(
    wmap: WellbeingMap, formats: Sequence[str] = DRAWINGS, *, asset_names: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The transaction Bundle of one map; its DocumentReference carries the drawings (none: no DocumentReference).

    ``asset_names`` (``{asset id: name}``) lets the CarePlan name the assets sign-posted to.
    """
    from wb_fhir.fhir import transaction_bundle

    bundle: dict[str, Any] = transaction_bundle(wmap, attachments=drawings(wmap, formats), asset_names=asset_names)
    return bundle
