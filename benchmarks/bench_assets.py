"""How long the asset bank takes: ORUK import, merge, search, suggestions, FHIR, for 36 and 1,800 services.

    PYTHONPATH=. python benchmarks/bench_assets.py [--repeat N] [--server URL]

The test sample (36 services, tests/data/oruk/services.json) and the same services 50 times over
under other ids (1,800, a large county directory). Prints the best of N runs of each step and its
ratio to reading the ORUK JSON. With --server, also a first and a second (idempotent) upload of
the 36 services and a search near a point, each once, under a fresh prefix.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from wb_fhir.assets import AssetDirectory, load_assets
from wb_fhir.assets.merge import merge_import
from wb_fhir.assets.oruk import ORUK, assets_from_oruk_json, read_oruk
from wb_fhir.assets.search import Query, search
from wb_fhir.assets.suggest import suggest
from wb_fhir.fhir.assets import asset_transaction
from wb_fhir.mapfile import load_map
from wb_fhir.terminology import AssetCategory

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "oruk" / "services.json"


def best_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def scaled(copies: int) -> dict[str, object]:
    page = json.loads(SAMPLE.read_text(encoding="utf-8"))
    services = []
    for n in range(copies):
        for s in page["contents"]:
            services.append({**s, "id": f"{s['id']}-{n}"})
    return {**page, "contents": services, "total_items": len(services)}


def bench(copies: int, repeat: int) -> None:
    data = scaled(copies)
    assets = assets_from_oruk_json(data).assets
    once = merge_import(AssetDirectory(()), assets, system=ORUK, prefix="oruk").directory
    wmap = load_map(ROOT / "examples" / "diverse-network.yaml")
    local = list(load_assets(ROOT / "examples" / "assets.yaml"))
    rows = {
        "read ORUK JSON": best_ms(lambda: assets_from_oruk_json(data), repeat),
        "merge (all unchanged)": best_ms(lambda: merge_import(once, assets, system=ORUK, prefix="oruk"), repeat),
        "search: category": best_ms(lambda: search(assets, Query(category=AssetCategory.NATURE)), repeat),
        "search: words": best_ms(lambda: search(assets, Query(text="peer support")), repeat),
        "search: 2 km of a point": best_ms(lambda: search(assets, Query(near=(50.3715, -4.1427), within_km=2)), repeat),
        "suggest (diverse-network)": best_ms(lambda: suggest(wmap, [*local, *assets]), repeat),
        "FHIR transaction": best_ms(lambda: asset_transaction(assets), repeat),
    }
    base = rows["read ORUK JSON"]
    print(f"{len(assets)} services")
    for name, ms in rows.items():
        print(f"  {name:<27} {ms:9.1f} ms   x{ms / base:.2f} of reading")


def bench_server(base_url: str) -> None:
    from wb_fhir.assets.server import search_server, upload_import
    from wb_fhir.sync.client import FhirClient

    client = FhirClient(base_url)
    prefix = f"bench{random.randrange(10**9)}"
    assets = read_oruk(SAMPLE, prefix=prefix).assets
    timings = {}
    for name in ("first upload (36 created)", "second upload (nothing to write)"):
        start = time.perf_counter()
        upload_import(client, assets, prefix=prefix, recorded=datetime.now(UTC), source=SAMPLE.name)
        timings[name] = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    search_server(client, Query(near=(50.3715, -4.1427), within_km=1))
    timings["search within 1 km (near)"] = (time.perf_counter() - start) * 1000
    first = timings["first upload (36 created)"]
    print(f"server {base_url}")
    for name, ms in timings.items():
        print(f"  {name:<33} {ms:9.1f} ms   x{ms / first:.2f} of the first upload")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--server", help="FHIR server base URL for the upload and search figures.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory():
        for copies in (1, 50):
            bench(copies, args.repeat)
    if args.server:
        bench_server(args.server)


if __name__ == "__main__":
    main()
