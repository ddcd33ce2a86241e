"""All the resources of one map, and the transaction Bundle that writes them idempotently.

Every entry is a conditional upsert by business identifier (``PUT Type?identifier=...``),
addressed inside the Bundle as ``urn:uuid:<identifier value>``; the Patient is only ever
referenced (by id or conditionally by NHS number), never created; the Provenance is created
once (``ifNoneExist``). Posting the same Bundle twice creates nothing new.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from wb_fhir.fhir.careplan import care_plan
from wb_fhir.fhir.document import Rendering, document_reference
from wb_fhir.fhir.goals import goal_resource
from wb_fhir.fhir.observations import observations
from wb_fhir.fhir.provenance import provenance
from wb_fhir.fhir.questionnaire_response import questionnaire_response
from wb_fhir.fhir.references import (
    JSON,
    Key,
    Linker,
    care_plan_key,
    connection_key,
    document_key,
    goal_key,
    provenance_key,
    questionnaire_response_key,
    summary_key,
    tie_key,
    time_at_home_key,
)
from wb_fhir.fhir.signposts import service_requests
from wb_fhir.model import WellbeingMap


@dataclass(frozen=True)
class MapResources:
    """The resources of one map, each with its business identity."""

    questionnaire_response: JSON
    observations: tuple[JSON, ...]
    goals: tuple[JSON, ...]
    care_plan: JSON
    document_reference: JSON | None
    provenance: JSON
    keys: tuple[Key, ...]
    """Keys of every resource but the Provenance, in the order of :meth:`upserts`."""
    service_requests: tuple[JSON, ...] = ()
    """The follow-up of the sign-posts the person agreed to."""

    def upserts(self) -> list[tuple[Key, JSON]]:
        """Every resource to write by conditional update, with its key."""
        resources = [self.questionnaire_response, *self.observations, *self.goals, self.care_plan]
        if self.document_reference is not None:
            resources.append(self.document_reference)
        resources += self.service_requests
        return list(zip(self.keys, resources, strict=True))


def map_resources(
    wmap: WellbeingMap,
    *,
    attachments: Sequence[Rendering] = (),
    linker: Linker | None = None,
    recorded: datetime | None = None,
    asset_names: Mapping[str, str] | None = None,
) -> MapResources:
    """Every FHIR resource of a map (references by identifier unless ``linker`` says Bundle).

    ``asset_names`` (``{asset id: name}``) shows sign-posted assets by their names.
    """
    linker = linker or Linker()
    requests = service_requests(wmap, linker, asset_names=asset_names)
    obs_keys = [connection_key(wmap, c) for c in wmap.connections] + [tie_key(wmap, t) for t in wmap.ties]
    if wmap.time_at_home is not None:
        obs_keys.append(time_at_home_key(wmap))
    obs_keys.append(summary_key(wmap))
    supporting = [questionnaire_response_key(wmap), summary_key(wmap)]
    document = None
    if attachments:
        document = document_reference(wmap, attachments, linker)
        supporting.append(document_key(wmap))
    keys = [
        questionnaire_response_key(wmap),
        *obs_keys,
        *(goal_key(wmap, g) for g in wmap.goals),
        care_plan_key(wmap),
    ]
    if document is not None:
        keys.append(document_key(wmap))
    keys += [key for key, _ in requests]
    return MapResources(
        questionnaire_response=questionnaire_response(wmap, linker),
        observations=tuple(observations(wmap, linker)),
        goals=tuple(goal_resource(wmap, g, linker) for g in wmap.goals),
        care_plan=care_plan(wmap, linker, supporting=supporting, asset_names=asset_names),
        document_reference=document,
        provenance=provenance(wmap, keys, linker, recorded=recorded),
        keys=tuple(keys),
        service_requests=tuple(resource for _, resource in requests),
    )


def transaction_bundle(
    wmap: WellbeingMap,
    *,
    attachments: Sequence[Rendering] = (),
    recorded: datetime | None = None,
    asset_names: Mapping[str, str] | None = None,
) -> JSON:
    """The transaction Bundle that writes a map's resources (idempotent: post it twice, get one set)."""
    resources = map_resources(
        wmap, attachments=attachments, linker=Linker(in_bundle=True), recorded=recorded, asset_names=asset_names
    )
    entries: list[JSON] = [
        {"fullUrl": key.full_url, "resource": resource, "request": {"method": "PUT", "url": key.conditional_url}}
        for key, resource in resources.upserts()
    ]
    prov = provenance_key(wmap)
    entries.append(
        {
            "fullUrl": prov.full_url,
            "resource": resources.provenance,
            "request": {"method": "POST", "url": "Provenance", "ifNoneExist": f"_tag={prov.system}|{prov.value}"},
        }
    )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}
