"""Open Referral UK import: JSON and CSV alike, field by field, idempotent, updates and withdrawals."""

from __future__ import annotations

import json
import shutil
import zipfile
from datetime import date, time
from pathlib import Path

import pytest
from click.testing import CliRunner

from wb_fhir.assets import Asset, AssetDirectory, load_assets
from wb_fhir.assets.merge import merge_import
from wb_fhir.assets.oruk import ORUK, assets_from_oruk_json, categories_for, read_oruk
from wb_fhir.cli import main
from wb_fhir.errors import InputError
from wb_fhir.terminology import AssetCategory

ORUK_DATA = Path(__file__).resolve().parent / "data" / "oruk"
SAMPLE = ORUK_DATA / "services.json"
UPDATE = ORUK_DATA / "services-update.json"


def _by_name(path: Path, prefix: str = "oruk") -> dict[str, Asset]:
    return {a.name: a for a in read_oruk(path, prefix=prefix).assets}


def test_the_sample_is_a_few_dozen_services_in_the_standards_shape() -> None:
    page = json.loads(SAMPLE.read_text(encoding="utf-8"))
    assert set(page) == {
        "total_items",
        "total_pages",
        "page_number",
        "size",
        "first_page",
        "last_page",
        "empty",
        "contents",
    }
    assert page["total_items"] == len(page["contents"]) == 36
    service = page["contents"][0]
    for key in (
        "id",
        "name",
        "status",
        "schedules",
        "service_at_locations",
        "organization",
        "cost_options",
        "attributes",
    ):
        assert key in service
    assert {p.name for p in (ORUK_DATA / "csv").glob("*.csv")} >= {
        "services.csv",
        "organizations.csv",
        "locations.csv",
        "service_at_location.csv",
        "address.csv",
        "schedule.csv",
        "cost_options.csv",
        "taxonomy_terms.csv",
        "attribute.csv",
    }


def test_json_and_csv_give_the_same_assets(tmp_path: Path) -> None:
    from_json = read_oruk(SAMPLE)
    from_csv = read_oruk(ORUK_DATA / "csv")
    assert len(from_json.assets) == 36
    assert from_json == from_csv
    assert from_json.warnings == ()
    archive = tmp_path / "directory.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in (ORUK_DATA / "csv").glob("*.csv"):
            z.write(f, f"export/{f.name}")
    assert read_oruk(archive) == from_json


def test_a_service_field_by_field() -> None:
    a = _by_name(SAMPLE)["Life Centre swimming"]
    assert a.source is not None and a.organisation is not None and a.email and a.url
    assert a.source.system == ORUK and a.id == f"oruk-{a.source.id}"
    assert a.source.modified == "2026-09-01T09:00:00.000Z"
    assert a.categories == (AssetCategory.SPORT_LEISURE,)
    assert a.types == ("Swimming", "Sports centres")
    assert a.organisation.name == "Active City Leisure" and a.organisation.url == "https://leisure.example.org"
    assert a.organisation.identifiers == (("GB-COH", "09000001"),)
    place = a.places[0]
    assert (place.address, place.town, place.postcode) == ("Central Park Avenue", "Plymouth", "PL4 6AT")
    assert place.position == (50.379, -4.134)
    assert a.opening[0].days == ("mon", "tue", "wed", "thu", "fri")
    assert (a.opening[0].opens, a.opening[0].closes) == (time(6, 30), time(21, 30))
    assert a.free is False
    assert a.cost == "£4.50 a session (Everyone); £2.25 a session (Concessions)"
    assert a.area == "Plymouth"
    assert a.checked == date(2026, 9, 1)
    assert a.access == "Step-free access"
    assert a.contact == "Contact: Front desk, Reception"
    assert a.email.endswith("@example.org") and a.url.startswith("https://directory.example.org/")


def test_status_ages_monthly_schedules_and_online_services() -> None:
    by_name = _by_name(SAMPLE)
    assert by_name["Old drop-in centre"].active is False  # defunct
    closed = by_name["Exeter art group"]
    assert closed.active is False and (closed.notes or "").startswith("Temporarily closed.")
    assert by_name["Exercise on referral"].eligibility == "Ages 16 and over"
    open_day = by_name["Islamic centre open day"]
    assert open_day.opening == () and open_day.opening_notes == "First of the month"
    forum = by_name["Night owls online peer forum"]
    assert forum.places == () and forum.categories == (AssetCategory.ONLINE, AssetCategory.PEER_SUPPORT)
    assert by_name["Ham Lane community allotments"].free is None  # no cost given: not known


def test_oruk_1_0_names_are_read_too() -> None:
    read = read_oruk(ORUK_DATA / "v1-services.json", prefix="v1")
    club, garden, closed = read.assets
    assert club.id == "v1-101"
    assert club.description == "A friendly social group for older people.\nTea, games & a chat."
    assert club.types == ("Social clubs", "Befriending", "Information")
    assert club.categories == (AssetCategory.SOCIAL,)
    assert club.places[0].name == "Crownhill Library" and club.places[0].postcode == "PL5 3BY"
    assert club.access == "Ramp at the side entrance"
    assert club.opening[0].days == ("tue",)  # weekday 2
    assert club.phone == "01632 960101"
    assert club.eligibility == "Ages 55 and over; adult"
    assert club.free is True and club.cost == "Free"
    assert club.contact == "Venue; Drop-in; Contact: Club lead"
    assert club.notes == "Languages: English, Polish"
    assert garden.opening == () and garden.opening_notes == "every 2 weeks on Saturday 10:00-12:00"
    assert garden.free is False and garden.cost == "£1 per session; £1 per session towards seeds"
    assert closed.active is False


def test_problems_of_single_services_are_warnings_and_the_rest_is_imported() -> None:
    page = json.loads(SAMPLE.read_text(encoding="utf-8"))
    services = page["contents"][:3]
    services[1] = {**services[1], "name": ""}
    services[2]["service_at_locations"][0]["location"]["latitude"] = 100
    read = assets_from_oruk_json({"contents": [*services, services[0], "junk"]}, source="feed.json")
    assert [str(w) for w in read.warnings] == [
        "contents[1]: has no id or no name: skipped",
        "contents[2].service_at_locations[0].location.latitude: (100.0, -4.145) is not a position on Earth: left out",
        "contents[3].id: the same service is listed twice: the first is kept",
        "contents[4]: is not a service (an object): skipped",
    ]
    assert len(read.assets) == 2
    assert read.assets[1].places[0].position is None


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        ("{not json", "feed.json", "feed.json: line 1, column 2: not valid JSON"),
        ('{"hello": 1}', "feed.json", "is not Open Referral UK JSON"),
        ('[{"id": 1}]', "feed.json", "no service could be imported"),
        ("[" * 100_000 + "]" * 100_000, "feed.json", "is nested too deeply"),
    ],
)
def test_bad_files_are_refused_with_the_reason(tmp_path: Path, content: str, name: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_oruk(path)


def test_a_folder_without_services_csv_is_refused(tmp_path: Path) -> None:
    (tmp_path / "locations.csv").write_text("id,name\n1,x\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"holds no services\.csv"):
        read_oruk(tmp_path)


def test_import_is_idempotent_and_follows_the_feed() -> None:
    first = read_oruk(SAMPLE).assets
    once = merge_import(AssetDirectory(()), first, system=ORUK, prefix="oruk")
    assert len(once.added) == 36 and not (once.updated or once.unchanged or once.withdrawn)
    twice = merge_import(once.directory, first, system=ORUK, prefix="oruk")
    assert twice.directory == once.directory
    assert (len(twice.unchanged), twice.added, twice.updated, twice.withdrawn) == (36, (), (), ())
    later = merge_import(twice.directory, read_oruk(UPDATE).assets, system=ORUK, prefix="oruk")
    names = {a.id: a.name for a in later.directory}
    assert sorted(names[i] for i in later.updated) == [
        "Gentle yoga",
        "Sing for wellbeing choir",
        "Stonehouse food bank",
    ]
    assert sorted(names[i] for i in later.withdrawn) == ["Men's shed", "Pottery for beginners"]
    assert [names[i] for i in later.added] == ["Repair café"]
    assert len(later.directory) == 37
    withdrawn = {a.id: a for a in later.directory if a.id in later.withdrawn}
    assert all(not a.active for a in withdrawn.values())
    # another feed (another prefix) and local entries are never withdrawn by this one
    local = load_assets(ORUK_DATA.parent.parent.parent / "examples" / "assets.yaml")
    mixed = merge_import(AssetDirectory((*later.directory, *local)), [], system=ORUK, prefix="other")
    assert mixed.withdrawn == ()
    assert merge_import(AssetDirectory(tuple(local)), [], system=ORUK, prefix="oruk").withdrawn == ()


def test_categories_from_words() -> None:
    assert categories_for(["Walking groups"], "x") == (AssetCategory.NATURE,)
    assert categories_for([], "Hearing voices group") == (AssetCategory.PEER_SUPPORT,)
    assert categories_for([], "Choir", "A church choir") == (AssetCategory.CREATIVE,)  # the name speaks first
    assert categories_for([], "Zebra", "Something else entirely") == (AssetCategory.OTHER,)
    assert categories_for(["Start"], "Party") == (AssetCategory.OTHER,)  # 'art' only as a word


def test_cli_import_into_a_local_directory(tmp_path: Path) -> None:
    bank = tmp_path / "bank.yaml"
    shutil.copy(Path(__file__).resolve().parent.parent / "examples" / "assets.yaml", bank)
    run = CliRunner()
    result = run.invoke(main, ["assets", "import", str(SAMPLE), "--assets", str(bank)])
    assert result.exit_code == 0, result.output
    assert f"imported into {bank}: 36 added, 0 updated, 0 unchanged, 0 withdrawn (made inactive)" in result.stdout
    # likely duplicates of the local entries are flagged
    assert "'Open art studio' (oruk-" in result.stderr and "is likely art-studio: the same name" in result.stderr
    assert len(load_assets(bank)) == 17 + 36
    again = run.invoke(main, ["assets", "import", str(ORUK_DATA / "csv"), "--assets", str(bank), "--json"])
    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert (len(report["unchanged"]), report["added"], report["updated"], report["withdrawn"]) == (36, [], [], [])
    later = run.invoke(main, ["assets", "import", str(UPDATE), "--assets", str(bank)])
    assert "1 added, 3 updated, 31 unchanged, 2 withdrawn" in later.stdout
    bad = run.invoke(main, ["assets", "import", str(SAMPLE), "--assets", str(bank), "--prefix", "a b"])
    assert bad.exit_code == 2
    assert "the prefix 'a b' is not usable in an id" in bad.stderr
