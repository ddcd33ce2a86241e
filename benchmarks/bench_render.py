"""How long drawing a map takes: SVG, PNG and PDF side by side, for 30 and 150 connections.

    PYTHONPATH=. python benchmarks/bench_render.py [--repeat N]

Prints the best of N runs (after one warm-up that compiles the template) and the ratio of
each format to SVG. Targets: 30 connections well under 50 ms for SVG, 300 ms for PNG and PDF.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from wb_fhir.model import WellbeingMap
from wb_fhir.render import describe, layout_map, render_pdf, render_png, render_svg
from wb_fhir.render.samples import generated_map


def best_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def bench(wmap: WellbeingMap, repeat: int) -> None:
    rows = {
        "layout": best_ms(lambda: layout_map(wmap), repeat),
        "describe": best_ms(lambda: describe(wmap), repeat),
        "SVG": best_ms(lambda: render_svg(wmap), repeat),
        "PNG": best_ms(lambda: render_png(wmap), repeat),
        "PDF": best_ms(lambda: render_pdf(wmap), repeat),
    }
    print(f"{len(wmap.connections)} connections, {len(wmap.ties)} ties")
    for name, ms in rows.items():
        print(f"  {name:<9} {ms:8.1f} ms   x{ms / rows['SVG']:.2f} of SVG")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    for size in (30, 150):
        bench(generated_map(size), args.repeat)


if __name__ == "__main__":
    main()
