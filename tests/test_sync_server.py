"""Sync against a real FHIR server (HAPI): push, pull, conflicts, SMART, faults, kill -9."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from faultproxy import FaultProxy
from strategies import random_nhs_number

from wb_fhir._resources import data_dir
from wb_fhir.assets import is_asset_directory
from wb_fhir.bundles import map_bundle
from wb_fhir.cli import main
from wb_fhir.errors import ConflictError
from wb_fhir.fhir.references import Search
from wb_fhir.mapfile import iter_map_files, load_data, load_map, map_to_data, save_map
from wb_fhir.model import WellbeingMap
from wb_fhir.sync import BearerAuth, FhirClient, Outbox, RetryPolicy, SmartBackendAuth, SmartKey, Timeouts, flush
from wb_fhir.sync.pull import pull
from wb_fhir.sync.push import guard
from wb_fhir.terminology import NHS_NUMBER_SYSTEM, GoalStatus, IdentifierKind, identifier_system

pytestmark = pytest.mark.server
ROOT = Path(__file__).resolve().parent.parent


RNG = random.Random()


def examples() -> list[Path]:
    return [p for p in iter_map_files([data_dir("examples")]) if not is_asset_directory(load_data(p))]


def for_new_person(wmap: WellbeingMap, nhs: str) -> WellbeingMap:
    """The same map about a fresh test person (runs share a long-lived server)."""
    return dataclasses.replace(wmap, subject=dataclasses.replace(wmap.subject, nhs_number=nhs, fhir_id=None), id="")


def example_params() -> list[Any]:
    return [pytest.param(p, id=p.name) for p in examples()]


@pytest.fixture
def person(make_patient) -> str:
    """The NHS number of a new test person, whose Patient exists on the server."""
    nhs = random_nhs_number(RNG)
    make_patient(nhs)
    return nhs


def make_client(base: str, **kw: Any) -> FhirClient:
    return FhirClient(base, retry=RetryPolicy(attempts=6, base=0.05, cap=0.5), **kw)


def count(base: str, resource_type: str, identifier: str) -> int:
    r = requests.get(
        f"{base}/{resource_type}",
        params={"identifier": identifier, "_summary": "count"},
        headers={"Cache-Control": "no-cache"},
        timeout=60,
    )
    r.raise_for_status()
    return int(r.json()["total"])


def identifiers(bundle: dict[str, Any]) -> list[tuple[str, str]]:
    out = []
    for entry in bundle["entry"]:
        resource = entry["resource"]
        idents = resource.get("identifier", [])
        for ident in [idents] if isinstance(idents, dict) else idents:
            if ident.get("system", "").startswith("https://wb-fhir.org/"):
                out.append((resource["resourceType"], f"{ident['system']}|{ident['value']}"))
                break
    return out


def push_map(client: FhirClient, box: Outbox, wmap: WellbeingMap, **kw: Any):
    box.add(map_bundle(wmap), map_id=wmap.id, map_date=wmap.date.isoformat())
    return flush(client, box, **kw)


# --- round trip and idempotence --------------------------------------------------------------


@pytest.mark.parametrize("path", example_params())
def test_push_every_example_and_pull_it_back_equal(fhir_server, make_patient, make_referenced, tmp_path, path):
    person = random_nhs_number(RNG)
    wmap = for_new_person(load_map(path), person)
    make_referenced(wmap, make_patient(person))
    with Outbox(tmp_path / "outbox.sqlite") as box:
        report = push_map(make_client(fhir_server), box, wmap)
        assert report.failed == [] and len(report.sent) == 1
        assert report.sent[0].created == len(wmap_bundle_entries(wmap))
        pulled = pull(make_client(fhir_server), box, person, tmp_path / "pulled")
    assert [p.name for p in pulled.maps] == [f"{wmap.date.isoformat()}.yaml"]
    back = load_map(pulled.maps[0])
    assert map_to_data(_without_patient_id(back)) == map_to_data(wmap)
    assert pulled.plan is not None and json.loads(pulled.plan.read_text())["resourceType"] == "CarePlan"
    assert len(pulled.goals) == len(wmap.goals)


def wmap_bundle_entries(wmap: WellbeingMap) -> list[dict[str, Any]]:
    return map_bundle(wmap)["entry"]


def _without_patient_id(wmap: WellbeingMap) -> WellbeingMap:
    # The server knows the person by id too; the map we pushed named only the NHS number.
    return dataclasses.replace(wmap, subject=dataclasses.replace(wmap.subject, fhir_id=None), id=wmap.id)


def test_push_twice_creates_nothing_new(fhir_server, person, tmp_path):
    wmap = for_new_person(load_map(ROOT / "examples" / "figure1.yaml"), person)
    bundle = map_bundle(wmap)
    client = make_client(fhir_server)
    with Outbox(tmp_path / "outbox.sqlite") as box:
        first = push_map(client, box, wmap)
        second = push_map(client, box, wmap)
    assert first.totals[0] == len(bundle["entry"])
    # Identical content: HAPI keeps the version of a conditional update, so all unchanged.
    assert second.totals == (0, 0, len(bundle["entry"]))
    for rtype, ident in identifiers(bundle):
        assert count(fhir_server, rtype, ident) == 1, (rtype, ident)


def test_unchanged_detection_matches_server_versions(fhir_server, person, tmp_path):
    wmap = for_new_person(load_map(ROOT / "examples" / "figure1.yaml"), person)
    client = make_client(fhir_server)
    with Outbox(tmp_path / "a.sqlite") as box:
        push_map(client, box, wmap)
    # A fresh outbox has seen nothing: resources still at version 1 count as unchanged.
    with Outbox(tmp_path / "b.sqlite") as other:
        again = push_map(client, other, wmap)
    assert again.totals == (0, 0, len(map_bundle(wmap)["entry"]))


def test_searches_of_several_types_go_in_one_batch_and_later_pages_are_followed(fhir_server, person, tmp_path):
    # a push's guard asks for its plan, goals and sign-posts this way
    wmap = for_new_person(load_map(ROOT / "examples" / "figure1.yaml"), person)
    keys = identifiers(map_bundle(wmap))
    plans = [k for rtype, k in keys if rtype == "CarePlan"]
    goals = [k for rtype, k in keys if rtype == "Goal"]
    assert len(plans) == 1 and len(goals) == 2
    client = make_client(fhir_server)
    with Outbox(tmp_path / "outbox.sqlite") as box:
        assert push_map(client, box, wmap).failed == []
    searches = [Search("Goal").where(identifier=goals).count(1), Search("CarePlan").where(identifier=plans)]
    found_goals, found_plans = client.search_each(searches)
    assert sorted(f"{i['system']}|{i['value']}" for g in found_goals for i in g["identifier"]) == sorted(goals)
    assert [p["identifier"][0]["value"] for p in found_plans] == [plans[0].split("|")[1]]
    assert not client._no_batch  # HAPI took the batch


# --- conflicts ---------------------------------------------------------------------------------


def _with_goal_status(wmap: WellbeingMap, status: GoalStatus, note: str) -> WellbeingMap:
    goals = tuple(dataclasses.replace(g, status=status, notes=(*g.notes, note)) for g in wmap.goals)
    return dataclasses.replace(wmap, goals=goals)


def test_two_clients_edit_the_same_plan_second_is_refused(fhir_server, person, tmp_path):
    base = for_new_person(load_map(ROOT / "examples" / "figure1.yaml"), person)
    assert base.goals, "figure1 has goals"
    client = make_client(fhir_server)
    a, b = Outbox(tmp_path / "a.sqlite"), Outbox(tmp_path / "b.sqlite")
    assert push_map(client, a, base).failed == []
    pull(client, b, person, tmp_path / "b-pulled")  # B reads the plan as it is now
    mine = _with_goal_status(base, GoalStatus.ON_HOLD, "A: paused for now")
    assert push_map(client, a, mine).failed == []
    theirs = _with_goal_status(base, GoalStatus.ABANDONED, "B: stopped")
    report = push_map(client, b, theirs)
    assert report.sent == [] and len(report.failed) == 1 and not report.failed[0].kept
    message = report.failed[0].message
    assert "refused to overwrite changes made elsewhere" in message
    assert "Goal/" in message and "this machine last saw version 1; the server has version 2" in message
    assert "fields that differ from ours:" in message and "lifecycleStatus" in message
    assert person not in message and "B: stopped" not in message
    assert b.items()[-1].state.value == "failed"
    goal_ident = identifiers(map_bundle(base))
    goal_id = next(i for t, i in goal_ident if t == "Goal")
    kept = requests.get(f"{fhir_server}/Goal", params={"identifier": goal_id}, timeout=60).json()["entry"][0][
        "resource"
    ]
    assert kept["lifecycleStatus"] == "on-hold"  # A's change is kept
    # --force overwrites, when asked.
    b.retry()
    forced = flush(client, b, force=True)
    assert forced.failed == [] and len(forced.sent) == 1
    a.close()
    b.close()


def test_a_race_is_refused_by_the_server_through_if_match(fhir_server, person, tmp_path):
    base = for_new_person(load_map(ROOT / "examples" / "figure1.yaml"), person)
    client = make_client(fhir_server)
    with Outbox(tmp_path / "a.sqlite") as a:
        push_map(client, a, base)
        guarded, _ = guard(client, a, map_bundle(_with_goal_status(base, GoalStatus.ON_HOLD, "mine")))
        assert any(e["request"].get("ifMatch") for e in guarded["entry"])
        # Someone else updates the plan between our read and our write.
        push_map(client, a, _with_goal_status(base, GoalStatus.ABANDONED, "theirs"))
        with pytest.raises(ConflictError) as err:
            client.transaction(guarded)
    assert err.value.status in (409, 412)


# --- SMART Backend Services ----------------------------------------------------------------------


class TokenServer:
    """A loopback token endpoint that checks client assertions with the client's public key."""

    def __init__(self, public_key: Any, alg: str) -> None:
        self.public_key, self.alg = public_key, alg
        self.accepted: list[dict[str, Any]] = []
        self.rejected: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                try:
                    assertion = form["client_assertion"][0]
                    header = jwt.get_unverified_header(assertion)
                    assert header["kid"] == "wb-test-key" and header["alg"] == outer.alg
                    claims = jwt.decode(assertion, outer.public_key, algorithms=[outer.alg], audience=outer.url)
                    assert claims["iss"] == claims["sub"] == "wb-fhir-test"
                    assert claims["exp"] - time.time() <= 300 and claims["jti"]
                    assert form["grant_type"] == ["client_credentials"]
                    assert form["client_assertion_type"] == ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]
                    outer.accepted.append(claims)
                    body, status = {"access_token": f"tok-{len(outer.accepted)}", "expires_in": 300}, 200
                except (AssertionError, KeyError, jwt.PyJWTError) as exc:
                    outer.rejected.append(repr(exc))
                    body, status = {"error": "invalid_client"}, 400
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/token"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def __enter__(self) -> TokenServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
def test_smart_backend_services_against_a_loopback_token_endpoint(fhir_server, person, tmp_path, alg):
    key: Any = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if alg == "RS384"
        else ec.generate_private_key(ec.SECP384R1())
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    wmap = for_new_person(load_map(ROOT / "examples" / "alone.yaml"), person)
    with TokenServer(key.public_key(), alg) as tokens:
        auth = SmartBackendAuth(client_id="wb-fhir-test", key=SmartKey(pem, "wb-test-key", alg), token_url=tokens.url)
        client = make_client(fhir_server, auth=auth)
        with Outbox(tmp_path / "o.sqlite") as box:
            report = push_map(client, box, wmap)
            pull(client, box, person, tmp_path / "pulled")
    assert report.failed == [] and tokens.rejected == []
    assert len(tokens.accepted) == 1  # cached across every request of push and pull
    assert tokens.accepted[0]["aud"] == tokens.url


# --- privacy of logs ---------------------------------------------------------------------------


def test_info_logs_hold_no_nhs_number_label_or_token(fhir_server, person, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    wmap = for_new_person(load_map(ROOT / "examples" / "figure1.yaml"), person)
    token = "tok-" + "x" * 30
    client = make_client(fhir_server, auth=BearerAuth(token))
    with Outbox(tmp_path / "o.sqlite") as box:
        push_map(client, box, wmap)
        pull(client, box, person, tmp_path / "pulled")
    text = caplog.text
    assert "sent" in text and "pulled" in text  # the logs did say something
    secrets = [person, token, *(c.label for c in wmap.connections), *(p.display for p in wmap.practitioners)]
    if wmap.subject.display:
        secrets.append(wmap.subject.display)
    for secret in secrets:
        assert secret not in text, secret


# --- faults --------------------------------------------------------------------------------------


def _port(base: str) -> int:
    return urllib.parse.urlsplit(base).port or 80


def _batch(person_count: int, make_patient) -> list[WellbeingMap]:
    maps = []
    source = load_map(ROOT / "examples" / "figure1.yaml")
    for _ in range(person_count):
        nhs = random_nhs_number(RNG)
        make_patient(nhs)
        maps.append(for_new_person(source, nhs))
    return maps


def _assert_exactly_once_or_waiting(base: str, maps: list[WellbeingMap], box: Outbox) -> None:
    waiting = {i.map_id for i in box.pending()}
    for wmap in maps:
        counts = {ident: count(base, rtype, ident) for rtype, ident in identifiers(map_bundle(wmap))}
        if wmap.id in waiting:
            # Atomic transactions: all of the map or none of it.
            assert set(counts.values()) <= {0, 1} and len(set(counts.values())) == 1, counts
        else:
            assert set(counts.values()) == {1}, counts


def test_faulty_network_leaves_every_map_once_or_in_the_outbox(fhir_server, make_patient, tmp_path):
    maps = _batch(6, make_patient)
    script = ["reset-after", "pass", "503", "truncate", "delay", "reset-before"] * 3
    with FaultProxy(
        _port(fhir_server), script=script, weights={"pass": 3, "reset-after": 1, "503": 1}, delay=2.0
    ) as proxy:
        proxied = fhir_server.replace(f":{_port(fhir_server)}", f":{proxy.port}")
        client = FhirClient(
            proxied, timeouts=Timeouts(connect=2, read=1.0), retry=RetryPolicy(attempts=4, base=0.05, cap=0.2)
        )
        with Outbox(tmp_path / "o.sqlite") as box:
            for wmap in maps:
                box.add(map_bundle(wmap), map_id=wmap.id, map_date=wmap.date.isoformat())
            for _ in range(6):  # a person pressing flush again while the network is bad
                flush(client, box)
                if not box.pending():
                    break
            _assert_exactly_once_or_waiting(fhir_server, maps, box)
            assert sum(proxy.counts[f] for f in ("reset-after", "503", "truncate", "delay", "reset-before")) >= 5
            # The network heals: everything left is sent, still exactly once.
            flush(make_client(fhir_server), box)
            assert box.pending() == []
            _assert_exactly_once_or_waiting(fhir_server, maps, box)


def test_push_killed_midway_and_run_again_loses_nothing(fhir_server, make_patient, tmp_path):
    maps = _batch(8, make_patient)
    folder = tmp_path / "maps"
    folder.mkdir()
    for n, wmap in enumerate(maps):
        save_map(wmap, folder / f"map-{n}.yaml")
    outbox = tmp_path / "o.sqlite"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "WB_FHIR_OUTBOX": str(outbox), "WB_FHIR_SERVER": fhir_server}
    command = [sys.executable, "-m", "wb_fhir", "push", str(folder)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    # Kill it once some (not all) maps are on the server.
    while time.time() < deadline and proc.poll() is None:
        if count(fhir_server, "QuestionnaireResponse", _qr_ident(maps[1])) >= 1:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    if again.returncode != 0:
        # The killed push's last transactions may still be running on the server (a slow server
        # finishes them after the client is gone): the run again loses that race, says so, keeps
        # those maps in the outbox, and the next push sends them. Any other failure is a bug.
        assert "another push wrote the same records at the same moment" in again.stderr, again.stderr
        assert "failed (see" not in again.stderr, again.stderr
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    with Outbox(outbox) as box:
        assert box.pending() == []
        assert len({i.map_id for i in box.items()}) == len(maps)
        _assert_exactly_once_or_waiting(fhir_server, maps, box)


def _qr_ident(wmap: WellbeingMap) -> str:
    return f"{identifier_system(IdentifierKind.MAP)}|{wmap.id}"


# --- the command line and the server check ---------------------------------------------------------


def test_cli_push_pull_and_outbox(fhir_server, person, tmp_path):
    wmap = for_new_person(load_map(ROOT / "examples" / "figure1.yaml"), person)
    save_map(wmap, tmp_path / "map.yaml")
    env = {"WB_FHIR_OUTBOX": str(tmp_path / "o.sqlite")}
    runner = CliRunner()
    offline = runner.invoke(main, ["push", str(tmp_path / "map.yaml")], env={**env, "WB_FHIR_SERVER": ""})
    assert offline.exit_code == 0 and "1 map(s) stored in the outbox" in offline.output
    listed = runner.invoke(main, ["outbox", "list"], env=env)
    assert "pending" in listed.output and person not in listed.output
    personal = runner.invoke(main, ["outbox", "list", "--show-personal"], env=env)
    assert person in personal.output
    sent = runner.invoke(main, ["outbox", "flush", "--server", fhir_server], env=env)
    assert sent.exit_code == 0, sent.output
    assert f"sent 1 map(s): {len(map_bundle(wmap)['entry'])} resource(s) created, 0 updated, 0 unchanged" in sent.output
    pulled = runner.invoke(
        main, ["pull", "--patient", person, "-o", str(tmp_path / "p"), "--server", fhir_server], env=env
    )
    assert pulled.exit_code == 0, pulled.output
    assert (tmp_path / "p" / f"{wmap.date.isoformat()}.yaml").is_file()


def test_server_check_reports_and_cleans_up(fhir_server, conformance, person, tmp_path):
    junit = tmp_path / "check.xml"
    result = CliRunner().invoke(
        main,
        ["check", "--server", fhir_server, "--json", "--junit", str(junit), "--allow-writes", "--test-patient", person],
    )
    report = {c["name"]: c for c in json.loads(result.output)["checks"]}
    for name in (
        "metadata",
        "capabilities",
        "$validate",
        "conditional upsert",
        "If-Match",
        "paging (written)",
        "_include (written)",
        "cleanup",
    ):
        assert report[name]["outcome"] == "pass", report[name]
    assert "identical content kept its version" in report["conditional upsert"]["detail"]
    # check counts what profiles install installs
    ours = conformance[-1]
    uk_core = "https://fhir.hl7.org.uk/StructureDefinition/"
    bases = {r["baseDefinition"] for r in ours.package.resources if r.get("baseDefinition", "").startswith(uk_core)}
    assert report["profiles"] == {
        "name": "profiles",
        "outcome": "pass",
        "detail": f"all {ours.package.count} conformance resources installed, "
        f"and the {len(bases)} profiles they derive from",
    }
    assert result.exit_code == (1 if any(c["outcome"] == "fail" for c in report.values()) else 0)
    assert b"<testsuite" in junit.read_bytes() and b'name="If-Match"' in junit.read_bytes()
    left = requests.get(
        f"{fhir_server}/Observation",
        params={"subject:Patient.identifier": f"{NHS_NUMBER_SYSTEM}|{person}", "_summary": "count"},
        timeout=60,
    )
    assert left.json()["total"] == 0
