"""Assets and sign-post follow-up in FHIR (pure): round trips, the ServiceRequest, the map file contract."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fhir.resources.R4B import get_fhir_model_class
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import MARKUP, free_text

from wb_fhir.assets import Asset, Opening, Organisation, Place, Source, load_assets
from wb_fhir.assets.followup import FollowUpState, follow_ups, latest_per_person
from wb_fhir.assets.oruk import read_oruk
from wb_fhir.cli import main
from wb_fhir.errors import InputError
from wb_fhir.fhir import map_resources, plan_from_resources, transaction_bundle
from wb_fhir.fhir.assets import (
    asset_from_resources,
    asset_resources,
    asset_transaction,
    index_resources,
    service_key,
)
from wb_fhir.fhir.signposts import has_request, request_follow_up, service_request, signpost_key, with_requests
from wb_fhir.mapfile import dumps_map, load_data, load_map, map_from_data, map_to_data
from wb_fhir.model import Signpost, WellbeingMap
from wb_fhir.review.summary import review_html
from wb_fhir.terminology import (
    CODESYSTEM_URL,
    DAYS_OF_WEEK,
    AssetCategory,
    AssetProfile,
    IdentifierKind,
    SignpostStatus,
    identifier_system,
    structure_definition_url,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
BANK = EXAMPLES / "assets.yaml"
SAMPLE = Path(__file__).resolve().parent / "data" / "oruk" / "services.json"
S = SignpostStatus


def _models(resources: list[dict[str, Any]]) -> None:
    for resource in resources:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def _round_trip(asset: Asset) -> Asset:
    resources = asset_resources(asset, in_bundle=False)
    _models([r for _, r in resources.all()])
    return asset_from_resources(resources.service[1], index_resources([r for _, r in resources.all()]))


# --- assets <-> FHIR ------------------------------------------------------------------------------------

ids = st.from_regex(r"\A[a-z][a-z0-9-]{0,12}\Z")
words = st.one_of(free_text, st.sampled_from(MARKUP))
maybe = st.one_of(st.none(), words)
days = st.lists(st.sampled_from(DAYS_OF_WEEK), min_size=1, max_size=7, unique=True).map(
    lambda d: tuple(sorted(d, key=DAYS_OF_WEEK.index))
)


@st.composite
def openings(draw: st.DrawFn) -> Opening:
    if draw(st.booleans()):
        return Opening(draw(days))
    start = draw(st.integers(0, 22 * 60))
    end = draw(st.integers(start + 1, 23 * 60 + 59))
    return Opening(draw(days), time(start // 60, start % 60), time(end // 60, end % 60))


@st.composite
def places(draw: st.DrawFn, n: int) -> Place:
    lat = draw(st.one_of(st.none(), st.floats(-90, 90, allow_nan=False)))
    lon = None if lat is None else draw(st.floats(-180, 180, allow_nan=False))
    return Place(f"p{n}", draw(maybe), draw(maybe), draw(maybe), draw(maybe), lat, lon)


@st.composite
def assets(draw: st.DrawFn) -> Asset:
    org = None
    if draw(st.booleans()):
        org = Organisation(draw(ids), draw(words), draw(maybe), draw(maybe), draw(maybe), (("GB-CHC", "1234567"),))
    n_places = draw(st.integers(0, 3))
    source = Source("oruk", draw(ids), draw(maybe)) if draw(st.booleans()) else None
    return Asset(
        id=draw(ids),
        name=draw(words),
        categories=tuple(draw(st.lists(st.sampled_from(list(AssetCategory)), min_size=1, max_size=3, unique=True))),
        description=draw(maybe),
        types=tuple(draw(st.lists(words, max_size=2, unique=True))),
        organisation=org,
        places=tuple(draw(places(n)) for n in range(n_places)),
        area=draw(maybe),
        contact=draw(maybe),
        phone=draw(maybe),
        email=draw(maybe),
        url=draw(maybe),
        opening=tuple(draw(st.lists(openings(), max_size=3))),
        opening_notes=draw(maybe),
        free=draw(st.sampled_from([None, True, False])),
        cost=draw(maybe),
        eligibility=draw(maybe),
        access=draw(maybe),
        transport=draw(maybe),
        notes=draw(maybe),
        checked=draw(st.one_of(st.none(), st.dates())),
        active=draw(st.booleans()),
        source=source,
        added_by=draw(maybe),
        added_on=draw(st.one_of(st.none(), st.dates())),
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(assets())
def test_any_asset_survives_fhir_and_back(asset: Asset) -> None:
    assert _round_trip(asset) == asset


@pytest.mark.parametrize("source", ["examples", "oruk"])
def test_every_example_and_sample_asset_survives_fhir_and_back(source: str) -> None:
    pool = load_assets(BANK) if source == "examples" else read_oruk(SAMPLE).assets
    for asset in pool:
        assert _round_trip(asset) == asset, asset.id


def test_the_shapes_of_an_asset() -> None:
    asset = load_assets(BANK).get("central-library-book-club")
    assert asset is not None
    r = asset_resources(asset)
    key, service = r.service
    assert key == service_key("central-library-book-club")
    assert service["meta"]["profile"] == [
        structure_definition_url(AssetProfile.SERVICE),
        "https://fhir.hl7.org.uk/StructureDefinition/UKCore-HealthcareService",
    ]
    assert service["identifier"] == [{"system": identifier_system(IdentifierKind.ASSET), "value": asset.id}]
    assert [c["coding"][0]["code"] for c in service["category"]] == ["social", "library"]
    assert service["availableTime"] == [
        {"daysOfWeek": ["wed"], "availableStartTime": "18:00:00", "availableEndTime": "19:30:00"}
    ]
    assert service["serviceProvisionCode"][0]["coding"][0]["code"] == "free"
    place = r.places[0][1]
    assert place["position"] == {"latitude": 50.3719, "longitude": -4.1429}
    assert place["address"] == {"line": ["Central Library, High Street"], "city": "Plymouth", "postalCode": "PL1 1AA"}
    assert r.area is not None and r.area[1]["physicalType"]["coding"][0]["code"] == "area"
    assert r.organisation is not None and r.organisation[1]["name"] == "City Libraries"
    # markup in any text is escaped in the narrative
    hostile = replace(asset, name="<script>alert(1)</script>", description='"&')
    div = asset_resources(hostile).service[1]["text"]["div"]
    assert "<script>" not in div and "&lt;script&gt;" in div and "&quot;&amp;" in div


def test_a_transaction_writes_shared_organisations_and_areas_once() -> None:
    bank = list(load_assets(BANK))
    bundle = asset_transaction(bank)
    urls = [e["request"]["url"] for e in bundle["entry"]]
    assert len(urls) == len(set(urls))
    assert all(e["request"]["method"] == "PUT" for e in bundle["entry"])
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds.count("HealthcareService") == len(bank)
    assert kinds.count("Organization") == len({a.organisation.id for a in bank if a.organisation})
    areas = [e for e in bundle["entry"] if e["resource"].get("physicalType")]
    assert [e["resource"]["name"] for e in areas] == ["Plymouth", "England"]
    # every reference inside the Bundle resolves to an entry of it
    full_urls = {e["fullUrl"] for e in bundle["entry"]}
    refs = json.dumps(bundle).count('"reference": "urn:uuid:')
    assert refs > 0
    for entry in bundle["entry"]:
        for ref in _references(entry["resource"]):
            assert ref in full_urls
    _models([bundle])


def _references(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["reference"]] if isinstance(node.get("reference"), str) else []
        return found + [r for v in node.values() for r in _references(v)]
    if isinstance(node, list):
        return [r for v in node for r in _references(v)]
    return []


def test_resources_not_ours_are_refused() -> None:
    with pytest.raises(InputError, match="has no wb_fhir asset identifier"):
        asset_from_resources({"resourceType": "HealthcareService", "name": "X"}, {})


# --- the map file contract: dated steps of sign-posts ---------------------------------------------------------


def _figure1(**signpost: Any) -> dict[str, Any]:
    data = load_data(EXAMPLES / "figure1.yaml")
    data["signposts"] = [{"asset": "central-library-book-club", "reason": "book-club", **signpost}]
    return dict(data)


def test_dated_steps_round_trip_through_the_map_file() -> None:
    data = _figure1(
        status="referred",
        suggested_on="2026-10-01",
        agreed_on="2026-10-15",
        referred_on="2026-11-01",
        follow_up="2026-12-15",
    )
    wmap = map_from_data(data)
    s = wmap.signposts[0]
    assert (s.suggested_on, s.agreed_on, s.referred_on, s.follow_up) == (
        date(2026, 10, 1),
        date(2026, 10, 15),
        date(2026, 11, 1),
        date(2026, 12, 15),
    )
    assert map_from_data(map_to_data(wmap)) == wmap
    assert "  referred_on: 2026-11-01\n  follow_up: 2026-12-15\n" in dumps_map(wmap)


def test_every_example_map_is_still_valid() -> None:
    for path in sorted(EXAMPLES.rglob("*.yaml")):
        if path.name != "assets.yaml":
            load_map(path, assets=load_assets(BANK).ids)


@pytest.mark.parametrize(
    ("signpost", "problems"),
    [
        (
            {"status": "agreed", "suggested_on": "2026-10-12", "agreed_on": "2026-10-10"},
            ["signposts[0].agreed_on: is before suggested_on"],
        ),
        (
            {"status": "agreed", "referred_on": "2026-10-10"},
            ["signposts[0].referred_on: is set but the sign-post's status is 'agreed'"],
        ),
        (
            {"status": "attended", "attended_on": "2026-12-01"},
            ["signposts[0].attended_on: is after the date of the map"],
        ),
        (
            {"status": "declined", "agreed_on": "2026-10-01", "attended_on": "2026-10-02", "declined_on": "2026-10-03"},
            ["signposts[0].attended_on: is set but the sign-post's status is 'declined'"],
        ),
        (
            {"status": "agreed", "follow_up": "2026-13-01"},
            ["signposts[0].follow_up: '2026-13-01' is not a real date"],
        ),
        ({"agreed_on": "soon"}, ["signposts[0].agreed_on: 'soon' is not a date (YYYY-MM-DD)"]),
    ],
)
def test_steps_that_cannot_be_are_refused_with_their_place(signpost: dict[str, Any], problems: list[str]) -> None:
    with pytest.raises(InputError) as caught:
        map_from_data(_figure1(**signpost))
    assert [str(p) for p in caught.value.problems] == problems


# --- the ServiceRequest ------------------------------------------------------------------------------


def _lifecycle(status: SignpostStatus, **dates: str) -> WellbeingMap:
    return map_from_data(_figure1(status=status.value, **dates))


STEPS = {
    S.SUGGESTED: {"suggested_on": "2026-10-01"},
    S.AGREED: {"suggested_on": "2026-10-01", "agreed_on": "2026-10-15", "follow_up": "2026-11-15"},
    S.REFERRED: {"suggested_on": "2026-10-01", "agreed_on": "2026-10-15", "referred_on": "2026-11-01"},
    S.ATTENDED: {
        "suggested_on": "2026-10-01",
        "agreed_on": "2026-10-15",
        "referred_on": "2026-11-01",
        "attended_on": "2026-11-19",
    },
}


def test_only_an_agreed_sign_post_becomes_a_service_request() -> None:
    assert not has_request(Signpost("a", "b"))
    assert not has_request(Signpost("a", "b", S.DECLINED))  # declined straight away: no referral was made
    assert has_request(Signpost("a", "b", S.DECLINED, agreed_on=date(2026, 1, 1)))
    assert all(has_request(Signpost("a", "b", s)) for s in (S.AGREED, S.REFERRED, S.ATTENDED))
    suggested = _lifecycle(S.SUGGESTED, **STEPS[S.SUGGESTED])
    assert map_resources(suggested).service_requests == ()


@pytest.mark.parametrize(
    ("status", "fhir_status"), [(S.AGREED, "active"), (S.REFERRED, "active"), (S.ATTENDED, "completed")]
)
def test_the_service_request_of_each_step(status: SignpostStatus, fhir_status: str) -> None:
    wmap = _lifecycle(status, **STEPS[status])
    names = {"central-library-book-club": "Central Library book club"}
    resources = map_resources(wmap, asset_names=names)
    (request,) = resources.service_requests
    _models([request])
    assert request["status"] == fhir_status and request["intent"] == "plan"
    assert request["identifier"] == [signpost_key(wmap, wmap.signposts[0]).identifier()]
    assert request["performer"] == [
        {
            "type": "HealthcareService",
            "identifier": service_key("central-library-book-club").identifier(),
            "display": "Central Library book club",
        }
    ]
    assert request["supportingInfo"][0]["display"] == "Join a book club"  # a goal: R4 reasonReference cannot hold it
    assert request["authoredOn"] == "2026-10-15"
    known = request_follow_up(request)
    assert [(s.value, d.isoformat()) for s, d, _ in known.steps] == [
        (k.removesuffix("_on"), v) for k, v in STEPS[status].items() if k.endswith("_on")
    ]
    assert known.status is status
    # the CarePlan points at it and still carries every field of the sign-post
    activity = resources.care_plan["activity"][0]
    assert "detail" not in activity and activity["reference"]["display"] == "Central Library book club"
    plan = plan_from_resources(resources.care_plan, list(resources.goals))
    assert with_requests(replace(wmap, signposts=plan.signposts), [request]) == wmap
    assert "Central Library book club for Join a book club" in resources.care_plan["text"]["div"]
    # it is written with the map, after the plan, and named in the Provenance
    bundle = transaction_bundle(wmap, asset_names=names)
    sr = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "ServiceRequest"]
    assert len(sr) == 1 and sr[0]["request"]["url"].startswith("ServiceRequest?identifier=")
    provenance = bundle["entry"][-1]["resource"]
    assert sr[0]["fullUrl"] in [t["reference"] for t in provenance["target"]]


def test_declined_with_the_reason() -> None:
    wmap = _lifecycle(S.DECLINED, agreed_on="2026-10-15", declined_on="2026-11-01", note="Too far to travel")
    (request,) = map_resources(wmap).service_requests
    assert request["status"] == "revoked"
    assert request["note"] == [{"text": "Too far to travel"}]
    steps = request_follow_up(request).steps
    assert steps[-1] == (S.DECLINED, date(2026, 11, 1), "Too far to travel")


def test_pulled_maps_get_their_steps_back_as_of_their_date() -> None:
    final = _lifecycle(S.ATTENDED, **STEPS[S.ATTENDED])
    (request,) = map_resources(final).service_requests
    # the map as the QuestionnaireResponse gives it: no dates of steps
    bare = replace(final, signposts=(Signpost("central-library-book-club", "book-club", S.ATTENDED),))
    assert with_requests(bare, [request]) == final
    # an earlier map of the same person only gets the steps up to its own date
    earlier_data = _figure1(status="agreed")
    earlier_data["date"] = "2026-10-20"
    for goal in earlier_data["goals"]:
        goal.pop("milestones", None)
    earlier = map_from_data(earlier_data)
    restored = with_requests(earlier, [request]).signposts[0]
    assert (restored.suggested_on, restored.agreed_on, restored.referred_on) == (
        date(2026, 10, 1),
        date(2026, 10, 15),
        None,
    )
    # a request of someone else changes nothing
    assert with_requests(bare, [{**request, "identifier": [{"system": "x", "value": "y"}]}]) == bare


# --- follow-up ------------------------------------------------------------------------------------------


def test_follow_up_states() -> None:
    wmap = map_from_data(
        {
            **_figure1(),
            "signposts": [
                {"asset": "a", "reason": "book-club", "status": "attended", "attended_on": "2026-11-01"},
                {"asset": "b", "reason": "book-club", "status": "agreed", "agreed_on": "2026-10-01"},
                {"asset": "c", "reason": "book-club", "status": "referred", "follow_up": "2026-11-20"},
                {"asset": "d", "reason": "book-club", "status": "suggested"},
                {"asset": "e", "reason": "book-club", "status": "declined", "note": "Not for me"},
            ],
        }
    )
    rows = {r.asset: r for r in follow_ups(wmap, asset_names={"a": "Alpha"})}
    assert rows["a"].state is FollowUpState.FOLLOWED_UP and rows["a"].asset_name == "Alpha" and rows["a"].due is None
    assert rows["b"].state is FollowUpState.OVERDUE and rows["b"].due == date(2026, 10, 29)
    assert rows["c"].state is FollowUpState.DUE and rows["c"].since == wmap.date  # no step date: the map's
    assert rows["d"].state is FollowUpState.OPEN and rows["d"].due == date(2026, 12, 18)
    assert rows["e"].line() == "e for Join a book club: declined since 2026-11-20 (Not for me)"
    assert rows["b"].line() == "b for Join a book club: agreed since 2026-10-01; overdue since 2026-10-29"
    later = follow_ups(wmap, on=date(2027, 1, 1))
    assert {r.asset: r.state for r in later}["d"] is FollowUpState.OVERDUE
    assert rows["b"].to_json()["steps"] == [{"status": "agreed", "date": "2026-10-01"}]
    assert "nhs_number" not in rows["b"].to_json() and rows["b"].to_json(personal=True)["nhs_number"]


def test_latest_map_per_person() -> None:
    old = load_map(EXAMPLES / "review" / "jordan-2026-05-14.yaml")
    new = load_map(EXAMPLES / "review" / "jordan-2026-11-12.yaml")
    other = load_map(EXAMPLES / "figure1.yaml")
    assert latest_per_person([new, other, old]) == [new, other]


def test_the_review_shows_follow_up_and_asset_names() -> None:
    old = load_map(EXAMPLES / "review" / "jordan-2026-05-14.yaml")
    new_data = load_data(EXAMPLES / "review" / "jordan-2026-11-12.yaml")
    new_data["signposts"] = [
        {
            "asset": "green-gym",
            "reason": "get-outside",
            "status": "attended",
            "agreed_on": "2026-05-20",
            "attended_on": "2026-06-12",
        },
        {"asset": "recovery-college", "reason": "evening-class", "status": "agreed", "agreed_on": "2026-09-10"},
    ]
    new = map_from_data(new_data)
    names = load_assets(BANK).names
    html = review_html([old, new], asset_names=names)
    block = html[html.index('id="follow-up-heading"') :]
    assert "1 of 2 sign-posts followed up (attended or declined); 1 overdue." in block
    assert '<td dir="auto">Green gym volunteering</td><td dir="auto">Spend more time outside the house</td>' in block
    assert "agreed 20 May 2026; attended 12 June 2026" in block
    assert '<span class="tag">overdue since</span> 8 October 2026' in block
    assert '<td dir="auto">Recovery College courses</td>' in html[: html.index('id="follow-up-heading"')]


def test_cli_signposts_from_maps(tmp_path: Path) -> None:
    folder = tmp_path / "maps"
    folder.mkdir()
    data = _figure1(status="agreed", agreed_on="2026-10-01")
    (folder / "sam.yaml").write_text(dumps_map(map_from_data(data)), encoding="utf-8")
    (folder / "bank.yaml").write_text(BANK.read_text(encoding="utf-8"), encoding="utf-8")  # skipped: not a map
    run = CliRunner()
    args = ["signposts", str(folder), str(EXAMPLES / "review"), "--assets", str(BANK), "--on", "2026-11-20"]
    result = run.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        f"OVERDUE      Central Library book club for Join a book club: agreed since 2026-10-01; "
        f"overdue since 2026-10-29  ({folder / 'sam.yaml'})"
    )
    assert "Green gym volunteering for Spend more time outside the house: attended" in result.stdout
    assert "3 sign-post(s): 1 followed up, 1 overdue (on 2026-11-20)" in result.stderr
    due = run.invoke(main, [*args, "--due", "--json", "--show-personal"])
    rows = json.loads(due.stdout)
    assert [r["asset"] for r in rows] == ["central-library-book-club"]
    assert rows[0]["nhs_number"] == "9434765919"
    hidden = json.loads(run.invoke(main, [*args, "--json"]).stdout)
    assert all("nhs_number" not in r for r in hidden)
    nothing = run.invoke(main, ["signposts"], env={"WB_FHIR_SERVER": ""})
    assert nothing.exit_code == 2
    assert "give map files or folders, or a FHIR server" in nothing.stderr


def test_the_code_of_a_sign_post_request_is_ours() -> None:
    wmap = _lifecycle(S.AGREED, **STEPS[S.AGREED])
    request = service_request(wmap, wmap.signposts[0])
    assert request["code"]["coding"][0]["system"] == CODESYSTEM_URL
    assert request["reasonReference"] if "supportingInfo" not in request else True
    assert [e["url"] for e in request["extension"]][-1] == structure_definition_url(AssetProfile.EXT_SIGNPOST_FOLLOW_UP)
