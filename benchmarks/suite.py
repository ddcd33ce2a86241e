"""The sections of ``python -m benchmarks``: each measures wb_fhir side by side with a reference and gives rows.

start-up   ``wb-fhir --version`` and ``validate`` against ``python -c pass`` (CPU time, whole processes,
           bytecode compiled as an installed wheel has it)
bundle     a map's transaction Bundle against the same JSON from plain dicts, and against fhir.resources
load       reading a map file against libyaml's parse of the same text
push       one map against a raw POST of its Bundle; against fhirpy's one request per resource; over
           a slow network, the guard's batch against one search per type;
           many maps against a raw loop at the same concurrency (1 and 4); needs a FHIR server
memory     pushing many maps into the outbox (no server): peak memory at two sizes
render     drawing a map against Graphviz ``twopi`` on the same nodes and edges; a large PNG
scale      the Bundle of 10,000 connections: time and peak memory
"""

from __future__ import annotations

import dataclasses
import json
import random
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks._measure import Pair, cpu_of, pair, process_cpu, run
from benchmarks.floor import floor_bundle
from benchmarks.maps import network

if TYPE_CHECKING:  # wb_fhir's sync layer loads only when the push rows run
    from wb_fhir.sync import FhirClient

ROOT = Path(__file__).resolve().parent.parent
FIGURE1 = ROOT / "examples" / "figure1.yaml"
FHIR_JSON = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    section: str
    what: str
    ours: str
    reference: str
    ratio: str
    goal: str = ""
    met: bool | None = None


@dataclass(frozen=True)
class Settings:
    quick: bool
    server: str | None


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def _x(ratio: float) -> str:
    return f"{ratio:.2f}x"


def _wb_fhir() -> list[str]:
    script = Path(sys.executable).parent / "wb-fhir"
    return [str(script)] if script.exists() else [sys.executable, "-m", "wb_fhir"]


# --- start-up ---------------------------------------------------------------------------------------


def _bytecode_compiled() -> None:
    """Compile wb_fhir's bytecode, as installing its wheel does.

    An editable install under ``PYTHONDONTWRITEBYTECODE`` never writes it, and every start-up
    would then be timed compiling wb_fhir's source, which no installed copy does.
    """
    import compileall

    import wb_fhir

    compileall.compile_dir(Path(wb_fhir.__file__).parent, quiet=1)


def startup(s: Settings) -> Iterator[Row]:
    rounds = 3 if s.quick else 15
    _bytecode_compiled()
    python = cpu_of([sys.executable, "-c", "pass"])
    for args, goal in ((["--version"], 4.0), (["validate", str(FIGURE1)], 8.0), (["--help"], None)):
        p = pair(cpu_of([*_wb_fhir(), *args]), python, rounds)
        yield Row(
            "start-up",
            f"`wb-fhir {' '.join(a if a != str(FIGURE1) else 'figure1.yaml' for a in args)}`, CPU",
            _ms(p.a),
            f"`python -c pass` {_ms(p.b)}",
            _x(p.ratio),
            f"<= {goal:g}x" if goal else "",
            p.ratio <= goal if goal and not s.quick else None,
        )


# --- bundle -----------------------------------------------------------------------------------------


def _build(make: Callable[[], dict[str, Any]]) -> Callable[[], object]:
    from wb_fhir.model import stable_uuid

    def once() -> str:
        stable_uuid.cache_clear()  # each map is built once in real use: no identifier remembered from the last round
        return json.dumps(make())

    return once


def bundle(s: Settings) -> Iterator[Row]:
    from fhir.resources.R4B.bundle import Bundle

    from wb_fhir.fhir import transaction_bundle

    for size in (30, 150) if s.quick else (30, 150, 1000):
        wmap = network(size)
        ours = json.dumps(transaction_bundle(wmap))
        if ours != json.dumps(floor_bundle(wmap)):
            raise AssertionError(f"the floor's JSON differs from wb_fhir's for {size} connections: update floor.py")
        repeat = max(1, 300 // size) if not s.quick else 1
        rounds = 3 if s.quick else 9
        p = pair(
            process_cpu(_build(lambda wmap=wmap: transaction_bundle(wmap)), repeat),
            process_cpu(_build(lambda wmap=wmap: floor_bundle(wmap)), repeat),
            rounds,
        )
        yield Row(
            "bundle",
            f"Bundle of {size:,} connections + `json.dumps`, CPU",
            _ms(p.a),
            f"plain dicts, same JSON {_ms(p.b)}",
            _x(p.ratio),
            "<= 1.3x",
            p.ratio <= 1.3 if not s.quick else None,
        )
        if size <= 150:
            data = json.loads(ours)
            peer = pair(
                process_cpu(_build(lambda wmap=wmap: transaction_bundle(wmap)), 1),
                process_cpu(lambda data=data: Bundle.model_validate(data).model_dump_json(), 1),
                1 if s.quick else 3,
            )
            yield Row(
                "bundle",
                f"Bundle of {size:,} connections, CPU",
                _ms(peer.a),
                f"fhir.resources (R4B) models of it {_ms(peer.b)}",
                _x(peer.ratio),
            )


# --- load ---------------------------------------------------------------------------------------------


def load(s: Settings) -> Iterator[Row]:
    import yaml

    from wb_fhir.mapfile import load_map, save_map

    size = 150 if s.quick else 1000
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.yaml"
        save_map(network(size), path)
        text = path.read_text(encoding="utf-8")
        p = pair(
            process_cpu(lambda: load_map(path)),
            process_cpu(lambda: yaml.load(text, Loader=yaml.CSafeLoader)),
            3 if s.quick else 7,
        )
    yield Row(
        "load",
        f"`load_map` of {size:,} connections (YAML, every check), CPU",
        _ms(p.a),
        f"libyaml parse alone {_ms(p.b)}",
        _x(p.ratio),
    )


# --- push ------------------------------------------------------------------------------------------


class _People:
    """New test people on a shared, long-lived server (the push needs their Patient to exist)."""

    def __init__(self, base: str) -> None:
        import requests

        sys.path.insert(0, str(ROOT / "tests"))
        from strategies import random_nhs_number

        self.base, self._session, self._rng = base, requests.Session(), random.Random()
        self._number = random_nhs_number

    def new(self) -> str:
        from wb_fhir.terminology import NHS_NUMBER_SYSTEM

        nhs: str = self._number(self._rng)
        self._session.put(
            f"{self.base}/Patient",
            params={"identifier": f"{NHS_NUMBER_SYSTEM}|{nhs}"},
            json={"resourceType": "Patient", "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": nhs}]},
            headers=FHIR_JSON,
            timeout=120,
        ).raise_for_status()
        return nhs


def _figure1_bundle(nhs: str) -> dict[str, Any]:
    from wb_fhir.bundles import map_bundle
    from wb_fhir.mapfile import load_map

    wmap = load_map(FIGURE1)
    wmap = dataclasses.replace(wmap, subject=dataclasses.replace(wmap.subject, nhs_number=nhs), id="")
    return map_bundle(wmap, ())


@contextmanager
def _outbox() -> Iterator[Any]:
    from wb_fhir.sync import Outbox

    with tempfile.TemporaryDirectory() as folder, Outbox(Path(folder) / "outbox.sqlite") as box:
        yield box


def _raw_post(session: Any, base: str, bundle: dict[str, Any]) -> None:
    answer = session.post(base, data=json.dumps(bundle), headers=FHIR_JSON, timeout=300)
    answer.raise_for_status()
    answer.json()


def _fhirpy_push(client: Any, bundle: dict[str, Any], patient: str) -> None:
    """The map as fhirpy users write resources: one request each, references resolved as they are made."""
    made: dict[str, str] = {}

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "reference" and isinstance(value, str) and (value in made or value.startswith("Patient?")):
                    out[key] = made.get(value, patient)
                else:
                    out[key] = resolve(value)
            return out
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    waiting = list(bundle["entry"])
    while waiting:  # a resource goes once everything it points at is made
        ready = [e for e in waiting if all(r in made for r in _local_references(e["resource"]))]
        for entry in ready or waiting:
            data = resolve(entry["resource"])
            kind = data.pop("resourceType")
            resource = client.resource(kind, **data)
            resource.save()
            made[entry["fullUrl"]] = f"{kind}/{resource.id}"
            waiting.remove(entry)


def _local_references(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [v for k, v in node.items() if k == "reference" and isinstance(v, str) and v.startswith("urn:uuid:")]
        return found + [r for v in node.values() for r in _local_references(v)]
    if isinstance(node, list):
        return [r for v in node for r in _local_references(v)]
    return []


def push(s: Settings) -> Iterator[Row]:
    if not s.server:
        yield Row("push", "(no server: give --server URL to measure pushes)", "", "", "")
        return
    import requests
    from fhirpy import SyncFHIRClient

    from wb_fhir.sync import FhirClient

    base = s.server.rstrip("/")
    people = _People(base)
    client = FhirClient(base)
    session = requests.Session()

    # one map, in this process: store + guard + transaction + record, against a raw POST of the same Bundle
    def ours_one() -> float:
        return _push_one(client, people)

    def raw_one() -> float:
        bundle = _figure1_bundle(people.new())
        start = time.perf_counter()
        _raw_post(session, base, bundle)
        return time.perf_counter() - start

    one = pair(ours_one, raw_one, 2 if s.quick else 12)
    yield Row(
        "push",
        "push one map (figure 1) in process, wall",
        _ms(one.a),
        f"raw `requests.post` of its Bundle {_ms(one.b)}",
        _x(one.ratio),
        "<= 1.15x",
        one.ratio <= 1.15 if not s.quick else None,
    )

    peer = SyncFHIRClient(base)

    def fhirpy_one() -> float:
        nhs = people.new()
        bundle = _figure1_bundle(nhs)
        patient = session.get(f"{base}/Patient", params={"identifier": f"https://fhir.nhs.uk/Id/nhs-number|{nhs}"})
        start = time.perf_counter()
        _fhirpy_push(peer, bundle, f"Patient/{patient.json()['entry'][0]['resource']['id']}")
        return time.perf_counter() - start

    by_resource = pair(ours_one, fhirpy_one, 1 if s.quick else 3, warmup=0)
    yield Row(
        "push",
        f"push one map ({len(_figure1_bundle('9434765919')['entry'])} resources), wall",
        _ms(by_resource.a),
        f"fhirpy, one request per resource {_ms(by_resource.b)}",
        _x(by_resource.ratio),
    )

    far = _over_the_network(base, people, 2 if s.quick else 8)
    yield Row(
        "push",
        f"push one map, {LATENCY * 1000:g} ms added to every request (guard: one batch of searches), wall",
        _ms(far.a),
        f"guard: one search per type {_ms(far.b)}",
        _x(far.ratio),
    )

    maps = 4 if s.quick else 24
    for jobs in (1, 4):
        many = _many(base, people, maps, jobs, 1 if s.quick else 5)
        yield Row(
            "push",
            f"push {maps} maps, {jobs} at once: maps/s",
            f"{many.a:.2f}/s",
            f"raw loop, {jobs} at once {many.b:.2f}/s",
            f"{many.ratio:.2f} of raw",
            ">= 0.90 of raw",
            many.ratio >= 0.9 if not s.quick else None,
        )


def _push_one(client: FhirClient, people: _People) -> float:
    """Wall time of one new person's figure-1 map through the outbox: store, guard, transaction, record."""
    from wb_fhir.sync import flush

    bundle = _figure1_bundle(people.new())
    with _outbox() as box:
        start = time.perf_counter()
        box.store(bundle, map_id="m", map_date=None)
        report = flush(client, box)
        took = time.perf_counter() - start
    assert not report.failed, report.failed
    return took


LATENCY = 0.03
"""Seconds a proxy adds to every request: a server across a trust's network, not on loopback."""


def _over_the_network(base: str, people: _People, rounds: int) -> Pair:
    """Wall time of one map's push through a proxy adding :data:`LATENCY` to every request:
    the guard's searches in one batch (as wb_fhir sends them) against one search per type."""
    from urllib.parse import urlsplit

    from faultproxy import FaultProxy  # from tests/, on the path since _People

    from wb_fhir.sync import FhirClient

    with FaultProxy(urlsplit(base).port or 80, weights={"delay": 1.0}, delay=LATENCY, max_requests=100_000) as proxy:
        far = base.replace(f":{urlsplit(base).port}/", f":{proxy.port}/", 1)

        def push_one(batch: bool) -> Callable[[], float]:
            def measure() -> float:
                client = FhirClient(far)
                client._no_batch = not batch  # as a server that refuses batches is searched
                return _push_one(client, people)

            return measure

        return pair(push_one(True), push_one(False), rounds)


def _many(base: str, people: _People, maps: int, jobs: int, rounds: int) -> Pair:
    """Throughput (maps a second) of a flush of ``maps`` queued maps, and of a raw loop, both ``jobs`` at once."""
    import requests

    from wb_fhir.sync import FhirClient, flush

    def ours() -> float:
        bundles = [_figure1_bundle(people.new()) for _ in range(maps)]
        with _outbox() as box:
            for b in bundles:
                box.store(b, map_id="m", map_date=None)
            start = time.perf_counter()
            report = flush(FhirClient(base), box, jobs=jobs, connect=lambda: FhirClient(base))
            took = time.perf_counter() - start
        assert not report.failed and len(report.sent) == maps, report.failed
        return maps / took

    def raw() -> float:
        bundles = [_figure1_bundle(people.new()) for _ in range(maps)]
        local = threading.local()

        def send(bundle: dict[str, Any]) -> None:
            if not hasattr(local, "session"):
                local.session = requests.Session()
            _raw_post(local.session, base, bundle)

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(send, bundles))
        return maps / (time.perf_counter() - start)

    return pair(ours, raw, rounds, warmup=0)


# --- memory ------------------------------------------------------------------------------------------


def memory(s: Settings) -> Iterator[Row]:
    from wb_fhir.mapfile import save_map

    sizes = (50, 200) if s.quick else (1000, 10000)
    with tempfile.TemporaryDirectory() as folder:
        for count in sizes:
            maps = Path(folder) / str(count)
            maps.mkdir()
            for n in range(count):
                wmap = network(5, day=date(2000, 1, 1) + timedelta(days=n))
                save_map(wmap, maps / f"{n:05d}.json")
            done = run(
                [
                    *_wb_fhir(),
                    "push",
                    str(maps),
                    "--renderings",
                    "none",
                    "--outbox",
                    str(Path(folder) / f"{count}.sqlite"),
                ],
                env={"WB_FHIR_SERVER": ""},
            )
            if done.code != 0:
                raise RuntimeError(f"push of {count} maps exited {done.code}")
            yield Row(
                "memory",
                f"push {count:,} maps into the outbox (no server), peak memory",
                f"{done.peak_mb:.0f} MB ({_ms(done.wall)})",
                "",
                "",
                "< 150 MB",
                done.peak_mb < 150 if not s.quick else None,
            )
        if not s.quick:
            drawn = Path(folder) / "drawn"
            drawn.mkdir()
            for n in range(100):
                save_map(network(30, day=date(2000, 1, 1) + timedelta(days=n)), drawn / f"{n:05d}.json")
            done = run(
                [*_wb_fhir(), "push", str(drawn), "--outbox", str(Path(folder) / "drawn.sqlite")],
                env={"WB_FHIR_SERVER": ""},
            )
            yield Row(
                "memory",
                "push 100 maps of 30 connections drawn as SVG, PNG and PDF, peak memory",
                f"{done.peak_mb:.0f} MB ({_ms(done.wall)})",
                "",
                "",
                "< 150 MB",
                done.peak_mb < 150,
            )


# --- render ------------------------------------------------------------------------------------------


def _dot(wmap: Any) -> str:
    """The map's nodes and edges for Graphviz: the person in the middle, rings as ranks around them."""
    lines = ['digraph map { graph [root="me", ranksep=1.2, overlap=false]; node [shape=box, fontsize=10];']
    lines.append('  me [label="Me", shape=circle];')
    for c in wmap.connections:
        label = c.label.replace('"', "'")
        lines.append(f'  "{c.id}" [label="{label}"];')
        lines.append(f'  me -> "{c.id}" [style=invis, minlen={c.ring}];')
    lines.extend(f'  "{t.from_id}" -> "{t.to_id}" [dir=none, style=dashed];' for t in wmap.ties)
    lines.append("}")
    return "\n".join(lines)


def render(s: Settings) -> Iterator[Row]:
    from wb_fhir.render import render as draw

    twopi = shutil.which("twopi")
    size = 30 if s.quick else 150
    wmap = network(size)
    with tempfile.TemporaryDirectory() as folder:
        dot = Path(folder) / "map.dot"
        dot.write_text(_dot(wmap), encoding="utf-8")
        for fmt in ("svg", "png"):
            if twopi is None:
                yield Row("render", f"{fmt.upper()} of {size} connections", "", "(Graphviz twopi not installed)", "")
                continue
            p = pair(
                process_cpu(lambda fmt=fmt: draw(wmap, fmt)),
                cpu_of([twopi, f"-T{fmt}", str(dot), "-o", str(Path(folder) / f"out.{fmt}")]),
                2 if s.quick else 5,
            )
            yield Row(
                "render",
                f"{fmt.upper()} of {size} connections and {len(wmap.ties)} ties, CPU",
                _ms(p.a),
                f"Graphviz `twopi -T{fmt}`, same nodes and edges {_ms(p.b)}",
                _x(p.ratio),
            )
        big = 150 if s.quick else 1000
        code = (
            "import sys; sys.path.insert(0, sys.argv[1]); from benchmarks.maps import network; "
            "from wb_fhir.render import render; open(sys.argv[2], 'wb').write(render(network(int(sys.argv[3])), 'png'))"
        )
        png = Path(folder) / "big.png"
        done = run([sys.executable, "-c", code, str(ROOT), str(png), str(big)])
        width, height = _png_size(png) if done.code == 0 else (0, 0)
        yield Row(
            "render",
            f"PNG of {big:,} connections (own process), CPU",
            f"{_ms(done.cpu)}, {done.peak_mb:.0f} MB, {width:,} x {height:,} px",
            "",
            "",
            "<= 3 s",
            done.cpu <= 3 if not s.quick else None,
        )


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


# --- scale ---------------------------------------------------------------------------------------------


def scale(s: Settings) -> Iterator[Row]:
    size = 1000 if s.quick else 10000
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); from benchmarks.maps import network; "
        "from wb_fhir.fhir import transaction_bundle; wmap = network(int(sys.argv[2])); "
        "json.dumps(transaction_bundle(wmap))"
    )
    floor = code.replace("from wb_fhir.fhir import transaction_bundle", "from benchmarks.floor import floor_bundle")
    floor = floor.replace("transaction_bundle(wmap)", "floor_bundle(wmap)")
    ours, theirs = (
        run([sys.executable, "-c", code, str(ROOT), str(size)]),
        run([sys.executable, "-c", floor, str(ROOT), str(size)]),
    )
    yield Row(
        "scale",
        f"Bundle of {size:,} connections, whole process (start-up too), CPU and peak memory",
        f"{_ms(ours.cpu)}, {ours.peak_mb:.0f} MB",
        f"plain dicts {_ms(theirs.cpu)}, {theirs.peak_mb:.0f} MB",
        _x(ours.cpu / theirs.cpu),
    )


SECTIONS: dict[str, Callable[[Settings], Iterator[Row]]] = {
    "start-up": startup,
    "bundle": bundle,
    "load": load,
    "push": push,
    "memory": memory,
    "render": render,
    "scale": scale,
}
