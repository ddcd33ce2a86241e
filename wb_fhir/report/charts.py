"""Bar charts as accessible inline SVG (pure): every bar carries its figure in words.

A chart never relies on colour: each bar is labelled with its name and its figure in text,
suppressed figures say so instead of drawing a bar, and the SVG has a title and a
description (the chart in plain words) for screen readers. All text is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

WIDTH = 640
LABEL_WIDTH = 230
BAR_HEIGHT = 18
GAP = 8
VALUE_SPACE = 150
RANGE_TEXT_SPACE = 240
GROUP_GAP = 12
FILLS = ("#2166ac", "#878787", "#b2182b")
"""One fill per series (this caseload, the study...), each 3:1 against white (WCAG 1.4.11); the
label and figure beside each bar carry the meaning, never the colour."""


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value (None when suppressed or empty) and the figure as text."""

    label: str
    value: float | None
    text: str
    group: str = ""
    series: int = 0


def bar_chart(chart_id: str, title: str, description: str, bars: list[Bar], *, maximum: float | None = None) -> str:
    """A horizontal bar chart; bars with the same ``group`` sit together under its heading."""
    values = [b.value for b in bars if b.value is not None]
    top = maximum if maximum is not None else max(values, default=0.0) or 1.0
    scale = (WIDTH - LABEL_WIDTH - VALUE_SPACE) / top
    parts: list[str] = []
    y = 0
    group = None
    for bar in bars:
        if bar.group and bar.group != group:
            group = bar.group
            y += GROUP_GAP if y else 0
            parts.append(f'<text x="0" y="{y + 13}" font-weight="bold">{escape(group)}</text>')
            y += BAR_HEIGHT
        fill = FILLS[bar.series % len(FILLS)]
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + 13}" text-anchor="end">{escape(bar.label)}</text>')
        width = 0.0 if bar.value is None else max(bar.value * scale, 0.0)
        if bar.value is not None and width > 0:
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" fill="{fill}"'
                ' stroke="#1a1a1a" stroke-width="0.5"/>'
            )
        parts.append(f'<text x="{LABEL_WIDTH + width + 6:.1f}" y="{y + 13}">{escape(bar.text)}</text>')
        y += BAR_HEIGHT + GAP
    height = max(y, BAR_HEIGHT)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" aria-labelledby="{chart_id}-t {chart_id}-d" class="chart">'
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(description)}</desc>'
        f'<g font-family="DejaVu Sans, Arial, sans-serif" font-size="12" fill="#1a1a1a">{"".join(parts)}</g></svg>'
    )


def range_chart(
    chart_id: str, title: str, description: str, rows: list[tuple[str, list[float] | None, float | None, str]]
) -> str:
    """Medians and the middle half (quartile to quartile) per row, on one scale."""
    top = max((q[1] for _, q, _, _ in rows if q), default=1.0) or 1.0
    scale = (WIDTH - LABEL_WIDTH - RANGE_TEXT_SPACE) / top
    parts: list[str] = []
    y = 0
    for label, quartiles, median, text in rows:
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + 13}" text-anchor="end">{escape(label)}</text>')
        end = LABEL_WIDTH
        if quartiles and median is not None:
            x1, x3 = LABEL_WIDTH + quartiles[0] * scale, LABEL_WIDTH + quartiles[1] * scale
            xm = LABEL_WIDTH + median * scale
            parts.append(
                f'<rect x="{x1:.1f}" y="{y + 3}" width="{max(x3 - x1, 1):.1f}" height="{BAR_HEIGHT - 6}"'
                ' fill="#d1e5f0" stroke="#2166ac"/>'
                f'<line x1="{xm:.1f}" x2="{xm:.1f}" y1="{y}" y2="{y + BAR_HEIGHT}" stroke="#1a1a1a" stroke-width="3"/>'
            )
            end = int(max(x3, xm))
        parts.append(f'<text x="{end + 6}" y="{y + 13}">{escape(text)}</text>')
        y += BAR_HEIGHT + GAP
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {y}" width="{WIDTH}" '
        f'height="{y}" aria-labelledby="{chart_id}-t {chart_id}-d" class="chart">'
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(description)}</desc>'
        f'<g font-family="DejaVu Sans, Arial, sans-serif" font-size="12" fill="#1a1a1a">{"".join(parts)}</g></svg>'
    )
