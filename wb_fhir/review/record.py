"""The review in the care record: a FHIR narrative and a DocumentReference (pure).

The narrative is built as an element tree and serialised, so every text is escaped and the
XHTML is well formed; it uses only elements FHIR allows in a narrative (no scripts, no event
attributes, no images, no external references). The DocumentReference carries the summary
(PDF and HTML) and points at the person's wellbeing CarePlan by its business identifier.
"""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wb_fhir.model import WellbeingMap, stable_uuid
from wb_fhir.review.compare import MapChanges
from wb_fhir.review.text import GOAL_TEXT, connection_line, measure_trend, measure_value, signpost_line
from wb_fhir.terminology import (
    CARE_PLAN_DOCUMENT_TYPE,
    NHS_NUMBER_SYSTEM,
    IdentifierKind,
    Profile,
    display,
    identifier_system,
    structure_definition_url,
)

XHTML = "http://www.w3.org/1999/xhtml"
JSON = dict[str, Any]


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
        _table(div, ("Connection", "Kind", "What changed"), [(c.label, display(c.kind), connection_line(c)) for c in changes.connections])
    if changes.ties:
        ul = _el(div, "ul")
        for t in changes.ties:
            _el(ul, "li", f"Tie {'added' if t.change.value == 'added' else 'gone'}: {t.from_label} {t.type} {t.to_label}")
    if newest.goals or changes.goals:
        _el(div, "p", "Goals:")
        by_id = {g.id: g for g in changes.goals}
        rows = []
        for g in newest.goals:
            done = sum(m.done for m in g.milestones)
            what = ", ".join(GOAL_TEXT[c] for c in by_id[g.id].changes) if g.id in by_id else ""
            rows.append((g.description, display(g.status), f"{done} of {len(g.milestones)}", what or "no change"))
        _table(div, ("Goal", "Status", "Milestones done", "Change"), rows)
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


@dataclass(frozen=True)
class SummaryFile:
    """One rendering of the review summary to attach (``content_type`` e.g. application/pdf)."""

    content_type: str
    data: bytes
    title: str


def review_document_key(newest: WellbeingMap) -> str:
    """Business identifier value of the review summary's DocumentReference (one per review)."""
    return stable_uuid(newest.id, "review-summary")


def care_plan_identifier(newest: WellbeingMap) -> JSON:
    """The business identifier of the person's wellbeing CarePlan (per the shapes contract)."""
    return {
        "system": identifier_system(IdentifierKind.CARE_PLAN),
        "value": stable_uuid(newest.subject.key, "care-plan"),
    }


def subject_reference(newest: WellbeingMap) -> JSON:
    """The Patient, as a logical reference outside a Bundle (never creates a Patient)."""
    s = newest.subject
    ref: JSON = (
        {"reference": s.fhir_id}
        if s.fhir_id
        else {"identifier": {"system": NHS_NUMBER_SYSTEM, "value": s.nhs_number}}
    )
    if s.display:
        ref["display"] = s.display
    return ref


def review_document_reference(
    changes: MapChanges, newest: WellbeingMap, files: Sequence[SummaryFile], created: datetime
) -> JSON:
    """The DocumentReference of a review summary, related to the person's CarePlan."""
    system, code, text = CARE_PLAN_DOCUMENT_TYPE
    when = created.isoformat(timespec="seconds")
    return {
        "resourceType": "DocumentReference",
        "meta": {"profile": [structure_definition_url(Profile.DOCUMENT_REFERENCE)]},
        "identifier": [{"system": identifier_system(IdentifierKind.DOCUMENT), "value": review_document_key(newest)}],
        "status": "current",
        "type": {"coding": [{"system": system, "code": code, "display": text}], "text": "Wellbeing network review"},
        "subject": subject_reference(newest),
        "date": when,
        "description": f"Wellbeing network review summary, {changes.old_date.isoformat()} to "
        f"{changes.new_date.isoformat()}",
        "content": [
            {
                "attachment": {
                    "contentType": f.content_type,
                    "data": base64.b64encode(f.data).decode("ascii"),
                    "title": f.title,
                    "creation": when,
                }
            }
            for f in files
        ],
        "context": {
            "related": [
                {"identifier": care_plan_identifier(newest), "display": "Wellbeing care plan"},
                {
                    "identifier": {"system": identifier_system(IdentifierKind.MAP), "value": newest.id},
                    "display": "Wellbeing network map (QuestionnaireResponse)",
                },
            ]
        },
    }
