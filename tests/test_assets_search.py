"""Search, suggestions and likely duplicates in the asset bank (pure), and their commands."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from wb_fhir.assets import Asset, Place, load_assets
from wb_fhir.assets.duplicates import likely_duplicates, normal_name
from wb_fhir.assets.oruk import read_oruk
from wb_fhir.assets.search import Query, distance_km, parse_point, search
from wb_fhir.assets.suggest import by_need, needs, stem, suggest
from wb_fhir.cli import main
from wb_fhir.errors import InputError
from wb_fhir.mapfile import load_map
from wb_fhir.terminology import AssetCategory

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
BANK = EXAMPLES / "assets.yaml"
SAMPLE = Path(__file__).resolve().parent / "data" / "oruk" / "services.json"
CITY_CENTRE = (50.3715, -4.1427)
EXETER = (50.7200, -3.5300)


@pytest.fixture(scope="module")
def sample() -> list[Asset]:
    return list(read_oruk(SAMPLE).assets)


def names(hits: list) -> list[str]:  # type: ignore[type-arg]
    return [h.asset.name for h in hits]


def test_distance_is_great_circle() -> None:
    assert distance_km(CITY_CENTRE, CITY_CENTRE) == 0
    # Plymouth to Exeter, about 60 km as the crow flies
    assert 57 < distance_km(CITY_CENTRE, EXETER) < 62
    # one degree of latitude is 111.2 km
    assert distance_km((50, -4), (51, -4)) == pytest.approx(111.19, abs=0.05)


def test_search_by_category_text_day_and_cost(sample: list[Asset]) -> None:
    assert names(search(sample, Query(category=AssetCategory.NATURE))) == [
        "Central Park walking for health",
        "Exeter riverside walks",
        "Green gym conservation volunteering",
        "Ham Lane community allotments",
        "Hoe health walks",
    ]
    assert names(search(sample, Query(text="peer support", category=AssetCategory.PEER_SUPPORT))) == [
        "Exeter peer support café",
        "Gambling harms peer support",
        "Mental health peer support group",
        "Night owls online peer forum",
    ]
    assert names(search(sample, Query(open_on="sat", free=True))) == [
        "Green gym conservation volunteering",
        "Mutley Baptist coffee morning",
        "Night owls online peer forum",
        "Saturday parkrun",
    ]
    # accents and case do not matter; every word must appear
    assert names(search(sample, Query(text="CAFE exeter"))) == ["Exeter peer support café"]
    assert search(sample, Query(text="café nowhere")) == []


def test_search_by_distance_nearest_first(sample: list[Asset]) -> None:
    near_exeter = search(sample, Query(near=EXETER, within_km=2))
    assert names(near_exeter) == ["Exeter riverside walks", "Exeter peer support café"]
    assert [round(h.distance_km or 0, 2) for h in near_exeter] == [0.33, 0.44]
    city = search(sample, Query(near=CITY_CENTRE, within_km=1))
    assert city and all(h.distance_km is not None and h.distance_km <= 1 for h in city)
    assert [h.distance_km for h in city] == sorted(h.distance_km for h in city)  # type: ignore[type-var]
    assert "Exeter riverside walks" not in names(city)
    # withdrawn ones only when asked
    assert "Exeter art group" not in names(search(sample, Query(near=EXETER, within_km=2)))
    assert "Exeter art group" in names(search(sample, Query(near=EXETER, within_km=2, include_inactive=True)))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("50.37", "is not a position: give LAT,LON"),
        ("91,0", "is not a position on Earth"),
        ("a,b", "is not a position"),
    ],
)
def test_bad_points(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_point(text)


def test_bad_queries() -> None:
    with pytest.raises(InputError, match="'funday' is not a day of the week"):
        Query(open_on="funday")
    with pytest.raises(InputError, match="more than 0 km"):
        Query(near=CITY_CENTRE, within_km=0)


def test_cli_search_on_the_local_directory(tmp_path: Path) -> None:
    run = CliRunner()
    result = run.invoke(
        main, ["assets", "search", "--assets", str(BANK), "--near", "50.3715,-4.1427", "--within", "0.2"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:3] == [
        "Central Library book club (central-library-book-club)",
        "  Social, Library · 0.0 km · Wed 18:00-19:30 · free",
        "  Central Library, High Street, Plymouth, PL1 1AA · 01632 960001",
    ]
    assert result.stderr == f"2 asset(s) found in {BANK}\n"
    as_json = run.invoke(main, ["assets", "search", "--assets", str(BANK), "--category", "creative", "--json"])
    found = json.loads(as_json.stdout)
    assert [a["id"] for a in found] == ["evening-classes", "art-studio", "community-choir"]
    assert found[0]["distance_km"] is None and found[1]["opening"] == ["thu 13:00-16:00"]
    bad = run.invoke(main, ["assets", "search", "--assets", str(BANK), "--near", "north"])
    assert bad.exit_code == 2
    assert "error: 'north' is not a position: give LAT,LON in degrees" in bad.stderr
    missing = run.invoke(main, ["assets", "search", "--assets", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 2 and "none.yaml: no such file" in missing.stderr


# --- suggestions --------------------------------------------------------------------------------------


def _top(path: str) -> dict[str, list[str]]:
    found = suggest(load_map(EXAMPLES / path), load_assets(BANK))
    return {need.label: [s.asset.id for s in items] for need, items in by_need(found).items()}


def test_suggestions_for_the_examples() -> None:
    diverse = _top("diverse-network.yaml")
    assert diverse["Get back to playing football"][0] == "five-a-side-league"
    assert diverse["An allotment"][0] == "allotment-society"
    assert diverse["Drawing again"][0] == "art-studio"
    assert diverse["A mentor at work"] == ["employment-coach"]
    # art-studio is already sign-posted for this goal: not suggested again for it
    assert "art-studio" not in diverse["Start drawing again"]
    figure1 = _top("figure1.yaml")
    assert figure1["Find out about social groups at church"][0] == "st-marys-lunch-club"
    assert "central-library-book-club" not in figure1["Join a book club"]  # already sign-posted
    jordan = _top("review/jordan-2026-05-14.yaml")
    assert jordan["Gardening"][0] == "allotment-society"
    assert set(jordan["Spend more time outside the house"]) >= {"allotment-society"}
    assert _top("review/jordan-2026-11-12.yaml")["Try an evening class"][0] == "evening-classes"
    assert _top("alone.yaml")["Go out once a week, anywhere"] == ["walking-group"]


def test_every_suggestion_says_why_and_ranks_best_first() -> None:
    wmap = load_map(EXAMPLES / "diverse-network.yaml")
    found = suggest(wmap, load_assets(BANK))
    assert found
    for s in found:
        assert s.reasons and s.score >= 2
    for items in by_need(found).values():
        assert [s.score for s in items] == sorted((s.score for s in items), reverse=True)
        assert len(items) <= 3
    football = next(s for s in found if s.need.id == "back-to-football")
    assert football.reasons[0] == (
        "Sport and leisure, as the goal 'Get back to playing football' is about sport and leisure, which it speaks of"
    )
    assert football.reasons[1].startswith("shares 'five', 'football'")


def test_closed_goals_withdrawn_assets_and_barriers() -> None:
    wmap = load_map(EXAMPLES / "diverse-network.yaml")
    labels = [n.label for n in needs(wmap)]
    assert "Finish the managing anxiety course" not in labels  # achieved
    assert "Get back in touch with my brother" not in labels  # abandoned
    bank = list(load_assets(BANK))
    without = suggest(wmap, [replace(a, active=a.id != "five-a-side-league") for a in bank])
    assert all(s.asset.id != "five-a-side-league" for s in without)
    goal = replace(wmap.goals[0], barriers=("money is tight",))
    money = suggest(replace(wmap, goals=(goal,)), bank)
    free = [s for s in money if s.asset.free and s.need.id == goal.id]
    assert free and all("free, and 'money is tight' is a barrier" in s.reasons for s in free)
    paid = [s for s in money if not s.asset.free and s.need.id == goal.id]
    assert all("free, and 'money is tight' is a barrier" not in s.reasons for s in paid)


def test_stemming_meets_word_forms() -> None:
    assert stem("walks") == stem("walking") == "walk"
    assert stem("clubs") == "club" and stem("classes") == "class" and stem("activities") == "activity"
    assert stem("grass") == "grass" and stem("bus") == "bus"


def test_cli_suggest(tmp_path: Path) -> None:
    run = CliRunner()
    result = run.invoke(main, ["assets", "suggest", str(EXAMPLES / "diverse-network.yaml"), "--assets", str(BANK)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "For the goal 'Get back to playing football':"
    assert lines[1] == "  1. Friday five-a-side football (five-a-side-league), score 12"
    as_json = run.invoke(
        main, ["assets", "suggest", str(EXAMPLES / "figure1.yaml"), "--assets", str(BANK), "--json", "--per-need", "1"]
    )
    data = json.loads(as_json.stdout)
    assert {d["for"]["label"] for d in data} == {"Join a book club", "Find out about social groups at church"}
    assert all(d["reasons"] for d in data)
    bad = run.invoke(main, ["assets", "suggest", str(tmp_path / "nope.yaml"), "--assets", str(BANK)])
    assert bad.exit_code == 2


# --- likely duplicates ---------------------------------------------------------------------------------


def test_likely_duplicates() -> None:
    here = Place("main", postcode="PL1 1AA", latitude=50.3719, longitude=-4.1429)
    a = Asset("a", "The Central Library Book Club", places=(here,))
    assert normal_name(a.name) == "central library book"
    same = Asset("b", "central library book group")
    close = Asset("c", "Central Library Bookclub", places=(replace(here, postcode=None, latitude=50.3725),))
    far = Asset("d", "Central Library Bookclub", places=(Place("x", latitude=50.40, longitude=-4.10),))
    phone = Asset("e", "Library book chat", phone="01632 960001", places=(Place("y", latitude=51, longitude=0),))
    a_phone = replace(a, phone="+44 1632 960001")
    found = {d.asset.id: d.reason for d in likely_duplicates(a_phone, [a_phone, same, close, far, phone])}
    assert found == {
        "b": "the same name",
        "c": "a similar name 67 m away",
        "e": "the same phone number and a similar name",
    }


def test_cli_add_flags_duplicates_and_records_who(tmp_path: Path) -> None:
    bank = tmp_path / "bank.yaml"
    run = CliRunner()
    args = ["assets", "add", "--assets", str(bank), "--by", "Alex Jones", "--category", "creative"]
    first = run.invoke(
        main,
        [*args, "--name", "Knit and natter", "--postcode", "PL1 1AA", "--opening", "tue 10:00-12:00", "--free"],
    )
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith(f"added 'Knit and natter' as knit-and-natter to {bank} (by Alex Jones, ")
    added = load_assets(bank).get("knit-and-natter")
    assert added is not None and added.added_by == "Alex Jones" and added.added_on is not None
    assert added.free is True and added.opening[0].days == ("tue",)
    dup = run.invoke(main, [*args, "--name", "Knit & Natter", "--id", "knit-2", "--postcode", "PL1 1AA"])
    assert dup.exit_code == 2
    assert "likely duplicate: 'Knit and natter' (knit-and-natter): the same name" in dup.stderr
    assert "not added: it looks like an asset already in the bank (add it anyway with --force)" in dup.stderr
    assert len(load_assets(bank)) == 1
    forced = run.invoke(main, [*args, "--name", "Knit & Natter", "--id", "knit-2", "--force"])
    assert forced.exit_code == 0 and len(load_assets(bank)) == 2
    taken = run.invoke(main, [*args, "--name", "Something else", "--id", "knit-2"])
    assert taken.exit_code == 2 and "the bank already has an asset 'knit-2'" in taken.stderr
    bad = run.invoke(main, [*args, "--name", "X", "--opening", "someday", "--id", "x y"])
    assert bad.exit_code == 2
    assert (
        "--id: 'x y' is not a valid id" in bad.stderr
        and "--opening: 'someday' is not a day or a range of days" in bad.stderr
    )
