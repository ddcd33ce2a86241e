"""The floor a Bundle build is measured against: the same JSON from plain dict literals.

:func:`floor_bundle` writes the transaction Bundle of a benchmark map (:mod:`benchmarks.maps`:
connections, ties, time at home, practitioners; no goals or sign-posts) the most direct way:
one function, dict literals, display texts from dicts made once, identifiers by wb_fhir's own
``stable_uuid`` (the same work on both sides: what differs is how the JSON is put together).
The CarePlan's narrative (one string per map) comes from wb_fhir, so its wording never drifts.
The benchmark and tests/test_bundle_build.py check that ``json.dumps`` of both is the same
text: a change to the mapping shows up there, and this file follows it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from wb_fhir import __version__
from wb_fhir.fhir.narrative import care_plan_narrative
from wb_fhir.measures import measure
from wb_fhir.model import WellbeingMap, stable_uuid
from wb_fhir.terminology import (
    CANONICAL,
    CATEGORY_LINK_ID,
    CODESYSTEM_URL,
    EXT_ORDINAL_VALUE,
    IMPACT_WEIGHT,
    NHS_NUMBER_SYSTEM,
    OBSERVATION_CATEGORIES,
    OBSERVATION_CATEGORY_SYSTEM,
    PROVENANCE_ENTITY_SOURCE,
    PROVENANCE_PARTICIPANT_SYSTEM,
    QUESTIONNAIRE_URL,
    QUESTIONNAIRE_VERSION,
    UCUM,
    UK_CORE_PROFILES,
    Category,
    Frequency,
    Impact,
    Kind,
    LinkId,
    ObservationCode,
    Role,
    Status,
    TieType,
    display,
)

JSON = dict[str, Any]
SD = f"{CANONICAL}/StructureDefinition/"
ID = f"{CANONICAL}/identifier/"
L = {link.name: link.value for link in LinkId}
CAT_LINK = {kind: link.value for kind, link in CATEGORY_LINK_ID.items()}
CODES = {
    enum: {member: (member.value, display(member)) for member in enum}
    for enum in (Kind, Category, Impact, Frequency, Status, Role, TieType, ObservationCode)
}
WEIGHT = {member: IMPACT_WEIGHT[member] for member in Impact}


def _coding(enum: type, member: Any) -> JSON:
    code, text = CODES[enum][member]
    return {"system": CODESYSTEM_URL, "code": code, "display": text}


def _code(member: ObservationCode) -> JSON:
    return {"coding": [_coding(ObservationCode, member)]}


def _meta(profile: str, resource_type: str) -> JSON:
    return {"profile": [SD + profile, UK_CORE_PROFILES[resource_type]]}


def _answer(link: str, *answers: JSON) -> JSON:
    return {"linkId": link, "answer": list(answers)}


def floor_bundle(wmap: WellbeingMap) -> JSON:
    """The transaction Bundle of a generated map, built directly."""
    if wmap.goals or wmap.signposts or wmap.next_review or wmap.reflections:
        raise ValueError("the floor covers generated maps: no goals, sign-posts, next review or reflections")
    s = wmap.subject
    subject: JSON = {}
    if s.fhir_id:
        subject["reference"] = s.fhir_id
    elif s.nhs_number:
        subject["reference"] = "Patient?identifier=" + quote(f"{NHS_NUMBER_SYSTEM}|{s.nhs_number}", safe=":/|,.-_")
    if s.nhs_number and s.fhir_id:
        subject["identifier"] = {"system": NHS_NUMBER_SYSTEM, "value": s.nhs_number}
    if s.display:
        subject["display"] = s.display
    day = wmap.date.isoformat()
    map_id = wmap.id
    qr_ref = {"reference": f"urn:uuid:{map_id}"}
    performers = [
        {"reference": p.fhir_id, "display": p.display} if p.fhir_id else {"display": p.display}
        for p in wmap.practitioners
    ]
    category = [{"coding": [{"system": OBSERVATION_CATEGORY_SYSTEM, "code": c}]} for c in OBSERVATION_CATEGORIES]

    # the QuestionnaireResponse
    person = []
    if s.nhs_number:
        person.append(_answer(L["SUBJECT_NHS_NUMBER"], {"valueString": s.nhs_number}))
    if s.display:
        person.append(_answer(L["SUBJECT_NAME"], {"valueString": s.display}))
    if s.fhir_id:
        person.append(_answer(L["SUBJECT_REFERENCE"], {"valueString": s.fhir_id}))
    items = [_answer(L["DATE"], {"valueDate": day})]
    if person:
        items.append({"linkId": L["SUBJECT"], "item": person})
    for p in wmap.practitioners:
        about = [_answer(L["PRACTITIONER_NAME"], {"valueString": p.display})]
        if p.role:
            about.append(_answer(L["PRACTITIONER_ROLE"], {"valueString": p.role}))
        if p.fhir_id:
            about.append(_answer(L["PRACTITIONER_REF"], {"valueString": p.fhir_id}))
        items.append({"linkId": L["PRACTITIONER"], "item": about})
    if wmap.time_at_home is not None:
        items.append(_answer(L["TIME_AT_HOME"], {"valueInteger": wmap.time_at_home}))
    items.append(_answer(L["RING_LABEL"], *({"valueString": r} for r in wmap.rings)))
    for c in wmap.connections:
        answers = [
            _answer(L["CONNECTION_ID"], {"valueString": c.id}),
            _answer(L["CONNECTION_KIND"], {"valueCoding": _coding(Kind, c.kind)}),
            _answer(L["CONNECTION_LABEL"], {"valueString": c.label}),
            _answer(CAT_LINK[c.kind], {"valueCoding": _coding(Category, c.category)}),
            _answer(L["CONNECTION_RING"], {"valueInteger": c.ring}),
            _answer(L["CONNECTION_IMPACT"], {"valueCoding": _coding(Impact, c.impact)}),
        ]
        if c.frequency:
            answers.append(_answer(L["CONNECTION_FREQUENCY"], {"valueCoding": _coding(Frequency, c.frequency)}))
        answers.append(_answer(L["CONNECTION_STATUS"], {"valueCoding": _coding(Status, c.status)}))
        if c.roles:
            answers.append(_answer(L["CONNECTION_ROLES"], *({"valueCoding": _coding(Role, r)} for r in c.roles)))
        answers.append(_answer(L["CONNECTION_CONFIRMED"], {"valueBoolean": c.confirmed}))
        items.append({"linkId": L["CONNECTION"], "item": answers})
    for t in wmap.ties:
        items.append(
            {
                "linkId": L["TIE"],
                "item": [
                    _answer(L["TIE_FROM"], {"valueString": t.from_id}),
                    _answer(L["TIE_TO"], {"valueString": t.to_id}),
                    _answer(L["TIE_TYPE"], {"valueCoding": _coding(TieType, t.type)}),
                ],
            }
        )
    qr: JSON = {
        "resourceType": "QuestionnaireResponse",
        "meta": _meta("wb-questionnaire-response", "QuestionnaireResponse"),
        "identifier": {"system": ID + "map", "value": map_id},
        "questionnaire": f"{QUESTIONNAIRE_URL}|{QUESTIONNAIRE_VERSION}",
        "status": "completed",
        "subject": dict(subject),
        "authored": day,
    }
    if wmap.practitioners:
        qr["author"] = dict(performers[0])
    qr["item"] = items
    entries = [(map_id, "QuestionnaireResponse", "map", qr)]

    def observation(profile: str, code: ObservationCode, obs_id: str) -> JSON:
        obs: JSON = {
            "resourceType": "Observation",
            "meta": _meta(profile, "Observation"),
            "status": "final",
            "category": [{"coding": [dict(c["coding"][0])]} for c in category],
            "code": _code(code),
            "subject": dict(subject),
            "effectiveDateTime": day,
        }
        if performers:
            obs["performer"] = [dict(p) for p in performers]
        obs["identifier"] = [{"system": ID + "observation", "value": obs_id}]
        return obs

    def component(code: ObservationCode, value: JSON) -> JSON:
        return {"code": _code(code), **value}

    # an Observation per connection, per tie, the time at home and the summary
    members = []
    connection_ids = {}
    for c in wmap.connections:
        obs_id = stable_uuid(map_id, "connection", c.id)
        connection_ids[c.id] = obs_id
        members.append({"reference": f"urn:uuid:{obs_id}"})
        obs = observation("wb-connection-observation", ObservationCode.CONNECTION, obs_id)
        obs["identifier"].append({"system": ID + "connection", "value": stable_uuid(s.key, "connection", c.id)})
        impact = _coding(Impact, c.impact)
        impact["extension"] = [{"url": EXT_ORDINAL_VALUE, "valueDecimal": WEIGHT[c.impact]}]
        obs["valueCodeableConcept"] = {"coding": [impact]}
        if c.fhir_id:
            obs["focus"] = [{"reference": c.fhir_id}]
        obs["derivedFrom"] = [dict(qr_ref)]
        parts = [
            component(ObservationCode.CONNECTION_ID, {"valueString": c.id}),
            component(ObservationCode.CONNECTION_KIND, {"valueCodeableConcept": {"coding": [_coding(Kind, c.kind)]}}),
            component(ObservationCode.CONNECTION_LABEL, {"valueString": c.label}),
            component(
                ObservationCode.CONNECTION_CATEGORY,
                {"valueCodeableConcept": {"coding": [_coding(Category, c.category)]}},
            ),
            component(ObservationCode.RING, {"valueInteger": c.ring}),
        ]
        if c.frequency:
            parts.append(
                component(
                    ObservationCode.FREQUENCY, {"valueCodeableConcept": {"coding": [_coding(Frequency, c.frequency)]}}
                )
            )
        parts.append(
            component(ObservationCode.STATUS, {"valueCodeableConcept": {"coding": [_coding(Status, c.status)]}})
        )
        for r in c.roles:
            parts.append(
                component(ObservationCode.PRACTITIONER_ROLE, {"valueCodeableConcept": {"coding": [_coding(Role, r)]}})
            )
        obs["component"] = parts
        entries.append((obs_id, "Observation", "observation", obs))
    for t in wmap.ties:
        obs_id = stable_uuid(map_id, "tie", t.id)
        members.append({"reference": f"urn:uuid:{obs_id}"})
        obs = observation("wb-tie-observation", ObservationCode.TIE, obs_id)
        obs["focus"] = [
            {"reference": f"urn:uuid:{connection_ids[t.from_id]}"},
            {"reference": f"urn:uuid:{connection_ids[t.to_id]}"},
        ]
        obs["valueCodeableConcept"] = {"coding": [_coding(TieType, t.type)]}
        obs["derivedFrom"] = [dict(qr_ref)]
        obs["component"] = [
            component(ObservationCode.TIE_FROM, {"valueString": t.from_id}),
            component(ObservationCode.TIE_TO, {"valueString": t.to_id}),
        ]
        entries.append((obs_id, "Observation", "observation", obs))
    if wmap.time_at_home is not None:
        obs_id = stable_uuid(map_id, "time-at-home")
        members.append({"reference": f"urn:uuid:{obs_id}"})
        obs = observation("wb-time-at-home-observation", ObservationCode.TIME_AT_HOME, obs_id)
        obs["valueQuantity"] = {"value": wmap.time_at_home, "unit": "%", "system": UCUM, "code": "%"}
        obs["derivedFrom"] = [dict(qr_ref)]
        entries.append((obs_id, "Observation", "observation", obs))
    m = measure(wmap)
    summary_id = stable_uuid(map_id, "network-summary")
    obs = observation("wb-network-summary-observation", ObservationCode.NETWORK_SUMMARY, summary_id)
    if members:
        obs["hasMember"] = members
    obs["derivedFrom"] = [dict(qr_ref)]
    figures = [
        component(ObservationCode.SIZE_PERSON, {"valueInteger": m.by_kind[Kind.PERSON]}),
        component(ObservationCode.SIZE_PLACE, {"valueInteger": m.by_kind[Kind.PLACE]}),
        component(ObservationCode.SIZE_ACTIVITY, {"valueInteger": m.by_kind[Kind.ACTIVITY]}),
        component(ObservationCode.SIZE_INNER, {"valueInteger": m.inner_circle}),
        component(ObservationCode.SIZE_LOST, {"valueInteger": m.by_status[Status.LOST]}),
        component(ObservationCode.SIZE_WISHED_FOR, {"valueInteger": m.by_status[Status.WISHED_FOR]}),
        component(ObservationCode.COUNT_POSITIVE, {"valueInteger": m.positive}),
        component(ObservationCode.COUNT_NEGATIVE, {"valueInteger": m.negative}),
        component(ObservationCode.COUNT_MIXED, {"valueInteger": m.mixed}),
        component(ObservationCode.PRACTITIONER_IN_INNER, {"valueBoolean": m.practitioner_in_inner_circle}),
    ]
    if m.family_or_home_share is not None:
        share = round(m.family_or_home_share * 100, 2)
        figures.append(
            component(
                ObservationCode.FAMILY_HOME_SHARE,
                {"valueQuantity": {"value": share, "unit": "%", "system": UCUM, "code": "%"}},
            )
        )
    obs["component"] = figures
    entries.append((summary_id, "Observation", "observation", obs))

    # the CarePlan
    plan_id = stable_uuid(s.key, "care-plan")
    plan: JSON = {
        "resourceType": "CarePlan",
        "meta": _meta("wb-care-plan", "CarePlan"),
        "text": {"status": "generated", "div": care_plan_narrative(wmap)},
        "identifier": [{"system": ID + "care-plan", "value": plan_id}],
        "status": "active",
        "intent": "plan",
        "category": [{"text": "Wellbeing"}],
        "title": "Wellbeing network plan",
        "subject": dict(subject),
        "period": {"start": day},
        "created": day,
        "contributor": [dict(p) for p in performers] + [dict(subject)],
        "supportingInfo": [dict(qr_ref), {"reference": f"urn:uuid:{summary_id}"}],
    }
    entries.append((plan_id, "CarePlan", "care-plan", plan))

    # the Bundle, and the Provenance of all it writes
    out = [
        {
            "fullUrl": f"urn:uuid:{value}",
            "resource": resource,
            "request": {"method": "PUT", "url": f"{rtype}?identifier=" + quote(f"{ID}{kind}|{value}", safe=":/|,.-_")},
        }
        for value, rtype, kind, resource in entries
    ]
    prov_id = stable_uuid(map_id, "provenance")
    out.append(
        {
            "fullUrl": f"urn:uuid:{prov_id}",
            "resource": {
                "resourceType": "Provenance",
                "meta": {
                    "profile": [SD + "wb-provenance", UK_CORE_PROFILES["Provenance"]],
                    "tag": [{"system": ID + "provenance", "code": prov_id}],
                },
                "target": [{"reference": f"urn:uuid:{value}"} for value, _, _, _ in entries],
                "recorded": f"{day}T00:00:00Z",
                "agent": [
                    {
                        "type": {"coding": [{"system": PROVENANCE_PARTICIPANT_SYSTEM, "code": "author"}]},
                        "who": dict(p),
                    }
                    for p in performers
                ]
                + [
                    {
                        "type": {"coding": [{"system": PROVENANCE_PARTICIPANT_SYSTEM, "code": "assembler"}]},
                        "who": {"display": f"wb_fhir {__version__}"},
                    }
                ],
                "entity": [{"role": PROVENANCE_ENTITY_SOURCE, "what": dict(qr_ref)}],
            },
            "request": {"method": "POST", "url": "Provenance", "ifNoneExist": f"_tag={ID}provenance|{prov_id}"},
        }
    )
    return {"resourceType": "Bundle", "type": "transaction", "entry": out}
