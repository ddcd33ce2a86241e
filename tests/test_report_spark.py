"""The same report on Apache Spark (pyspark, local[*]) as on DuckDB: equal JSON, known answers.

CPU-heavy (a JVM and a Spark session): the population is small and Spark runs once.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from population import all_maps, comparable, expected, population, write_bulk_export

from wb_fhir.cli import main

pytest.importorskip("pyspark")

MAPS = all_maps(population(20, seed=1903))


@pytest.mark.slow
def test_spark_and_duckdb_give_equal_json(tmp_path: Path) -> None:
    files = [str(p) for p in write_bulk_export(MAPS, tmp_path / "bulk")]
    answers = {}
    for engine in ("duckdb", "spark"):
        result = CliRunner().invoke(
            main,
            ["report", *files, "--engine", engine, "--json", "--no-suppression", "--since", "2024-03-01"],
            env={"WB_FHIR_SERVER": ""},
        )
        assert result.exit_code == 0, result.output
        answers[engine] = json.loads(result.stdout)
    assert answers["spark"] == answers["duckdb"]
    assert comparable(answers["spark"]) == expected(MAPS, since=date(2024, 3, 1))
