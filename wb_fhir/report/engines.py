"""Choosing an engine, loading a dataset into it, and measuring the population."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from wb_fhir.errors import InputError
from wb_fhir.report.dataset import Dataset
from wb_fhir.report.measures import PopulationMeasures, compute

ENGINES = ("duckdb", "spark")


class LoadedEngine(Protocol):
    """An engine with the flat tables of :mod:`wb_fhir.report.tables` loaded."""

    name: str

    def load(self, dataset: Dataset) -> None: ...

    def query(self, sql: str) -> list[tuple[Any, ...]]: ...

    def materialize(self, name: str, sql: str) -> None: ...

    def stream(self, sql: str, batch: int = 10_000) -> Iterator[tuple[Any, ...]]: ...

    def close(self) -> None: ...


@contextmanager
def open_engine(name: str, workdir: Path, dataset: Dataset) -> Iterator[LoadedEngine]:
    """An engine (``duckdb`` or ``spark``) with ``dataset`` loaded; closed on leaving."""
    engine: LoadedEngine
    if name == "duckdb":
        from wb_fhir.report.duckdb_engine import DuckDBEngine

        engine = DuckDBEngine(workdir)
    elif name == "spark":
        from wb_fhir.report.spark_engine import SparkEngine

        engine = SparkEngine(workdir)
    else:
        raise InputError(f"unknown engine {name!r} (one of: {', '.join(ENGINES)})")
    try:
        engine.load(dataset)
        yield engine
    finally:
        engine.close()


def measure_population(
    dataset: Dataset,
    workdir: Path,
    *,
    engine: str = "duckdb",
    since: date | None = None,
    until: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> PopulationMeasures:
    """The exact measures of the maps in ``dataset`` (dated from ``since`` to ``until``)."""
    if since and until and since > until:
        raise InputError(f"the period is empty: {since} is after {until}")
    with open_engine(engine, workdir, dataset) as loaded:
        return compute(loaded, since=since, until=until, progress=progress)
