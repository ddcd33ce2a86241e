"""What a server must support for wb_fhir (CapabilityStatement) and the ImplementationGuide."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wb_fhir.conformance._common import Resource, metadata
from wb_fhir.terminology import CANONICAL, FHIR_VERSION, PACKAGE_NAME, AssetProfile, Profile, structure_definition_url

CAPABILITY_ID = "wb-fhir-server"
IG_ID = "wb-fhir"
VALIDATE = "http://hl7.org/fhir/OperationDefinition/Resource-validate"


def _param(name: str, type_: str, doc: str) -> dict[str, str]:
    return {"name": name, "type": type_, "documentation": doc}


def _resource(
    type_: str,
    interactions: list[str],
    profiles: Sequence[str],
    params: list[dict[str, str]],
    *,
    conditional: bool = True,
    includes: list[str] | None = None,
    doc: str,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": type_}
    if profiles:
        entry["supportedProfile"] = [structure_definition_url(p) for p in profiles]
    entry["documentation"] = doc
    entry["interaction"] = [{"code": code} for code in interactions]
    entry["versioning"] = "versioned-update"
    entry["readHistory"] = False
    entry["updateCreate"] = True
    entry["conditionalCreate"] = conditional
    entry["conditionalUpdate"] = conditional
    if includes:
        entry["searchInclude"] = includes
    if params:
        entry["searchParam"] = params
    entry["operation"] = [{"name": "validate", "definition": VALIDATE}]
    return entry


def build_capability_statement() -> Resource:
    """The requirements wb_fhir has of a FHIR server."""
    resource = metadata(
        "CapabilityStatement",
        CAPABILITY_ID,
        f"{CANONICAL}/CapabilityStatement/{CAPABILITY_ID}",
        "WbFhirServer",
        "What a FHIR server must support for wb_fhir",
        "The interactions wb_fhir uses: one transaction Bundle per map of conditional upserts "
        "(PUT Type?identifier=system|value), conditional references to the Patient by NHS number, "
        "searches by identifier and patient with _include, and $validate against the profiles.",
    )
    identifier = _param("identifier", "token", "Business identifier: every resource wb_fhir writes has one.")
    patient = _param("patient", "reference", "The person the resources are about.")
    code = _param("code", "token", "Observation code (connection, tie, network-summary, time-at-home).")
    date = _param("date", "date", "Date of the map.")
    write = ["read", "vread", "update", "create", "search-type"]
    resource.update(
        {
            "kind": "requirements",
            "fhirVersion": FHIR_VERSION,
            "format": ["json"],
            "implementationGuide": [f"{CANONICAL}/ImplementationGuide/{IG_ID}"],
            "rest": [
                {
                    "mode": "server",
                    "documentation": "A push is one transaction; posting the same Bundle twice creates nothing new.",
                    "resource": [
                        _resource(
                            "Patient",
                            ["read", "search-type"],
                            [],
                            [identifier],
                            conditional=False,
                            doc="Found by NHS number (https://fhir.nhs.uk/Id/nhs-number); never created by wb_fhir.",
                        ),
                        _resource(
                            "QuestionnaireResponse",
                            write,
                            [Profile.QUESTIONNAIRE_RESPONSE],
                            [identifier, patient, _param("questionnaire", "reference", "The Questionnaire answered.")],
                            includes=["QuestionnaireResponse:subject"],
                            doc="The map as captured; pull reads these back.",
                        ),
                        _resource(
                            "Observation",
                            write,
                            [Profile.CONNECTION, Profile.TIE, Profile.NETWORK_SUMMARY, Profile.TIME_AT_HOME],
                            [identifier, patient, code, date],
                            includes=["Observation:has-member", "Observation:derived-from"],
                            doc="Identifier search on the connection system follows a connection across reviews.",
                        ),
                        _resource(
                            "Goal",
                            write,
                            [Profile.GOAL],
                            [identifier, patient],
                            doc="One per goal per person, updated at each review.",
                        ),
                        _resource(
                            "CarePlan",
                            write,
                            [Profile.CARE_PLAN],
                            [identifier, patient],
                            includes=["CarePlan:goal"],
                            doc="One wellbeing CarePlan per person; a conflict answers 409 or 412.",
                        ),
                        _resource(
                            "DocumentReference",
                            write,
                            [Profile.DOCUMENT_REFERENCE],
                            [identifier, patient],
                            doc="The pictures of a map or review.",
                        ),
                        _resource(
                            "Provenance",
                            ["read", "create", "search-type"],
                            [Profile.PROVENANCE],
                            [_param("target", "reference", "What a push wrote.")],
                            doc="Created once per push (POST with If-None-Exist).",
                        ),
                        *_asset_resources(write, identifier, patient),
                        *(
                            _resource(
                                type_,
                                ["read", "update", "search-type"],
                                [],
                                [_param("url", "uri", "Canonical URL.")],
                                conditional=False,
                                doc="Conformance resources, loaded by 'wb-fhir profiles install'.",
                            )
                            for type_ in ("StructureDefinition", "CodeSystem", "ValueSet", "Questionnaire")
                        ),
                    ],
                    "interaction": [{"code": "transaction"}],
                }
            ],
        }
    )
    return resource


def _asset_resources(write: list[str], identifier: dict[str, str], patient: dict[str, str]) -> list[dict[str, Any]]:
    """The community asset bank and sign-post follow-up (issue 18)."""
    return [
        _resource(
            "HealthcareService",
            write,
            [AssetProfile.SERVICE],
            [
                identifier,
                _param("service-category", "token", "Asset category."),
                _param("active", "token", "Withdrawn assets are inactive."),
                _param("location", "reference", "Assets at these places (from a Location?near= search)."),
            ],
            includes=[
                "HealthcareService:location",
                "HealthcareService:organization",
                "HealthcareService:coverage-area",
            ],
            doc="The community asset bank; one per asset, written by conditional upsert (idempotent import).",
        ),
        _resource(
            "Location",
            write,
            [AssetProfile.LOCATION],
            [identifier, _param("near", "special", "Places within a distance of a point (lat|lon|distance|km).")],
            doc="Where assets are, and the areas they serve.",
        ),
        _resource(
            "Organization",
            write,
            [AssetProfile.ORGANIZATION],
            [identifier],
            doc="Who runs the assets.",
        ),
        _resource(
            "ServiceRequest",
            write,
            [AssetProfile.SIGNPOST_REQUEST],
            [identifier, patient, _param("status", "token", "Open (active) or closed sign-posts.")],
            includes=["ServiceRequest:subject", "ServiceRequest:performer"],
            doc="A sign-post the person agreed to, with its dated history; one per sign-post of a person.",
        ),
    ]


def build_implementation_guide(resources: list[Resource]) -> Resource:
    """The ImplementationGuide listing every conformance resource of the package.

    Examples are not listed: servers such as HAPI check that every reference of the guide
    resolves, and examples are not loaded into servers (the package carries them in example/).
    """
    guide = metadata(
        "ImplementationGuide",
        IG_ID,
        f"{CANONICAL}/ImplementationGuide/{IG_ID}",
        "WbFhir",
        "Wellbeing network mapping in FHIR R4",
        "Profiles, terminology and the Questionnaire with which wb_fhir writes wellbeing network maps "
        "into NHS mental health care records.",
    )
    entries: list[dict[str, Any]] = [
        {
            "reference": {"reference": f"{r['resourceType']}/{r['id']}"},
            "name": r.get("title", r["id"]),
            "exampleBoolean": False,
        }
        for r in resources
    ]
    guide.update(
        {
            "packageId": PACKAGE_NAME,
            "license": "Apache-2.0",
            "fhirVersion": [FHIR_VERSION],
            "definition": {"resource": entries},
        }
    )
    return guide
