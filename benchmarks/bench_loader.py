"""How long reading a map file takes: the loader before and after libyaml, side by side.

    PYTHONPATH=. python benchmarks/bench_loader.py [--repeat N] [--sizes 30,150,1000,2000]

For maps of 30 to 2,000 connections (each with ties, goals and milestones), prints the best
of N runs of:

- ``before``: the loader as it was (a subclass of PyYAML's pure-Python ``SafeLoader`` with a
  duplicate-key check), parsing only;
- ``libyaml``: today's parser, on libyaml's events, with every check (limits, aliases, keys);
- ``pure``: the same on the pure-Python parser (where libyaml is missing);
- ``CSafeLoader``: plain ``yaml.load`` with libyaml and no checks at all (the floor);
- ``load_map``: the whole of reading a file: parse, check (schema, rules) and build;

and the ratios: ``before/libyaml`` (the speed-up) and ``libyaml/CSafeLoader`` (what the checks cost).
Times are CPU time (steady on a busy machine), the variants taking turns.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from wb_fhir._mapread import parse_yaml
from wb_fhir.mapfile import load_map

KINDS = {"person": "friend", "place": "park", "activity": "hobby"}


def map_text(size: int) -> str:
    """A valid map of ``size`` connections, a tie for most of them, a goal per 20, as YAML text."""
    lines = ["subject: {nhs_number: '9434765919', display: Sam}", "date: 2026-01-15", "time_at_home: 60"]
    lines.append("connections:")
    kinds = list(KINDS)
    for n in range(size):
        kind = kinds[n % 3]
        lines.append(
            f"  - {{id: c{n}, kind: {kind}, label: 'Connection number {n}', category: {KINDS[kind]}, "
            f"ring: {1 + n % 3}, impact: positive, frequency: weekly, notes: 'Met at the allotment, {n}'}}"
        )
    ties = [f"  - {{from: c{n}, to: c{n + 3}, type: knows}}" for n in range(0, size - 3, 3)]
    if ties:
        lines += ["ties:", *ties]
    goals = [
        f"  - id: g{n}\n    description: Goal {n}\n    about: [c{n}]\n    status: active\n"
        f"    milestones:\n      - {{description: First step, due: 2026-03-01, done: false}}\n"
        f"      - {{description: Second step, due: 2026-05-01, done: false}}"
        for n in range(0, size, 20)
    ]
    if goals:
        lines += ["goals:", *goals]
    return "\n".join(lines) + "\n"


class _Before(yaml.SafeLoader):
    """The loader as it was before libyaml: pure-Python SafeLoader, dates as text, no duplicates."""


_Before.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: _Before, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_Before.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def interleaved_best_ms(runs: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Best CPU time of each, in ms; the variants take turns, so a busy moment hits all alike."""
    for fn in runs.values():
        fn()
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeat):
        for name, fn in runs.items():
            start = time.process_time()
            fn()
            best[name] = min(best[name], time.process_time() - start)
    return {name: seconds * 1000 for name, seconds in best.items()}


def bench(size: int, repeat: int, folder: Path) -> dict[str, float]:
    text = map_text(size)
    path = folder / f"map-{size}.yaml"
    path.write_text(text, encoding="utf-8")
    same = yaml.load(text, Loader=_Before)
    assert parse_yaml(text, "bench") == same == parse_yaml(text, "bench", libyaml=False)
    runs: dict[str, Callable[[], object]] = {
        "before": lambda: yaml.load(text, Loader=_Before),
        "libyaml": lambda: parse_yaml(text, "bench"),
        "pure": lambda: parse_yaml(text, "bench", libyaml=False),
        "CSafeLoader": lambda: yaml.load(text, Loader=yaml.CSafeLoader),
        "load_map": lambda: load_map(path),
    }
    return {**interleaved_best_ms(runs, repeat), "kB": len(text.encode("utf-8")) / 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sizes", default="30,150,1000,2000")
    args = parser.parse_args()
    libyaml = "yes" if yaml.__with_libyaml__ else "NO"
    print(f"PyYAML {yaml.__version__}, libyaml {libyaml}; best of {args.repeat}, CPU ms")
    print(
        f"{'connections':>11} {'kB':>6} {'before':>8} {'libyaml':>8} {'pure':>8} {'CSafeLoader':>11} "
        f"{'load_map':>8}  {'before/libyaml':>14} {'libyaml/CSafeLoader':>19}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            r = bench(size, args.repeat, Path(tmp))
            print(
                f"{size:>11} {r['kB']:>6.0f} {r['before']:>8.1f} {r['libyaml']:>8.1f} {r['pure']:>8.1f} "
                f"{r['CSafeLoader']:>11.1f} {r['load_map']:>8.1f}  {r['before'] / r['libyaml']:>13.1f}x "
                f"{r['libyaml'] / r['CSafeLoader']:>18.2f}x"
            )
    print(f"({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
