"""Pushing many maps: streamed through the outbox, several transactions at once, races lost and recovered.

No server here: ``responses`` answers at the requests seam (error paths and timing). The same
behaviour against the real HAPI is in tests/test_push_server.py.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from click.testing import CliRunner
from responses_batch import answer_batches, is_transaction

from wb_fhir.bundles import map_bundle
from wb_fhir.cli import main
from wb_fhir.cli.sync import _Progress
from wb_fhir.mapfile import load_map, save_map
from wb_fhir.model import WellbeingMap
from wb_fhir.sync import FhirClient, Outbox, RetryPolicy, State, flush
from wb_fhir.sync.push import person_of

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://fhir.example.nhs.uk/R4"
FHIR = {"Content-Type": "application/fhir+json"}
EMPTY = {"resourceType": "Bundle", "type": "searchset", "entry": []}
HAPI_0550 = {
    "resourceType": "OperationOutcome",
    "issue": [
        {
            "severity": "error",
            "code": "processing",
            "diagnostics": "HAPI-0550: could not execute batch [Timeout trying to lock table {0}; SQL statement: "
            "insert into hfj_res_search_url ...]",
        }
    ],
}


def figure1(nhs: str = "9434765919", day: int = 20) -> WellbeingMap:
    wmap = load_map(ROOT / "examples" / "figure1.yaml")
    return dataclasses.replace(
        wmap, subject=dataclasses.replace(wmap.subject, nhs_number=nhs), date=wmap.date.replace(day=day), id=""
    )


def answer_for(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
    """A transaction-response that created every entry of the Bundle posted."""
    assert request.body is not None
    sent = json.loads(request.body)
    entries = [
        {"response": {"status": "201 Created", "location": f"{e['resource']['resourceType']}/{n}/_history/1"}}
        for n, e in enumerate(sent["entry"], start=1)
    ]
    return 200, FHIR, json.dumps({"resourceType": "Bundle", "type": "transaction-response", "entry": entries})


def empty_searches() -> None:
    responses.get(re.compile(f"{re.escape(BASE)}/(CarePlan|Goal|ServiceRequest).*"), json=EMPTY, headers=FHIR)
    answer_batches(BASE)


def client() -> FhirClient:
    return FhirClient(BASE, retry=RetryPolicy(attempts=1))


# --- a race lost ---------------------------------------------------------------------------------


@responses.activate
def test_a_race_lost_is_a_clear_message_and_the_next_push_sends_it_without_retry(tmp_path):
    empty_searches()
    responses.post(f"{BASE}/", json=HAPI_0550, status=409, headers=FHIR, match=[is_transaction])
    path = tmp_path / "sam.yaml"
    save_map(figure1(), path)
    env = {"WB_FHIR_OUTBOX": str(tmp_path / "o.sqlite"), "WB_FHIR_SERVER": BASE}
    runner = CliRunner()
    lost = runner.invoke(main, ["push", str(path), "--renderings", "none"], env=env)
    assert lost.exit_code == 1
    assert "another push wrote the same records at the same moment and the server refused this one (409)" in (
        lost.stderr
    )
    assert "nothing of this map was written" in lost.stderr and "still waiting in the outbox" in lost.stderr
    assert "hint: push again, or run 'wb-fhir outbox flush'" in lost.stderr
    assert "HAPI-0550" not in lost.stderr and "--force" not in lost.stderr
    rows = json.loads(runner.invoke(main, ["outbox", "list", "--json"], env=env).stdout)
    assert [(r["state"], r["attempts"]) for r in rows] == [("pending", 1)]

    responses.remove(responses.POST, f"{BASE}/")
    # ...the next push goes through
    responses.add_callback(responses.POST, f"{BASE}/", callback=answer_for, match=[is_transaction])
    again = runner.invoke(main, ["push", str(path), "--renderings", "none"], env=env)
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("sent 1 map(s):")
    rows = json.loads(runner.invoke(main, ["outbox", "list", "--json"], env=env).stdout)
    assert [r["state"] for r in rows] == ["sent"]  # the same item: no 'outbox retry', no second copy


@responses.activate
def test_a_412_is_a_race_only_when_our_if_match_was_stale(tmp_path):
    # HAPI answers 412 when a conditional update matches two resources: that is no race, and is refused
    empty_searches()
    responses.post(f"{BASE}/", json=HAPI_0550, status=412, headers=FHIR, match=[is_transaction])
    with Outbox(tmp_path / "o.sqlite") as box:
        box.add(map_bundle(figure1(), ()), map_id="m", map_date="2026-11-20")
        report = flush(client(), box)
        assert [(f.kept, f.setting) for f in report.failed] == [(False, "force")]
        assert box.count(State.FAILED) == 1


@responses.activate
def test_a_412_to_our_if_match_is_a_race_kept_for_the_next_push(tmp_path):
    bundle = map_bundle(figure1(), ())
    plan = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "CarePlan")
    theirs = {**plan, "id": "7", "meta": {**plan["meta"], "versionId": "2"}}
    responses.get(f"{BASE}/CarePlan", json={**EMPTY, "entry": [{"resource": theirs}]}, headers=FHIR)
    responses.get(re.compile(f"{re.escape(BASE)}/(Goal|ServiceRequest).*"), json=EMPTY, headers=FHIR)
    answer_batches(BASE)
    responses.post(f"{BASE}/", json=HAPI_0550, status=412, headers=FHIR, match=[is_transaction])
    identifier = f"{plan['identifier'][0]['system']}|{plan['identifier'][0]['value']}"
    with Outbox(tmp_path / "o.sqlite") as box:
        box.record_seen(BASE, [("CarePlan", identifier, "7", "2")])
        box.add(bundle, map_id="m", map_date=None)
        report = flush(client(), box)
        sent = json.loads(responses.calls[-1].request.body)
        assert any(e["request"].get("ifMatch") == 'W/"2"' for e in sent["entry"])
        assert [(f.kept, f.setting) for f in report.failed] == [(True, "race")]
        assert box.count(State.PENDING) == 1


@responses.activate
def test_a_race_holds_that_persons_later_maps_and_no_one_elses(tmp_path):
    empty_searches()
    answers = iter([(409, FHIR, json.dumps(HAPI_0550))])
    responses.add_callback(
        responses.POST, f"{BASE}/", callback=lambda r: next(answers, None) or answer_for(r), match=[is_transaction]
    )
    with Outbox(tmp_path / "o.sqlite") as box:
        first = box.store(map_bundle(figure1("9434765919", 19), ()), map_id="a", map_date=None)
        other = box.store(map_bundle(figure1("9434765870"), ()), map_id="b", map_date=None)
        later = box.store(map_bundle(figure1("9434765919", 20), ()), map_id="c", map_date=None)
        report = flush(client(), box)
        assert [r.item_id for r in report.sent] == [other]  # another person's map goes on...
        assert [(f.item_id, f.kept) for f in report.failed] == [(first, True)]
        assert box.pending_ids() == [first, later]  # ...this person's next map waits for the first
        assert report.waiting == 2


# --- streaming ------------------------------------------------------------------------------------


class CountingOutbox(Outbox):
    """An outbox that counts how often whole items are read back."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.reads: list[int] = []

    def pending_item(self, item_id: int) -> Any:
        self.reads.append(item_id)
        return super().pending_item(item_id)

    def items(self, states: Any = None) -> Any:
        raise AssertionError("a flush must not read the whole outbox")

    def get(self, item_id: int) -> Any:
        raise AssertionError("a flush reads an item once, when its turn comes")


@responses.activate
@pytest.mark.parametrize("jobs", [1, 3])
def test_a_flush_reads_each_item_once_when_its_turn_comes(tmp_path, jobs):
    empty_searches()
    responses.add_callback(responses.POST, f"{BASE}/", callback=answer_for, match=[is_transaction])
    with CountingOutbox(tmp_path / "o.sqlite") as box:
        ids = [
            box.store(map_bundle(figure1(nhs, day), ()), map_id=f"{nhs}-{day}", map_date=None)
            for nhs in ("9434765919", "9434765870")
            for day in (18, 19, 20)
        ]
        report = flush(client(), box, jobs=jobs, connect=client)
        assert sorted(box.reads) == ids and sorted(r.item_id for r in report.sent) == ids
        assert box.count(State.SENT) == 6 and report.waiting == 0


def test_push_without_a_server_streams_every_map_into_the_outbox_and_a_bad_file_queues_nothing(tmp_path):
    folder = tmp_path / "maps"
    folder.mkdir()
    for day in range(1, 21):
        save_map(figure1(day=day), folder / f"{day:02d}.yaml")
    env = {"WB_FHIR_OUTBOX": str(tmp_path / "o.sqlite"), "WB_FHIR_SERVER": ""}
    (folder / "21.yaml").write_text("subject: {nhs_number: '123'}\ndate: 2026-13-01\n", encoding="utf-8")
    bad = CliRunner().invoke(main, ["push", str(folder), "--renderings", "none"], env=env)
    assert bad.exit_code == 2 and "21.yaml" in bad.stderr
    with Outbox(tmp_path / "o.sqlite") as box:
        assert box.count() == 0  # the twenty good ones wait for the file to be put right
    (folder / "21.yaml").unlink()
    done = CliRunner().invoke(main, ["push", str(folder), "--renderings", "none"], env=env)
    assert done.exit_code == 0 and "20 map(s) stored in the outbox" in done.stdout
    assert "storing maps" not in done.stderr  # no bar where no terminal is
    with Outbox(tmp_path / "o.sqlite") as box:
        assert [i.map_date for i in box.pending()] == [f"2026-11-{d:02d}" for d in range(1, 21)]


# --- several at once ------------------------------------------------------------------------------


@responses.activate
def test_jobs_send_people_side_by_side_and_each_persons_maps_in_order(tmp_path):
    empty_searches()
    spans: list[tuple[str, int, float, float]] = []
    lock = threading.Lock()

    def slow(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        start = time.monotonic()
        time.sleep(0.15)
        sent = json.loads(request.body or "{}")
        day = next(e["resource"]["authored"] for e in sent["entry"] if "authored" in e["resource"])
        nhs = next(e["request"]["url"] for e in sent["entry"] if e["resource"]["resourceType"] == "CarePlan")
        with lock:
            spans.append((nhs, int(day[-2:]), start, time.monotonic()))
        return answer_for(request)

    responses.add_callback(responses.POST, f"{BASE}/", callback=slow, match=[is_transaction])
    people = ("9434765919", "9434765870", "9434765838")
    with Outbox(tmp_path / "o.sqlite") as box:
        for day in (10, 11, 12):
            for nhs in people:
                box.store(map_bundle(figure1(nhs, day), ()), map_id=f"{nhs}-{day}", map_date=None)
        report = flush(client(), box, jobs=4, connect=client)
    assert len(report.sent) == 9 and report.failed == []
    for plan in {s[0] for s in spans}:
        mine = sorted((s for s in spans if s[0] == plan), key=lambda s: s[2])
        assert [s[1] for s in mine] == [10, 11, 12]  # in order...
        assert all(a[3] <= b[2] for a, b in itertools.pairwise(mine))  # ...and one at a time
    overlapping = sum(1 for a in spans for b in spans if a is not b and a[2] < b[3] and b[2] < a[3])
    assert overlapping > 0  # different people went side by side


@responses.activate
def test_network_trouble_stops_a_flush_of_many_jobs_and_keeps_the_rest_pending(tmp_path):
    empty_searches()
    responses.post(f"{BASE}/", body=requests.ConnectionError("reset"), match=[is_transaction])
    with Outbox(tmp_path / "o.sqlite") as box:
        for nhs in ("9434765919", "9434765870", "9434765838"):
            for day in (10, 11):
                box.store(map_bundle(figure1(nhs, day), ()), map_id=f"{nhs}-{day}", map_date=None)
        report = flush(client(), box, jobs=2, connect=client)
        assert report.sent == [] and report.failed and all(f.kept for f in report.failed)
        assert len(report.failed) <= 2  # what was in flight; nothing new was started after the first
        assert box.count(State.PENDING) == 6 and report.waiting == 6


def test_more_than_one_job_needs_a_client_for_each_worker(tmp_path):
    with Outbox(tmp_path / "o.sqlite") as box, pytest.raises(ValueError, match="connect"):
        flush(client(), box, jobs=2)


def test_one_persons_maps_share_a_key_and_other_peoples_do_not(tmp_path):
    a, b = map_bundle(figure1("9434765919", 1), ()), map_bundle(figure1("9434765919", 2), ())
    c = map_bundle(figure1("9434765870", 1), ())

    def key(bundle: dict[str, Any]) -> str:
        with Outbox(tmp_path / f"{len(list(tmp_path.iterdir()))}.sqlite") as box:
            item = box.get(box.store(bundle, map_id="m", map_date=None))
        return person_of(item)

    assert key(a) == key(b) != key(c)


def test_the_progress_bar_shows_the_rate_and_the_time_left_on_a_terminal(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    monkeypatch.setattr("sys.stderr", screen)
    with _Progress(4, "pushing maps") as bar:
        for _ in range(4):
            time.sleep(0.01)
            bar.step()
    shown = screen.getvalue()
    assert "pushing maps" in shown and "4/4" in shown and "maps/s" in shown
    quiet = io.StringIO()
    monkeypatch.setattr("sys.stderr", quiet)
    with _Progress(4, "pushing maps") as bar:
        bar.step()
    assert quiet.getvalue() == ""


def test_storing_finds_the_same_pending_bundle_by_index_not_by_reading_every_row(tmp_path):
    # without the index each store read every stored Bundle: 10,000 maps took minutes
    with Outbox(tmp_path / "o.sqlite") as box:
        plan = box._db.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM items WHERE hash = ? AND state = 'pending' ORDER BY id LIMIT 1", ("x",)
        ).fetchall()
    assert any("INDEX items_hash" in str(tuple(row)) for row in plan), [tuple(r) for r in plan]
