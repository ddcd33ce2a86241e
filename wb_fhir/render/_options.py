"""Options of a rendering, and the renderings handed to the FHIR mapping."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from wb_fhir.errors import InputError, Problem

CSS_PX_PER_INCH = 96
PAGES_MM: dict[str, tuple[int, int]] = {"A4": (210, 297), "A3": (297, 420)}
"""Paper sizes a PDF can be laid out on (portrait width and height in mm)."""

HIGHLIGHTS: dict[str, tuple[str, str]] = {
    "added": ("★", "new since the last map"),
    "closer": ("↑", "moved closer"),
    "further": ("↓", "moved further out"),
    "better": ("▲", "impact better than before"),
    "worse": ("▼", "impact worse than before"),
    "became-lost": ("×", "lost since the last map"),
}
"""Change kinds a node can be highlighted with: (symbol drawn beside the node, meaning)."""


@dataclass(frozen=True, kw_only=True)
class RenderOptions:
    """How to draw a map.

    ``scale`` (or ``dpi``, 96 dpi = scale 1) sizes PNG output; a PDF is always laid out to fit
    ``page``. ``highlight`` maps connection ids to a change kind of :data:`HIGHLIGHTS`: the node
    gets a halo, a symbol and a sentence in its title (used by the review summary).
    """

    show_nhs_number: bool = False
    scale: float | None = None
    dpi: float | None = None
    page: str = "A4"
    highlight: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        if self.scale is not None and self.dpi is not None:
            problems.append(Problem("options", "give a scale or a dpi, not both"))
        for name in ("scale", "dpi"):
            value = getattr(self, name)
            if value is not None and not 0 < value <= (10 if name == "scale" else 960):
                problems.append(Problem(f"options.{name}", f"{value} is out of range"))
        if self.page not in PAGES_MM:
            problems.append(Problem("options.page", f"{self.page!r} is not one of {', '.join(PAGES_MM)}"))
        for cid, kind in self.highlight.items():
            if kind not in HIGHLIGHTS:
                problems.append(Problem(f"options.highlight[{cid}]", f"{kind!r} is not one of {', '.join(HIGHLIGHTS)}"))
        if problems:
            raise InputError(problems)
        object.__setattr__(self, "highlight", MappingProxyType(dict(sorted(self.highlight.items()))))

    @property
    def raster_scale(self) -> float:
        """Pixels of PNG output per CSS px of the drawing."""
        if self.dpi is not None:
            return self.dpi / CSS_PX_PER_INCH
        return self.scale if self.scale is not None else 1.0


@dataclass(frozen=True)
class Rendering:
    """One picture of a map, ready to attach to a FHIR DocumentReference."""

    content_type: str
    data: bytes
    title: str
    suffix: str
