"""How fast the editor answers: each edit is a preview (check + draw), each save a check + store.

    PYTHONPATH=. python benchmarks/bench_web.py [--repeat N]

Through the whole app in-process (the guard, CSRF, JSON, the store), for Figure 1 and for a
map of 150 connections; prints the best of N runs of each request, side by side with the
library's own ``map_from_data`` + ``render_svg`` for the same map (the app's overhead as a ratio).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from wb_fhir import load_map, map_from_data, map_to_data
from wb_fhir.render import render_svg
from wb_fhir.web import WebConfig, create_app

ROOT = Path(__file__).resolve().parent.parent
KINDS = [("person", "friend"), ("place", "community"), ("activity", "hobby")]


def big_map(n: int) -> dict[str, Any]:
    data = map_to_data(load_map(ROOT / "examples" / "figure1.yaml"))
    data["connections"] = [
        {
            "id": f"c{i}",
            "kind": KINDS[i % 3][0],
            "label": f"Connection number {i}",
            "category": KINDS[i % 3][1],
            "ring": 1 + i % 3,
            "impact": "positive",
        }
        for i in range(n)
    ]
    data["ties"] = [{"from": f"c{i}", "to": f"c{i + 3}", "type": "knows"} for i in range(0, min(n - 3, 150), 9)]
    data.pop("goals", None)
    data.pop("signposts", None)
    return data


def best_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    repeat = parser.parse_args().repeat
    with tempfile.TemporaryDirectory() as tmp:
        client = TestClient(create_app(WebConfig(store_path=Path(tmp) / "maps.sqlite")), base_url="http://127.0.0.1")
        home = client.get("/").text
        token = home.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        headers = {"X-CSRF-Token": token}
        record = client.post("/maps/new", data={"csrf_token": token}, follow_redirects=False).headers["location"]
        record = record.rsplit("/", 1)[1]
        for name, data in (
            ("Figure 1 (10 connections)", map_to_data(load_map(ROOT / "examples" / "figure1.yaml"))),
            ("150 connections", big_map(150)),
        ):
            body = {"data": data, "rev": 1}
            library = best_ms(lambda d=data: render_svg(map_from_data(d)), repeat)
            rows = {
                "library check + SVG": library,
                "POST /api/preview": best_ms(
                    lambda b=body: client.post("/api/preview", json=b, headers=headers), repeat
                ),
                "PUT draft (autosave)": best_ms(
                    lambda b=body: client.put(f"/api/maps/{record}/draft", json=b, headers=headers), repeat
                ),
                "POST save": best_ms(
                    lambda b=body: client.post(f"/api/maps/{record}/save", json=b, headers=headers), repeat
                ),
            }
            print(name)
            for label, ms in rows.items():
                print(f"  {label:<22} {ms:8.1f} ms   x{ms / library:.2f} of the library")


if __name__ == "__main__":
    main()
