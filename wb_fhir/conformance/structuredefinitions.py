"""The StructureDefinitions (differential only; servers generate snapshots) and extensions.

Every profile is based on the FHIR R4 core resource; where UK Core has a profile for the same
resource, the resources declare both in ``meta.profile`` (see docs/profiles.md for why).
Each profile fixes the codes (``patternCodeableConcept``), slices the components on their code
with the cardinalities of the contract, and binds coded values to the project's ValueSets with
strength ``required``, so that a resource that breaks the contract fails validation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wb_fhir.conformance._common import Resource, local_pattern, metadata, pascal, pattern
from wb_fhir.terminology import (
    CARE_PLAN_DOCUMENT_TYPE,
    FHIR_VERSION,
    MILESTONE_PARTS,
    OBSERVATION_CATEGORIES,
    OBSERVATION_CATEGORY_SYSTEM,
    QUESTIONNAIRE_URL,
    QUESTIONNAIRE_VERSION,
    SIGNPOST_PARTS,
    UCUM,
    UK_CORE_PROFILES,
    AssetProfile,
    IdentifierKind,
    ObservationCode,
    Profile,
    identifier_system,
    structure_definition_url,
    value_set_url,
)

CORE = "http://hl7.org/fhir/StructureDefinition"
Element = dict[str, Any]


def _path(element_id: str) -> str:
    return ".".join(part.split(":")[0] for part in element_id.split("."))


def el(element_id: str, **props: Any) -> Element:
    """One differential element; its path and slice name follow from its id."""
    element: Element = {"id": element_id, "path": _path(element_id)}
    last = element_id.split(".")[-1]
    if ":" in last:
        element["sliceName"] = last.split(":", 1)[1]
    for key, value in props.items():
        element[key] = value
    return element


def ref(*targets: str) -> list[dict[str, Any]]:
    """A Reference type restricted to core resource types."""
    return [{"code": "Reference", "targetProfile": [f"{CORE}/{t}" for t in targets]}]


def required(name: str) -> dict[str, str]:
    """A required binding to one of the project's ValueSets."""
    return {"strength": "required", "valueSet": value_set_url(name)}


def identifier_slices(base: str, kinds: list[tuple[str, IdentifierKind]]) -> list[Element]:
    """Slices of ``identifier`` by system, each present exactly once."""
    out = [
        el(
            f"{base}.identifier",
            slicing={"discriminator": [{"type": "value", "path": "system"}], "rules": "open"},
            min=len(kinds),
        )
    ]
    for name, kind in kinds:
        out += [
            el(f"{base}.identifier:{name}", min=1, max="1"),
            el(f"{base}.identifier:{name}.system", min=1, fixedUri=identifier_system(kind)),
            el(f"{base}.identifier:{name}.value", min=1),
        ]
    return out


def sd(profile: Profile | AssetProfile, type_: str, title: str, description: str, elements: list[Element]) -> Resource:
    """A constraint profile on a core resource type."""
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
            "kind": "resource",
            "abstract": False,
            "type": type_,
            "baseDefinition": UK_CORE_PROFILES.get(type_, f"{CORE}/{type_}"),
            "derivation": "constraint",
            "differential": {"element": [el(type_, short=title, definition=description), *elements]},
        }
    )
    return resource


# --- Observations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Component:
    """One component slice: its code, cardinality, value type and value constraints."""

    code: ObservationCode
    min: int
    max: str
    value_type: str
    value: dict[str, Any] = field(default_factory=dict)
    children: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def _percent_children() -> list[tuple[str, dict[str, Any]]]:
    return [
        ("value", {"min": 1, "minValueDecimal": 0, "maxValueDecimal": 100}),
        ("unit", {"min": 1}),
        ("system", {"min": 1, "fixedUri": UCUM}),
        ("code", {"min": 1, "fixedCode": "%"}),
    ]


def _components(components: list[Component]) -> list[Element]:
    out = [
        el(
            "Observation.component",
            slicing={
                "discriminator": [{"type": "pattern", "path": "code"}],
                "ordered": False,
                "rules": "closed",
            },
            min=1 if any(c.min for c in components) else 0,
        )
    ]
    for c in components:
        base = f"Observation.component:{c.code.value}"
        out.append(el(base, min=c.min, max=c.max))
        out.append(el(f"{base}.code", patternCodeableConcept=local_pattern(c.code)))
        out.append(el(f"{base}.value[x]", min=1, type=[{"code": c.value_type}], **c.value))
        out += [el(f"{base}.value[x].{name}", **props) for name, props in c.children]
    return out


def _observation(
    profile: Profile,
    title: str,
    description: str,
    code: ObservationCode,
    *,
    value: list[Element],
    components: list[Component],
    categories: bool = False,
    focus: tuple[int, str] | None = None,
    has_member: bool = False,
    derived_from: bool = False,
) -> Resource:
    elements = identifier_slices("Observation", [("observation", IdentifierKind.OBSERVATION)])
    if profile is Profile.CONNECTION:
        elements = identifier_slices(
            "Observation",
            [("observation", IdentifierKind.OBSERVATION), ("connection", IdentifierKind.CONNECTION)],
        )
    elements.append(el("Observation.status", fixedCode="final"))
    if categories:
        elements.append(
            el(
                "Observation.category",
                slicing={"discriminator": [{"type": "pattern", "path": "$this"}], "rules": "open"},
                min=len(OBSERVATION_CATEGORIES),
            )
        )
        for category in OBSERVATION_CATEGORIES:
            elements.append(
                el(
                    f"Observation.category:{category}",
                    min=1,
                    max="1",
                    patternCodeableConcept=pattern(OBSERVATION_CATEGORY_SYSTEM, category),
                )
            )
    elements.append(el("Observation.code", patternCodeableConcept=local_pattern(code)))
    elements.append(el("Observation.subject", min=1, type=ref("Patient")))
    if focus is not None:
        elements.append(el("Observation.focus", min=focus[0], max=focus[1]))
    elements.append(el("Observation.effective[x]", min=1, type=[{"code": "dateTime"}]))
    elements += value
    if has_member:
        elements.append(el("Observation.hasMember", type=ref("Observation")))
    if derived_from:
        elements.append(el("Observation.derivedFrom", min=1, type=ref("QuestionnaireResponse")))
    elements += _components(components) if components else [el("Observation.component", max="0")]
    return sd(profile, "Observation", title, description, elements)


def _coded(code: ObservationCode, value_set: str, min_: int = 1, max_: str = "1") -> Component:
    return Component(code, min_, max_, "CodeableConcept", {"binding": required(value_set)})


def connection_profile() -> Resource:
    """One person, place or activity of the network at the date of the map."""
    oc = ObservationCode
    return _observation(
        Profile.CONNECTION,
        "Wellbeing network connection",
        "One person, place or activity in a person's wellbeing network at the date of one map: the "
        "value is the person's rating of its impact on their wellbeing; the components say what it "
        "is (kind, label, category), how close (ring) and how it stands (frequency, status, "
        "disclosure, practitioner roles). Identified per map and, across reviews, per connection.",
        oc.CONNECTION,
        categories=True,
        focus=(0, "1"),
        derived_from=True,
        value=[el("Observation.value[x]", min=1, type=[{"code": "CodeableConcept"}], binding=required("impact"))],
        components=[
            Component(oc.CONNECTION_ID, 1, "1", "string"),
            _coded(oc.CONNECTION_KIND, "connection-kind"),
            Component(oc.CONNECTION_LABEL, 1, "1", "string"),
            _coded(oc.CONNECTION_CATEGORY, "connection-category"),
            Component(oc.RING, 1, "1", "integer", {"minValueInteger": 1, "maxValueInteger": 6}),
            _coded(oc.FREQUENCY, "frequency", 0),
            _coded(oc.STATUS, "connection-status"),
            _coded(oc.DISCLOSURE, "disclosure", 0),
            _coded(oc.PRACTITIONER_ROLE, "practitioner-role", 0, "*"),
        ],
    )


def tie_profile() -> Resource:
    """A relation between two connections of one map."""
    return _observation(
        Profile.TIE,
        "Wellbeing network tie",
        "A relation between two connections of one map (knows, bridged to, met at, takes place at, "
        "supports): focus is the two connection Observations, from then to; the value is the tie type.",
        ObservationCode.TIE,
        focus=(2, "2"),
        value=[el("Observation.value[x]", min=1, type=[{"code": "CodeableConcept"}], binding=required("tie-type"))],
        components=[
            Component(ObservationCode.TIE_FROM, 1, "1", "string"),
            Component(ObservationCode.TIE_TO, 1, "1", "string"),
        ],
    )


def network_summary_profile() -> Resource:
    """The measures of one whole map, grouping its Observations."""
    oc = ObservationCode
    counts = [
        oc.SIZE_PERSON,
        oc.SIZE_PLACE,
        oc.SIZE_ACTIVITY,
        oc.SIZE_INNER,
        oc.SIZE_LOST,
        oc.SIZE_WISHED_FOR,
        oc.COUNT_POSITIVE,
        oc.COUNT_NEGATIVE,
        oc.COUNT_MIXED,
    ]
    return _observation(
        Profile.NETWORK_SUMMARY,
        "Wellbeing network summary",
        "The measures of one map (sizes by kind and ring, impact balance, practitioner in the inner "
        "circle, family or home based share); hasMember every connection, tie and time-at-home "
        "Observation of the map. It has no value of its own.",
        oc.NETWORK_SUMMARY,
        has_member=True,
        value=[el("Observation.value[x]", max="0")],
        components=[
            *(Component(code, 1, "1", "integer", {"minValueInteger": 0}) for code in counts),
            Component(oc.PRACTITIONER_IN_INNER, 1, "1", "boolean"),
            Component(oc.FAMILY_HOME_SHARE, 0, "1", "Quantity", children=_percent_children()),
        ],
    )


def time_at_home_profile() -> Resource:
    """The share of the waking day spent at home, as its own Observation to chart over time."""
    return _observation(
        Profile.TIME_AT_HOME,
        "Waking time at home",
        "The share (0-100 %, UCUM) of the person's waking day spent at home, at the date of one map. "
        "A local code: no SNOMED CT or LOINC concept fits.",
        ObservationCode.TIME_AT_HOME,
        value=[
            el("Observation.value[x]", min=1, type=[{"code": "Quantity"}]),
            *(el(f"Observation.value[x].{name}", **props) for name, props in _percent_children()),
        ],
        components=[],
    )


# --- Goal, CarePlan, DocumentReference, Provenance, QuestionnaireResponse ----------------------


def _ext(base: str, name: str, profile: Profile, max_: str = "*") -> Element:
    return el(
        f"{base}.extension:{name}",
        min=0,
        max=max_,
        type=[{"code": "Extension", "profile": [structure_definition_url(profile)]}],
    )


def goal_profile() -> Resource:
    """One co-produced goal of a person, updated (not duplicated) at each review."""
    elements = [
        _ext("Goal", "goal-id", Profile.EXT_GOAL_ID, max_="1"),
        _ext("Goal", "about", Profile.EXT_GOAL_ABOUT),
        _ext("Goal", "milestone", Profile.EXT_MILESTONE),
        _ext("Goal", "resource", Profile.EXT_GOAL_RESOURCE),
        _ext("Goal", "barrier", Profile.EXT_GOAL_BARRIER),
        _ext("Goal", "supporter", Profile.EXT_GOAL_SUPPORTER),
        *identifier_slices("Goal", [("goal", IdentifierKind.GOAL)]),
        el("Goal.description.text", min=1),
        el("Goal.subject", min=1, type=ref("Patient")),
        el("Goal.start[x]", min=1, type=[{"code": "date"}]),
        el("Goal.target.due[x]", type=[{"code": "date"}]),
        el("Goal.addresses", type=ref("Observation")),
    ]
    return sd(
        Profile.GOAL,
        "Goal",
        "Wellbeing network goal",
        "A goal co-produced in a wellbeing network mapping conversation: addresses the connection "
        "Observations it is about; milestones (trackable one by one), resources, barriers and "
        "supporters in extensions so that every field of the map's goal round-trips.",
        elements,
    )


def care_plan_profile() -> Resource:
    """The one wellbeing CarePlan of a person."""
    elements = [
        el("CarePlan.text", min=1),
        el("CarePlan.text.status", fixedCode="generated"),
        *identifier_slices("CarePlan", [("care-plan", IdentifierKind.CARE_PLAN)]),
        el("CarePlan.intent", fixedCode="plan"),
        el("CarePlan.category", min=1),
        el("CarePlan.title", min=1),
        el("CarePlan.subject", type=ref("Patient")),
        el("CarePlan.period", min=1),
        el("CarePlan.period.start", min=1),
        el("CarePlan.created", min=1),
        el(
            "CarePlan.activity.detail.extension:signpost",
            min=0,
            max="1",
            type=[{"code": "Extension", "profile": [structure_definition_url(Profile.EXT_SIGNPOST)]}],
        ),
    ]
    return sd(
        Profile.CARE_PLAN,
        "CarePlan",
        "Wellbeing care plan",
        "The one wellbeing CarePlan of a person (intent plan): its co-producers as contributors, its "
        "goals, one activity per sign-post (with the wb-signpost extension) and one for the next "
        "review, supportingInfo to the QuestionnaireResponse, the summary and the DocumentReference, "
        "and a generated narrative.",
        elements,
    )


def document_reference_profile() -> Resource:
    """The renderings (SVG, PNG, PDF) of a map or review."""
    system, code, _ = CARE_PLAN_DOCUMENT_TYPE
    elements = [
        *identifier_slices("DocumentReference", [("document", IdentifierKind.DOCUMENT)]),
        el("DocumentReference.type", min=1, patternCodeableConcept=pattern(system, code)),
        el("DocumentReference.subject", min=1, type=ref("Patient")),
        el("DocumentReference.date", min=1),
        el("DocumentReference.content.attachment.contentType", min=1),
        el("DocumentReference.context", min=1),
        el("DocumentReference.context.related", min=1),
    ]
    return sd(
        Profile.DOCUMENT_REFERENCE,
        "DocumentReference",
        "Wellbeing network map document",
        "The pictures of one map or review summary (SVG, PNG, PDF attachments), typed as a care "
        "plan document (SNOMED CT 734163000), related to the wellbeing CarePlan.",
        elements,
    )


def provenance_profile() -> Resource:
    """What one push wrote, by whom, from which QuestionnaireResponse."""
    elements = [
        el("Provenance.target", min=1),
        el("Provenance.entity", min=1),
        el("Provenance.entity.role", fixedCode="source"),
        el("Provenance.entity.what", type=ref("QuestionnaireResponse")),
    ]
    return sd(
        Profile.PROVENANCE,
        "Provenance",
        "Wellbeing network push provenance",
        "The provenance of one push: every resource written (target), the practitioner or the "
        "wb_fhir device (agent), and the QuestionnaireResponse they come from (entity, role source).",
        elements,
    )


def questionnaire_response_profile() -> Resource:
    """The map as captured: the source of truth."""
    elements = [
        el("QuestionnaireResponse.identifier", min=1),
        el("QuestionnaireResponse.identifier.system", min=1, fixedUri=identifier_system(IdentifierKind.MAP)),
        el("QuestionnaireResponse.identifier.value", min=1),
        el("QuestionnaireResponse.questionnaire", min=1, fixedCanonical=f"{QUESTIONNAIRE_URL}|{QUESTIONNAIRE_VERSION}"),
        el("QuestionnaireResponse.status", fixedCode="completed"),
        el("QuestionnaireResponse.subject", min=1, type=ref("Patient")),
        el("QuestionnaireResponse.authored", min=1),
        el("QuestionnaireResponse.item", min=1),
    ]
    return sd(
        Profile.QUESTIONNAIRE_RESPONSE,
        "QuestionnaireResponse",
        "Wellbeing network map (QuestionnaireResponse)",
        "One wellbeing network map as captured, answering the Questionnaire wellbeing-network-mapping: "
        "the source of truth from which the map round-trips.",
        elements,
    )


# --- extensions -------------------------------------------------------------------------------


def _extension(profile: Profile, title: str, description: str, contexts: list[str], body: list[Element]) -> Resource:
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
            "context": [{"type": "element", "expression": c} for c in contexts],
            "type": "Extension",
            "baseDefinition": f"{CORE}/Extension",
            "derivation": "constraint",
            "differential": {
                "element": [
                    el("Extension", short=title, definition=description),
                    *body,
                    el("Extension.url", fixedUri=structure_definition_url(profile)),
                ]
            },
        }
    )
    return resource


def _simple(profile: Profile, title: str, description: str, contexts: list[str], value_type: str) -> Resource:
    resource = _extension(profile, title, description, contexts, [el("Extension.extension", max="0")])
    resource["differential"]["element"].append(el("Extension.value[x]", min=1, type=[{"code": value_type}]))
    return resource


_PART_TYPES: dict[str, list[str]] = {
    "id": ["string"],
    "description": ["string"],
    "due": ["date"],
    "done": ["boolean"],
    "done-on": ["date"],
    "asset": ["string"],
    "reason": ["string"],
    "status": ["code", "Coding"],
    "note": ["string"],
    "date": ["date"],
}
_PART_MIN = {"id": 1, "description": 1, "done": 1, "asset": 1, "reason": 1, "status": 1}


def _complex(profile: Profile, title: str, description: str, contexts: list[str], parts: tuple[str, ...]) -> Resource:
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
    resource = _extension(profile, title, description, contexts, body)
    resource["differential"]["element"].append(el("Extension.value[x]", max="0"))
    return resource


def extensions() -> list[Resource]:
    """The extensions the profiles use."""
    goal = ["Goal"]
    return [
        _complex(
            Profile.EXT_MILESTONE,
            "Goal milestone",
            "One step towards a goal, trackable on its own: id, description, due date, done, done on.",
            goal,
            MILESTONE_PARTS,
        ),
        _simple(
            Profile.EXT_GOAL_ID,
            "Goal id",
            "The goal's own stable id in the map, kept across reviews.",
            goal,
            "string",
        ),
        _simple(
            Profile.EXT_GOAL_ABOUT,
            "Goal about",
            "The stable id of a connection of the network the goal is about (the addresses "
            "references point at one review's Observations; this id holds across reviews).",
            goal,
            "string",
        ),
        _simple(Profile.EXT_GOAL_RESOURCE, "Goal resource", "A resource the goal needs.", goal, "string"),
        _simple(Profile.EXT_GOAL_BARRIER, "Goal barrier", "A barrier to the goal.", goal, "string"),
        _simple(
            Profile.EXT_GOAL_SUPPORTER,
            "Goal supporter",
            "The stable id of a connection of the network who supports the goal.",
            goal,
            "string",
        ),
        _complex(
            Profile.EXT_SIGNPOST,
            "Sign-post",
            "A sign-post or referral to a community asset: the asset id, the reason (a connection or "
            "goal id), its status, a note and a date.",
            ["CarePlan.activity", "CarePlan.activity.detail"],
            SIGNPOST_PARTS,
        ),
        _simple(
            Profile.EXT_RING_LABEL,
            "Ring label",
            "The name of one ring of the concentric map, closest first.",
            ["Observation", "CarePlan", "QuestionnaireResponse", "DocumentReference"],
            "string",
        ),
    ]


def build_structure_definitions() -> list[Resource]:
    """Every profile, then every extension."""
    return [
        questionnaire_response_profile(),
        connection_profile(),
        tie_profile(),
        network_summary_profile(),
        time_at_home_profile(),
        goal_profile(),
        care_plan_profile(),
        document_reference_profile(),
        provenance_profile(),
        *extensions(),
    ]
