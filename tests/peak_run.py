"""Run Python code under resource limits and write its peak resident memory: a child process's tool.

    python tests/peak_run.py REPORT AS_MB CPU_S -m MODULE ARGS...
    python tests/peak_run.py REPORT AS_MB CPU_S SCRIPT.py ARGS...

The peak is this process's own high-water mark (``VmHWM``), read at the end. ``ru_maxrss`` of a
child will not do: a child forked from a large test process starts with the parent's resident size
as its maximum, and keeps it across ``exec``.
"""

from __future__ import annotations

import json
import resource
import runpy
import sys

MB = 1024 * 1024


def peak_mb() -> float:
    """The peak resident memory of this process so far, in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # no /proc: the best there is


def main() -> None:
    report, address_space_mb, cpu_seconds, *rest = sys.argv[1:]
    resource.setrlimit(resource.RLIMIT_AS, (int(address_space_mb) * MB,) * 2)
    resource.setrlimit(resource.RLIMIT_CPU, (int(cpu_seconds),) * 2)
    code: object = 0
    try:
        if rest[0] == "-m":
            sys.argv = [rest[1], *rest[2:]]
            runpy.run_module(rest[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = rest
            runpy.run_path(rest[0], run_name="__main__")
    except SystemExit as exc:
        code = exc.code
    except MemoryError:
        code = "MemoryError"
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        with open(report, "w", encoding="utf-8") as f:
            json.dump({"code": code, "peak_mb": peak_mb()}, f)
    sys.exit(code if isinstance(code, int) else 1)


if __name__ == "__main__":
    main()
