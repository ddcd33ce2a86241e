"""Map <-> FHIR R4: the resources of the shapes contract, transaction Bundles, and back (pure).

Map to FHIR: :func:`transaction_bundle` (what a push posts), :func:`map_resources` (every
resource), or one kind at a time. FHIR to map: :func:`map_from_questionnaire_response` (strict)
or :func:`extract_map` (warnings for items it could not use), :func:`plan_from_resources`
for goals, sign-posts and next review from a CarePlan and its Goals, and
:func:`extract_observations` for SDC extraction, :func:`populate` for SDC ``$populate`` (a response
prefilled from the record for a form filler to open). The one exception to purity,
:func:`populate_from_server`, reads that record through the client it is given.
"""

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
