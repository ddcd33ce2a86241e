"""The same report on Apache Spark (pyspark, local[*]) as on DuckDB: equal JSON, known answers.

CPU-heavy (a JVM and a Spark session): the population is small and Spark runs once, on a Bulk
export split between NDJSON and Parquet so that both of its readers are exercised.
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


def split_export(folder: Path) -> list[str]:
    """Half the responses as NDJSON, half as Parquet (written by DuckDB), Patients as NDJSON."""
    import duckdb

    responses, patients = write_bulk_export(MAPS, folder)
    lines = responses.read_text(encoding="utf-8").splitlines(keepends=True)
    half = len(lines) // 2
    first, second = folder / "a.QuestionnaireResponse.ndjson", folder / "b.ndjson"
    first.write_text("".join(lines[:half]), encoding="utf-8")
    second.write_text("".join(lines[half:]), encoding="utf-8")
    parquet = folder / "b.QuestionnaireResponse.parquet"
    # Spark reads no Parquet UUID type: the identifier's value (a UUID DuckDB detects) goes as text.
    duckdb.connect().execute(
        f"COPY (SELECT * REPLACE (struct_pack(system := identifier.system, value := identifier.value::VARCHAR)"
        f" AS identifier) FROM read_ndjson_auto('{second}')) TO '{parquet}' (FORMAT parquet)"
    )
    return [str(first), str(parquet), str(patients)]


@pytest.mark.slow
def test_spark_and_duckdb_give_equal_json(tmp_path: Path) -> None:
    files = split_export(tmp_path)
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
