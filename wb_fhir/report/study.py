"""The study's own figures, and the headline measures in plain words beside them (pure).

The Community Health Networks study (McPin Foundation and Plymouth University, 2011-2013)
mapped the networks of 150 people using mental health services. Its figures are what each
measure of a report is shown beside.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STUDY_MAPS = 150
STUDY_NAME = "Community Health Networks study (McPin Foundation and Plymouth University, 2011-2013)"


@dataclass(frozen=True)
class Headline:
    """One headline measure: its JSON key, what it means in words, and the study's figure."""

    key: str
    words: str
    denominator_words: str
    study: str
    study_percent: float | None


HEADLINES: tuple[Headline, ...] = (
    Headline(
        "practitioner_in_inner_circle",
        "Practitioner in the inner circle",
        "people",
        "23% of 150",
        23.0,
    ),
    Headline(
        "more_than_half_waking_time_at_home",
        "More than half of waking time at home",
        "people whose latest map records time at home",
        "most of 150 (more than half)",
        None,
    ),
    Headline(
        "family_or_home_based",
        "Network built around family and home",
        "people with at least one current connection",
        "about a third of 150",
        100 / 3,
    ),
)


def figure_text(value: Any) -> str:
    """A count, percentage or median as text: ``*`` stays ``*`` (suppressed), None is "none"."""
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def share_text(measure: dict[str, Any]) -> str:
    """``35 of 150 (23.3%)``, or ``* of 150 (*: 1 to 7, suppressed)``."""
    count, denominator, pct = measure["count"], measure["denominator"], measure["percent"]
    text = f"{figure_text(count)} of {figure_text(denominator)}"
    if pct == "*":
        return text + " (suppressed: fewer than 8)"
    if pct is None:
        return text + " (no one to count)"
    return text + f" ({figure_text(pct)}%)"


def summary_lines(report: dict[str, Any]) -> list[str]:
    """The report in a few lines of plain text (what ``wb-fhir report`` prints)."""
    size = report["network_size"]
    quartiles = size["quartiles"]
    spread = (
        f"quartiles {figure_text(quartiles[0])} to {figure_text(quartiles[1])}"
        if isinstance(quartiles, list)
        else f"quartiles {figure_text(quartiles)}"
    )
    lines = [
        f"People: {figure_text(report['people'])}, maps: {figure_text(report['maps'])} (the study: {STUDY_MAPS} maps)",
    ]
    for h in HEADLINES:
        lines.append(f"{h.words}: {share_text(report[h.key])}; the study: {h.study}")
    lines.append(f"Network size (current connections): median {figure_text(size['median'])}, {spread}")
    change = report["change"]
    lines.append(
        f"People with two or more maps: {figure_text(change['people'])}; network grew for "
        f"{share_text(change['network_size']['up'])}, shrank for {share_text(change['network_size']['down'])}"
    )
    lines.append(report["disclosure_control"])
    return lines
