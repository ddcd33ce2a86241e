"""The population report as an HTML page (and PDF, and CSV), from the report's JSON (pure).

The page is built from the JSON as published (after disclosure control), never from exact
counts, so nothing on it can say more than the JSON does. Each chart has a title, a
description in plain words and its figures written beside the bars; each headline measure
stands beside the study's own figure.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from markupsafe import Markup

from wb_fhir._resources import document_templates
from wb_fhir.report.charts import Bar, bar_chart, range_chart
from wb_fhir.report.study import HEADLINES, STUDY_MAPS, STUDY_NAME, figure_text, share_text
from wb_fhir.terminology import Impact, Kind, Role, display

TEMPLATE = "report.html.j2"
KIND_PLURAL = {Kind.PERSON: "People", Kind.PLACE: "Places", Kind.ACTIVITY: "Activities"}
CHANGE_WORDS = {
    "network_size": ("Network size", "grew", "stayed the same", "shrank"),
    "inner_circle": ("Connections in the inner circle", "more", "the same", "fewer"),
    "time_at_home": ("Time at home", "more", "the same", "less"),
    "negative_share": ("Share of connections rated negative", "higher", "the same", "lower"),
}


def _value(measure: dict[str, Any]) -> float | None:
    pct = measure["percent"]
    return pct if isinstance(pct, float | int) else None


def _headlines(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for h in HEADLINES:
        m = report[h.key]
        rows.append({"words": h.words, "of": h.denominator_words, "ours": share_text(m), "study": h.study})
    return rows


def _headline_chart(report: dict[str, Any]) -> Markup:
    bars: list[Bar] = []
    for h in HEADLINES:
        m = report[h.key]
        bars.append(Bar("This caseload", _value(m), share_text(m), h.words))
        study = h.study_percent if h.study_percent is not None else 50.0
        bars.append(Bar("The study", study, h.study, h.words, series=1))
    words = "; ".join(f"{h.words}: here {share_text(report[h.key])}, in the study {h.study}" for h in HEADLINES)
    return Markup(  # noqa: S704 - built from escaped parts in charts.py
        bar_chart("c-headline", "The headline measures beside the study", words, bars, maximum=100.0)
    )


def _size_chart(report: dict[str, Any]) -> tuple[Markup, str]:
    size = report["network_size"]
    rows: list[tuple[str, list[float] | None, float | None, str]] = []

    def row(label: str, s: dict[str, Any]) -> None:
        q, med = s["quartiles"], s["median"]
        ok = isinstance(q, list) and isinstance(med, float | int)
        text = (
            f"median {figure_text(med)}; middle half {figure_text(q[0])} to {figure_text(q[1])}"
            if ok
            else "suppressed: fewer than 8 people"
            if med == "*"
            else "no maps"
        )
        rows.append((label, q if ok else None, med if ok else None, text))

    row("All connections", size)
    for kind in Kind:
        row(KIND_PLURAL[kind], size["by_kind"][kind.value])
    words = f"Current connections per person, latest maps of {_how_many(size['people'], 'people')}: " + "; ".join(
        f"{label}: {text}" for label, _, _, text in rows
    )
    return Markup(range_chart("c-size", "Network size", words, rows)), words  # noqa: S704


def _rings_chart(report: dict[str, Any]) -> tuple[Markup, str]:
    bars = [
        Bar(KIND_PLURAL[Kind(kind)], n if isinstance(n, int) else None, _count_text(n), f"Ring {ring}")
        for ring, kinds in report["rings"].items()
        for kind, n in kinds.items()
    ]
    words = "Current connections in each ring, by kind: " + "; ".join(
        f"ring {ring}: " + ", ".join(f"{KIND_PLURAL[Kind(kind)].lower()} {_count_text(n)}" for kind, n in kinds.items())
        for ring, kinds in report["rings"].items()
    )
    if not bars:
        words = "No current connections to show."
    return Markup(bar_chart("c-rings", "Rings by kind", words, bars)), words  # noqa: S704


def _how_many(n: Any, noun: str) -> str:
    """``150 people``, or ``1 to 7 people (suppressed)`` in plain words rather than ``* people``."""
    return f"1 to 7 {noun} (suppressed)" if n == "*" else f"{figure_text(n)} {noun}"


def _count_text(n: Any) -> str:
    return "suppressed (1 to 7)" if n == "*" else figure_text(n)


def _share_bars(measures: dict[str, dict[str, Any]], names: dict[str, str], group: str = "") -> list[Bar]:
    return [Bar(names[k], _value(m), share_text(m), group) for k, m in measures.items()]


def _impact_chart(report: dict[str, Any]) -> tuple[Markup, str]:
    names = {i.value: display(i) for i in Impact}
    bars = _share_bars(report["impact"], names)
    words = "Current connections by their impact on wellbeing: " + "; ".join(f"{b.label} {b.text}" for b in bars)
    return Markup(bar_chart("c-impact", "Impact on wellbeing", words, bars, maximum=100.0)), words  # noqa: S704


def _home_chart(report: dict[str, Any]) -> tuple[Markup, str]:
    home = report["time_at_home"]
    bars = [
        Bar(f"{band}% of waking time", n if isinstance(n, int) else None, _count_text(n) + " people")
        for band, n in home["bands"].items()
    ]
    median = home["median"]
    middle = (
        "no one to take a median of"
        if median is None
        else "median suppressed: fewer than 8 people"
        if median == "*"
        else f"median {figure_text(median)}%"
    )
    words = (
        f"Share of waking time spent at home, for {_how_many(home['recorded'], 'people')} whose latest map records it "
        f"({middle}): " + "; ".join(f"{b.label}: {b.text}" for b in bars)
    )
    return Markup(bar_chart("c-home", "Time at home", words, bars)), words  # noqa: S704


def _change_chart(report: dict[str, Any]) -> tuple[Markup, str]:
    change = report["change"]
    bars: list[Bar] = []
    sentences = []
    for key, (title, up, same, down) in CHANGE_WORDS.items():
        c = change[key]
        for direction, word in (("up", up), ("same", same), ("down", down)):
            bars.append(Bar(word.capitalize(), _value(c[direction]), share_text(c[direction]), title))
        sentences.append(f"{title}: {up} for {share_text(c['up'])}, {down} for {share_text(c['down'])}")
    words = (
        f"First map against latest, for {_how_many(change['people'], 'people')} with two or more maps. "
        + "; ".join(sentences)
    )
    return Markup(bar_chart("c-change", "Change between reviews", words, bars, maximum=100.0)), words  # noqa: S704


def _roles(report: dict[str, Any]) -> list[dict[str, str]]:
    return [{"role": display(Role(r)), "share": share_text(m)} for r, m in report["roles"].items()]


def report_context(report: dict[str, Any], *, title: str = "Wellbeing networks: population report") -> dict[str, Any]:
    """Everything the report template shows, from the published JSON."""
    size_chart, size_words = _size_chart(report)
    rings_chart, rings_words = _rings_chart(report)
    impact_chart, impact_words = _impact_chart(report)
    home_chart, home_words = _home_chart(report)
    change_chart, change_words = _change_chart(report)
    period = report["period"]
    return {
        "title": title,
        "people": _how_many(report["people"], "people"),
        "maps": _how_many(report["maps"], "maps"),
        "since": period["since"],
        "until": period["until"],
        "suppressed": report["suppressed"],
        "rule": report["disclosure_control"],
        "study_name": STUDY_NAME,
        "study_maps": STUDY_MAPS,
        "headlines": _headlines(report),
        "headline_chart": _headline_chart(report),
        "charts": [
            {"id": "size", "title": "Network size", "svg": size_chart, "words": size_words},
            {"id": "rings", "title": "Rings by kind", "svg": rings_chart, "words": rings_words},
            {"id": "impact", "title": "Impact on wellbeing", "svg": impact_chart, "words": impact_words},
            {"id": "home", "title": "Time at home", "svg": home_chart, "words": home_words},
            {"id": "change", "title": "Change between reviews", "svg": change_chart, "words": change_words},
        ],
        "roles": _roles(report),
        "lost": share_text(report["lost"]["people"]),
        "lost_connections": _count_text(report["lost"]["connections"]),
        "wished": share_text(report["wished_for"]["people"]),
        "wished_connections": _count_text(report["wished_for"]["connections"]),
    }


def report_html(report: dict[str, Any]) -> str:
    """The report as one self-contained HTML page (no scripts, no external resources)."""
    return document_templates().get_template(TEMPLATE).render(**report_context(report))


def _rows(value: Any, path: str) -> Iterator[list[Any]]:
    if isinstance(value, dict) and {"count", "denominator", "percent"} <= value.keys():
        yield [path, value["count"], value["denominator"], value["percent"], ""]
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from _rows(inner, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        yield [path, "", "", "", " to ".join(figure_text(v) for v in value)]
    else:
        yield [path, "", "", "", "" if value is None else value]


def report_csv(report: dict[str, Any]) -> str:
    """The report as CSV: one row per figure (``measure, count, denominator, percent, value, study``)."""
    study = {h.key: h.study for h in HEADLINES}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["measure", "count", "denominator", "percent", "value", "study"])
    for row in _rows(report, ""):
        writer.writerow([*row, study.get(row[0], "")])
    return out.getvalue()
