"""The one CodeSystem of the project's own codes, built from :mod:`wb_fhir.terminology`."""

from __future__ import annotations

from wb_fhir.conformance._common import Resource, metadata
from wb_fhir.terminology import CODESYSTEM_URL, IMPACT_WEIGHT, concepts

CODESYSTEM_ID = "wb-fhir"
ITEM_WEIGHT_PROPERTY = "itemWeight"
ITEM_WEIGHT_URI = "http://hl7.org/fhir/concept-properties#itemWeight"

DESCRIPTION = (
    "Every code of wellbeing network mapping: the kinds, categories, impact ratings, contact "
    "frequencies, statuses, practitioner roles, disclosure answers, tie types, goal and sign-post "
    "statuses of a map, and the codes of the Observations wb_fhir writes and of their components. "
    "Local codes are used only where no standard code fits: SNOMED CT and LOINC have no concepts "
    "for a person's own rating of a place or activity in a wellbeing network, for the closeness "
    "ring of a concentric map, or for the practitioner roles of the Community Health Networks "
    "study. Standard codes are used wherever they fit: Observation categories social-history and "
    "survey, UCUM % for shares, SNOMED CT 734163000 |Care plan| for the document type. Impact "
    "codes carry an ordinal itemWeight (very positive 2 ... very negative -2; mixed 0)."
)


def build_codesystem() -> Resource:
    """The CodeSystem (content complete) with every concept of ``terminology.concepts()``."""
    weights = {impact.value: weight for impact, weight in IMPACT_WEIGHT.items()}
    resource = metadata(
        "CodeSystem", CODESYSTEM_ID, CODESYSTEM_URL, "WbFhirCodes", "Wellbeing network mapping codes", DESCRIPTION
    )
    entries = []
    for concept in concepts():
        entry: dict[str, object] = {
            "code": concept.code,
            "display": concept.display,
            "definition": concept.definition,
        }
        if concept.code in weights:
            entry["property"] = [{"code": ITEM_WEIGHT_PROPERTY, "valueDecimal": weights[concept.code]}]
        entries.append(entry)
    resource.update(
        {
            "caseSensitive": True,
            "content": "complete",
            "count": len(entries),
            "property": [
                {
                    "code": ITEM_WEIGHT_PROPERTY,
                    "uri": ITEM_WEIGHT_URI,
                    "description": "Ordinal weight of an impact rating: positive helps, negative harms.",
                    "type": "decimal",
                }
            ],
            "concept": entries,
        }
    )
    return resource
