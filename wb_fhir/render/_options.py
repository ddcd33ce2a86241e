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
    "became-lost": ("×", "lost since the last map"),
    "became-wished-for": ("☆", "now hoped for"),
    "became-current": ("✓", "now a current connection"),
    "moved-closer": ("↑", "moved closer"),
    "moved-further": ("↓", "moved further out"),
    "impact-better": ("▲", "impact better than before"),
    "impact-worse": ("▼", "impact worse than before"),
    "impact-changed": ("◆", "impact re-rated"),
    "label": ("•", "renamed"),
    "kind": ("•", "kind changed"),
    "category": ("•", "category changed"),
    "frequency": ("•", "how often changed"),
    "disclosure": ("•", "knows about mental health changed"),
    "roles": ("•", "roles changed"),
}
"""The change of a connection since the last map (the codes of ``review.compare.Change``, as
``MapChanges.highlight`` gives them) -> (mark drawn beside the node, meaning in its title)."""
MARK_LEGEND: dict[str, str] = {
    "★": "New since the last map",
    "×": "Lost since the last map",
    "☆": "Now hoped for",
    "✓": "Now a current connection",
    "↑": "Moved closer",
    "↓": "Moved further out",
    "▲": "Impact better",
    "▼": "Impact worse",
    "◆": "Impact re-rated",
    "•": "Other details changed",
}
"""What each mark means, for the legend (one line per mark, in this order)."""
DEFAULT_MAX_SIZE = 3000
"""Longest side of a PNG in pixels unless told otherwise (A4 at about 250 dpi): a larger
picture is scaled down. Bounds the memory and time of a PNG whatever the map (a 1,000-connection
map lays out over 11,000 px); the PDF and SVG of such a map stay vector drawings."""


@dataclass(frozen=True, kw_only=True)
class RenderOptions:
    """How to draw a map.

    ``scale`` (or ``dpi``, 96 dpi = scale 1) sizes PNG output, within ``max_size`` pixels on
    the longest side (a larger picture is scaled down to fit); a PDF is always laid out to fit
    ``page``. ``highlight`` maps connection ids to a change of :data:`HIGHLIGHTS`
    (``MapChanges.highlight`` as it comes): the node gets a halo, a mark and a sentence in its
    title. ``legend=False`` leaves the legend out (the review summary prints one for all maps).
    """

    show_nhs_number: bool = False
    scale: float | None = None
    dpi: float | None = None
    page: str = "A4"
    highlight: Mapping[str, str] = field(default_factory=dict)
    max_size: int = DEFAULT_MAX_SIZE
    legend: bool = True

    def __post_init__(self) -> None:
        problems = []
        if self.scale is not None and self.dpi is not None:
            problems.append(Problem("options", "give a scale or a dpi, not both"))
        for name in ("scale", "dpi"):
            value = getattr(self, name)
            if value is not None and not 0 < value <= (10 if name == "scale" else 960):
                problems.append(Problem(f"options.{name}", f"{value} is out of range"))
        if not 16 <= self.max_size <= 32768:
            problems.append(Problem("options.max_size", f"{self.max_size} is not between 16 and 32768 pixels"))
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
        """Pixels of PNG output per CSS px of the drawing, as asked for (before ``max_size``)."""
        if self.dpi is not None:
            return self.dpi / CSS_PX_PER_INCH
        return self.scale if self.scale is not None else 1.0

    def pixel_scale(self, width: float, height: float) -> float:
        """The scale a ``width`` x ``height`` drawing is rasterised at: as asked, or smaller so
        that its longest side stays within ``max_size`` pixels."""
        return min(self.raster_scale, self.max_size / max(width, height, 1.0))


@dataclass(frozen=True)
class Rendering:
    """One picture of a map, ready to attach to a FHIR DocumentReference.

    ``size`` is the picture's size in pixels (PNG) or points (PDF), ``None`` for SVG;
    ``scaled_down`` says that a PNG was made smaller than asked to stay within ``max_size``.
    """

    content_type: str
    data: bytes
    title: str
    suffix: str
    size: tuple[int, int] | None = None
    scaled_down: bool = False
