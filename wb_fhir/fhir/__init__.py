"""Map <-> FHIR R4: the resources of the shapes contract, transaction Bundles, and back (pure).

Map to FHIR: :func:`transaction_bundle` (what a push posts), :func:`map_resources` (every
resource), or one kind at a time. FHIR to map: :func:`map_from_questionnaire_response` (strict)
or :func:`extract_map` (warnings for items it could not use), :func:`plan_from_resources`
for goals, sign-posts and next review from a CarePlan and its Goals, and
:func:`extract_observations` for SDC extraction, :func:`populate` for SDC ``$populate`` (a response
prefilled from the record for a form filler to open). The one exception to purity,
:func:`populate_from_server`, reads that record through the client it is given.

The names load on first use (:mod:`wb_fhir._lazy`): building a Bundle never loads the
FHIRPath engine of SDC extraction, nor extraction the Bundle code.
"""

from wb_fhir import _lazy

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wb_fhir.fhir.bundle import MapResources, map_resources, transaction_bundle
    from wb_fhir.fhir.careplan import PlanParts, care_plan, plan_from_resources
    from wb_fhir.fhir.document import Attachment, Rendering, document_reference
    from wb_fhir.fhir.extract import (
        ExtractResult,
        extract_map,
        map_from_questionnaire_response,
        questionnaire_response_of,
    )
    from wb_fhir.fhir.goals import goal_from_resource, goal_resource
    from wb_fhir.fhir.narrative import care_plan_narrative
    from wb_fhir.fhir.observations import measures_from_observations, observations
    from wb_fhir.fhir.populate import Populated, populate, populate_from_server
    from wb_fhir.fhir.provenance import provenance
    from wb_fhir.fhir.questionnaire_response import questionnaire_response
    from wb_fhir.fhir.references import Key, Linker, Search, Token
    from wb_fhir.fhir.sdc import extract_observations
del TYPE_CHECKING

__getattr__, __dir__ = _lazy.exports(
    __name__,
    {
        "wb_fhir.fhir.bundle": ("MapResources", "map_resources", "transaction_bundle"),
        "wb_fhir.fhir.careplan": ("PlanParts", "care_plan", "plan_from_resources"),
        "wb_fhir.fhir.document": ("Attachment", "Rendering", "document_reference"),
        "wb_fhir.fhir.extract": (
            "ExtractResult",
            "extract_map",
            "map_from_questionnaire_response",
            "questionnaire_response_of",
        ),
        "wb_fhir.fhir.goals": ("goal_from_resource", "goal_resource"),
        "wb_fhir.fhir.narrative": ("care_plan_narrative",),
        "wb_fhir.fhir.observations": ("measures_from_observations", "observations"),
        "wb_fhir.fhir.populate": ("Populated", "populate", "populate_from_server"),
        "wb_fhir.fhir.provenance": ("provenance",),
        "wb_fhir.fhir.questionnaire_response": ("questionnaire_response",),
        "wb_fhir.fhir.references": ("Key", "Linker", "Search", "Token"),
        "wb_fhir.fhir.sdc": ("extract_observations",),
    },
)

__all__ = [
    "Attachment",
    "ExtractResult",
    "Key",
    "Linker",
    "MapResources",
    "PlanParts",
    "Populated",
    "Rendering",
    "Search",
    "Token",
    "care_plan",
    "care_plan_narrative",
    "document_reference",
    "extract_map",
    "extract_observations",
    "goal_from_resource",
    "goal_resource",
    "map_from_questionnaire_response",
    "map_resources",
    "measures_from_observations",
    "observations",
    "plan_from_resources",
    "populate",
    "populate_from_server",
    "provenance",
    "questionnaire_response",
    "questionnaire_response_of",
    "transaction_bundle",
]
