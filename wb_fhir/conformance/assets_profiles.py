"""Profiles of the community asset bank and of sign-post follow-up (differential only).

An asset is a HealthcareService (``wb-asset-service``) at Locations (``wb-asset-location``, also
the area it serves), run by an Organization (``wb-asset-organization``); who added assets is a
Provenance (``wb-asset-provenance``). A sign-post the person agreed to is a ServiceRequest
(``wb-signpost-request``) for the HealthcareService, with its dated status history. Each derives
from the UK Core profile of its resource type.
"""

from __future__ import annotations

from typing import Any

from wb_fhir.conformance._common import Resource, metadata, pascal, pattern
from wb_fhir.conformance.structuredefinitions import CORE, Element, el, identifier_slices, ref, required, sd
from wb_fhir.terminology import (
    ASSET_DETAIL_PARTS,
    CODESYSTEM_URL,
    FHIR_VERSION,
    SIGNPOST_FOLLOW_UP_PARTS,
    SIGNPOST_HISTORY_PARTS,
    AssetProfile,
    IdentifierKind,
    RequestCode,
    identifier_system,
    structure_definition_url,
)


def _slice(base: str, name: str, kind: IdentifierKind, min_: int) -> list[Element]:
    """One more slice of an ``identifier`` that UK Core already slices by system."""
    return [
        el(f"{base}.identifier:{name}", min=min_, max="1"),
        el(f"{base}.identifier:{name}.system", min=1, fixedUri=identifier_system(kind)),
        el(f"{base}.identifier:{name}.value", min=1),
    ]


def _ext(base: str, name: str, profile: AssetProfile, max_: str = "1") -> Element:
    return el(
        f"{base}.extension:{name}",
        min=0,
        max=max_,
        type=[{"code": "Extension", "profile": [structure_definition_url(profile)]}],
    )


def service_profile() -> Resource:
    """A community asset: what it offers, where, when, for whom, at what cost."""
    base = "HealthcareService"
    elements = [
        _ext(base, "details", AssetProfile.EXT_DETAILS),
        *identifier_slices(base, [("asset", IdentifierKind.ASSET)]),
        el(f"{base}.identifier:oruk", min=0, max="1"),
        el(f"{base}.identifier:oruk.system", min=1, fixedUri=identifier_system(IdentifierKind.ORUK_SERVICE)),
        el(f"{base}.identifier:oruk.value", min=1),
        el(f"{base}.active", min=1),
        el(f"{base}.providedBy", type=ref("Organization")),
        el(f"{base}.category", min=1, binding=required("asset-category")),
        el(f"{base}.location", type=ref("Location")),
        el(f"{base}.name", min=1),
        el(f"{base}.coverageArea", type=ref("Location")),
    ]
    return sd(
        AssetProfile.SERVICE,
        base,
        "Community asset",
        "One entry of the community asset knowledge bank (a group, service or place people are "
        "sign-posted to): its categories (which match the connection categories of a map), the "
        "places where it is and the area it serves (Locations), the organisation that runs it, "
        "opening times (availableTime), cost (serviceProvisionCode free or cost, text the amount), "
        "eligibility, contact, and in the wb-asset-details extension how to get in touch, "
        "accessibility, transport and the date it was last checked. Identified by the asset's id; "
        "an asset imported from Open Referral UK also carries the ORUK service id.",
        elements,
    )


def location_profile() -> Resource:
    """A place where an asset is, or an area that assets serve."""
    base = "Location"
    elements = [
        el(f"{base}.identifier", min=1),
        *_slice(base, "asset-location", IdentifierKind.ASSET_LOCATION, 1),
        el(f"{base}.status", min=1),
        el(f"{base}.mode", fixedCode="instance"),
        el(f"{base}.managingOrganization", type=ref("Organization")),
    ]
    return sd(
        AssetProfile.LOCATION,
        base,
        "Community asset place",
        "A place where a community asset is (address and position, so that a search by distance, "
        "Location?near=, finds it), or the area a community asset serves (physicalType area).",
        elements,
    )


def organization_profile() -> Resource:
    """The organisation that runs community assets."""
    base = "Organization"
    elements = [
        el(f"{base}.identifier", min=1),
        *_slice(base, "asset-organization", IdentifierKind.ASSET_ORGANIZATION, 1),
        el(f"{base}.active", min=1),
        el(f"{base}.name", min=1),
    ]
    return sd(
        AssetProfile.ORGANIZATION,
        base,
        "Community asset organisation",
        "The organisation (charity, council, NHS trust, group) that runs community assets; charity "
        "and company numbers as identifiers from org-id.guide lists (GB-CHC, GB-COH), an NHS "
        "organisation by its ODS code.",
        elements,
    )


def provenance_profile() -> Resource:
    """Who added community assets to the bank, or imported them, and when."""
    base = "Provenance"
    elements = [
        el(f"{base}.target", type=ref("HealthcareService")),
        el(f"{base}.agent.who.display", min=1),
    ]
    return sd(
        AssetProfile.PROVENANCE,
        base,
        "Community asset provenance",
        "Who added community assets to the knowledge bank (agent author) or imported them (agent "
        "assembler, wb_fhir, with the feed or file as entity), and when (recorded).",
        elements,
    )


def signpost_request_profile() -> Resource:
    """A sign-post the person agreed to, followed up to the end."""
    base = "ServiceRequest"
    elements = [
        _ext(base, "history", AssetProfile.EXT_SIGNPOST_HISTORY, max_="*"),
        el(
            f"{base}.extension:follow-up",
            min=1,
            max="1",
            type=[{"code": "Extension", "profile": [structure_definition_url(AssetProfile.EXT_SIGNPOST_FOLLOW_UP)]}],
        ),
        *identifier_slices(base, [("signpost", IdentifierKind.SIGNPOST)]),
        el(f"{base}.basedOn", type=ref("CarePlan")),
        el(f"{base}.intent", fixedCode="plan"),
        el(f"{base}.code", min=1, patternCodeableConcept=pattern(CODESYSTEM_URL, RequestCode.SIGNPOST.value)),
        el(f"{base}.subject", type=ref("Patient")),
        el(f"{base}.authoredOn", min=1),
        el(f"{base}.performer", min=1, max="1", type=ref("HealthcareService")),
        el(f"{base}.reasonReference", type=ref("Observation")),
        el(f"{base}.supportingInfo", type=ref("Goal")),
    ]
    return sd(
        AssetProfile.SIGNPOST_REQUEST,
        base,
        "Sign-post follow-up",
        "A sign-post to a community asset that the person agreed to (intent plan), for the "
        "HealthcareService of the asset (performer), for a connection (reasonReference) or a goal "
        "(supportingInfo), based on the wellbeing CarePlan. status: active while agreed or "
        "referred, completed once attended, revoked when declined. The wb-signpost-history "
        "extension holds each step with its date (suggested, agreed, referred, attended, declined "
        "with the reason); wb-signpost-follow-up where it stands, since when and the date to check on it "
        "by. One per sign-post of a "
        "person, updated at each review.",
        elements,
    )


# --- extensions -------------------------------------------------------------------------------

_PART_TYPES: dict[str, list[str]] = {
    "contact": ["string"],
    "access": ["string"],
    "transport": ["string"],
    "checked": ["date"],
    "source-modified": ["string"],
    "added-by": ["string"],
    "added-on": ["date"],
    "status": ["Coding"],
    "date": ["date"],
    "reason": ["string"],
    "since": ["date"],
    "due": ["date"],
}
_PART_MIN = {"status": 1, "date": 1}
"""Parts every instance has: a step's status and date; a follow-up's status."""


def _extension(
    profile: AssetProfile, title: str, description: str, context: str, body: list[Element], value: Element
) -> Resource:
    resource = metadata(
        "StructureDefinition",
        profile.value,
        structure_definition_url(profile),
        pascal(profile.value),
        title,
        description,
    )
    resource.update(
        {
            "fhirVersion": FHIR_VERSION,
            "kind": "complex-type",
            "abstract": False,
            "context": [{"type": "element", "expression": context}],
            "type": "Extension",
            "baseDefinition": f"{CORE}/Extension",
            "derivation": "constraint",
            "differential": {
                "element": [
                    el("Extension", short=title, definition=description),
                    *body,
                    el("Extension.url", fixedUri=structure_definition_url(profile)),
                    value,
                ]
            },
        }
    )
    return resource


def _complex(profile: AssetProfile, title: str, description: str, context: str, parts: tuple[str, ...]) -> Resource:
    body: list[Element] = []
    for part in parts:
        base = f"Extension.extension:{part}"
        value: dict[str, Any] = {"min": 1, "type": [{"code": t} for t in _PART_TYPES[part]]}
        if part == "status":
            value["binding"] = required("signpost-status")
        body += [
            el(base, min=_PART_MIN.get(part, 0), max="1"),
            el(f"{base}.extension", max="0"),
            el(f"{base}.url", fixedUri=part),
            el(f"{base}.value[x]", **value),
        ]
    return _extension(profile, title, description, context, body, el("Extension.value[x]", max="0"))


def extensions() -> list[Resource]:
    """The extensions of the asset and follow-up profiles."""
    return [
        _complex(
            AssetProfile.EXT_DETAILS,
            "Community asset details",
            "What FHIR R4 HealthcareService has no element for: how to get in touch in words, "
            "accessibility, transport, the date the entry was last checked, when its source last "
            "changed it, who added it and when.",
            "HealthcareService",
            ASSET_DETAIL_PARTS,
        ),
        _complex(
            AssetProfile.EXT_SIGNPOST_HISTORY,
            "Sign-post step",
            "One step of a sign-post, dated: suggested, agreed, referred, attended or declined (with "
            "the reason). Repeated, oldest first.",
            "ServiceRequest",
            SIGNPOST_HISTORY_PARTS,
        ),
        _complex(
            AssetProfile.EXT_SIGNPOST_FOLLOW_UP,
            "Sign-post follow-up",
            "Where a sign-post stands: its status, since when, and the date by which to check whether "
            "the person got there.",
            "ServiceRequest",
            SIGNPOST_FOLLOW_UP_PARTS,
        ),
    ]


def build_asset_structure_definitions() -> list[Resource]:
    """Every profile of the asset bank and follow-up, then their extensions."""
    return [
        service_profile(),
        location_profile(),
        organization_profile(),
        provenance_profile(),
        signpost_request_profile(),
        *extensions(),
    ]
