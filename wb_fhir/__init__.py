"""wb_fhir: wellbeing network mapping in FHIR R4.

The concepts and the map file are here; each area has its own curated API:
``wb_fhir.render`` (pictures), ``wb_fhir.fhir`` (map <-> FHIR), ``wb_fhir.sync`` (FHIR
servers), ``wb_fhir.review`` (maps over time), ``wb_fhir.conformance`` (profiles).

The names below load on first use (:mod:`wb_fhir._lazy`), so ``import wb_fhir`` costs next to
nothing: the map loader comes with ``load_map`` and its kin.
"""

from __future__ import annotations

from wb_fhir import _lazy

__version__ = "0.1.0"

TYPE_CHECKING = False  # typing itself costs start-up time
if TYPE_CHECKING:
    from wb_fhir.errors import AuthError, ConflictError, InputError, MatchError, Problem, ServerError, WbFhirError
    from wb_fhir.mapfile import dumps_map, load_map, map_from_data, map_to_data, save_map
    from wb_fhir.measures import NetworkMeasures, measure
    from wb_fhir.model import Connection, Goal, Milestone, Practitioner, Signpost, Subject, Tie, WellbeingMap
del TYPE_CHECKING

__getattr__, __dir__ = _lazy.exports(
    __name__,
    {
        "wb_fhir.errors": (
            "AuthError",
            "ConflictError",
            "InputError",
            "MatchError",
            "Problem",
            "ServerError",
            "WbFhirError",
        ),
        "wb_fhir.mapfile": ("dumps_map", "load_map", "map_from_data", "map_to_data", "save_map"),
        "wb_fhir.measures": ("NetworkMeasures", "measure"),
        "wb_fhir.model": (
            "Connection",
            "Goal",
            "Milestone",
            "Practitioner",
            "Signpost",
            "Subject",
            "Tie",
            "WellbeingMap",
        ),
    },
)

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
