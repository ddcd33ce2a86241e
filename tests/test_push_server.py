"""Many maps and races against a real FHIR server (HAPI): several transactions at once, a race lost and recovered."""

from __future__ import annotations

import dataclasses
import random
import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from strategies import random_nhs_number

from wb_fhir.bundles import map_bundle
from wb_fhir.cli import main
from wb_fhir.mapfile import load_map, save_map
from wb_fhir.model import WellbeingMap
from wb_fhir.sync import FhirClient, FlushReport, Outbox, RetryPolicy, State, flush

pytestmark = pytest.mark.server
ROOT = Path(__file__).resolve().parent.parent
RNG = random.Random()


def map_of(nhs: str, day: int = 20) -> WellbeingMap:
    """Figure 1 about a new test person (the server is shared and long-lived), on a day of November 2026."""
    wmap = load_map(ROOT / "examples" / "figure1.yaml")
    subject = dataclasses.replace(wmap.subject, nhs_number=nhs, fhir_id=None)
    return dataclasses.replace(wmap, subject=subject, date=wmap.date.replace(day=day), id="")


def count(base: str, resource_type: str, identifier: str) -> int:
    r = requests.get(
        f"{base}/{resource_type}",
        params={"identifier": identifier, "_summary": "count"},
        headers={"Cache-Control": "no-cache"},
        timeout=60,
    )
    r.raise_for_status()
    return int(r.json()["total"])


class MeetingClient(FhirClient):
    """A client whose transaction waits until the other push is ready to send too: the two meet at the server."""

    def __init__(self, base: str, meeting: threading.Barrier) -> None:
        super().__init__(base, retry=RetryPolicy(attempts=1))
        self.meeting = meeting

    def transaction(self, bundle: Any) -> dict[str, Any]:
        self.meeting.wait(timeout=120)
        return super().transaction(bundle)


def race(base: str, wmap: WellbeingMap, folder: Path) -> dict[Path, FlushReport]:
    """Two pushes of one map, each with its own outbox, guarded before either writes, sent at once."""
    meeting = threading.Barrier(2)
    out: dict[Path, FlushReport] = {}

    def push(name: str) -> None:
        with Outbox(folder / f"{name}.sqlite") as box:
            box.add(map_bundle(wmap, ()), map_id=wmap.id, map_date=wmap.date.isoformat())
            out[box.path] = flush(MeetingClient(base, meeting), box)

    threads = [threading.Thread(target=push, args=(name,)) for name in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return out


def test_two_pushes_of_one_map_at_once_the_loser_is_told_and_recovers_on_the_next_push(
    fhir_server, make_patient, tmp_path
):
    # Both find nothing on the server, both create: HAPI lets one through and refuses the other
    # (409, HAPI-0550). Which one, and whether the second waits its turn instead, is up to the
    # server: try with new people until a race is lost.
    for attempt in range(6):
        nhs = random_nhs_number(RNG)
        make_patient(nhs)
        wmap = map_of(nhs)
        folder = tmp_path / str(attempt)
        folder.mkdir()
        lost = [(path, report) for path, report in race(fhir_server, wmap, folder).items() if report.failed]
        if lost:
            break
    else:
        pytest.fail("no race was lost in six tries: the server took both pushes one after the other")
    assert len(lost) == 1
    path, report = lost[0]
    (failure,) = report.failed
    assert failure.kept and failure.setting == "race"
    assert failure.message.startswith("another push wrote the same records at the same moment")
    assert "HAPI-0550" not in failure.message and nhs not in failure.message
    with Outbox(path) as box:
        assert box.count(State.PENDING) == 1 and box.count(State.FAILED) == 0
        # the next push (no 'outbox retry') checks afresh, finds the winner's identical records, and is done
        again = flush(FhirClient(fhir_server, retry=RetryPolicy(attempts=3)), box)
        assert again.failed == [] and len(again.sent) == 1 and box.count(State.SENT) == 1
    bundle = map_bundle(wmap, ())
    for entry in bundle["entry"]:
        resource = entry["resource"]
        idents = resource.get("identifier", [])
        ident = (idents[0] if isinstance(idents, list) else idents) if idents else None
        if ident and resource["resourceType"] in ("QuestionnaireResponse", "CarePlan", "Goal"):
            assert count(fhir_server, resource["resourceType"], f"{ident['system']}|{ident['value']}") == 1


def test_push_with_jobs_sends_every_map_and_each_persons_maps_in_order(fhir_server, make_patient, tmp_path):
    people = [random_nhs_number(RNG) for _ in range(3)]
    folder = tmp_path / "maps"
    folder.mkdir()
    for nhs in people:
        make_patient(nhs)
        for day in (12, 19, 26):
            save_map(map_of(nhs, day), folder / f"{nhs}-{day}.yaml")
    env = {"WB_FHIR_OUTBOX": str(tmp_path / "o.sqlite"), "WB_FHIR_SERVER": fhir_server}
    done = CliRunner().invoke(main, ["push", str(folder), "--renderings", "none", "--jobs", "4"], env=env)
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith("sent 9 map(s):")
    with Outbox(tmp_path / "o.sqlite") as box:
        assert box.count(State.SENT) == 9 and box.count(State.PENDING) == 0
    for nhs in people:
        plans = requests.get(
            f"{fhir_server}/CarePlan",
            params={"subject:Patient.identifier": f"https://fhir.nhs.uk/Id/nhs-number|{nhs}"},
            headers={"Cache-Control": "no-cache"},
            timeout=60,
        ).json()["entry"]
        assert len(plans) == 1
        plan = plans[0]["resource"]
        assert plan["period"]["start"] == "2026-11-26"  # the newest map went last
        assert plan["meta"]["versionId"] == "3"  # one version per map, none refused
