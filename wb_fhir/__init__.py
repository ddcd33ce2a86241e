"""wb_fhir: wellbeing network mapping in FHIR R4.

The concepts and the map file are here; each area has its own curated API:
``wb_fhir.render`` (pictures), ``wb_fhir.fhir`` (map <-> FHIR), ``wb_fhir.sync`` (FHIR
servers), ``wb_fhir.review`` (maps over time), ``wb_fhir.conformance`` (profiles).
"""

from wb_fhir.errors import AuthError, ConflictError, InputError, MatchError, Problem, ServerError, WbFhirError
from wb_fhir.mapfile import dumps_map, load_map, map_from_data, map_to_data, save_map
from wb_fhir.measures import NetworkMeasures, measure
from wb_fhir.model import Connection, Goal, Milestone, Practitioner, Signpost, Subject, Tie, WellbeingMap

__version__ = "0.1.0"

__all__ = [
    "AuthError",
    "ConflictError",
    "Connection",
    "Goal",
    "InputError",
    "MatchError",
    "Milestone",
    "NetworkMeasures",
    "Practitioner",
    "Problem",
    "ServerError",
    "Signpost",
    "Subject",
    "Tie",
    "WbFhirError",
    "WellbeingMap",
    "__version__",
    "dumps_map",
    "load_map",
    "map_from_data",
    "map_to_data",
    "measure",
    "save_map",
]
