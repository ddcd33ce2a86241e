"""Hostile map files: never an internal error, never past the limits, never more than 500 MB.

Everything here runs in child processes under resource limits (address space, CPU time), so a
blow-up fails the test instead of taking the machine down:

- more than a thousand hypothesis-drawn hostile YAML and JSON documents through validate,
  load, render, bundle, the outbox, diff and the review summary (tests/hostile_worker.py);
- the largest map the loader accepts through validate, bundle, push (into the outbox) and diff,
  each in a process of its own, whose peak memory must stay under 500 MB;
- the alias bomb of the security probe, refused at once under a small memory limit.
"""

from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from wb_fhir import limits

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024
MEMORY_BUDGET_MB = 500
"""No command may need more than this for any map the loader accepts."""


def _limited(address_space_mb: int, cpu_seconds: int) -> Any:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (address_space_mb * MB, address_space_mb * MB))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))

    return apply


def run_limited(
    args: list[str], *, address_space_mb: int = 3000, cpu_seconds: int = 300, env: dict[str, str] | None = None
) -> tuple[int, str, str, float]:
    """Run a child under limits: its exit code, stdout, stderr and peak memory (MB)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(
            args,
            stdout=out,
            stderr=err,
            preexec_fn=_limited(address_space_mb, cpu_seconds),
            env={**os.environ, **(env or {})},
            cwd=ROOT,
        )
        # a guard against a child that sleeps; CPU time is limited by the child's own limit
        timer = threading.Timer(cpu_seconds * 4, child.kill)
        timer.start()
        try:
            # wait4, not Popen.wait: it gives the peak memory of exactly this child
            _pid, status, usage = os.wait4(child.pid, 0)
        finally:
            timer.cancel()
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    return child.returncode, stdout, stderr, usage.ru_maxrss / 1024


@pytest.mark.slow
def test_hostile_documents_through_every_command() -> None:
    seed = int(os.environ.get("WB_FHIR_HOSTILE_SEED", random.randrange(2**31)))
    examples = int(os.environ.get("WB_FHIR_HOSTILE_EXAMPLES", "1200"))
    print(f"hostile documents: seed {seed} (set WB_FHIR_HOSTILE_SEED={seed} to run these again)")
    code, stdout, stderr, _ = run_limited(
        [sys.executable, "tests/hostile_worker.py", "--examples", str(examples), "--seed", str(seed)],
        address_space_mb=3000,
        cpu_seconds=900,
    )
    assert code == 0, f"seed {seed}\n{stdout[-5000:]}\n{stderr[-20000:]}"
    summary = json.loads(stdout.strip().splitlines()[-1])
    assert summary["documents"] >= examples
    assert summary["refused"] >= examples // 2
    assert summary["accepted"] >= examples // 20
    assert summary["peak_rss_mb"] < MEMORY_BUDGET_MB, summary


# --- the largest map the loader accepts --------------------------------------------------


def largest_map(day: int) -> dict[str, Any]:
    """A map at every limit at once (counts), with long text in every place, under 5 MB."""
    label = ("Wé😀 " * 50)[: limits.MAX_NAME]
    n = limits.MAX_CONNECTIONS
    kinds = [("person", "friend"), ("place", "park"), ("activity", "hobby")]
    connections = [
        {
            "id": f"c{i}",
            "kind": kinds[i % 3][0],
            "label": f"{i} {label}"[: limits.MAX_NAME],
            "category": kinds[i % 3][1],
            "ring": 1 + i % 6,
            "impact": "positive",
            "frequency": "weekly",
            "notes": "n" * 1_000,
        }
        for i in range(n)
    ]
    people = range(0, n, 3)  # ties of type "supports" go from a person to anything
    ties = [{"from": f"c{i}", "to": f"c{(i + step) % n}", "type": "supports"} for i in people for step in range(1, 7)]
    ties = ties[: limits.MAX_TIES]
    goals = [
        {
            "id": f"g{g}",
            "description": "d" * 200,
            "about": [f"c{(g * 7 + k) % n}" for k in range(limits.MAX_GOAL_ITEMS)],
            "supporters": [f"c{(g * 3 + 3 * k) % n}" for k in range(10)],
            "resources": ["r" * 20] * 5,
            "milestones": [{"id": f"m{k}", "description": "m" * 50, "done": False} for k in range(10)],
            "notes": ["note"] * 5,
        }
        for g in range(limits.MAX_GOALS)
    ]
    signposts = [{"asset": f"asset-{s}", "reason": f"c{s}", "note": "s" * 100} for s in range(limits.MAX_SIGNPOSTS)]
    return {
        "subject": {"nhs_number": "9434765919", "display": label},
        "date": f"2026-01-{day:02d}",
        "practitioners": [{"display": label, "role": label} for _ in range(limits.MAX_PRACTITIONERS)],
        "time_at_home": 60,
        "rings": [label] * limits.MAX_RINGS,
        "connections": connections,
        "ties": ties,
        "goals": goals,
        "signposts": signposts,
        "reflections": "r" * limits.MAX_REFLECTIONS,
    }


@pytest.fixture(scope="module")
def largest(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("largest")
    paths = []
    for day in (1, 2):
        path = folder / f"largest-{day}.yaml"
        text = yaml.dump(largest_map(day), Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), allow_unicode=True)
        path.write_text(text, encoding="utf-8")
        assert len(text.encode("utf-8")) <= limits.MAX_FILE_BYTES
        paths.append(path)
    return paths[0], paths[1]


def test_the_largest_map_is_at_the_limits(largest: tuple[Path, Path]) -> None:
    from wb_fhir.mapfile import load_map

    wmap = load_map(largest[0])
    assert len(wmap.connections) == limits.MAX_CONNECTIONS
    assert len(wmap.ties) == limits.MAX_TIES
    assert len(wmap.goals) == limits.MAX_GOALS
    assert len(wmap.signposts) == limits.MAX_SIGNPOSTS
    assert len(wmap.practitioners) == limits.MAX_PRACTITIONERS
    assert len(wmap.rings) == limits.MAX_RINGS
    assert max(len(c.label) for c in wmap.connections) == limits.MAX_NAME


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        ["validate", "{a}"],
        ["bundle", "{a}", "--no-renderings", "-o", "{out}/bundle.json"],
        ["push", "{a}", "--no-renderings", "--outbox", "{out}/outbox.sqlite"],
        ["diff", "{a}", "{b}"],
    ],
    ids=lambda c: c[0],
)
def test_the_largest_map_through_a_command_stays_under_500_mb(
    command: list[str], largest: tuple[Path, Path], tmp_path: Path
) -> None:
    a, b = largest
    args = [part.format(a=a, b=b, out=tmp_path) for part in command]
    code, _stdout, stderr, peak = run_limited(
        [sys.executable, "-m", "wb_fhir", *args], env={"WB_FHIR_SERVER": "", "WB_FHIR_OUTBOX": ""}
    )
    assert code == 0, stderr[-3000:]
    assert "internal error" not in stderr
    print(f"wb-fhir {command[0]} of the largest map: peak {peak:.0f} MB")
    assert peak < MEMORY_BUDGET_MB, f"wb-fhir {command[0]} took {peak:.0f} MB"


@pytest.mark.slow
def test_the_largest_map_back_from_its_bundle_stays_under_500_mb(largest: tuple[Path, Path], tmp_path: Path) -> None:
    bundle, back = tmp_path / "bundle.json", tmp_path / "back.yaml"
    code, _stdout, stderr, _peak = run_limited(
        [sys.executable, "-m", "wb_fhir", "bundle", str(largest[0]), "--no-renderings", "-o", str(bundle)]
    )
    assert code == 0, stderr
    code, _stdout, stderr, peak = run_limited(
        [sys.executable, "-m", "wb_fhir", "extract", str(bundle), "-o", str(back)]
    )
    assert code == 0, stderr[-3000:]
    print(f"wb-fhir extract of the largest map's bundle: peak {peak:.0f} MB")
    assert peak < MEMORY_BUDGET_MB
    from wb_fhir.mapfile import load_map

    assert load_map(back) == load_map(largest[0])


def test_the_alias_bomb_is_refused_at_once_in_little_memory(tmp_path: Path) -> None:
    levels = ["      - &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"      - &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, 9)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(
        'subject: {nhs_number: "9434765919"}\ndate: 2026-01-01\ngoals:\n  - id: g\n    description: x\n    about:\n'
        + "\n".join(levels)
        + "\n",
        encoding="utf-8",
    )
    for command in (["validate", str(bomb)], ["bundle", str(bomb), "-o", str(tmp_path / "b.json")]):
        code, _stdout, stderr, peak = run_limited(
            [sys.executable, "-m", "wb_fhir", *command], address_space_mb=1500, cpu_seconds=60
        )
        assert code == 2, stderr
        assert "the file holds more than 250,000 values (an alias counts each time it is used)" in stderr
        assert peak < 200
