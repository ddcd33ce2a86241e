"""What an opened SMART launch means for the maps (pure): whose maps, and who writes them.

A launch names a Patient on the EHR's FHIR server and, by ``fhirUser``, the practitioner. When the
app opens the launch it reads both once (:mod:`wb_fhir.web.ehr`) and keeps a :class:`Launched`
in the session: from then on every map the session makes or changes is about that Patient
(:func:`pin_subject`), and every map it saves has that practitioner first, so that they are the
QuestionnaireResponse's author and the Provenance's author (:func:`with_author`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from wb_fhir.fhir.careteam import name_of
from wb_fhir.mapfile import nhs_number_spaced
from wb_fhir.model import Practitioner, Subject, WellbeingMap
from wb_fhir.review.prefill import nhs_number_of
from wb_fhir.web.smart import LaunchContext

UNNAMED_PRACTITIONER = "Practitioner"
"""Display of a practitioner whose name the record does not give."""


@dataclass(frozen=True)
class Launched:
    """An opened launch: its context, the person it is limited to, and who is using the app."""

    context: LaunchContext
    subject: Subject
    practitioner: Practitioner | None
    birth_date: str | None = None

    @property
    def person(self) -> str:
        """The person key the session is limited to (``nhs:...``, else ``fhir:Patient/...``)."""
        return self.subject.key

    @property
    def banner(self) -> bool:
        """Whether the app shows who the person is (the EHR does not show it around the app)."""
        return self.context.need_patient_banner

    @property
    def nhs_number_spaced(self) -> str | None:
        """The NHS number as people read it (``943 476 5919``)."""
        n = self.subject.nhs_number
        return nhs_number_spaced(n) if n else None


def launched_from(context: LaunchContext, patient: dict[str, Any], practitioner: dict[str, Any] | None) -> Launched:
    """The :class:`Launched` of a context, from the Patient and the practitioner's resource as read."""
    subject = Subject(
        nhs_number=nhs_number_of(patient), fhir_id=context.patient_reference, display=name_of(patient) or None
    )
    who = None
    if context.fhir_user and context.fhir_user.startswith("Practitioner/"):
        name = name_of(practitioner) if practitioner else None
        who = Practitioner(name or UNNAMED_PRACTITIONER, fhir_id=context.fhir_user)
    birth = patient.get("birthDate")
    return Launched(context, subject, who, str(birth) if birth else None)


def pin_subject(data: dict[str, Any], launched: Launched) -> dict[str, Any]:
    """Map data (checked or not) made about the launched person: their NHS number and Patient id.

    The name shown stays as written (the person may prefer another); a missing one is the record's.
    """
    given = data.get("subject")
    subject: dict[str, Any] = given if isinstance(given, dict) else {}
    pinned = {k: v for k, v in subject.items() if k not in ("nhs_number", "fhir_id")}
    if launched.subject.nhs_number:
        pinned["nhs_number"] = launched.subject.nhs_number
    pinned["fhir_id"] = launched.subject.fhir_id
    if not pinned.get("display") and launched.subject.display:
        pinned["display"] = launched.subject.display
    return {**data, "subject": pinned}


def with_author(wmap: WellbeingMap, practitioner: Practitioner | None) -> WellbeingMap:
    """The map with ``practitioner`` first among its practitioners (the author); others keep their order.

    A practitioner already on the map with the same FHIR id (or, without one, the same name)
    moves to the front, keeping the role written there.
    """
    if practitioner is None:
        return wmap

    def same(p: Practitioner) -> bool:
        if p.fhir_id:
            return p.fhir_id == practitioner.fhir_id
        return p.display.casefold() == practitioner.display.casefold()

    role = next((p.role for p in wmap.practitioners if same(p) and p.role), None)
    first = replace(practitioner, role=role or practitioner.role)
    return replace(wmap, practitioners=(first, *(p for p in wmap.practitioners if not same(p))))
