"""The asset bank and sign-post follow-up on a real FHIR server (HAPI).

Each run imports the ORUK sample under its own prefix and follows its own person, so runs can
share a long-lived server; searches are narrowed to this run's assets.
"""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from strategies import random_nhs_number

from wb_fhir.assets import load_assets
from wb_fhir.assets.oruk import read_oruk
from wb_fhir.assets.search import Query, search
from wb_fhir.assets.server import fetch_assets, search_server
from wb_fhir.bundles import map_bundle
from wb_fhir.cli import main
from wb_fhir.conformance.install import InstallResult
from wb_fhir.fhir.assets import asset_transaction
from wb_fhir.fhir.signposts import signpost_key
from wb_fhir.mapfile import load_data, load_map, map_from_data, map_to_data
from wb_fhir.model import WellbeingMap
from wb_fhir.sync import FhirClient, Outbox, RetryPolicy, flush
from wb_fhir.sync.pull import pull
from wb_fhir.terminology import NHS_NUMBER_SYSTEM, AssetCategory, IdentifierKind, identifier_system

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parent.parent
ORUK_DATA = Path(__file__).resolve().parent / "data" / "oruk"
SAMPLE = ORUK_DATA / "services.json"
FHIR_JSON = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json", "Cache-Control": "no-cache"}
RNG = random.Random()
EXETER = (50.7200, -3.5300)


def _client(base: str) -> FhirClient:
    return FhirClient(base, retry=RetryPolicy(attempts=6, base=0.05, cap=0.5))


def _errors(base: str, resource: dict[str, Any], profile: str) -> list[str]:
    response = requests.post(
        f"{base}/{resource['resourceType']}/$validate",
        params={"profile": profile},
        json=resource,
        headers=FHIR_JSON,
        timeout=120,
    )
    outcome = response.json()
    return [
        f"{resource['resourceType']}: {i.get('diagnostics')} @ {i.get('expression') or i.get('location')}"
        for i in outcome.get("issue", [])
        if i["severity"] in ("error", "fatal")
    ]


def _count(base: str, resource_type: str, params: dict[str, str]) -> int:
    response = requests.get(
        f"{base}/{resource_type}", params={**params, "_summary": "count"}, headers=FHIR_JSON, timeout=60
    )
    assert response.status_code == 200, response.text[:1000]
    total: int = response.json()["total"]
    return total


def _import_sample(fhir_server: str) -> str:
    """A fresh prefix, with the ORUK sample imported under it (through the command line)."""
    prefix = f"t{RNG.randrange(10**9)}"
    result = CliRunner().invoke(main, ["assets", "import", str(SAMPLE), "--server", fhir_server, "--prefix", prefix])
    assert result.exit_code == 0, result.output
    done = f"imported into {fhir_server}: 36 added, 0 updated, 0 unchanged, 0 withdrawn (made inactive)"
    assert result.stdout.strip() == done
    return prefix


@pytest.fixture(scope="module")
def imported(fhir_server: str, conformance: InstallResult) -> str:
    """This module's prefix, with the ORUK sample imported once under it; no test changes it."""
    return _import_sample(fhir_server)


def _mine(prefix: str, assets: list[Any]) -> list[Any]:
    return [a for a in assets if a.id.startswith(f"{prefix}-")]


def test_every_asset_resource_validates_against_our_profiles(fhir_server: str, conformance: InstallResult) -> None:
    bank = list(load_assets(ROOT / "examples" / "assets.yaml"))
    sample = read_oruk(SAMPLE).assets
    # every kind of service of the sample: inactive, monthly, online, charges, ages
    variety = [sample[i] for i in (7, 12, 18, 19, 32, 35)]
    problems: list[str] = []
    for entry in asset_transaction([*bank, *variety])["entry"]:
        resource = entry["resource"]
        problems += _errors(fhir_server, resource, resource["meta"]["profile"][0])
    assert problems == []


def test_an_import_twice_creates_nothing_new_and_an_update_follows_the_feed(
    fhir_server: str, conformance: InstallResult
) -> None:
    imported = _import_sample(fhir_server)
    client = _client(fhir_server)
    run = CliRunner()
    again = run.invoke(
        main, ["assets", "import", str(ORUK_DATA / "csv"), "--server", fhir_server, "--prefix", imported]
    )
    assert again.exit_code == 0, again.output
    assert "0 added, 0 updated, 36 unchanged, 0 withdrawn" in again.stdout  # the CSV form is the same directory
    system = identifier_system(IdentifierKind.ASSET)
    for asset in read_oruk(SAMPLE, prefix=imported).assets[:6]:
        assert _count(fhir_server, "HealthcareService", {"identifier": f"{system}|{asset.id}"}) == 1
    assert len(_mine(imported, fetch_assets(client))) == 36
    # one Provenance of the import (the second wrote nothing), naming the file, valid against our profile
    service = requests.get(
        f"{fhir_server}/HealthcareService",
        params={"identifier": f"{system}|{read_oruk(SAMPLE, prefix=imported).assets[0].id}"},
        headers=FHIR_JSON,
        timeout=60,
    ).json()["entry"][0]["resource"]
    provenances = requests.get(
        f"{fhir_server}/Provenance",
        params={"target": f"HealthcareService/{service['id']}"},
        headers=FHIR_JSON,
        timeout=60,
    ).json()
    assert provenances["total"] == 1
    record = provenances["entry"][0]["resource"]
    assert record["entity"] == [{"role": "source", "what": {"display": "services.json"}}]
    assert _errors(fhir_server, record, record["meta"]["profile"][0]) == []
    # organisations and areas shared by services are stored once
    org = identifier_system(IdentifierKind.ASSET_ORGANIZATION)
    first = read_oruk(SAMPLE, prefix=imported).assets[0]
    assert first.organisation is not None
    assert _count(fhir_server, "Organization", {"identifier": f"{org}|{first.organisation.id}"}) == 1
    later = run.invoke(
        main,
        [
            "assets",
            "import",
            str(ORUK_DATA / "services-update.json"),
            "--server",
            fhir_server,
            "--prefix",
            imported,
            "--json",
        ],
    )
    report = json.loads(later.stdout)
    assert (len(report["added"]), len(report["updated"]), len(report["unchanged"]), len(report["withdrawn"])) == (
        1,
        3,
        31,
        2,
    )
    on_server = {a.id: a for a in _mine(imported, fetch_assets(client))}
    assert len(on_server) == 37
    assert all(not on_server[i].active for i in report["withdrawn"])
    assert on_server[report["updated"][0]].source is not None
    updated_names = sorted(on_server[i].name for i in report["updated"])
    assert updated_names == ["Gentle yoga", "Sing for wellbeing choir", "Stonehouse food bank"]


def test_search_on_the_server_finds_what_the_local_search_finds(fhir_server: str, imported: str) -> None:
    client = _client(fhir_server)
    local = read_oruk(SAMPLE, prefix=imported).assets
    queries = [
        Query(category=AssetCategory.NATURE),
        Query(text="peer support"),
        Query(near=EXETER, within_km=2),
        Query(near=(50.3715, -4.1427), within_km=0.5, category=AssetCategory.PRACTICAL_HELP),
        Query(open_on="sat", free=True),
    ]
    for query in queries:
        on_server = [
            (h.asset.id, round(h.distance_km or 0, 3))
            for h in search_server(client, query)
            if h.asset.id.startswith(f"{imported}-")
        ]
        here = [(h.asset.id, round(h.distance_km or 0, 3)) for h in search(local, query)]
        assert on_server == here, query
        assert here, query
    near = [
        h.asset.name
        for h in search_server(client, Query(near=EXETER, within_km=2))
        if h.asset.id.startswith(f"{imported}-")
    ]
    assert near == ["Exeter riverside walks", "Exeter peer support café"]
    result = CliRunner().invoke(
        main, ["assets", "search", "--server", fhir_server, "--near", "50.72,-3.53", "--within", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    found = [a["name"] for a in json.loads(result.stdout) if a["id"].startswith(f"{imported}-")]
    assert found == ["Exeter riverside walks", "Exeter peer support café"]


def test_add_on_the_server_with_provenance_and_duplicates_refused(fhir_server: str, conformance: InstallResult) -> None:
    name = f"Repair cafe {RNG.randrange(10**9)}"
    run = CliRunner()
    args = ["assets", "add", "--server", fhir_server, "--by", "Alex Jones", "--category", "community"]
    added = run.invoke(main, [*args, "--name", name, "--position", "50.37,-4.14", "--postcode", "PL1 1AA"])
    assert added.exit_code == 0, added.output
    asset_id = name.lower().replace(" ", "-")
    services = requests.get(
        f"{fhir_server}/HealthcareService",
        params={"identifier": f"{identifier_system(IdentifierKind.ASSET)}|{asset_id}"},
        headers=FHIR_JSON,
        timeout=60,
    ).json()
    assert services["total"] == 1
    service = services["entry"][0]["resource"]
    provenance = requests.get(
        f"{fhir_server}/Provenance",
        params={"target": f"HealthcareService/{service['id']}"},
        headers=FHIR_JSON,
        timeout=60,
    ).json()
    assert provenance["total"] == 1
    record = provenance["entry"][0]["resource"]
    assert record["agent"][0]["who"]["display"] == "Alex Jones"
    assert record["recorded"][:10] == service["extension"][0]["extension"][-1]["valueDate"]  # added on
    assert _errors(fhir_server, record, record["meta"]["profile"][0]) == []
    again = run.invoke(main, [*args, "--name", name.upper(), "--id", f"{asset_id}-2", "--postcode", "PL1 1AA"])
    assert again.exit_code == 2
    assert f"likely duplicate: {name!r} ({asset_id}): the same name" in again.stderr


# --- a sign-post from suggested to attended, pushed and pulled back --------------------------------------


def _maps(nhs: str) -> list[WellbeingMap]:
    """Four maps of one person: the book club from suggested to attended, the church lunch agreed then
    declined, a walk referred with a date to check by (a follow-up date belongs to the status the
    request is at now, so only maps at that status get it back)."""
    base = load_data(ROOT / "examples" / "figure1.yaml")
    base["subject"] = {"nhs_number": nhs, "display": "Sam"}
    book = [
        {"status": "suggested", "suggested_on": "2026-10-01"},
        {"status": "agreed", "suggested_on": "2026-10-01", "agreed_on": "2026-10-15"},
        {"status": "referred", "suggested_on": "2026-10-01", "agreed_on": "2026-10-15", "referred_on": "2026-10-20"},
        {
            "status": "attended",
            "suggested_on": "2026-10-01",
            "agreed_on": "2026-10-15",
            "referred_on": "2026-10-20",
            "attended_on": "2026-11-18",
        },
    ]
    declined = {
        "status": "declined",
        "agreed_on": "2026-10-15",
        "declined_on": "2026-10-30",
        "note": "Too far to travel",
    }
    church: list[list[dict[str, Any]]] = [[], [{"status": "agreed", "agreed_on": "2026-10-15"}], [declined], [declined]]
    referred = {"status": "referred", "referred_on": "2026-10-25", "follow_up": "2026-11-30"}
    walk: list[list[dict[str, Any]]] = [[], [], [referred], [referred]]
    out = []
    for n, day in enumerate(("2026-10-01", "2026-10-15", "2026-11-01", "2026-11-20")):
        data = json.loads(json.dumps(base))
        data["date"] = day
        data["signposts"] = [{"asset": "central-library-book-club", "reason": "book-club", **book[n]}]
        data["signposts"] += [{"asset": "st-marys-lunch-club", "reason": "church-social", **c} for c in church[n]]
        data["signposts"] += [{"asset": "walking-group", "reason": "reading", **w} for w in walk[n]]
        out.append(map_from_data(data))
    return out


def test_a_sign_post_lifecycle_is_pushed_and_pulled_back(
    fhir_server: str, conformance: InstallResult, tmp_path: Path
) -> None:
    nhs = random_nhs_number(RNG)
    patient = {
        "resourceType": "Patient",
        "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": nhs}],
        "name": [{"text": "Sam"}],
    }
    created = requests.post(f"{fhir_server}/Patient", json=patient, headers=FHIR_JSON, timeout=60)
    assert created.status_code == 201, created.text[:500]
    client = _client(fhir_server)
    maps = _maps(nhs)
    book = maps[-1].signposts[0]
    expected = [(0, None), (1, "active"), (1, "active"), (1, "completed")]
    names = load_assets(ROOT / "examples" / "assets.yaml").names
    with Outbox(tmp_path / "outbox.sqlite") as box:
        for wmap, (count, status) in zip(maps, expected, strict=True):
            box.add(map_bundle(wmap), map_id=wmap.id, map_date=wmap.date.isoformat())
            report = flush(client, box)
            assert report.failed == [], report.failed
            key = signpost_key(wmap, book)
            found = requests.get(
                f"{fhir_server}/ServiceRequest",
                params={"identifier": f"{key.system}|{key.value}"},
                headers=FHIR_JSON,
                timeout=60,
            ).json()
            assert found["total"] == count
            if count:
                request = found["entry"][0]["resource"]
                assert request["status"] == status
                assert _errors(fhir_server, request, request["meta"]["profile"][0]) == []
                assert _errors(fhir_server, request, request["meta"]["profile"][1]) == []  # UK Core
        pulled = pull(client, box, nhs, tmp_path / "pulled")
    back = [load_map(p) for p in pulled.maps]
    assert len(back) == 4
    for mine, theirs in zip(maps, back, strict=True):
        theirs = dataclasses.replace(theirs, subject=dataclasses.replace(theirs.subject, fhir_id=None))
        assert map_to_data(theirs) == map_to_data(mine)
    declined = back[2].signposts[1]
    assert (
        declined.status.value,
        declined.declined_on.isoformat() if declined.declined_on else None,
        declined.note,
    ) == (
        "declined",
        "2026-10-30",
        "Too far to travel",
    )
    # the caseload: this person's two sign-posts, one attended, one declined; both followed up
    bank = ROOT / "examples" / "assets.yaml"
    args = ["signposts", "--server", fhir_server, "--assets", str(bank), "--on", "2026-12-01"]
    result = CliRunner().invoke(main, [*args, "--json", "--show-personal"])
    assert result.exit_code == 0, result.output
    rows = [r for r in json.loads(result.stdout) if r["nhs_number"] == nhs]
    assert sorted((r["asset"], r["status"], r["state"], r["due"]) for r in rows) == [
        ("central-library-book-club", "attended", "followed-up", None),
        ("st-marys-lunch-club", "declined", "followed-up", None),
        ("walking-group", "referred", "overdue", "2026-11-30"),
    ]
    attended = next(r for r in rows if r["status"] == "attended")
    assert [s["status"] for s in attended["steps"]] == ["suggested", "agreed", "referred", "attended"]
    assert attended["asset_name"] == names["central-library-book-club"]
    assert attended["person"] == "Sam"
    due = CliRunner().invoke(main, [*args, "--due"])
    assert "OVERDUE      Health walks for Reading: referred since 2026-10-25; overdue since 2026-11-30" in due.stdout
    assert nhs not in due.stdout  # no NHS number unless asked
