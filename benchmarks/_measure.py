"""How the suite measures: CPU time of whole processes, interleaved pairs, medians, peak memory, the machine.

A shared machine makes wall time noisy: start-up and in-process figures are CPU time (user +
system, from the operating system's own accounting of each finished process, ``os.wait4``), and
two things compared run in turn, A B A B ..., the ratio taken pair by pair and its median quoted,
so a comparison holds while the machine's speed drifts. What waits on a server is wall time.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class Run:
    """One finished process: CPU and wall seconds, peak memory (MB), exit code."""

    cpu: float
    wall: float
    peak_mb: float
    code: int


# A small process starts the command and reports its accounting: a process forked from this one
# (grown large by the suite) would count this one's memory in its peak, even after exec.
_LAUNCHER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(json.dumps([usage.ru_utime + usage.ru_stime, time.perf_counter() - start, usage.ru_maxrss / 1024,
                  os.waitstatus_to_exitcode(status)]))
"""


def run(cmd: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> Run:
    """Run a command to its end (output thrown away) and read its accounting."""
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, *cmd],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        check=True,
    )
    cpu, wall, peak, code = json.loads(done.stdout)
    return Run(cpu=cpu, wall=wall, peak_mb=peak, code=code)


@dataclass(frozen=True)
class Pair:
    """Two things measured in turn: the median of each, and the median of the ratios pair by pair."""

    a: float
    b: float
    ratio: float


def pair(measure_a: Callable[[], float], measure_b: Callable[[], float], rounds: int, warmup: int = 1) -> Pair:
    """``rounds`` pairs A, B (B first every other round), after ``warmup`` unmeasured ones."""
    for _ in range(warmup):
        measure_a()
        measure_b()
    a_s, b_s, ratios = [], [], []
    for n in range(rounds):
        if n % 2:
            b, a = measure_b(), measure_a()
        else:
            a, b = measure_a(), measure_b()
        a_s.append(a)
        b_s.append(b)
        ratios.append(a / b if b else float("inf"))
    return Pair(statistics.median(a_s), statistics.median(b_s), statistics.median(ratios))


def cpu_of(cmd: Sequence[str], **kw: object) -> Callable[[], float]:
    """A measure: the CPU seconds of one run of the command (which must succeed)."""

    def measure() -> float:
        done = run(cmd, **kw)  # type: ignore[arg-type]
        if done.code != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {done.code}")
        return done.cpu

    return measure


def process_cpu(fn: Callable[[], object], repeat: int = 1) -> Callable[[], float]:
    """A measure: the best CPU seconds of ``repeat`` calls in this process."""

    def measure() -> float:
        best = float("inf")
        for _ in range(repeat):
            start = time.process_time()
            fn()
            best = min(best, time.process_time() - start)
        return best

    return measure


def machine() -> str:
    """The machine the figures come from, and how busy it was."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {model}, {os.cpu_count()} cores, load average {load}; "
        f"Python {sys.version.split()[0]} on {platform.system()} {platform.release()}"
    )
