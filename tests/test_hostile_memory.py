"""A 1.5 GB answer is refused at the cap, with memory to match: measured in a subprocess with a limit.

The command runs in a child process whose address space is limited (``RLIMIT_AS``), so a client
that read the answer whole would fail there rather than take the machine's memory; the child
reports its peak resident memory (``ru_maxrss``), printed here as a figure and bounded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hostile_servers import Exchange, HostileServer, zeros

MIB = 1024 * 1024
HUGE = 1536 * MIB
ADDRESS_SPACE = 2048 * MIB
"""The child's limit: far below what reading 1.5 GB would take (five copies, 1.6 GB resident and more)."""
PROBE = """
import json, resource, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from wb_fhir.cli import main
code = 0
try:
    main(sys.argv[3:], standalone_mode=True)
except SystemExit as exc:
    code = exc.code
except MemoryError:
    code = "MemoryError"
with open(sys.argv[2], "w") as f:
    json.dump({"code": code, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}, f)
"""


def probe(tmp_path: Path, args: list[str]) -> tuple[dict[str, object], str]:
    out = tmp_path / "probe.json"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(ADDRESS_SPACE), str(out), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return json.loads(out.read_text()), done.stderr


def huge_search(ex: Exchange) -> None:
    ex.stream(200, zeros(HUGE))  # no Content-Length: the client must count what arrives


def test_pull_against_a_one_and_a_half_gigabyte_answer_stays_small(tmp_path: Path) -> None:
    with HostileServer(huge_search, limit=120) as server:
        base = ["pull", "--patient", "9434765919", "-o", str(tmp_path / "out"), "--server", server.url + "/fhir"]
        result, stderr = probe(tmp_path, [*base, "--outbox", str(tmp_path / "o.sqlite")])
    print(f"\npull against a {HUGE // MIB} MB answer: exit {result['code']}, peak {result['peak_mb']:.0f} MB resident")
    assert result["code"] == 1, stderr
    assert "larger than the cap of 64 MB on one answer" in stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    assert float(str(result["peak_mb"])) < 400  # the cap (64 MB), a copy, and the interpreter: not 1.6 GB
