"""Examples of every profile: valid ones, and invalid ones that name the error they must raise.

They are built here from the terminology constants (not by the mapping code), so they are an
independent statement of the contract: the server tests prove the valid ones validate with no
error and each invalid one fails with the error it names.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from wb_fhir.conformance._common import Resource, coding
from wb_fhir.model import stable_uuid
from wb_fhir.terminology import (
    CARE_PLAN_DOCUMENT_TYPE,
    CODESYSTEM_URL,
    EXT_ORDINAL_VALUE,
    IMPACT_WEIGHT,
    MILESTONE_PARTS,
    OBSERVATION_CATEGORIES,
    OBSERVATION_CATEGORY_SYSTEM,
    QUESTIONNAIRE_URL,
    QUESTIONNAIRE_VERSION,
    SIGNPOST_PARTS,
    UCUM,
    UK_CORE_PROFILES,
    Category,
    Disclosure,
    Frequency,
    GoalStatus,
    IdentifierKind,
    Impact,
    Kind,
    LinkId,
    ObservationCode,
    Profile,
    Role,
    SignpostStatus,
    Status,
    TieType,
    identifier_system,
    structure_definition_url,
)


@dataclass(frozen=True)
class Example:
    """One example resource, the profile it is checked against and, if invalid, the error it must raise."""

    name: str
    resource: Resource
    profile: str
    expect: str | None = None

    @property
    def valid(self) -> bool:
        return self.expect is None

    @property
    def file(self) -> str:
        return f"invalid/{self.name}.json" if self.expect else f"{self.name}.json"


MAP_ID = "example-map-2026-11-20"
SUBJECT_KEY = "nhs:9434765919"
DATE = "2026-11-20"
PATIENT = {"reference": "Patient/wb-example-patient", "display": "Sam"}
PRACTITIONER = {"reference": "Practitioner/wb-example-cpn", "display": "Alex Jones"}
QR_REF = {"reference": "QuestionnaireResponse/wb-example-map"}


def _meta(profile: Profile, resource_type: str) -> dict[str, Any]:
    profiles = [structure_definition_url(profile)]
    if resource_type in UK_CORE_PROFILES:
        profiles.append(UK_CORE_PROFILES[resource_type])
    return {"profile": profiles}


def _ident(kind: IdentifierKind, *parts: str) -> dict[str, str]:
    return {"system": identifier_system(kind), "value": stable_uuid(*parts)}


def _cc(value: StrEnum) -> dict[str, Any]:
    return {"coding": [coding(value)]}


def _impact(impact: Impact) -> dict[str, Any]:
    with_weight = dict(coding(impact))
    return {
        "coding": [{"extension": [{"url": EXT_ORDINAL_VALUE, "valueDecimal": IMPACT_WEIGHT[impact]}], **with_weight}]
    }


def _answer(link: LinkId, *values: Any) -> dict[str, Any]:
    answers: list[dict[str, Any]] = []
    for v in values:
        if isinstance(v, StrEnum):
            answers.append({"valueCoding": coding(v)})
        elif isinstance(v, bool):
            answers.append({"valueBoolean": v})
        elif isinstance(v, int):
            answers.append({"valueInteger": v})
        elif isinstance(v, dict):
            answers.append({"valueReference": v})
        elif link in _DATES:
            answers.append({"valueDate": v})
        else:
            answers.append({"valueString": v})
    return {"linkId": link.value, "answer": answers}


_DATES = {
    LinkId.DATE,
    LinkId.NEXT_REVIEW,
    LinkId.GOAL_TARGET,
    LinkId.MILESTONE_DUE,
    LinkId.MILESTONE_DONE_ON,
    LinkId.SIGNPOST_DATE,
    LinkId.SIGNPOST_SUGGESTED_ON,
    LinkId.SIGNPOST_AGREED_ON,
    LinkId.SIGNPOST_REFERRED_ON,
    LinkId.SIGNPOST_ATTENDED_ON,
    LinkId.SIGNPOST_DECLINED_ON,
    LinkId.SIGNPOST_FOLLOW_UP,
}


def _group(link: LinkId, *items: dict[str, Any]) -> dict[str, Any]:
    return {"linkId": link.value, "item": list(items)}


@dataclass(frozen=True)
class _Conn:
    id: str
    kind: Kind
    label: str
    category: Category
    ring: int
    impact: Impact
    frequency: Frequency | None = None
    disclosure: Disclosure | None = None
    roles: tuple[Role, ...] = ()


CONNECTIONS = (
    _Conn("mum", Kind.PERSON, "Mum", Category.FAMILY, 1, Impact.NEGATIVE, Frequency.WEEKLY, Disclosure.YES),
    _Conn(
        "cpn",
        Kind.PERSON,
        "CPN",
        Category.PRACTITIONER,
        1,
        Impact.POSITIVE,
        Frequency.WEEKLY,
        Disclosure.YES,
        (Role.BRIDGE_BUILDER, Role.NETWORK_MEMBER),
    ),
    _Conn("gym", Kind.PLACE, "Gym", Category.SPORT_LEISURE, 2, Impact.POSITIVE, Frequency.WEEKLY),
    _Conn("reading", Kind.ACTIVITY, "Reading", Category.HOBBY, 1, Impact.VERY_POSITIVE, Frequency.DAILY),
)


def _qr_connection(c: _Conn) -> dict[str, Any]:
    items = [
        _answer(LinkId.CONNECTION_ID, c.id),
        _answer(LinkId.CONNECTION_KIND, c.kind),
        _answer(LinkId.CONNECTION_LABEL, c.label),
        _answer(
            {
                Kind.PERSON: LinkId.CONNECTION_CATEGORY_PERSON,
                Kind.PLACE: LinkId.CONNECTION_CATEGORY_PLACE,
                Kind.ACTIVITY: LinkId.CONNECTION_CATEGORY_ACTIVITY,
            }[c.kind],
            c.category,
        ),
        _answer(LinkId.CONNECTION_RING, c.ring),
        _answer(LinkId.CONNECTION_IMPACT, c.impact),
    ]
    if c.frequency:
        items.append(_answer(LinkId.CONNECTION_FREQUENCY, c.frequency))
    items.append(_answer(LinkId.CONNECTION_STATUS, Status.CURRENT))
    if c.disclosure:
        items.append(_answer(LinkId.CONNECTION_DISCLOSURE, c.disclosure))
    if c.roles:
        items.append(_answer(LinkId.CONNECTION_ROLES, *c.roles))
    items.append(_answer(LinkId.CONNECTION_CONFIRMED, True))
    return _group(LinkId.CONNECTION, *items)


def questionnaire_response() -> Resource:
    """The example map as a QuestionnaireResponse."""
    return {
        "resourceType": "QuestionnaireResponse",
        "id": "wb-example-map",
        "meta": _meta(Profile.QUESTIONNAIRE_RESPONSE, "QuestionnaireResponse"),
        "identifier": {"system": identifier_system(IdentifierKind.MAP), "value": MAP_ID},
        "questionnaire": f"{QUESTIONNAIRE_URL}|{QUESTIONNAIRE_VERSION}",
        "status": "completed",
        "subject": PATIENT,
        "authored": DATE,
        "author": PRACTITIONER,
        "item": [
            _answer(LinkId.DATE, DATE),
            _group(
                LinkId.PRACTITIONER,
                _answer(LinkId.PRACTITIONER_NAME, "Alex Jones"),
                _answer(LinkId.PRACTITIONER_ROLE, "CPN"),
                _answer(LinkId.PRACTITIONER_REF, "Practitioner/wb-example-cpn"),
            ),
            _answer(LinkId.TIME_AT_HOME, 75),
            _answer(LinkId.RING_LABEL, "Inner circle", "Middle", "Wider network"),
            *(_qr_connection(c) for c in CONNECTIONS),
            _group(
                LinkId.TIE,
                _answer(LinkId.TIE_FROM, "cpn"),
                _answer(LinkId.TIE_TO, "gym"),
                _answer(LinkId.TIE_TYPE, TieType.BRIDGED),
            ),
            _group(
                LinkId.GOAL,
                _answer(LinkId.GOAL_ID, "book-club"),
                _answer(LinkId.GOAL_DESCRIPTION, "Join a book club"),
                _answer(LinkId.GOAL_STATUS, GoalStatus.ACTIVE),
                _answer(LinkId.GOAL_ABOUT, "reading"),
                _answer(LinkId.GOAL_SUPPORTERS, "cpn"),
                _answer(LinkId.GOAL_RESOURCES, "library card"),
                _answer(LinkId.GOAL_BARRIERS, "anxious in groups"),
                _answer(LinkId.GOAL_TARGET, "2027-03-01"),
                _group(
                    LinkId.MILESTONE,
                    _answer(LinkId.MILESTONE_ID, "find-clubs"),
                    _answer(LinkId.MILESTONE_DESCRIPTION, "Find two local clubs"),
                    _answer(LinkId.MILESTONE_DUE, "2026-12-15"),
                    _answer(LinkId.MILESTONE_DONE, False),
                ),
            ),
            _group(
                LinkId.SIGNPOST,
                _answer(LinkId.SIGNPOST_ASSET, "central-library-book-club"),
                _answer(LinkId.SIGNPOST_REASON, "reading"),
                _answer(LinkId.SIGNPOST_STATUS, SignpostStatus.SUGGESTED),
                _answer(LinkId.SIGNPOST_SUGGESTED_ON, DATE),
                _answer(LinkId.SIGNPOST_FOLLOW_UP, "2026-12-15"),
            ),
            {
                "linkId": LinkId.REFLECTIONS.value,
                "answer": [
                    {"valueString": "Spends most of the day at home; would like more contact outside the family."}
                ],
            },
            _answer(LinkId.NEXT_REVIEW, "2027-05-20"),
        ],
    }


def _component(code: ObservationCode, value: dict[str, Any]) -> dict[str, Any]:
    return {"code": {"coding": [coding(code)]}, **value}


def _observation(profile: Profile, code: ObservationCode, obs_id: str, *parts: str) -> Resource:
    return {
        "resourceType": "Observation",
        "id": obs_id,
        "meta": _meta(profile, "Observation"),
        "identifier": [_ident(IdentifierKind.OBSERVATION, *parts)],
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY_SYSTEM, "code": c}]} for c in OBSERVATION_CATEGORIES],
        "code": {"coding": [coding(code)]},
        "subject": PATIENT,
        "effectiveDateTime": DATE,
        "performer": [PRACTITIONER],
    }


def connection(c: _Conn) -> Resource:
    """The connection Observation of one connection of the example map."""
    oc = ObservationCode
    obs = _observation(Profile.CONNECTION, oc.CONNECTION, f"wb-example-connection-{c.id}", MAP_ID, "connection", c.id)
    obs["identifier"].append(_ident(IdentifierKind.CONNECTION, SUBJECT_KEY, "connection", c.id))
    obs["valueCodeableConcept"] = _impact(c.impact)
    obs["derivedFrom"] = [QR_REF]
    components = [
        _component(oc.CONNECTION_ID, {"valueString": c.id}),
        _component(oc.CONNECTION_KIND, {"valueCodeableConcept": _cc(c.kind)}),
        _component(oc.CONNECTION_LABEL, {"valueString": c.label}),
        _component(oc.CONNECTION_CATEGORY, {"valueCodeableConcept": _cc(c.category)}),
        _component(oc.RING, {"valueInteger": c.ring}),
    ]
    if c.frequency:
        components.append(_component(oc.FREQUENCY, {"valueCodeableConcept": _cc(c.frequency)}))
    components.append(_component(oc.STATUS, {"valueCodeableConcept": _cc(Status.CURRENT)}))
    if c.disclosure:
        components.append(_component(oc.DISCLOSURE, {"valueCodeableConcept": _cc(c.disclosure)}))
    components += [_component(oc.PRACTITIONER_ROLE, {"valueCodeableConcept": _cc(r)}) for r in c.roles]
    obs["component"] = components
    return obs


def tie() -> Resource:
    """The tie 'the CPN bridged the person to the gym'."""
    obs = _observation(Profile.TIE, ObservationCode.TIE, "wb-example-tie", MAP_ID, "tie", "cpn--bridged--gym")
    obs["focus"] = [
        {"reference": "Observation/wb-example-connection-cpn"},
        {"reference": "Observation/wb-example-connection-gym"},
    ]
    obs["valueCodeableConcept"] = _cc(TieType.BRIDGED)
    obs["component"] = [
        _component(ObservationCode.TIE_FROM, {"valueString": "cpn"}),
        _component(ObservationCode.TIE_TO, {"valueString": "gym"}),
    ]
    return obs


def _percent(value: float) -> dict[str, Any]:
    return {"value": value, "unit": "%", "system": UCUM, "code": "%"}


def summary() -> Resource:
    """The network summary of the example map."""
    oc = ObservationCode
    obs = _observation(Profile.NETWORK_SUMMARY, oc.NETWORK_SUMMARY, "wb-example-summary", MAP_ID, "network-summary")
    obs["hasMember"] = [{"reference": f"Observation/wb-example-connection-{c.id}"} for c in CONNECTIONS] + [
        {"reference": "Observation/wb-example-tie"},
        {"reference": "Observation/wb-example-time-at-home"},
    ]
    figures = [
        (oc.SIZE_PERSON, 2),
        (oc.SIZE_PLACE, 1),
        (oc.SIZE_ACTIVITY, 1),
        (oc.SIZE_INNER, 3),
        (oc.SIZE_LOST, 0),
        (oc.SIZE_WISHED_FOR, 0),
        (oc.COUNT_POSITIVE, 3),
        (oc.COUNT_NEGATIVE, 1),
        (oc.COUNT_MIXED, 0),
    ]
    obs["component"] = [
        *(_component(code, {"valueInteger": n}) for code, n in figures),
        _component(oc.PRACTITIONER_IN_INNER, {"valueBoolean": True}),
        _component(oc.FAMILY_HOME_SHARE, {"valueQuantity": _percent(25)}),
    ]
    return obs


def time_at_home() -> Resource:
    """75 % of the waking day at home."""
    oc = ObservationCode
    obs = _observation(Profile.TIME_AT_HOME, oc.TIME_AT_HOME, "wb-example-time-at-home", MAP_ID, "time-at-home")
    obs["valueQuantity"] = _percent(75)
    return obs


def _parts(url: str, names: tuple[str, ...], values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {"url": url, "extension": [{"url": n, **values[n]} for n in names if n in values]}


def goal() -> Resource:
    """The goal 'Join a book club' with one milestone."""
    return {
        "resourceType": "Goal",
        "id": "wb-example-goal",
        "meta": _meta(Profile.GOAL, "Goal"),
        "extension": [
            _parts(
                structure_definition_url(Profile.EXT_MILESTONE),
                MILESTONE_PARTS,
                {
                    "id": {"valueString": "find-clubs"},
                    "description": {"valueString": "Find two local clubs"},
                    "due": {"valueDate": "2026-12-15"},
                    "done": {"valueBoolean": False},
                },
            ),
            {"url": structure_definition_url(Profile.EXT_GOAL_RESOURCE), "valueString": "library card"},
            {"url": structure_definition_url(Profile.EXT_GOAL_BARRIER), "valueString": "anxious in groups"},
            {"url": structure_definition_url(Profile.EXT_GOAL_SUPPORTER), "valueString": "cpn"},
        ],
        "identifier": [_ident(IdentifierKind.GOAL, SUBJECT_KEY, "goal", "book-club")],
        "lifecycleStatus": "active",
        "description": {"text": "Join a book club"},
        "subject": PATIENT,
        "startDate": DATE,
        "target": [{"dueDate": "2027-03-01"}],
        "addresses": [{"reference": "Observation/wb-example-connection-reading"}],
    }


def care_plan() -> Resource:
    """The wellbeing CarePlan of the example person."""
    return {
        "resourceType": "CarePlan",
        "id": "wb-example-care-plan",
        "meta": _meta(Profile.CARE_PLAN, "CarePlan"),
        "text": {
            "status": "generated",
            "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>Wellbeing plan: join a book club; '
            "sign-posted to the central library book club.</p></div>",
        },
        "identifier": [_ident(IdentifierKind.CARE_PLAN, SUBJECT_KEY, "care-plan")],
        "status": "active",
        "intent": "plan",
        "category": [{"text": "Wellbeing"}],
        "title": "Wellbeing network plan",
        "subject": PATIENT,
        "period": {"start": DATE},
        "created": DATE,
        "contributor": [PRACTITIONER, PATIENT],
        "supportingInfo": [
            QR_REF,
            {"reference": "Observation/wb-example-summary"},
            {"reference": "DocumentReference/wb-example-document"},
        ],
        "goal": [{"reference": "Goal/wb-example-goal"}],
        "activity": [
            {
                "detail": {
                    "extension": [
                        _parts(
                            structure_definition_url(Profile.EXT_SIGNPOST),
                            SIGNPOST_PARTS,
                            {
                                "asset": {"valueString": "central-library-book-club"},
                                "reason": {"valueString": "reading"},
                                "status": {"valueCoding": coding(SignpostStatus.SUGGESTED)},
                            },
                        )
                    ],
                    "kind": "ServiceRequest",
                    "code": {"text": "Central library book club"},
                    "goal": [{"reference": "Goal/wb-example-goal"}],
                    "status": "not-started",
                    "description": "Sign-posted to the central library book club",
                }
            },
            {
                "detail": {
                    "status": "scheduled",
                    "scheduledString": "2027-05-20",
                    "description": "Review the wellbeing network map",
                }
            },
        ],
    }


_SVG = "PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHdpZHRoPSIxMCIgaGVpZ2h0PSIxMCIvPg=="


def document() -> Resource:
    """The picture of the example map."""
    system, code, text = CARE_PLAN_DOCUMENT_TYPE
    return {
        "resourceType": "DocumentReference",
        "id": "wb-example-document",
        "meta": _meta(Profile.DOCUMENT_REFERENCE, "DocumentReference"),
        "identifier": [_ident(IdentifierKind.DOCUMENT, MAP_ID, "document")],
        "status": "current",
        "type": {"coding": [{"system": system, "code": code, "display": text}]},
        "subject": PATIENT,
        "date": f"{DATE}T00:00:00Z",
        "content": [
            {
                "attachment": {
                    "contentType": "image/svg+xml",
                    "data": _SVG,
                    "title": "Wellbeing network map",
                    "creation": DATE,
                }
            }
        ],
        "context": {"related": [{"reference": "CarePlan/wb-example-care-plan"}, QR_REF]},
    }


def provenance() -> Resource:
    """The provenance of the example push."""
    return {
        "resourceType": "Provenance",
        "id": "wb-example-provenance",
        "meta": _meta(Profile.PROVENANCE, "Provenance"),
        "target": [
            QR_REF,
            {"reference": "Observation/wb-example-summary"},
            {"reference": "CarePlan/wb-example-care-plan"},
        ],
        "recorded": f"{DATE}T12:00:00Z",
        "agent": [{"who": PRACTITIONER}],
        "entity": [{"role": "source", "what": QR_REF}],
    }


def _narrative(resource: Resource, text: str) -> Resource:
    """The resource with a generated narrative (best practice dom-6), placed after ``meta``."""
    out: Resource = {}
    for key, value in resource.items():
        out[key] = value
        if key == "meta" and "text" not in resource:
            out["text"] = {
                "status": "generated",
                "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{text}</p></div>',
            }
    return out


def _broken(resource: Resource, change: Any) -> Resource:
    copy_ = copy.deepcopy(resource)
    change(copy_)
    return copy_


def build_examples() -> list[Example]:
    """Every example, valid first; invalid ones carry a fragment of the error they must raise."""
    url = structure_definition_url
    n = _narrative
    qr = n(questionnaire_response(), "Wellbeing network map, 20 November 2026.")
    conns = {c.id: n(connection(c), f"Connection: {c.label} ({c.kind.value}), ring {c.ring}.") for c in CONNECTIONS}
    cpn = conns["cpn"]
    tie_ = n(tie(), "The CPN bridged the person to the gym.")
    summary_ = n(summary(), "Network summary: 2 people, 1 place, 1 activity.")
    home = n(time_at_home(), "75 % of the waking day at home.")
    goal_ = n(goal(), "Goal: join a book club.")
    document_ = n(document(), "Picture of the wellbeing network map.")
    provenance_ = n(provenance(), "Pushed by wb_fhir for Alex Jones.")
    valid = [
        Example("QuestionnaireResponse-map", qr, url(Profile.QUESTIONNAIRE_RESPONSE)),
        *(Example(f"Observation-connection-{cid}", r, url(Profile.CONNECTION)) for cid, r in conns.items()),
        Example("Observation-tie", tie_, url(Profile.TIE)),
        Example("Observation-summary", summary_, url(Profile.NETWORK_SUMMARY)),
        Example("Observation-time-at-home", home, url(Profile.TIME_AT_HOME)),
        Example("Goal-book-club", goal_, url(Profile.GOAL)),
        Example("CarePlan-wellbeing", care_plan(), url(Profile.CARE_PLAN)),
        Example("DocumentReference-map", document_, url(Profile.DOCUMENT_REFERENCE)),
        Example("Provenance-push", provenance_, url(Profile.PROVENANCE)),
    ]

    def set_(key: str, value: Any) -> Any:
        return lambda r: r.__setitem__(key, value)

    def drop_component(code: ObservationCode) -> Any:
        return lambda r: r.__setitem__(
            "component", [c for c in r["component"] if c["code"]["coding"][0]["code"] != code]
        )

    def bad_impact(r: Resource) -> None:
        r["valueCodeableConcept"] = {"coding": [{"system": CODESYSTEM_URL, "code": "great"}]}

    def unknown_item(r: Resource) -> None:
        r["item"].append({"linkId": "favourite-colour", "answer": [{"valueString": "blue"}]})

    def ring_out_of_range(r: Resource) -> None:
        r["item"][4]["item"][4]["answer"][0]["valueInteger"] = 9

    def step_beyond_status(r: Resource) -> None:
        steps = next(i for i in r["item"] if i["linkId"] == LinkId.SIGNPOST)["item"]
        after = next(n for n, i in enumerate(steps) if i["linkId"] == LinkId.SIGNPOST_SUGGESTED_ON) + 1
        steps.insert(after, _answer(LinkId.SIGNPOST_AGREED_ON, DATE))  # the sign-post is only suggested

    def wrong_unit(r: Resource) -> None:
        r["valueQuantity"]["code"] = "h"

    def wrong_doc_type(r: Resource) -> None:
        r["type"] = {"coding": [{"system": CARE_PLAN_DOCUMENT_TYPE[0], "code": "371531000"}]}

    def no_identifier(r: Resource) -> None:
        del r["identifier"]

    invalid = [
        Example(
            "QuestionnaireResponse-in-progress",
            _broken(qr, set_("status", "in-progress")),
            url(Profile.QUESTIONNAIRE_RESPONSE),
            "fixed to 'completed'",
        ),
        Example(
            "QuestionnaireResponse-unknown-item",
            _broken(qr, unknown_item),
            url(Profile.QUESTIONNAIRE_RESPONSE),
            "LinkId 'favourite-colour' not found in questionnaire",
        ),
        Example(
            "QuestionnaireResponse-ring-9",
            _broken(qr, ring_out_of_range),
            url(Profile.QUESTIONNAIRE_RESPONSE),
            "greater than the allowed maximum of 6",
        ),
        Example(
            "QuestionnaireResponse-step-beyond-status",
            _broken(qr, step_beyond_status),
            url(Profile.QUESTIONNAIRE_RESPONSE),
            "Item has answer, even though it is not enabled (item id = 'signpost.agreed-on')",
        ),
        Example(
            "Observation-connection-no-ring",
            _broken(cpn, drop_component(ObservationCode.RING)),
            url(Profile.CONNECTION),
            "Slice 'Observation.component:ring': a matching slice is required",
        ),
        Example(
            "Observation-connection-bad-impact",
            _broken(cpn, bad_impact),
            url(Profile.CONNECTION),
            "None of the codings provided are in the value set 'Impact'",
        ),
        Example(
            "Observation-tie-one-end",
            _broken(tie_, lambda r: r["focus"].pop()),
            url(Profile.TIE),
            "Observation.focus: minimum required = 2",
        ),
        Example(
            "Observation-summary-with-value",
            _broken(summary_, set_("valueInteger", 4)),
            url(Profile.NETWORK_SUMMARY),
            "Observation.value[x]: max allowed = 0",
        ),
        Example("Observation-time-at-home-hours", _broken(home, wrong_unit), url(Profile.TIME_AT_HOME), "fixed to '%'"),
        Example(
            "Goal-no-identifier",
            _broken(goal_, no_identifier),
            url(Profile.GOAL),
            "Slice 'Goal.identifier:goal': a matching slice is required",
        ),
        Example(
            "CarePlan-order", _broken(care_plan(), set_("intent", "order")), url(Profile.CARE_PLAN), "fixed to 'plan'"
        ),
        Example(
            "DocumentReference-wrong-type",
            _broken(document_, wrong_doc_type),
            url(Profile.DOCUMENT_REFERENCE),
            "code 734163000",
        ),
        Example(
            "Provenance-no-entity",
            _broken(provenance_, lambda r: r.pop("entity")),
            url(Profile.PROVENANCE),
            "Provenance.entity: minimum required = 1",
        ),
    ]
    # Each invalid example gets its own id, so that none can be mistaken for another.
    invalid = [replace(e, resource={**e.resource, "id": f"wb-invalid-{e.name.lower()}"}) for e in invalid]
    return valid + invalid
