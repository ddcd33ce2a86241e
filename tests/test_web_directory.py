"""The editor's sign-post search finds what ``wb-fhir assets search`` finds: one search, the library's.

Both run over the same directory file; the answers are compared asset for asset, in order.
The words typed are matched as the library matches them (every word at the start of a word of
the name, description, kinds, place...; accents and case aside); withdrawn assets stay out.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from web_support import ASSETS, app_client, config, csrf_of

from wb_fhir.assets import Asset, AssetDirectory, load_assets, save_assets
from wb_fhir.cli import main
from wb_fhir.terminology import AssetCategory
from wb_fhir.web.directory import MAX_RESULTS

QUERIES = ["", "library", "pool", "Cafe", "café", "walk group", "FOOT", "free", "PL1", "nothing-like-this", "£"]


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    """The example directory, plus a withdrawn asset and one with an accented name."""
    more = (
        Asset("old-walking-group", "Old walking group", (AssetCategory.NATURE,), active=False),
        Asset("cafe-creme", "Café Crème conversation club", (AssetCategory.SOCIAL,)),
    )
    path = tmp_path / "assets.yaml"
    save_assets(AssetDirectory((*load_assets(ASSETS).assets, *more)), path)
    return path


def _cli_ids(directory: Path, text: str) -> list[str]:
    result = CliRunner().invoke(main, ["assets", "search", "--text", text, "--assets", str(directory), "--json"])
    assert result.exit_code == 0, result.output
    return [a["id"] for a in json.loads(result.stdout)]


@pytest.mark.parametrize("text", QUERIES)
def test_the_editor_finds_what_the_command_line_finds(tmp_path: Path, directory: Path, text: str) -> None:
    tc = app_client(config(tmp_path, assets_path=directory))
    found = tc.get("/api/assets", params={"q": text})
    assert found.status_code == 200
    web = [a["id"] for a in found.json()["assets"]]
    assert web == _cli_ids(directory, text)[:MAX_RESULTS]


def test_the_search_reaches_past_names_and_leaves_withdrawn_assets_out(tmp_path: Path, directory: Path) -> None:
    tc = app_client(config(tmp_path, assets_path=directory))

    def ids(text: str) -> list[str]:
        return [a["id"] for a in tc.get("/api/assets", params={"q": text}).json()["assets"]]

    assert "riverside-leisure-centre" in ids("pool")  # a word of the description only
    assert ids("cafe creme") == ids("CAFÉ crème") == ["cafe-creme"]  # accents and case aside
    assert "old-walking-group" not in ids("walking")  # withdrawn
    shown = next(a for a in tc.get("/api/assets", params={"q": "book club"}).json()["assets"])
    assert shown["name"] == "Central Library book club" and shown["category"] == "Social, Library"
    assert "Central Library, High Street, Plymouth" in shown["details"]


def test_the_editor_names_the_assets_of_the_drafts_sign_posts(tmp_path: Path) -> None:
    tc = app_client(config(tmp_path))
    home = tc.get("/")
    made = tc.post("/maps/new", headers={"X-CSRF-Token": csrf_of(home.text)}, follow_redirects=False)
    record = made.headers["location"].rsplit("/", 1)[1]
    names = load_assets(ASSETS).names
    draft = {
        "subject": {"display": "Sam"},
        "date": "2026-05-14",
        "signposts": [{"asset": "central-library-book-club", "reason": "x"}, {"asset": "not-in-the-directory"}, 7],
    }
    editor = tc.get(f"/maps/{record}")
    kept = tc.put(
        f"/api/maps/{record}/draft",
        json={"data": draft, "rev": 1},
        headers={"X-CSRF-Token": csrf_of(editor.text)},
    )
    assert kept.status_code == 200
    page = tc.get(f"/maps/{record}").text
    marker = 'data-asset-names="'
    start = page.index(marker) + len(marker)
    shown = json.loads(html.unescape(page[start : page.index('"', start)]))
    assert shown == {"central-library-book-club": names["central-library-book-club"]}
