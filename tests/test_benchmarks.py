"""The benchmark suite runs (quick: small sizes, nothing judged) and prints its table: it never rots."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_quick_benchmark_prints_one_table_of_every_section(fhir_server):
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--server", fhir_server],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Measured ") and "quick run" in lines[0] and "cores" in lines[0]
    rows = [line.split(" | ") for line in lines if line.startswith("| ") and not line.startswith("| ---")]
    assert rows[0][0] == "| section"
    sections = {row[0].strip("| ") for row in rows[1:]}
    assert sections == {"start-up", "bundle", "load", "push", "memory", "render", "scale"}
    for row in rows[1:]:
        assert row[2].strip(), row  # every row has a figure...
        assert "met" not in row[-1]  # ...and a quick run judges none
    ratios = [row[4] for row in rows[1:] if row[4].strip()]
    assert len(ratios) >= 10 and all(r.strip().endswith(("x", "of raw")) for r in ratios)
