"""The review in the care record: a FHIR narrative and a DocumentReference (pure).

The narrative is built as an element tree and serialised, so every text is escaped and the
XHTML is well formed; it uses only elements FHIR allows in a narrative (no scripts, no event
attributes, no images, no external references). The DocumentReference carries the summary
(PDF and HTML) and points at the person's wellbeing CarePlan by its business identifier.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from wb_fhir.fhir.careplan import care_plan
from wb_fhir.fhir.document import Rendering, document_reference
from wb_fhir.fhir.references import JSON, Linker, review_document_key
from wb_fhir.model import WellbeingMap
from wb_fhir.review.compare import MapChanges
from wb_fhir.review.text import GOAL_TEXT, connection_line, measure_trend, measure_value, signpost_line
from wb_fhir.terminology import TieType, display

XHTML = "http://www.w3.org/1999/xhtml"


def _el(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    child = ET.SubElement(parent, tag)
    if text is not None:
        child.text = text
    return child


def _table(parent: ET.Element, head: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    table = _el(parent, "table")
    tr = _el(_el(table, "thead"), "tr")
    for h in head:
        _el(tr, "th", h)
    body = _el(table, "tbody")
    for row in rows:
        tr = _el(body, "tr")
        for cell in row:
            _el(tr, "td", cell)


def review_narrative(changes: MapChanges, newest: WellbeingMap) -> str:
    """The review as FHIR narrative XHTML (for ``CarePlan.text.div``), every text escaped."""
    div = ET.Element("div", {"xmlns": XHTML})
    _el(div, "h3", f"Review of {changes.new_date.isoformat()} (since {changes.old_date.isoformat()})")
    if changes.unchanged:
        _el(div, "p", "Nothing changed since the last map.")
    for note in changes.notes:
        _el(div, "p", f"Note: {note}")
    if changes.connections:
        _el(div, "p", "Connections that changed:")
        _table(
            div,
            ("Connection", "Kind", "What changed"),
            [(c.label, display(c.kind), connection_line(c)) for c in changes.connections],
        )
    if changes.ties:
        ul = _el(div, "ul")
        for t in changes.ties:
            what = "added" if t.change.value == "added" else "gone"
            _el(ul, "li", f"Tie {what}: {t.from_label} {display(TieType(t.type)).lower()} {t.to_label}")
    if newest.goals or changes.goals:
        _el(div, "p", "Goals:")
        by_id = {g.id: g for g in changes.goals}
        goal_rows = []
        for g in newest.goals:
            done = sum(m.done for m in g.milestones)
            what = ", ".join(GOAL_TEXT[c] for c in by_id[g.id].changes) if g.id in by_id else ""
            goal_rows.append((g.description, display(g.status), f"{done} of {len(g.milestones)}", what or "no change"))
        _table(div, ("Goal", "Status", "Milestones done", "Change"), goal_rows)
    if changes.signposts:
        ul = _el(div, "ul")
        for s in changes.signposts:
            _el(ul, "li", f"Sign-post to {s.asset} (for {s.reason}): {signpost_line(s)}")
    moved = [m for m in changes.measures if m.changed]
    if moved:
        _el(div, "p", "Network measures that changed:")
        _table(
            div,
            ("Measure", changes.old_date.isoformat(), changes.new_date.isoformat(), "Change"),
            [(m.label, measure_value(m.before), measure_value(m.after), measure_trend(m)) for m in moved],
        )
    if newest.next_review:
        _el(div, "p", f"Next review: {newest.next_review.isoformat()}")
    return ET.tostring(div, encoding="unicode", method="xml", short_empty_elements=False)


def review_document_reference(
    changes: MapChanges, newest: WellbeingMap, files: Sequence[Rendering], linker: Linker | None = None
) -> JSON:
    """The DocumentReference of a review summary (PDF and HTML), related to the person's CarePlan."""
    doc = document_reference(newest, files, linker)
    doc["identifier"] = [review_document_key(newest).identifier()]
    doc["type"]["text"] = "Wellbeing network review summary"
    doc["description"] = (
        f"Wellbeing network review summary, {changes.old_date.isoformat()} to {changes.new_date.isoformat()}"
    )
    return doc


def review_care_plan(changes: MapChanges, newest: WellbeingMap, linker: Linker | None = None) -> JSON:
    """The person's CarePlan as of the newest map, its narrative telling the review."""
    plan = care_plan(newest, linker)
    plan["text"] = {"status": "generated", "div": review_narrative(changes, newest)}
    return plan
