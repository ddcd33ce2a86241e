"""Examples of the asset and follow-up profiles: valid ones, and invalid ones with their error.

Built here from the terminology constants, not by the mapping code, so that they state the
contract independently; the server tests validate every one of them on HAPI.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from wb_fhir.conformance._common import Resource, coding
from wb_fhir.conformance.examples import DATE, PATIENT, PRACTITIONER, Example
from wb_fhir.terminology import (
    CODESYSTEM_URL,
    LOCATION_PHYSICAL_TYPE_SYSTEM,
    ORG_ID_LIST,
    PROVENANCE_PARTICIPANT_SYSTEM,
    SERVICE_PROVISION_SYSTEM,
    UK_CORE_PROFILES,
    AssetCategory,
    AssetProfile,
    IdentifierKind,
    RequestCode,
    SignpostStatus,
    identifier_system,
    structure_definition_url,
)

REFERRED = "2026-12-15"
ATTENDED = "2027-03-01"


def _meta(profile: AssetProfile, resource_type: str) -> dict[str, Any]:
    return {"profile": [structure_definition_url(profile), UK_CORE_PROFILES[resource_type]]}


def _text(words: str) -> dict[str, str]:
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{words}</p></div>'}


def _ident(kind: IdentifierKind, value: str) -> dict[str, str]:
    return {"system": identifier_system(kind), "value": value}


def _parts(profile: AssetProfile, values: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    return {"url": structure_definition_url(profile), "extension": [{"url": n, **v} for n, v in values]}


def organization() -> Resource:
    """City Libraries, a registered charity."""
    return {
        "resourceType": "Organization",
        "id": "wb-example-asset-organization",
        "meta": _meta(AssetProfile.ORGANIZATION, "Organization"),
        "text": _text("City Libraries"),
        "identifier": [
            _ident(IdentifierKind.ASSET_ORGANIZATION, "city-libraries"),
            {"system": f"{ORG_ID_LIST}/GB-CHC", "value": "1234560"},
        ],
        "active": True,
        "name": "City Libraries",
        "telecom": [{"system": "url", "value": "https://libraries.example.org"}],
    }


def place() -> Resource:
    """The Central Library, with its position."""
    return {
        "resourceType": "Location",
        "id": "wb-example-asset-place",
        "meta": _meta(AssetProfile.LOCATION, "Location"),
        "text": _text("Central Library, High Street, Plymouth PL1 1AA"),
        "identifier": [_ident(IdentifierKind.ASSET_LOCATION, "central-library-book-club--main")],
        "status": "active",
        "name": "Central Library",
        "mode": "instance",
        "address": {"line": ["High Street"], "city": "Plymouth", "postalCode": "PL1 1AA"},
        "position": {"latitude": 50.3719, "longitude": -4.1429},
        "managingOrganization": {"reference": "Organization/wb-example-asset-organization"},
    }


def area() -> Resource:
    """The area the book club serves."""
    return {
        "resourceType": "Location",
        "id": "wb-example-asset-area",
        "meta": _meta(AssetProfile.LOCATION, "Location"),
        "text": _text("Area served: Plymouth"),
        "identifier": [_ident(IdentifierKind.ASSET_LOCATION, "area--plymouth")],
        "status": "active",
        "name": "Plymouth",
        "mode": "instance",
        "physicalType": {"coding": [{"system": LOCATION_PHYSICAL_TYPE_SYSTEM, "code": "area", "display": "Area"}]},
    }


def service() -> Resource:
    """The Central Library book club as a community asset."""
    return {
        "resourceType": "HealthcareService",
        "id": "wb-example-asset-service",
        "meta": _meta(AssetProfile.SERVICE, "HealthcareService"),
        "text": _text("Central Library book club: a friendly monthly book club."),
        "extension": [
            _parts(
                AssetProfile.EXT_DETAILS,
                [
                    ("contact", {"valueString": "Ask at the front desk"}),
                    ("access", {"valueString": "Step-free; quiet room available"}),
                    ("transport", {"valueString": "Buses 9 and 27 stop outside"}),
                    ("checked", {"valueDate": DATE}),
                ],
            )
        ],
        "identifier": [_ident(IdentifierKind.ASSET, "central-library-book-club")],
        "active": True,
        "providedBy": {"reference": "Organization/wb-example-asset-organization", "display": "City Libraries"},
        "category": [{"coding": [coding(AssetCategory.SOCIAL)]}, {"coding": [coding(AssetCategory.LIBRARY)]}],
        "type": [{"text": "Book clubs"}],
        "location": [{"reference": "Location/wb-example-asset-place", "display": "Central Library"}],
        "name": "Central Library book club",
        "comment": "A friendly monthly book club; new members choose the next book with the group.",
        "telecom": [{"system": "phone", "value": "01632 960001"}],
        "coverageArea": [{"reference": "Location/wb-example-asset-area", "display": "Plymouth"}],
        "serviceProvisionCode": [
            {"coding": [{"system": SERVICE_PROVISION_SYSTEM, "code": "free", "display": "Free"}], "text": "Free"}
        ],
        "eligibility": [{"code": {"text": "Eligibility"}, "comment": "Adults"}],
        "availableTime": [{"daysOfWeek": ["wed"], "availableStartTime": "18:00:00", "availableEndTime": "19:30:00"}],
        "availabilityExceptions": "Second Wednesday of the month",
    }


def _step(status: SignpostStatus, when: str, reason: str | None = None) -> dict[str, Any]:
    values: list[tuple[str, dict[str, Any]]] = [
        ("status", {"valueCoding": coding(status)}),
        ("date", {"valueDate": when}),
    ]
    if reason:
        values.append(("reason", {"valueString": reason}))
    return _parts(AssetProfile.EXT_SIGNPOST_HISTORY, values)


def signpost_request() -> Resource:
    """The sign-post to the book club: suggested and agreed at the map, referred, then attended."""
    return {
        "resourceType": "ServiceRequest",
        "id": "wb-example-signpost",
        "meta": _meta(AssetProfile.SIGNPOST_REQUEST, "ServiceRequest"),
        "text": _text("Sign-post to the Central Library book club: agreed, referred, attended."),
        "extension": [
            _step(SignpostStatus.SUGGESTED, DATE),
            _step(SignpostStatus.AGREED, DATE),
            _step(SignpostStatus.REFERRED, REFERRED),
            _step(SignpostStatus.ATTENDED, ATTENDED),
            _parts(
                AssetProfile.EXT_SIGNPOST_FOLLOW_UP,
                [("status", {"valueCoding": coding(SignpostStatus.ATTENDED)}), ("since", {"valueDate": ATTENDED})],
            ),
        ],
        "identifier": [_ident(IdentifierKind.SIGNPOST, "example-signpost")],
        "basedOn": [{"reference": "CarePlan/wb-example-care-plan"}],
        "status": "completed",
        "intent": "plan",
        "code": {"coding": [coding(RequestCode.SIGNPOST)], "text": "Sign-post to Central Library book club"},
        "subject": PATIENT,
        "authoredOn": DATE,
        "requester": PRACTITIONER,
        "performer": [
            {"reference": "HealthcareService/wb-example-asset-service", "display": "Central Library book club"}
        ],
        "supportingInfo": [{"reference": "Goal/wb-example-goal"}],
    }


def provenance() -> Resource:
    """Alex Jones added the book club to the bank."""
    return {
        "resourceType": "Provenance",
        "id": "wb-example-asset-provenance",
        "meta": _meta(AssetProfile.PROVENANCE, "Provenance"),
        "text": _text("Added by Alex Jones."),
        "target": [{"reference": "HealthcareService/wb-example-asset-service"}],
        "recorded": f"{DATE}T12:00:00Z",
        "agent": [
            {
                "type": {"coding": [{"system": PROVENANCE_PARTICIPANT_SYSTEM, "code": "author"}]},
                "who": {"display": PRACTITIONER["display"]},
            }
        ],
    }


def _broken(resource: Resource, change: Callable[[Resource], Any]) -> Resource:
    out = copy.deepcopy(resource)
    change(out)
    return out


def build_asset_examples() -> list[Example]:
    """Every example of the asset and follow-up profiles, valid first."""
    url = structure_definition_url
    valid = [
        Example("HealthcareService-asset", service(), url(AssetProfile.SERVICE)),
        Example("Location-asset-place", place(), url(AssetProfile.LOCATION)),
        Example("Location-asset-area", area(), url(AssetProfile.LOCATION)),
        Example("Organization-asset", organization(), url(AssetProfile.ORGANIZATION)),
        Example("ServiceRequest-signpost", signpost_request(), url(AssetProfile.SIGNPOST_REQUEST)),
        Example("Provenance-asset-added", provenance(), url(AssetProfile.PROVENANCE)),
    ]

    def bad_category(r: Resource) -> None:
        r["category"] = [{"coding": [{"system": CODESYSTEM_URL, "code": "gym"}]}]

    def bad_step(r: Resource) -> None:
        r["extension"][0]["extension"][0]["valueCoding"] = {"system": CODESYSTEM_URL, "code": "went"}

    invalid = [
        Example(
            "HealthcareService-asset-no-category",
            _broken(service(), lambda r: r.pop("category")),
            url(AssetProfile.SERVICE),
            "HealthcareService.category: minimum required = 1",
        ),
        Example(
            "HealthcareService-asset-unknown-category",
            _broken(service(), bad_category),
            url(AssetProfile.SERVICE),
            "None of the codings provided are in the value set 'Asset category'",
        ),
        Example(
            "Location-asset-no-identifier",
            _broken(place(), lambda r: r.pop("identifier")),
            url(AssetProfile.LOCATION),
            "Location.identifier: minimum required = 1",
        ),
        Example(
            "Organization-asset-no-name",
            _broken(organization(), lambda r: r.pop("name")),
            url(AssetProfile.ORGANIZATION),
            "Organization.name: minimum required = 1",
        ),
        Example(
            "ServiceRequest-signpost-order",
            _broken(signpost_request(), lambda r: r.__setitem__("intent", "order")),
            url(AssetProfile.SIGNPOST_REQUEST),
            "fixed to 'plan'",
        ),
        Example(
            "ServiceRequest-signpost-no-performer",
            _broken(signpost_request(), lambda r: r.pop("performer")),
            url(AssetProfile.SIGNPOST_REQUEST),
            "ServiceRequest.performer: minimum required = 1",
        ),
        Example(
            "ServiceRequest-signpost-no-follow-up",
            _broken(signpost_request(), lambda r: r["extension"].pop()),
            url(AssetProfile.SIGNPOST_REQUEST),
            "Slice 'ServiceRequest.extension:follow-up' for extension",
        ),
        Example(
            "ServiceRequest-signpost-unknown-step",
            _broken(signpost_request(), bad_step),
            url(AssetProfile.SIGNPOST_REQUEST),
            "was not found in the value set 'Signpost status'",
        ),
        Example(
            "Provenance-asset-no-recorded",
            _broken(provenance(), lambda r: r.pop("recorded")),
            url(AssetProfile.PROVENANCE),
            "Provenance.recorded: minimum required = 1",
        ),
    ]
    invalid = [replace(e, resource={**e.resource, "id": f"wb-invalid-{e.name.lower()}"}) for e in invalid]
    return valid + invalid
