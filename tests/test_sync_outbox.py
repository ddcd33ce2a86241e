"""The outbox, conflict guarding and the sync commands, without a server."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner

from wb_fhir.bundles import map_bundle
from wb_fhir.cli import main
from wb_fhir.cli.sync import make_client
from wb_fhir.errors import ConflictError, InputError
from wb_fhir.mapfile import load_map
from wb_fhir.sync import FhirClient, Outbox, RetryPolicy, State, flush, guard
from wb_fhir.sync.outbox import default_path
from wb_fhir.sync.push import differing_fields, entry_target

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://fhir.example.nhs.uk/R4"
FHIR = {"Content-Type": "application/fhir+json"}


def bundle(n: int = 1) -> dict:
    return {"resourceType": "Bundle", "type": "transaction", "entry": [{"n": n}]}


def test_outbox_states_and_dedupe(tmp_path):
    with Outbox(tmp_path / "deep" / "o.sqlite") as box:
        first = box.add(bundle(1), map_id="m1", map_date="2026-11-20")
        assert box.add(bundle(1), map_id="m1", map_date="2026-11-20").id == first.id
        second = box.add(bundle(2), map_id="m2", map_date=None)
        assert [i.id for i in box.pending()] == [first.id, second.id]
        box.mark_attempt(first.id, "timed out")
        box.mark_failed(second.id, "refused")
        assert box.get(first.id).state is State.PENDING and box.get(first.id).attempts == 1
        assert box.get(second.id).state is State.FAILED and box.get(second.id).last_error == "refused"
        assert box.retry() == 1 and box.get(second.id).state is State.PENDING
        box.mark_sent(first.id)
        assert box.get(first.id).state is State.SENT and box.get(first.id).attempts == 2
        assert box.drop([second.id]) == 1 and [i.id for i in box.items()] == [first.id]
        with pytest.raises(InputError, match="the outbox has no item 99"):
            box.drop([99])
    mode = sqlite3.connect(tmp_path / "deep" / "o.sqlite").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_outbox_survives_reopening(tmp_path):
    path = tmp_path / "o.sqlite"
    with Outbox(path) as box:
        item = box.add(bundle(3), map_id="m", map_date="2026-01-01")
        box.record_seen(BASE, [("CarePlan", "s|v", "12", "3")])
    with Outbox(path) as box:
        assert box.get(item.id).bundle == bundle(3)
        seen = box.seen(BASE, "CarePlan", "s|v")
        assert seen is not None and (seen.resource_id, seen.version) == ("12", "3")
        assert box.seen("https://other/fhir", "CarePlan", "s|v") is None


def test_outbox_path_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("WB_FHIR_OUTBOX", str(tmp_path / "x.sqlite"))
    assert default_path() == tmp_path / "x.sqlite"
    monkeypatch.delenv("WB_FHIR_OUTBOX")
    assert default_path().name == "outbox.sqlite" and "wb-fhir" in str(default_path())


def test_entry_targets_of_a_real_bundle():
    wmap = load_map(ROOT / "examples" / "figure1.yaml")
    b = map_bundle(wmap)
    targets = [entry_target(e) for e in b["entry"]]
    plan = next(t for t in targets if t and t.resource_type == "CarePlan")
    assert plan.identifier.startswith("https://wb-fhir.org/fhir/identifier/care-plan|")
    assert sum(1 for t in targets if t and t.resource_type == "Goal") == len(wmap.goals)


def test_differing_fields_ignore_reference_form_and_narrative_spelling():
    types = {"urn:uuid:1": "Goal"}
    ours = {
        "resourceType": "CarePlan",
        "goal": [{"reference": "urn:uuid:1"}],
        "text": {"div": "<div xmlns='x'>a &amp; b<br /></div>"},
    }
    theirs = {
        "resourceType": "CarePlan",
        "id": "9",
        "meta": {"versionId": "2"},
        "goal": [{"reference": "Goal/77"}],
        "text": {"div": "<div xmlns='x'>a &amp; b<br/></div>"},
    }
    assert differing_fields(ours, theirs, types) == []
    theirs["status"] = "revoked"
    assert differing_fields(ours, theirs, types) == ["status"]


def _plan_bundle(status: str = "active") -> dict:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:p",
                "resource": {
                    "resourceType": "CarePlan",
                    "identifier": [{"system": "s", "value": "v"}],
                    "status": status,
                },
                "request": {"method": "PUT", "url": "CarePlan?identifier=s|v"},
            }
        ],
    }


def _server_plan(version: str, status: str) -> dict:
    plan = {
        "resourceType": "CarePlan",
        "id": "12",
        "meta": {"versionId": version},
        "identifier": [{"system": "s", "value": "v"}],
        "status": status,
    }
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": plan, "search": {"mode": "match"}}]}


@responses.activate
def test_guard_refuses_a_plan_changed_since_last_seen(tmp_path):
    responses.get(f"{BASE}/CarePlan", json=_server_plan("3", "on-hold"), headers=FHIR)
    client = FhirClient(BASE, retry=RetryPolicy(attempts=1))
    with Outbox(tmp_path / "o.sqlite") as box:
        box.record_seen(BASE, [("CarePlan", "s|v", "12", "2")])
        with pytest.raises(ConflictError) as err:
            guard(client, box, _plan_bundle())
    assert str(err.value) == (
        "refused to overwrite changes made elsewhere; nothing was written:\n"
        "  CarePlan/12 was changed on the server by someone else (this machine last saw version 2; "
        "the server has version 3); fields that differ from ours: status"
    )
    assert err.value.setting == "force"  # the command line says: pull again, or push with --force


@responses.activate
def test_guard_adds_if_match_when_the_plan_is_as_last_seen(tmp_path):
    responses.get(f"{BASE}/CarePlan", json=_server_plan("2", "on-hold"), headers=FHIR)
    client = FhirClient(BASE, retry=RetryPolicy(attempts=1))
    with Outbox(tmp_path / "o.sqlite") as box:
        box.record_seen(BASE, [("CarePlan", "s|v", "12", "2")])
        out, _ = guard(client, box, _plan_bundle())
    entry = out["entry"][0]
    assert entry["request"] == {"method": "PUT", "url": "CarePlan/12", "ifMatch": 'W/"2"'}
    assert entry["resource"]["id"] == "12"


@responses.activate
def test_guard_accepts_a_newer_version_that_already_holds_our_content(tmp_path):
    # Our own earlier push landed but the process died before recording it.
    responses.get(f"{BASE}/CarePlan", json=_server_plan("3", "active"), headers=FHIR)
    client = FhirClient(BASE, retry=RetryPolicy(attempts=1))
    with Outbox(tmp_path / "o.sqlite") as box:
        box.record_seen(BASE, [("CarePlan", "s|v", "12", "2")])
        out, _ = guard(client, box, _plan_bundle())
    assert out["entry"][0]["request"]["ifMatch"] == 'W/"3"'


@responses.activate
def test_flush_keeps_items_pending_when_the_server_is_down(tmp_path):
    responses.get(f"{BASE}/CarePlan", status=503)
    client = FhirClient(BASE, retry=RetryPolicy(attempts=2, base=0), sleep=lambda s: None)
    with Outbox(tmp_path / "o.sqlite") as box:
        box.add(_plan_bundle(), map_id="m1", map_date="2026-11-20")
        box.add(_plan_bundle("revoked"), map_id="m2", map_date="2026-11-21")
        report = flush(client, box)
        assert report.sent == [] and report.waiting == 2
        assert len(report.failed) == 1 and report.failed[0].kept
        assert [i.attempts for i in box.items()] == [1, 0]


def test_make_client_wires_tls_and_auth(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    opts = {
        "server": BASE,
        "token": "tok",
        "smart_client_id": None,
        "smart_key": None,
        "timeout": 5.0,
        "ca_bundle": str(ca),
        "allow_insecure_http": False,
    }
    client = make_client(opts)
    assert client is not None and client.verify == str(ca) and client.timeouts.read == 5.0
    assert repr(client.auth) == "BearerAuth(token=***)"
    assert make_client({**opts, "server": None}) is None


def test_cli_refuses_plain_http_to_another_host(tmp_path):
    result = CliRunner().invoke(
        main,
        ["push", str(ROOT / "examples" / "alone.yaml"), "--server", "http://fhir.example.org/R4"],
        env={"WB_FHIR_OUTBOX": str(tmp_path / "o.sqlite")},
    )
    assert result.exit_code == 2
    assert "uses http:// to a host that is not this machine" in result.output


def test_cli_push_without_server_waits_in_the_outbox(tmp_path):
    env = {"WB_FHIR_OUTBOX": str(tmp_path / "o.sqlite"), "WB_FHIR_SERVER": ""}
    runner = CliRunner()
    result = runner.invoke(main, ["push", str(ROOT / "examples" / "review")], env=env)
    assert result.exit_code == 0, result.output
    assert "no FHIR server configured: 2 map(s) stored in the outbox" in result.output
    listed = runner.invoke(main, ["outbox", "list", "--json"], env=env)
    rows = json.loads(listed.output)
    assert [r["state"] for r in rows] == ["pending", "pending"]
    assert [r["map_date"] for r in rows] == ["2026-05-14", "2026-11-12"]
    assert "9" not in "".join(str(r.get("patient", "")) for r in rows)
    dropped = runner.invoke(main, ["outbox", "drop", str(rows[0]["id"])], env=env)
    assert dropped.output.strip() == "dropped 1 item(s)"
    bad = runner.invoke(main, ["outbox", "drop", "42"], env=env)
    assert bad.exit_code == 2 and "the outbox has no item 42" in bad.output
    flushed = runner.invoke(main, ["outbox", "flush"], env=env)
    assert flushed.exit_code == 2 and "no FHIR server: give --server URL or set WB_FHIR_SERVER" in flushed.output
