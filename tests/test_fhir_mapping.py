"""Map -> FHIR -> map: round trips, shapes of the contract, measures, narrative."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from hypothesis import HealthCheck, given, settings
from lxml import etree
from strategies import MARKUP, wellbeing_maps

from wb_fhir.errors import InputError
from wb_fhir.fhir import (
    Attachment,
    Linker,
    extract_map,
    map_from_questionnaire_response,
    map_resources,
    measures_from_observations,
    observations,
    plan_from_resources,
    questionnaire_response,
    transaction_bundle,
)
from wb_fhir.fhir.narrative import ALLOWED_ELEMENTS, XHTML_NS, care_plan_narrative
from wb_fhir.fhir.references import connection_series_key
from wb_fhir.mapfile import load_map
from wb_fhir.measures import measure
from wb_fhir.model import Signpost, WellbeingMap, stable_uuid
from wb_fhir.terminology import (
    CODESYSTEM_URL,
    NHS_NUMBER_SYSTEM,
    QUESTIONNAIRE_URL,
    QUESTIONNAIRE_VERSION,
    IdentifierKind,
    ObservationCode,
    Profile,
    SignpostStatus,
    identifier_system,
    structure_definition_url,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EXAMPLE_FILES = sorted(p for p in EXAMPLES.rglob("*.yaml") if p.name != "assets.yaml")
PNG = Attachment("image/png", b"\x89PNG\r\n\x1a\nfake", "Wellbeing map (PNG)")


def _example(name: str) -> WellbeingMap:
    return load_map(EXAMPLES / name)


def _check_models(resources: list[dict[str, Any]]) -> None:
    for resource in resources:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def _without_steps(signposts: tuple[Signpost, ...]) -> tuple[Signpost, ...]:
    """Sign-posts as the CarePlan holds them: the dated steps and the follow-up date are in the
    QuestionnaireResponse and the ServiceRequest, not in the CarePlan's sign-post extension."""
    steps = {f"{status.value}_on": None for status in SignpostStatus}
    return tuple(replace(s, **steps, follow_up=None) for s in signposts)


def _code(obs: dict[str, Any]) -> str:
    return str(obs["code"]["coding"][0]["code"])


# --- round trips ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wellbeing_maps())
def test_map_round_trips_through_the_questionnaire_response(wmap: WellbeingMap) -> None:
    bundle = transaction_bundle(wmap, attachments=[PNG])
    qr = bundle["entry"][0]["resource"]
    assert qr["resourceType"] == "QuestionnaireResponse"
    assert map_from_questionnaire_response(qr) == wmap
    # standalone (logical references) gives the same map too
    assert map_from_questionnaire_response(questionnaire_response(wmap)) == wmap


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wellbeing_maps())
def test_every_resource_is_a_valid_r4_model_and_measures_and_plan_read_back(wmap: WellbeingMap) -> None:
    bundle = transaction_bundle(wmap, attachments=[PNG])
    _check_models([bundle] + [e["resource"] for e in bundle["entry"]])
    resources = map_resources(wmap)
    obs = list(resources.observations)
    assert measures_from_observations(obs, rings=len(wmap.rings)) == measure(wmap)
    plan = plan_from_resources(resources.care_plan, list(resources.goals))
    assert plan.goals == wmap.goals
    assert plan.signposts == _without_steps(wmap.signposts)
    assert plan.next_review == wmap.next_review
    _check_narrative(resources.care_plan["text"]["div"])


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_examples_round_trip(path: Path) -> None:
    wmap = load_map(path)
    bundle = transaction_bundle(wmap, attachments=[PNG])
    _check_models([bundle] + [e["resource"] for e in bundle["entry"]])
    qr = bundle["entry"][0]["resource"]
    assert map_from_questionnaire_response(qr) == wmap
    resources = map_resources(wmap)
    assert measures_from_observations(resources.observations, rings=len(wmap.rings)) == measure(wmap)
    plan = plan_from_resources(resources.care_plan, list(resources.goals))
    assert (plan.goals, plan.signposts, plan.next_review) == (
        wmap.goals,
        _without_steps(wmap.signposts),
        wmap.next_review,
    )


# --- the shapes of the contract -------------------------------------------------------------


def test_questionnaire_response_shape() -> None:
    wmap = _example("figure1.yaml")
    qr = questionnaire_response(wmap)
    assert qr["questionnaire"] == f"{QUESTIONNAIRE_URL}|{QUESTIONNAIRE_VERSION}"
    assert qr["status"] == "completed"
    assert qr["identifier"] == {"system": identifier_system(IdentifierKind.MAP), "value": wmap.id}
    assert qr["authored"] == "2026-11-20"
    assert qr["author"] == {"display": "Alex Jones"}
    assert qr["meta"]["profile"] == [
        structure_definition_url(Profile.QUESTIONNAIRE_RESPONSE),
        "https://fhir.hl7.org.uk/StructureDefinition/UKCore-QuestionnaireResponse",
    ]
    top = [i["linkId"] for i in qr["item"]]
    assert top[:5] == ["date", "subject", "practitioner", "time-at-home", "ring-label"]
    assert top[-2:] == ["reflections", "next-review"]
    assert top.count("connection") == 10 and top.count("tie") == 5 and top.count("goal") == 2
    mum = next(i for i in qr["item"] if i["linkId"] == "connection")["item"]
    kind = next(i for i in mum if i["linkId"] == "connection.kind")["answer"][0]["valueCoding"]
    assert kind == {"system": CODESYSTEM_URL, "code": "person", "display": "Person"}
    assert [i["linkId"] for i in mum if i["linkId"].startswith("connection.category")] == ["connection.category-person"]


def test_subject_reference_by_nhs_number_and_by_id() -> None:
    wmap = _example("figure1.yaml")
    in_bundle = Linker(in_bundle=True).subject(wmap.subject)
    assert in_bundle == {"reference": f"Patient?identifier={NHS_NUMBER_SYSTEM}|9434765919", "display": "Sam"}
    outside = Linker().subject(wmap.subject)
    assert outside == {
        "identifier": {"system": NHS_NUMBER_SYSTEM, "value": "9434765919"},
        "display": "Sam",
        "type": "Patient",
    }
    by_id = replace(wmap.subject, nhs_number=None, fhir_id="Patient/123", display=None)
    assert Linker(in_bundle=True).subject(by_id) == {"reference": "Patient/123"}


def test_connection_observation_shape() -> None:
    wmap = _example("figure1.yaml")
    bundle = transaction_bundle(wmap)
    cpn = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation"
        and _code(e["resource"]) == "connection"
        and any(c.get("valueString") == "cpn" for c in e["resource"]["component"])
    )
    assert cpn["status"] == "final"
    assert [c["coding"][0]["code"] for c in cpn["category"]] == ["social-history", "survey"]
    assert cpn["effectiveDateTime"] == "2026-11-20"
    assert cpn["identifier"] == [
        {"system": identifier_system(IdentifierKind.OBSERVATION), "value": stable_uuid(wmap.id, "connection", "cpn")},
        {
            "system": identifier_system(IdentifierKind.CONNECTION),
            "value": stable_uuid(wmap.subject.key, "connection", "cpn"),
        },
    ]
    impact = cpn["valueCodeableConcept"]["coding"][0]
    assert impact["code"] == "positive" and impact["extension"][0]["valueDecimal"] == 1
    codes = [_code(c) for c in cpn["component"]]
    assert codes == [
        "connection-id",
        "connection-kind",
        "connection-label",
        "connection-category",
        "ring",
        "connection-frequency",
        "connection-status",
        "disclosure",
        "practitioner-role",
        "practitioner-role",
    ]
    assert cpn["derivedFrom"] == [{"reference": f"urn:uuid:{wmap.id}"}]


def test_connection_series_identifier_is_the_same_across_the_review_pair() -> None:
    old, new = _example("review/jordan-2026-05-14.yaml"), _example("review/jordan-2026-11-12.yaml")
    assert old.id != new.id
    assert connection_series_key(old, "mum") == connection_series_key(new, "mum")
    old_obs = {o["identifier"][0]["value"] for o in observations(old)}
    new_obs = {o["identifier"][0]["value"] for o in observations(new)}
    assert not old_obs & new_obs  # each review has its own Observations


def test_goals_and_care_plan_are_per_person() -> None:
    old, new = _example("review/jordan-2026-05-14.yaml"), _example("review/jordan-2026-11-12.yaml")
    a, b = map_resources(old), map_resources(new)
    assert a.care_plan["identifier"] == b.care_plan["identifier"]
    goals_a = {g["identifier"][0]["value"] for g in a.goals}
    goals_b = {g["identifier"][0]["value"] for g in b.goals}
    assert goals_a < goals_b  # the two goals carried on keep their identity; one is new
    achieved = next(g for g in b.goals if g["description"]["text"] == "Spend more time outside the house")
    assert achieved["lifecycleStatus"] == "completed"
    assert achieved["achievementStatus"]["coding"][0]["code"] == "achieved"


def test_summary_observation_figures() -> None:
    wmap = _example("figure1.yaml")
    m = measure(wmap)
    summary = next(o for o in observations(wmap) if _code(o) == ObservationCode.NETWORK_SUMMARY)
    values = {_code(c): next(v for k, v in c.items() if k.startswith("value")) for c in summary["component"]}
    assert values["size-person"] == m.by_kind["person"]
    assert values["size-inner-circle"] == m.inner_circle
    assert values["count-negative"] == m.negative
    assert values["practitioner-in-inner-circle"] is True
    assert values["family-home-share"]["code"] == "%"
    assert len(summary["hasMember"]) == len(wmap.connections) + len(wmap.ties) + 1


def test_time_at_home_and_empty_map() -> None:
    alone = _example("alone.yaml")
    obs = observations(alone)
    summary = obs[-1]
    assert all(_code(c) != "family-home-share" for c in summary["component"])
    home = [o for o in obs if _code(o) == "time-at-home"]
    if alone.time_at_home is not None:
        assert home[0]["valueQuantity"] == {
            "value": alone.time_at_home,
            "unit": "%",
            "system": "http://unitsofmeasure.org",
            "code": "%",
        }
    assert map_from_questionnaire_response(questionnaire_response(alone)) == alone


def test_bundle_is_a_transaction_of_conditional_upserts() -> None:
    wmap = _example("figure1.yaml")
    bundle = transaction_bundle(wmap, attachments=[PNG])
    assert bundle["type"] == "transaction"
    full_urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(set(full_urls)) == len(full_urls)
    for entry in bundle["entry"]:
        resource, request = entry["resource"], entry["request"]
        assert resource["resourceType"] != "Patient"
        if resource["resourceType"] == "Provenance":
            assert request["method"] == "POST" and request["ifNoneExist"].startswith("_tag=")
            continue
        first = resource["identifier"][0] if isinstance(resource["identifier"], list) else resource["identifier"]
        assert entry["fullUrl"] == f"urn:uuid:{first['value']}"
        assert request == {
            "method": "PUT",
            "url": f"{resource['resourceType']}?identifier={first['system']}|{first['value']}",
        }
    # every urn:uuid reference points at an entry of the Bundle
    text = str(bundle)
    for ref in {w.strip("'\"") for w in text.split() if w.strip("'\",{}[]").startswith("urn:uuid:")}:
        assert ref.strip("'\",{}[]") in full_urls


def test_document_reference_carries_attachments_and_is_left_out_without_them() -> None:
    wmap = _example("figure1.yaml")
    with_doc = map_resources(wmap, attachments=[PNG])
    doc = with_doc.document_reference
    assert doc is not None
    assert doc["type"]["coding"][0]["code"] == "734163000"
    attachment = doc["content"][0]["attachment"]
    assert base64.b64decode(attachment["data"]) == PNG.data
    assert attachment["contentType"] == "image/png"
    assert len(doc["context"]["related"]) == 2
    assert len(with_doc.care_plan["supportingInfo"]) == 3
    without = map_resources(wmap)
    assert without.document_reference is None
    assert len(without.care_plan["supportingInfo"]) == 2


def test_provenance_targets_everything_written() -> None:
    wmap = _example("figure1.yaml")
    bundle = transaction_bundle(wmap)
    prov = bundle["entry"][-1]["resource"]
    written = [e["fullUrl"] for e in bundle["entry"][:-1]]
    assert [t["reference"] for t in prov["target"]] == written
    assert prov["entity"] == [{"role": "source", "what": {"reference": f"urn:uuid:{wmap.id}"}}]
    assert prov["agent"][0]["who"] == {"display": "Alex Jones"}


def test_bundle_is_deterministic() -> None:
    wmap = _example("diverse-network.yaml")
    assert transaction_bundle(wmap) == transaction_bundle(wmap)


# --- narrative ------------------------------------------------------------------------------


def _check_narrative(div: str) -> etree._Element:
    root = etree.fromstring(div.encode("utf-8"))
    assert root.tag == f"{{{XHTML_NS}}}div"
    for element in root.iter():
        assert etree.QName(element).localname in ALLOWED_ELEMENTS
        assert element is root or not element.attrib
    assert not root.attrib
    return root


def test_narrative_escapes_markup() -> None:
    wmap = _example("figure1.yaml")
    hostile = replace(
        wmap,
        subject=replace(wmap.subject, display='<script>alert("x")</script>'),
        goals=tuple(replace(g, description=MARKUP[0] + "&\"'") for g in wmap.goals),
    )
    div = care_plan_narrative(hostile)
    root = _check_narrative(div)
    text = "".join(root.itertext())
    assert '<script>alert("x")</script>' in text  # shown as text, not as markup
    assert "<b>&\"'" in text
    assert "<script" not in div


# --- reading other responses ----------------------------------------------------------------


def _qr() -> dict[str, Any]:
    return questionnaire_response(_example("figure1.yaml"))


def test_reads_items_in_another_order_without_displays_and_reports_unknown_items() -> None:
    wmap = _example("figure1.yaml")
    qr = _qr()
    # other linkIds first, repetitions of one group kept in their order (stable sort)
    qr["item"].sort(key=lambda i: i["linkId"], reverse=True)
    for group in qr["item"]:
        group.get("item", []).sort(key=lambda i: i["linkId"], reverse=True)
        for item in group.get("item", []):
            for answer in item.get("answer", []):
                answer.get("valueCoding", {}).pop("display", None)
    qr["item"].append({"linkId": "favourite-colour", "answer": [{"valueString": "blue"}]})
    result = extract_map(qr)
    assert result.map == wmap
    assert [str(w) for w in result.warnings] == ["favourite-colour: is not an item of the Questionnaire here: ignored"]
    with pytest.raises(Exception, match="favourite-colour"):
        map_from_questionnaire_response(qr)


def test_optional_items_missing() -> None:
    qr = _qr()
    qr["item"] = [i for i in qr["item"] if i["linkId"] not in ("reflections", "next-review", "ring-label")]
    for group in qr["item"]:
        if group["linkId"] == "connection":
            group["item"] = [
                i for i in group["item"] if i["linkId"] not in ("connection.frequency", "connection.status")
            ]
    wmap = map_from_questionnaire_response(qr)
    assert wmap.reflections is None and wmap.next_review is None
    assert all(c.frequency is None and c.status == "current" for c in wmap.connections)


def test_a_sign_post_s_dated_steps_and_follow_up_live_in_the_response() -> None:
    wmap = _example("figure1.yaml")
    referred = Signpost(
        wmap.signposts[0].asset,
        wmap.signposts[0].reason,
        SignpostStatus.DECLINED,
        note="Too far to travel",
        suggested_on=date(2026, 10, 1),
        agreed_on=date(2026, 10, 15),
        referred_on=date(2026, 11, 1),
        declined_on=date(2026, 11, 19),
        follow_up=date(2026, 12, 15),
    )
    wmap = replace(wmap, signposts=(referred,))
    qr = questionnaire_response(wmap)
    group = next(i for i in qr["item"] if i["linkId"] == "signpost")
    answers = {i["linkId"]: i["answer"][0] for i in group["item"]}
    assert answers["signpost.referred-on"] == {"valueDate": "2026-11-01"}
    assert answers["signpost.declined-on"] == {"valueDate": "2026-11-19"}
    assert answers["signpost.follow-up"] == {"valueDate": "2026-12-15"}
    assert answers["signpost.note"] == {"valueString": "Too far to travel"}
    assert "signpost.attended-on" not in answers
    assert map_from_questionnaire_response(qr) == wmap


def test_a_step_the_map_refuses_is_reported_at_its_place_in_the_response() -> None:
    qr = questionnaire_response(_example("figure1.yaml"))
    group = next(i for i in qr["item"] if i["linkId"] == "signpost")
    group["item"] += [
        {"linkId": "signpost.suggested-on", "answer": [{"valueDate": "2026-11-02"}]},
        {"linkId": "signpost.attended-on", "answer": [{"valueDate": "2026-11-01"}]},
    ]
    with pytest.raises(InputError) as caught:
        extract_map(qr)
    assert [str(p) for p in caught.value.problems] == [
        "signpost[0].signpost.attended-on: is set but the sign-post's status is 'suggested'",
        "signpost[0].signpost.attended-on: is before suggested_on",
    ]
