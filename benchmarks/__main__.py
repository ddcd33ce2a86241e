"""``python -m benchmarks``: wb_fhir side by side with its references, one table of ratios.

    python -m benchmarks [--quick] [--server URL | WB_FHIR_TEST_SERVER] [--only SECTION ...] [--readme README.md]

Sections (:mod:`benchmarks.suite`): start-up, bundle, load, push (needs a FHIR server, whose
Patients it adds: use a test server), memory, render, scale. ``--quick`` measures small sizes
a few times and judges nothing (CI runs it so the suite never rots); the full run takes a few
minutes and says, for each goal, whether it is met. ``--readme`` also writes the table, with the
machine it ran on, into README.md between the benchmark markers. The other scripts of this folder
(bench_render, bench_report, bench_assets, bench_web) follow the table in a full run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from benchmarks._measure import machine
from benchmarks.suite import ROOT, SECTIONS, Row, Settings

START = "<!-- benchmarks:start (python -m benchmarks --readme README.md) -->"
END = "<!-- benchmarks:end -->"
SCRIPTS = {
    "bench_render.py": ["--repeat", "3"],
    "bench_assets.py": ["--repeat", "3"],
    "bench_web.py": ["--repeat", "3"],
    "bench_report.py": ["--maps", "1000", "10000"],
}
"""The older scripts of this folder, and the arguments that keep each to a minute or so."""


def table(rows: list[Row], quick: bool) -> str:
    head = "| section | what | wb_fhir | compared with | ratio | goal |"
    lines = [head, "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        verdict = "" if r.met is None else (" (met)" if r.met else " (**not met**)")
        goal = f"{r.goal}{verdict}" if r.goal and not quick else r.goal
        lines.append(f"| {r.section} | {r.what} | {r.ours} | {r.reference} | {r.ratio} | {goal} |")
    return "\n".join(lines)


def write_readme(path: Path, text: str) -> None:
    readme = path.read_text(encoding="utf-8")
    head, start, rest = readme.partition(START)
    _, end, tail = rest.partition(END)
    if not (start and end):
        raise SystemExit(f"{path} has no benchmark markers ({START} ... {END})")
    path.write_text(f"{head}{START}\n{text}\n{END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few rounds, no goals judged")
    parser.add_argument("--server", default=os.environ.get("WB_FHIR_TEST_SERVER"), help="a test FHIR server")
    parser.add_argument("--only", nargs="+", choices=sorted(SECTIONS), help="only these sections")
    parser.add_argument("--readme", type=Path, help="also write the table into this README")
    args = parser.parse_args()
    settings = Settings(quick=args.quick, server=args.server)
    rows: list[Row] = []
    for name in args.only or SECTIONS:
        print(f"measuring {name}...", file=sys.stderr, flush=True)
        rows.extend(SECTIONS[name](settings))
    mode = "quick run: small sizes, no goals judged" if args.quick else "full run"
    text = (
        f"Measured {machine()} ({mode}). The machine is shared with other work: start-up and in-process "
        "figures are CPU time, compared things run in turn and the median of the pairs' ratios is given; "
        "pushes are wall time against a FHIR test server (HAPI FHIR JPA) on the same machine.\n\n"
        + table(rows, args.quick)
    )
    print(text)
    if args.readme:
        write_readme(args.readme, text)
    if not args.quick and not args.only:
        for script, extra in SCRIPTS.items():
            print(f"\n### benchmarks/{script}\n", flush=True)
            subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *extra], cwd=ROOT, check=False)


if __name__ == "__main__":
    main()
