"""The DocumentReference that carries the renderings of a map (SVG, PNG, PDF).

R4 requires at least one ``content``: without renderings there is no DocumentReference.
Any object with ``content_type``, ``data`` and ``title`` is an attachment, so the renderings
of :mod:`wb_fhir.render` can be passed as they are.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from wb_fhir.fhir.references import JSON, Linker, care_plan_key, document_key, meta, questionnaire_response_key
from wb_fhir.model import WellbeingMap
from wb_fhir.terminology import CARE_PLAN_DOCUMENT_TYPE, Profile


class Rendering(Protocol):
    """Anything that can be attached: a content type, the bytes and a title."""

    @property
    def content_type(self) -> str: ...
    @property
    def data(self) -> bytes: ...
    @property
    def title(self) -> str: ...


@dataclass(frozen=True)
class Attachment:
    """A file to attach to the map's DocumentReference."""

    content_type: str
    data: bytes
    title: str


def document_reference(wmap: WellbeingMap, attachments: Sequence[Rendering], linker: Linker | None = None) -> JSON:
    """The DocumentReference of a map with its attachments (at least one)."""
    if not attachments:
        raise ValueError("a DocumentReference needs at least one attachment")
    linker = linker or Linker()
    system, code, text = CARE_PLAN_DOCUMENT_TYPE
    return {
        "resourceType": "DocumentReference",
        "meta": meta(Profile.DOCUMENT_REFERENCE, "DocumentReference"),
        "identifier": [document_key(wmap).identifier()],
        "status": "current",
        "type": {"coding": [{"system": system, "code": code, "display": text}]},
        "subject": linker.subject(wmap.subject),
        # DocumentReference.date is an instant; the map has a day, so its start (UTC).
        "date": f"{wmap.date.isoformat()}T00:00:00Z",
        "content": [
            {
                "attachment": {
                    "contentType": a.content_type,
                    "data": base64.b64encode(a.data).decode("ascii"),
                    "title": a.title,
                    "creation": wmap.date.isoformat(),
                }
            }
            for a in attachments
        ],
        "context": {"related": [linker.ref(care_plan_key(wmap)), linker.ref(questionnaire_response_key(wmap))]},
    }
