"""The asset bank on a FHIR server: upload an import, add an asset, search (I/O).

Everything goes through :class:`~wb_fhir.sync.client.FhirClient`. Writes are transactions of
conditional upserts (``PUT Type?identifier=...``), so an upload sent twice, or retried after
a failure, stores every asset once. Searches use the server's own parameters where R4 has them
(``service-category``, ``active``, and ``near`` on Location, whose answer narrows
``HealthcareService?location=``); words, opening days and cost have no R4 search parameter,
so those parts of a query, and the exact distance, are applied to what the server returned.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from wb_fhir.assets.followup import FollowUp, state_on
from wb_fhir.assets.merge import ImportResult, merge_import, of_feed
from wb_fhir.assets.model import Asset, AssetDirectory
from wb_fhir.assets.search import Hit, Query, search
from wb_fhir.errors import InputError, ServerError
from wb_fhir.fhir.assets import (
    ORUK,
    asset_from_resources,
    asset_provenance,
    asset_transaction,
    index_resources,
    service_key,
)
from wb_fhir.fhir.signposts import request_follow_up
from wb_fhir.model import stable_uuid
from wb_fhir.sync.client import FhirClient
from wb_fhir.terminology import (
    CODESYSTEM_URL,
    NHS_NUMBER_SYSTEM,
    ORUK_FEED_TAG,
    IdentifierKind,
    SignpostStatus,
    identifier_system,
)

log = logging.getLogger(__name__)

PAGE_SIZE = 100
BATCH = 50
"""Assets per transaction: a large feed goes in several transactions, each idempotent."""
_INCLUDES = [
    ("_include", "HealthcareService:location"),
    ("_include", "HealthcareService:organization"),
    ("_include", "HealthcareService:coverage-area"),
]


def _pages(client: FhirClient, params: list[tuple[str, str]]) -> Iterator[dict[str, Any]]:
    yield from client.pages("HealthcareService", [*params, *_INCLUDES, ("_count", str(PAGE_SIZE))])


def fetch_assets(client: FhirClient, params: Sequence[tuple[str, str]] = ()) -> list[Asset]:
    """The assets (wb_fhir's HealthcareServices) a search finds, their places and organisations resolved."""
    services: list[Mapping[str, Any]] = []
    included: list[Mapping[str, Any]] = []
    for page in _pages(client, [("identifier", f"{identifier_system(IdentifierKind.ASSET)}|"), *params]):
        for entry in page.get("entry", []):
            resource = entry.get("resource")
            if not isinstance(resource, dict):
                continue
            if entry.get("search", {}).get("mode", "match") == "match":
                services.append(resource)
            else:
                included.append(resource)
    index = index_resources(included)
    out = []
    for service in services:
        try:
            out.append(asset_from_resources(service, index))
        except (InputError, KeyError, ValueError, TypeError) as exc:
            raise ServerError(f"HealthcareService/{service.get('id')} cannot be read as an asset ({exc})") from None
    return out


def write_assets(
    client: FhirClient,
    assets: Sequence[Asset],
    *,
    recorded: datetime,
    who: str | None = None,
    source: str | None = None,
) -> None:
    """Write assets, in transactions of :data:`BATCH`, each with a Provenance of who wrote them and when."""
    for start in range(0, len(assets), BATCH):
        batch = list(assets[start : start + BATCH])
        keys = [service_key(a.id) for a in batch]
        tag = stable_uuid("asset-provenance", recorded.isoformat(), who or "", source or "", *(a.id for a in batch))
        provenance = asset_provenance(keys, recorded=recorded, who=who, tag=tag, source=source)
        client.transaction(asset_transaction(batch, provenance=provenance, provenance_tag=tag))
        log.info("wrote a transaction of %d asset(s)", len(batch))


def upload_import(
    client: FhirClient, imported: Sequence[Asset], *, prefix: str, recorded: datetime, source: str
) -> ImportResult:
    """Bring an import into the server's bank: only what changed is written; withdrawn made inactive."""
    existing = [a for a in fetch_assets(client, [("_tag", f"{ORUK_FEED_TAG}|{prefix}")]) if of_feed(a, ORUK, prefix)]
    result = merge_import(AssetDirectory(tuple(existing)), imported, system=ORUK, prefix=prefix)
    if result.changed:
        write_assets(client, result.changed, recorded=recorded, source=source)
    return result


def search_server(client: FhirClient, query: Query) -> list[Hit]:
    """The assets on the server that match ``query`` (see the module's docstring for who does what)."""
    params: list[tuple[str, str]] = []
    if query.category is not None:
        params.append(("service-category", f"{CODESYSTEM_URL}|{query.category.value}"))
    if not query.include_inactive:
        params.append(("active", "true"))
    if query.near is None:
        return search(fetch_assets(client, params), query)
    lat, lon = query.near
    near = f"{lat}|{lon}|{query.within_km}|km"
    places = [
        f"Location/{loc['id']}"
        for loc in client.search_all("Location", [("near", near), ("_elements", "id"), ("_count", str(PAGE_SIZE))])
    ]
    found: dict[str, Asset] = {}
    for start in range(0, len(places), BATCH):
        for asset in fetch_assets(client, [*params, ("location", ",".join(places[start : start + BATCH]))]):
            found[asset.id] = asset
    return search(found.values(), query)


# --- sign-post follow-up across a server's caseload -------------------------------------------------

_FROM_REQUEST_STATUS = {
    "completed": SignpostStatus.ATTENDED,
    "revoked": SignpostStatus.DECLINED,
    "active": SignpostStatus.AGREED,
}


def follow_up_of_request(
    request: Mapping[str, Any],
    patient: Mapping[str, Any] | None,
    *,
    on: date,
    asset_names: Mapping[str, str] | None = None,
) -> FollowUp:
    """Where the sign-post of one of our ServiceRequests stands on the day ``on``."""
    known = request_follow_up(request)
    status = known.status or _FROM_REQUEST_STATUS.get(str(request.get("status")), SignpostStatus.AGREED)
    authored = str(request.get("authoredOn", ""))[:10]
    since = known.since or (known.steps[-1][1] if known.steps else None) or date.fromisoformat(authored or "1970-01-01")
    due, state = state_on(status, since, known.due, on)
    performer = (request.get("performer") or [{}])[0]
    asset = str(performer.get("identifier", {}).get("value", ""))
    reason = (request.get("reasonReference") or request.get("supportingInfo") or [{}])[0]
    nhs = None
    name = None
    if patient is not None:
        nhs = next(
            (str(i["value"]) for i in patient.get("identifier", []) if i.get("system") == NHS_NUMBER_SYSTEM), None
        )
        names = patient.get("name") or [{}]
        name = (
            names[0].get("text") or " ".join([*names[0].get("given", []), names[0].get("family", "")]).strip() or None
        )
    return FollowUp(
        where=f"ServiceRequest/{request.get('id')}",
        asset=asset,
        asset_name=(asset_names or {}).get(asset) or str(performer.get("display") or asset),
        reason=str(reason.get("display", "")),
        reason_label=str(reason.get("display", "")),
        status=status,
        since=since,
        due=due,
        state=state,
        steps=tuple((s, d) for s, d, _ in known.steps),
        note=next((str(n["text"]) for n in request.get("note", []) if n.get("text")), None),
        nhs_number=nhs,
        person=name,
    )


def caseload_follow_ups(
    client: FhirClient, *, on: date, asset_names: Mapping[str, str] | None = None
) -> list[FollowUp]:
    """Every sign-post the server follows up (our ServiceRequests), as it stands on the day ``on``."""
    requests: list[Mapping[str, Any]] = []
    patients: dict[str, Mapping[str, Any]] = {}
    params = [
        ("identifier", f"{identifier_system(IdentifierKind.SIGNPOST)}|"),
        ("_include", "ServiceRequest:subject"),
        ("_count", str(PAGE_SIZE)),
    ]
    for page in client.pages("ServiceRequest", params):
        for entry in page.get("entry", []):
            resource = entry.get("resource")
            if not isinstance(resource, dict):
                continue
            if entry.get("search", {}).get("mode", "match") == "match":
                requests.append(resource)
            elif resource.get("resourceType") == "Patient":
                patients[f"Patient/{resource.get('id')}"] = resource
    out = []
    for request in requests:
        subject = str(request.get("subject", {}).get("reference", "")).split("/_history/")[0]
        patient = patients.get("/".join(subject.split("/")[-2:]))
        out.append(follow_up_of_request(request, patient, on=on, asset_names=asset_names))
    log.info("read %d sign-post follow-up(s) from the server", len(out))
    return out
