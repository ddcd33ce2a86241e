"""The local asset directory file: old files stay valid, every problem has its place, writing reads back."""

from __future__ import annotations

import importlib
import inspect
from datetime import date, time
from pathlib import Path

import pytest
from click.testing import CliRunner

from wb_fhir.assets import (
    Asset,
    AssetDirectory,
    Opening,
    Place,
    assets_from_data,
    default_directory_path,
    dumps_directory,
    example_directory_path,
    load_assets,
    local_asset_names,
    parse_opening,
    save_assets,
    user_directory_path,
)
from wb_fhir.assets.followup import FollowUpState, state_on
from wb_fhir.cli import main
from wb_fhir.errors import InputError
from wb_fhir.mapfile import parse_text
from wb_fhir.terminology import ASSET_CONNECTION_CATEGORIES, AssetCategory, SignpostStatus

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def test_public_api_is_sorted_and_documented() -> None:
    module = importlib.import_module("wb_fhir.assets")
    assert module.__all__ == sorted(module.__all__)
    for name in module.__all__:
        value = getattr(module, name)
        if inspect.isfunction(value) or inspect.isclass(value):
            assert inspect.getdoc(value), name


def test_a_directory_in_the_earlier_format_is_still_valid() -> None:
    old = load_assets(DATA / "assets-earlier-format.yaml")
    assert len(old) == 10
    by_id = {a.id: a for a in old}
    # old category codes are read as the codes they became
    assert by_id["central-library-book-club"].categories == (AssetCategory.SOCIAL,)
    assert by_id["riverside-leisure-centre"].categories == (AssetCategory.SPORT_LEISURE,)
    assert by_id["walking-group"].categories == (AssetCategory.NATURE,)
    assert by_id["citizens-advice"].categories == (AssetCategory.PRACTICAL_HELP,)
    assert by_id["employment-coach"].categories == (AssetCategory.WORK,)
    library = by_id["central-library-book-club"]
    assert library.places == (Place("main", address="Central Library, High Street"),)
    assert library.contact == "Ask at the front desk"
    assert library.access == "Step-free; quiet room available"
    assert library.transport == "Buses 9 and 27 stop outside"


def test_the_example_directory_uses_every_category_and_reads_back_as_written(tmp_path: Path) -> None:
    directory = load_assets(ROOT / "examples" / "assets.yaml")
    used = {c for a in directory for c in a.categories}
    assert used == set(AssetCategory) - {AssetCategory.OTHER}
    assert all(a.positions or a.url or a.phone for a in directory), "every example asset can be found or called"
    for fmt, name in (("yaml", "a.yaml"), ("json", "a.json")):
        assert assets_from_data(parse_text(dumps_directory(directory, fmt), "x", fmt=fmt)) == directory
        save_assets(directory, tmp_path / name)
        assert load_assets(tmp_path / name) == directory


def test_a_full_entry_is_read_field_by_field() -> None:
    directory = load_assets(ROOT / "examples" / "assets.yaml")
    leisure = directory.get("riverside-leisure-centre")
    assert leisure is not None
    assert leisure.organisation is not None
    assert leisure.organisation.identifiers == (("GB-CHC", "1234561"),)
    assert leisure.places[0].postcode == "PL1 3BX"
    assert leisure.places[0].position == (50.3652, -4.1365)
    assert leisure.opening == (
        Opening(("mon", "tue", "wed", "thu", "fri"), time(7), time(21)),
        Opening(("sat", "sun"), time(8), time(18)),
    )
    assert (leisure.free, leisure.checked) == (False, date(2026, 9, 30))
    assert leisure.open_on("sat") and not leisure.open_on("xyz")
    five = directory.get("five-a-side-league")
    assert five is not None and five.places[0].id == "astro"


@pytest.mark.parametrize(
    ("text", "days", "opens", "closes"),
    [
        ("mon-fri 09:00-17:00", ("mon", "tue", "wed", "thu", "fri"), time(9), time(17)),
        ("Tue, Thu 14:00 - 16:30", ("tue", "thu"), time(14), time(16, 30)),
        ("sat", ("sat",), None, None),
        ("fri-mon 8:00-9:00", ("fri", "sat", "sun", "mon"), time(8), time(9)),
    ],
)
def test_opening_times_in_words(text: str, days: tuple[str, ...], opens: time | None, closes: time | None) -> None:
    assert parse_opening(text) == Opening(days, opens, closes)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("funday 10:00-12:00", "is not a day or a range of days"),
        ("mon 12:00-10:00", "closes before it opens"),
        ("mon 25:00-26:00", "is not an opening time"),
    ],
)
def test_bad_opening_times(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_opening(text)


def test_every_problem_is_reported_with_its_place() -> None:
    data = {
        "assets": [
            {"id": "a", "name": "A", "colour": "red", "category": "gym", "opening": ["mon 10:00", 9]},
            {"id": "a", "name": " ", "free": "yes", "checked": "2026-02-30", "phone": 1752000000},
            {"id": "b c", "name": "B", "position": {"lat": 95, "lon": 0}, "places": []},
            {"id": "d", "name": "D", "organisation": {"url": "https://x"}, "source": {"system": "oruk"}},
            "not an asset",
        ],
        "extra": 1,
    }
    with pytest.raises(InputError) as caught:
        assets_from_data(data, "bank.yaml")
    found = [str(p) for p in caught.value.problems]
    assert found == [
        "extra: unknown key (allowed here: assets)",
        "assets[0].colour: unknown key (allowed here: " + found[1].split("(allowed here: ")[1],
        "assets[0].category: 'gym' is not one of: " + ", ".join(c.value for c in AssetCategory),
        "assets[0].opening[0]: 'mon 10:00' is not an opening time such as 'mon-fri 09:00-17:00' or 'sat'",
        "assets[0].opening[1]: must be text such as 'mon-fri 09:00-17:00' (quote it in YAML)",
        "assets[1].name: is required text",
        "assets[1].phone: must be text, not int (quote it in YAML)",
        "assets[1].free: must be true or false",
        "assets[1].checked: '2026-02-30' is not a date (YYYY-MM-DD)",
        "assets[1].id: 'a' is used by another asset",
        "assets[2].id: 'b c' is not a valid id (letters, digits, '-', '_', '.'; up to 64)",
        "assets[2].places: give 'places' or the fields address, town, postcode, position, not both",
        "assets[3].organisation.name: is required text",
        "assets[3].source: must be {system, id, modified}",
        "assets[4]: must be a mapping of keys to values",
    ]
    assert "bank.yaml: extra: unknown key" in str(caught.value)


def test_a_position_off_the_earth_is_refused() -> None:
    with pytest.raises(InputError, match=r"assets\[0\]\.position: is not a position on Earth"):
        assets_from_data({"assets": [{"id": "x", "name": "X", "position": {"lat": 95, "lon": 0}}]})


def test_where_the_directory_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WB_FHIR_ASSETS", raising=False)
    monkeypatch.setattr("platformdirs.user_data_dir", lambda *a, **k: str(tmp_path / "data"))
    assert user_directory_path() == tmp_path / "data" / "assets.yaml"
    assert default_directory_path() == example_directory_path()  # nothing written yet
    save_assets(AssetDirectory((Asset("mine", "Mine"),)), user_directory_path())
    assert default_directory_path() == user_directory_path()
    assert local_asset_names() == {"mine": "Mine"}
    monkeypatch.setenv("WB_FHIR_ASSETS", str(tmp_path / "elsewhere.yaml"))
    assert default_directory_path() == tmp_path / "elsewhere.yaml"
    assert local_asset_names() == {}  # missing: no names, never an error
    result = CliRunner().invoke(main, ["assets", "where"])
    assert result.exit_code == 0
    assert f"reading: {tmp_path / 'elsewhere.yaml'}" in result.output


def test_every_asset_category_meets_connection_categories() -> None:
    assert set(ASSET_CONNECTION_CATEGORIES) == set(AssetCategory)
    assert all(ASSET_CONNECTION_CATEGORIES[c] for c in AssetCategory if c is not AssetCategory.OTHER)


def test_validate_recognises_a_directory_and_reports_its_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bank.yaml"
    bad.write_text('assets:\n  - {id: a, name: A, opening: ["mon 12:00-10:00"]}\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}: assets[0].opening[0]: 'mon 12:00-10:00' closes before it opens" in result.stderr


def test_follow_up_at_the_end_of_the_calendar_is_due_on_the_last_day() -> None:
    assert state_on(SignpostStatus.AGREED, date.max, None, date.max) == (date.max, FollowUpState.DUE)
