"""Community assets <-> FHIR: HealthcareService, Location and Organization (pure).

One asset becomes a HealthcareService (what it offers, when, for whom, at what cost), one
Location per place (address and position: ``Location?near=`` finds it), a Location for the
area it serves (shared by every asset serving that area) and the Organization that runs it
(shared by its assets). Every resource has a business identifier, so an upload is a set of
conditional upserts: sending the same directory twice changes nothing.

What FHIR R4 has no element for (the contact in words, accessibility, transport, the date the
entry was last checked, who added it) goes in the ``wb-asset-details`` extension, so an asset
survives the trip to a server and back unchanged (:func:`asset_from_resources`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from wb_fhir import __version__
from wb_fhir.assets.model import Asset, Opening, Organisation, Place, Source
from wb_fhir.errors import InputError, Problem
from wb_fhir.fhir.references import JSON, Key, meta
from wb_fhir.model import stable_uuid
from wb_fhir.terminology import (
    CODESYSTEM_URL,
    LOCATION_PHYSICAL_TYPE_SYSTEM,
    ODS_ORGANISATION_SYSTEM,
    ORG_ID_LIST,
    ORUK_FEED_TAG,
    PROVENANCE_PARTICIPANT_SYSTEM,
    SERVICE_PROVISION_SYSTEM,
    AssetCategory,
    AssetProfile,
    IdentifierKind,
    display,
    identifier_system,
    structure_definition_url,
)

ORUK = "oruk"
"""``Source.system`` of assets imported from Open Referral UK."""
DETAILS_URL = structure_definition_url(AssetProfile.EXT_DETAILS)
_XHTML = "http://www.w3.org/1999/xhtml"


# --- identities -----------------------------------------------------------------------------


def service_key(asset_id: str) -> Key:
    """The HealthcareService of an asset (identifier value: the asset's id)."""
    return Key("HealthcareService", IdentifierKind.ASSET, asset_id)


def place_key(asset_id: str, place_id: str) -> Key:
    return Key("Location", IdentifierKind.ASSET_LOCATION, f"{asset_id}--{place_id}")


def area_key(area: str) -> Key:
    """The Location of an area served, shared by every asset that serves it."""
    slug = re.sub(r"[^a-z0-9]+", "-", area.casefold()).strip("-")[:56] or stable_uuid("area", area)[:8]
    return Key("Location", IdentifierKind.ASSET_LOCATION, f"area--{slug}")


def organisation_key(org_id: str) -> Key:
    return Key("Organization", IdentifierKind.ASSET_ORGANIZATION, org_id)


def full_url(key: Key) -> str:
    """The ``urn:uuid:`` a resource has inside a transaction (asset ids are not UUIDs)."""
    return f"urn:uuid:{stable_uuid(key.system, key.value)}"


# --- asset -> FHIR -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssetResources:
    """The resources of one asset, each with its business identity."""

    service: tuple[Key, JSON]
    places: tuple[tuple[Key, JSON], ...]
    area: tuple[Key, JSON] | None
    organisation: tuple[Key, JSON] | None

    def all(self) -> list[tuple[Key, JSON]]:
        """Every resource: the organisation and locations first, as the service points at them."""
        out = [self.organisation] if self.organisation else []
        out += [*self.places, *([self.area] if self.area else []), self.service]
        return out


def _ref(key: Key, display_: str | None, in_bundle: bool) -> JSON:
    out: JSON = (
        {"reference": full_url(key)} if in_bundle else {"type": key.resource_type, "identifier": key.identifier()}
    )
    if display_:
        out["display"] = display_
    return out


def _narrative(*paragraphs: str | None) -> JSON:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs if p)
    return {"status": "generated", "div": f'<div xmlns="{_XHTML}">{body}</div>'}


def _telecom(phone: str | None, email: str | None, url: str | None) -> list[JSON]:
    pairs = (("phone", phone), ("email", email), ("url", url))
    return [{"system": system, "value": value} for system, value in pairs if value]


def _details(asset: Asset) -> list[JSON]:
    parts: list[JSON] = []
    for name, value in (("contact", asset.contact), ("access", asset.access), ("transport", asset.transport)):
        if value:
            parts.append({"url": name, "valueString": value})
    if asset.checked:
        parts.append({"url": "checked", "valueDate": asset.checked.isoformat()})
    if asset.source is not None and asset.source.modified:
        parts.append({"url": "source-modified", "valueString": asset.source.modified})
    if asset.added_by:
        parts.append({"url": "added-by", "valueString": asset.added_by})
    if asset.added_on:
        parts.append({"url": "added-on", "valueDate": asset.added_on.isoformat()})
    return [{"url": DETAILS_URL, "extension": parts}] if parts else []


def _available(o: Opening) -> JSON:
    out: JSON = {"daysOfWeek": list(o.days)}
    if o.opens is None or o.closes is None:
        out["allDay"] = True
    else:
        out["availableStartTime"] = o.opens.strftime("%H:%M:%S")
        out["availableEndTime"] = o.closes.strftime("%H:%M:%S")
    return out


def _provision(asset: Asset) -> list[JSON]:
    if asset.free is None and not asset.cost:
        return []
    concept: JSON = {}
    if asset.free is not None:
        code = "free" if asset.free else "cost"
        label = "Free" if asset.free else "Fees apply"
        concept["coding"] = [{"system": SERVICE_PROVISION_SYSTEM, "code": code, "display": label}]
    if asset.cost:
        concept["text"] = asset.cost
    return [concept]


def _place(asset: Asset, place: Place, org: Key | None, in_bundle: bool) -> tuple[Key, JSON]:
    key = place_key(asset.id, place.id)
    resource: JSON = {
        "resourceType": "Location",
        "meta": meta(AssetProfile.LOCATION, "Location"),
        "text": _narrative(place.name or f"A place of {asset.name}", place.address, place.town, place.postcode),
        "identifier": [key.identifier()],
        "status": "active" if asset.active else "inactive",
    }
    if place.name:
        resource["name"] = place.name
    resource["description"] = f"Where {asset.name} is"
    resource["mode"] = "instance"
    address = {
        k: v
        for k, v in (
            ("line", [place.address] if place.address else None),
            ("city", place.town),
            ("postalCode", place.postcode),
        )
        if v
    }
    if address:
        resource["address"] = address
    if place.position is not None:
        resource["position"] = {"latitude": place.latitude, "longitude": place.longitude}
    if org is not None:
        resource["managingOrganization"] = _ref(org, None, in_bundle)
    return key, resource


def _area(area: str) -> tuple[Key, JSON]:
    key = area_key(area)
    return key, {
        "resourceType": "Location",
        "meta": meta(AssetProfile.LOCATION, "Location"),
        "text": _narrative(f"Area served: {area}"),
        "identifier": [key.identifier()],
        "status": "active",
        "name": area,
        "mode": "instance",
        "physicalType": {"coding": [{"system": LOCATION_PHYSICAL_TYPE_SYSTEM, "code": "area", "display": "Area"}]},
    }


def _org_identifier(scheme: str, value: str) -> JSON:
    if scheme.upper() == "ODS":
        return {"system": ODS_ORGANISATION_SYSTEM, "value": value}
    return {"system": f"{ORG_ID_LIST}/{scheme}", "value": value}


def organisation_resource(org: Organisation) -> tuple[Key, JSON]:
    """The Organization that runs one or more assets."""
    key = organisation_key(org.id)
    resource: JSON = {
        "resourceType": "Organization",
        "meta": meta(AssetProfile.ORGANIZATION, "Organization"),
        "text": _narrative(org.name),
        "identifier": [key.identifier(), *(_org_identifier(s, v) for s, v in org.identifiers)],
        "active": True,
        "name": org.name,
    }
    telecom = _telecom(org.phone, org.email, org.url)
    if telecom:
        resource["telecom"] = telecom
    return key, resource


def feed_prefix(asset: Asset) -> str | None:
    """The prefix of the ORUK feed an imported asset came from (its id is ``PREFIX-service id``)."""
    if asset.source is None or asset.source.system != ORUK or not asset.id.endswith(f"-{asset.source.id}"):
        return None
    return asset.id[: -len(asset.source.id) - 1] or None


def asset_resources(asset: Asset, *, in_bundle: bool = True) -> AssetResources:
    """The FHIR resources of one asset; references are ``urn:uuid:`` inside a Bundle, else by identifier."""
    org = organisation_resource(asset.organisation) if asset.organisation else None
    org_key = org[0] if org else None
    places = tuple(_place(asset, p, org_key, in_bundle) for p in asset.places)
    area = _area(asset.area) if asset.area else None
    key = service_key(asset.id)
    identifiers = [key.identifier()]
    if asset.source is not None and asset.source.system == ORUK:
        identifiers.append({"system": identifier_system(IdentifierKind.ORUK_SERVICE), "value": asset.source.id})
    service_meta = meta(AssetProfile.SERVICE, "HealthcareService")
    feed = feed_prefix(asset)
    if feed is not None:
        # lets a re-import find the assets of its own feed on a shared server in one search
        service_meta["tag"] = [{"system": ORUK_FEED_TAG, "code": feed}]
    service: JSON = {
        "resourceType": "HealthcareService",
        "meta": service_meta,
        "text": _narrative(asset.name, asset.description, asset.cost, asset.eligibility, asset.access),
    }
    extension = _details(asset)
    if extension:
        service["extension"] = extension
    service["identifier"] = identifiers
    service["active"] = asset.active
    if asset.organisation and org_key:
        service["providedBy"] = _ref(org_key, asset.organisation.name, in_bundle)
    service["category"] = [
        {"coding": [{"system": CODESYSTEM_URL, "code": c.value, "display": display(c)}]} for c in asset.categories
    ]
    if asset.types:
        service["type"] = [{"text": t} for t in asset.types]
    if places:
        service["location"] = [
            _ref(k, p.name or asset.name, in_bundle) for (k, _), p in zip(places, asset.places, strict=True)
        ]
    service["name"] = asset.name
    if asset.description:
        service["comment"] = asset.description
    if asset.notes:
        service["extraDetails"] = asset.notes
    telecom = _telecom(asset.phone, asset.email, asset.url)
    if telecom:
        service["telecom"] = telecom
    if area:
        service["coverageArea"] = [_ref(area[0], asset.area, in_bundle)]
    provision = _provision(asset)
    if provision:
        service["serviceProvisionCode"] = provision
    if asset.eligibility:
        service["eligibility"] = [{"code": {"text": "Eligibility"}, "comment": asset.eligibility}]
    if asset.opening:
        service["availableTime"] = [_available(o) for o in asset.opening]
    if asset.opening_notes:
        service["availabilityExceptions"] = asset.opening_notes
    return AssetResources((key, service), places, area, org)


def asset_transaction(
    assets: Sequence[Asset], *, provenance: JSON | None = None, provenance_tag: str | None = None
) -> JSON:
    """The transaction Bundle that writes assets (conditional upserts, shared resources once).

    An organisation or an area shared by several assets is written once, its fields merged.
    ``provenance`` (with its ``meta.tag`` value ``provenance_tag``) is created once at most.
    """
    entries: dict[str, tuple[Key, JSON]] = {}
    orgs: dict[str, Organisation] = {}
    for asset in assets:
        if asset.organisation is not None:
            orgs[asset.organisation.id] = _merge_org(orgs.get(asset.organisation.id), asset.organisation)
    for org in orgs.values():
        key, resource = organisation_resource(org)
        entries[key.conditional_url] = (key, resource)
    for asset in assets:
        for key, resource in asset_resources(asset).all():
            if key.resource_type != "Organization":
                entries.setdefault(key.conditional_url, (key, resource))
    out: list[JSON] = [
        {"fullUrl": full_url(key), "resource": resource, "request": {"method": "PUT", "url": key.conditional_url}}
        for key, resource in entries.values()
    ]
    if provenance is not None and provenance_tag is not None:
        system = identifier_system(IdentifierKind.PROVENANCE)
        out.append(
            {
                "fullUrl": f"urn:uuid:{stable_uuid(system, provenance_tag)}",
                "resource": provenance,
                "request": {"method": "POST", "url": "Provenance", "ifNoneExist": f"_tag={system}|{provenance_tag}"},
            }
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": out}


def _merge_org(a: Organisation | None, b: Organisation) -> Organisation:
    if a is None:
        return b
    return Organisation(
        a.id,
        a.name,
        a.url or b.url,
        a.email or b.email,
        a.phone or b.phone,
        tuple(dict([*b.identifiers, *a.identifiers]).items()),
    )


def asset_provenance(
    targets: Sequence[Key], *, recorded: datetime, who: str | None, tag: str, source: str | None = None
) -> JSON:
    """Who added or imported assets and when: a Provenance over their HealthcareServices.

    ``who`` is the person who added them (None: wb_fhir itself, for an import); ``source``
    names where imported assets came from (a file or feed), as the entity the targets derive from.
    """
    resource_meta = meta(AssetProfile.PROVENANCE, "Provenance")
    resource_meta["tag"] = [{"system": identifier_system(IdentifierKind.PROVENANCE), "code": tag}]
    agents = [{"display": who}] if who else []
    agents.append({"display": f"wb_fhir {__version__}"})
    roles = ["author", "assembler"] if who else ["assembler"]
    resource: JSON = {
        "resourceType": "Provenance",
        "meta": resource_meta,
        "text": _narrative(
            f"{'Added by ' + who if who else 'Imported'} on {recorded.date().isoformat()}"
            + (f" from {source}" if source else "")
            + f": {len(targets)} community asset(s)."
        ),
        "target": [{"reference": full_url(k)} for k in targets],
        "recorded": recorded.isoformat(),
        "agent": [
            {"type": {"coding": [{"system": PROVENANCE_PARTICIPANT_SYSTEM, "code": role}]}, "who": agent}
            for role, agent in zip(roles, agents, strict=True)
        ],
    }
    if source:
        resource["entity"] = [{"role": "source", "what": {"display": source}}]
    return resource


# --- FHIR -> asset -----------------------------------------------------------------------------


def _identifier(resource: Mapping[str, Any], kind: IdentifierKind) -> str | None:
    system = identifier_system(kind)
    return next(
        (str(i["value"]) for i in resource.get("identifier", []) if i.get("system") == system and i.get("value")),
        None,
    )


def _telecoms(resource: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for t in resource.get("telecom", []):
        if t.get("system") in ("phone", "email", "url") and t.get("value"):
            out.setdefault(t["system"], str(t["value"]))
    return out


def _resolve(ref: Mapping[str, Any], included: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any] | None:
    reference = str(ref.get("reference", "")).split("/_history/")[0]
    if reference in included:
        return included[reference]
    tail = "/".join(reference.rstrip("/").split("/")[-2:])
    if tail in included:
        return included[tail]
    ident = ref.get("identifier") or {}
    key = f"{ident.get('system')}|{ident.get('value')}"
    return included.get(key)


def index_resources(resources: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Resources by every name a reference may use: ``Type/id``, full URL, ``system|value``."""
    out: dict[str, Mapping[str, Any]] = {}
    for r in resources:
        if r.get("id"):
            out[f"{r['resourceType']}/{r['id']}"] = r
        for i in r.get("identifier", []):
            out[f"{i.get('system')}|{i.get('value')}"] = r
    return out


def asset_from_resources(service: Mapping[str, Any], included: Mapping[str, Mapping[str, Any]]) -> Asset:
    """The asset a HealthcareService describes; ``included`` resolves its Locations and Organization
    (see :func:`index_resources`). Raises InputError when it is not one of ours."""
    asset_id = _identifier(service, IdentifierKind.ASSET)
    if asset_id is None or not service.get("name"):
        raise InputError([Problem("HealthcareService", "has no wb_fhir asset identifier or no name")])
    details = {
        e["url"]: e
        for ext in service.get("extension", [])
        if ext.get("url") == DETAILS_URL
        for e in ext.get("extension", [])
    }
    categories = tuple(
        AssetCategory(c["code"])
        for concept in service.get("category", [])
        for c in concept.get("coding", [])
        if c.get("system") == CODESYSTEM_URL and c.get("code") in {m.value for m in AssetCategory}
    )
    org = None
    if service.get("providedBy"):
        found = _resolve(service["providedBy"], included)
        if found is not None:
            org = _organisation(found)
    places = []
    for ref in service.get("location", []):
        found = _resolve(ref, included)
        if found is not None:
            places.append(_place_from(found, asset_id))
    area = None
    for ref in service.get("coverageArea", []):
        found = _resolve(ref, included)
        area = str(found["name"]) if found is not None and found.get("name") else ref.get("display")
    provision = (service.get("serviceProvisionCode") or [{}])[0]
    codes = {c.get("code") for c in provision.get("coding", []) if c.get("system") == SERVICE_PROVISION_SYSTEM}
    free = True if "free" in codes else False if codes & {"cost", "disc"} else None
    oruk = _identifier(service, IdentifierKind.ORUK_SERVICE)
    modified = details.get("source-modified", {}).get("valueString")
    telecom = _telecoms(service)
    return Asset(
        id=asset_id,
        name=str(service["name"]),
        categories=categories or (AssetCategory.OTHER,),
        description=service.get("comment"),
        types=tuple(str(t["text"]) for t in service.get("type", []) if t.get("text")),
        organisation=org,
        places=tuple(places),
        area=area,
        contact=details.get("contact", {}).get("valueString"),
        phone=telecom.get("phone"),
        email=telecom.get("email"),
        url=telecom.get("url"),
        opening=tuple(_opening(a) for a in service.get("availableTime", []) if a.get("daysOfWeek")),
        opening_notes=service.get("availabilityExceptions"),
        free=free,
        cost=provision.get("text"),
        eligibility=next((e.get("comment") for e in service.get("eligibility", []) if e.get("comment")), None),
        access=details.get("access", {}).get("valueString"),
        transport=details.get("transport", {}).get("valueString"),
        notes=service.get("extraDetails"),
        checked=_date(details.get("checked", {}).get("valueDate")),
        active=service.get("active", True) is not False,
        source=Source(ORUK, oruk, modified) if oruk else None,
        added_by=details.get("added-by", {}).get("valueString"),
        added_on=_date(details.get("added-on", {}).get("valueDate")),
    )


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def _clock(value: str | None) -> time | None:
    return time.fromisoformat(value[:5]) if value else None


def _opening(available: Mapping[str, Any]) -> Opening:
    if available.get("allDay") or not available.get("availableStartTime"):
        return Opening(tuple(available["daysOfWeek"]))
    return Opening(
        tuple(available["daysOfWeek"]),
        _clock(available.get("availableStartTime")),
        _clock(available.get("availableEndTime")),
    )


def _organisation(resource: Mapping[str, Any]) -> Organisation:
    telecom = _telecoms(resource)
    identifiers: list[tuple[str, str]] = []
    for i in resource.get("identifier", []):
        system = str(i.get("system", ""))
        if system == ODS_ORGANISATION_SYSTEM:
            identifiers.append(("ODS", str(i["value"])))
        elif system.startswith(f"{ORG_ID_LIST}/"):
            identifiers.append((system.rsplit("/", 1)[-1], str(i["value"])))
    org_id = _identifier(resource, IdentifierKind.ASSET_ORGANIZATION) or str(resource.get("id", "organisation"))
    return Organisation(
        org_id,
        str(resource.get("name", "")),
        telecom.get("url"),
        telecom.get("email"),
        telecom.get("phone"),
        tuple(identifiers),
    )


def _place_from(resource: Mapping[str, Any], asset_id: str) -> Place:
    value = _identifier(resource, IdentifierKind.ASSET_LOCATION) or ""
    place_id = value.removeprefix(f"{asset_id}--") if value.startswith(f"{asset_id}--") else "main"
    address = resource.get("address", {})
    position = resource.get("position", {})
    lines = address.get("line", [])
    return Place(
        place_id,
        name=resource.get("name"),
        address=", ".join(lines) if lines else None,
        town=address.get("city"),
        postcode=address.get("postalCode"),
        latitude=position.get("latitude"),
        longitude=position.get("longitude"),
    )
