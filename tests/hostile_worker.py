"""Hostile map files through every command, in a process of its own (run by test_hostile_input.py).

    python tests/hostile_worker.py --examples 1200 --seed 1234

Hypothesis draws YAML and JSON documents of every hostile kind: nesting, alias bombs, odd
scalars (YAML 1.1 numbers, NaN, huge numbers), odd keys (lists, mappings, dates, numbers),
huge values, lone surrogates, control characters, BOMs, other and mixed encodings, and
valid maps with one or more hostile values put in. Each goes through `wb-fhir validate` (in
process) and `load_map`: the only outcomes allowed are a map or an InputError whose messages
are short, printable lines. Each map accepted goes on through everything else a user can do
with it (SVG and, for some, PNG; the transaction Bundle and back; the outbox; diff; the review
summary; saving and loading again) and must stay within the limits.

The parent test runs this under resource limits (address space, CPU time), so a blow-up fails
the test instead of the machine, and checks the summary printed last (JSON on one line).
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import signal
import sys
import tempfile
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hostile import documents
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed

from wb_fhir import limits
from wb_fhir.cli import main as cli
from wb_fhir.errors import InputError
from wb_fhir.fhir import extract_map, questionnaire_response_of, transaction_bundle
from wb_fhir.mapfile import dumps_map, load_map, map_from_data, parse_text
from wb_fhir.model import WellbeingMap
from wb_fhir.render import render_png, render_svg
from wb_fhir.review.carry import carry_forward
from wb_fhir.review.compare import compare_pair
from wb_fhir.review.summary import review_html
from wb_fhir.review.text import format_changes
from wb_fhir.sync.outbox import Outbox

SECONDS_PER_DOCUMENT = 60
"""A guard against a hang, not a speed test: far above what any document takes."""

TALLY: Counter[str] = Counter()
FOLDER = Path(tempfile.mkdtemp(prefix="wb-fhir-hostile-"))
_SAFE_MESSAGE = re.compile(r"[^\x00-\x1f\x7f-\x9f]{1,600}")

# --- what must hold ---------------------------------------------------------------------


def _within_limits(wmap: WellbeingMap) -> None:
    assert len(wmap.connections) <= limits.MAX_CONNECTIONS
    assert len(wmap.ties) <= limits.MAX_TIES
    assert len(wmap.goals) <= limits.MAX_GOALS
    assert len(wmap.signposts) <= limits.MAX_SIGNPOSTS
    assert len(wmap.practitioners) <= limits.MAX_PRACTITIONERS
    assert 1 <= len(wmap.rings) <= limits.MAX_RINGS
    assert all(len(c.label) <= limits.MAX_NAME and type(c.ring) is int for c in wmap.connections)
    assert wmap.time_at_home is None or type(wmap.time_at_home) is int


def _refused_well(exc: InputError) -> None:
    assert 1 <= len(exc.problems) <= limits.MAX_PROBLEMS + 1
    for problem in exc.problems:
        assert _SAFE_MESSAGE.fullmatch(str(problem)), repr(str(problem))


def _everything_else(wmap: WellbeingMap, n: int) -> None:
    """Everything a user can do with an accepted map must work."""
    _within_limits(wmap)
    svg = render_svg(wmap)
    assert svg.startswith("<svg") or svg.startswith("<?xml")
    if n % 15 == 0:
        assert render_png(wmap).startswith(b"\x89PNG")
    bundle = transaction_bundle(wmap)
    json.dumps(bundle, ensure_ascii=False).encode("utf-8")
    assert extract_map(questionnaire_response_of(bundle)).map == wmap
    with Outbox(FOLDER / f"outbox-{n}.sqlite") as outbox:
        outbox.add(bundle, map_id=wmap.id, map_date=wmap.date.isoformat())
        assert len(outbox.pending()) == 1
    (FOLDER / f"outbox-{n}.sqlite").unlink()
    format_changes(compare_pair(wmap, wmap))
    if wmap.date < date.max:
        later = wmap.date + timedelta(days=1)
        assert carry_forward(wmap, later).map.date == later
    review_html([wmap, wmap])
    for fmt in ("yaml", "json"):
        assert map_from_data(parse_text(dumps_map(wmap, fmt), "again", fmt=fmt)) == wmap


def _timeout(_signum: int, _frame: Any) -> None:
    raise TimeoutError(f"one document took more than {SECONDS_PER_DOCUMENT} s")


def check(document: tuple[bytes, str]) -> None:
    raw, suffix = document
    n = sum(TALLY.values())
    path = FOLDER / f"doc-{n}{suffix}"
    path.write_bytes(raw)
    signal.alarm(SECONDS_PER_DOCUMENT)
    try:
        result = CliRunner().invoke(cli, ["validate", str(path)], catch_exceptions=False)
        assert result.exit_code in (0, 2), result.output
        assert "internal error" not in result.stderr and "Traceback" not in result.stderr, result.stderr
        try:
            wmap = load_map(path)
        except InputError as exc:
            assert result.exit_code == 2, (result.stdout, str(exc))
            _refused_well(exc)
            TALLY["refused"] += 1
            return
        assert result.exit_code == 0, result.stderr
        _everything_else(wmap, n)
        TALLY["accepted"] += 1
    finally:
        signal.alarm(0)
        path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, _timeout)

    @hypothesis_seed(args.seed)
    @settings(
        max_examples=args.examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )
    @given(documents())
    def run(document: tuple[bytes, str]) -> None:
        check(document)

    run()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"documents": sum(TALLY.values()), **TALLY, "peak_rss_mb": round(peak_mb)}))


if __name__ == "__main__":
    sys.setrecursionlimit(1000)
    main()
