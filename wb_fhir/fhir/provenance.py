"""The Provenance of what one map wrote: targets, who, and the QuestionnaireResponse as source.

R4 Provenance has no identifier, so its business identity goes in ``meta.tag``; the
transaction creates it with ``ifNoneExist: _tag=...`` and a second push adds none.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from wb_fhir import __version__
from wb_fhir.fhir.references import (
    JSON,
    Key,
    Linker,
    meta,
    practitioner_ref,
    provenance_key,
    questionnaire_response_key,
)
from wb_fhir.model import WellbeingMap
from wb_fhir.terminology import PROVENANCE_ENTITY_SOURCE, PROVENANCE_PARTICIPANT_SYSTEM, Profile

SOFTWARE = f"wb_fhir {__version__}"


def _agent(role: str, who: JSON) -> JSON:
    return {"type": {"coding": [{"system": PROVENANCE_PARTICIPANT_SYSTEM, "code": role}]}, "who": who}


def provenance(
    wmap: WellbeingMap, targets: Sequence[Key], linker: Linker | None = None, *, recorded: datetime | None = None
) -> JSON:
    """The Provenance of the resources written for a map.

    ``recorded`` defaults to the start of the map's day (UTC), so the same map always gives
    the same Provenance; pass the time of the push to record it.
    """
    linker = linker or Linker()
    key = provenance_key(wmap)
    when = recorded.isoformat() if recorded else f"{wmap.date.isoformat()}T00:00:00Z"
    resource_meta = meta(Profile.PROVENANCE, "Provenance")
    resource_meta["tag"] = [{"system": key.system, "code": key.value}]
    return {
        "resourceType": "Provenance",
        "meta": resource_meta,
        "target": [linker.ref(k) for k in targets],
        "recorded": when,
        "agent": [_agent("author", practitioner_ref(p)) for p in wmap.practitioners]
        + [_agent("assembler", {"display": SOFTWARE})],
        "entity": [{"role": PROVENANCE_ENTITY_SOURCE, "what": linker.ref(questionnaire_response_key(wmap))}],
    }
