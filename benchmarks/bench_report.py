"""How long `wb-fhir report` takes on DuckDB, and how much memory, for 10,000 and 100,000 maps.

    python benchmarks/bench_report.py [--maps 10000 100000] [--cache DIR] [--engine duckdb]

Generates the caseload once (tests/population.py: realistic maps, as a Bulk Data export of
QuestionnaireResponses and Patients, cached in DIR), then runs the command as a user would,
in a child process, and prints wall time, peak memory (RSS of the child) and the ratio of each
size to the smallest. Target: 100,000 maps in under a minute with bounded memory.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from population import population, write_bulk_export  # noqa: E402


def caseload(maps: int, cache: Path) -> list[Path]:
    """NDJSON of about ``maps`` maps (people with one to three maps each), made once."""
    folder = cache / f"caseload-{maps}"
    done = folder / "done"
    if not done.exists():
        start = time.perf_counter()
        rng = random.Random(maps)
        people = []
        count = 0
        while count < maps:
            batch = population(1000, rng=rng)
            people.extend(batch)
            count += sum(len(p.maps) for p in batch)
        flat = [m for p in people for m in p.maps][:maps]
        write_bulk_export(flat, folder)
        done.write_text(str(len(flat)))
        print(f"  generated {len(flat)} maps in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return [folder / "QuestionnaireResponse.ndjson", folder / "Patient.ndjson"]


def run(files: list[Path], engine: str) -> tuple[float, float, dict[str, object]]:
    """Seconds, peak RSS in MB of the child, and the report."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "wb_fhir", "report", *map(str, files), "--engine", engine, "--json"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "WB_FHIR_SERVER": ""},
    )
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--maps", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/wb-fhir-bench-report"))
    parser.add_argument("--engine", default="duckdb")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    rows = []
    for maps in args.maps:
        files = caseload(maps, args.cache)
        size = sum(f.stat().st_size for f in files) / 1e6
        seconds, peak, report = run(files, args.engine)
        rows.append((maps, size, seconds, peak, report["people"]))
    base = rows[0]
    print(f"wb-fhir report --engine {args.engine}, Bulk Data NDJSON in, JSON out")
    print(f"{'maps':>8} {'people':>7} {'NDJSON MB':>10} {'seconds':>8} {'peak MB':>8} {'maps/s':>8}  ratio")
    for maps, size, seconds, peak, people in rows:
        print(
            f"{maps:>8} {people!s:>7} {size:>10.0f} {seconds:>8.1f} {peak:>8.0f} {maps / seconds:>8.0f}"
            f"  x{seconds / base[2]:.1f} time for x{maps / base[0]:.0f} maps"
        )


if __name__ == "__main__":
    main()
