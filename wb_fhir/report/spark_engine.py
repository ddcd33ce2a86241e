"""The engine for a whole integrated care system: Apache Spark (pyspark).

Spark reads the same NDJSON with the same typed schema (:mod:`wb_fhir.report.tables`, in
Spark's DDL), builds the same flat tables in Spark SQL, and runs the same measure queries as
DuckDB (:mod:`wb_fhir.report.queries`): the tests check that both give equal answers. Here it
runs ``local[*]``; on a cluster, ``WB_FHIR_SPARK_MASTER`` names the master.

ANSI mode is off so that, as in DuckDB, the first answer of an item with no answers is NULL
rather than an error; the JSON reader fails on a malformed line instead of skipping it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from wb_fhir.errors import InputError
from wb_fhir.report.dataset import Dataset, is_parquet
from wb_fhir.report.tables import CATEGORY_LINKS, CONSTANTS, PATIENT, QUESTIONNAIRE_RESPONSE, L, Schema, spark_type

log = logging.getLogger(__name__)

MASTER_ENV = "WB_FHIR_SPARK_MASTER"


def _ddl(columns: dict[str, Schema]) -> str:
    return ", ".join(f"`{name}` {spark_type(kind)}" for name, kind in columns.items())


def flatten_sql() -> list[str]:
    """The statements that build the flat tables from the views ``qr_raw`` and ``patient_raw``."""
    c = CONSTANTS
    return [
        f"""CREATE OR REPLACE TEMP VIEW patients AS
        SELECT ref, min(nhs) AS nhs FROM (
          SELECT concat('Patient/', id) AS ref, i.value AS nhs
          FROM patient_raw LATERAL VIEW explode(identifier) t AS i
          WHERE resourceType = 'Patient' AND i.system = {c["nhs_system"]}) GROUP BY ref""",
        f"""CREATE OR REPLACE TEMP VIEW qr AS
        SELECT * FROM (
          SELECT *, row_number() OVER (PARTITION BY map_id
                      ORDER BY last_updated DESC NULLS LAST, resource_id DESC NULLS LAST, filename DESC) AS copy
          FROM (
            SELECT coalesce(CASE WHEN identifier.system = {c["map_system"]} THEN identifier.value END,
                            concat('QuestionnaireResponse/', id)) AS map_id,
                   nullif(regexp_extract(subject.reference, '(Patient/[^/]+)', 1), '') AS subject_ref,
                   CASE WHEN subject.identifier.system = {c["nhs_system"]} THEN subject.identifier.value END
                     AS subject_nhs,
                   substr(authored, 1, 10) AS authored, meta.lastUpdated AS last_updated, id AS resource_id,
                   filename, item
            FROM qr_raw
            WHERE resourceType = 'QuestionnaireResponse'
              AND split_part(questionnaire, '|', 1) = {c["questionnaire"]}))
        WHERE copy = 1""",
        """CREATE OR REPLACE TEMP VIEW top_items AS
        SELECT map_id, pos + 1 AS pos, it FROM qr LATERAL VIEW posexplode(item) t AS pos, it""",
        f"""CREATE OR REPLACE TEMP VIEW maps AS
        SELECT q.map_id,
               coalesce(concat('nhs:', p.nhs), concat('nhs:', q.subject_nhs), concat('ref:', q.subject_ref))
                 AS person,
               coalesce(t.date, q.authored) AS date,
               t.time_at_home
        FROM qr q
        LEFT JOIN patients p ON p.ref = q.subject_ref
        LEFT JOIN (
          SELECT map_id,
                 max(CASE WHEN it.linkId = {L["DATE"]} THEN it.answer[0].valueDate END) AS date,
                 max(CASE WHEN it.linkId = {L["TIME_AT_HOME"]} THEN it.answer[0].valueInteger END) AS time_at_home
          FROM top_items GROUP BY map_id) t ON t.map_id = q.map_id
        WHERE coalesce(p.nhs, q.subject_nhs, q.subject_ref) IS NOT NULL""",
        f"""CREATE OR REPLACE TEMP VIEW fields AS
        SELECT map_id, it.linkId AS grp, pos, f
        FROM top_items LATERAL VIEW explode(it.item) t AS f
        WHERE it.linkId IN ({L["CONNECTION"]}, {L["TIE"]})""",
        f"""CREATE OR REPLACE TEMP VIEW connections AS
        SELECT map_id, concat(map_id, '#', cast(pos AS STRING)) AS key,
               max(CASE WHEN f.linkId = {L["CONNECTION_ID"]} THEN f.answer[0].valueString END) AS connection_id,
               max(CASE WHEN f.linkId = {L["CONNECTION_KIND"]} THEN f.answer[0].valueCoding.code END) AS kind,
               max(CASE WHEN f.linkId IN ({CATEGORY_LINKS}) THEN f.answer[0].valueCoding.code END) AS category,
               max(CASE WHEN f.linkId = {L["CONNECTION_RING"]} THEN f.answer[0].valueInteger END) AS ring,
               max(CASE WHEN f.linkId = {L["CONNECTION_IMPACT"]} THEN f.answer[0].valueCoding.code END) AS impact,
               coalesce(max(CASE WHEN f.linkId = {L["CONNECTION_STATUS"]} THEN f.answer[0].valueCoding.code END),
                        'current') AS status,
               max(CASE WHEN f.linkId = {L["CONNECTION_FREQUENCY"]} THEN f.answer[0].valueCoding.code END)
                 AS frequency,
               max(CASE WHEN f.linkId = {L["CONNECTION_DISCLOSURE"]} THEN f.answer[0].valueCoding.code END)
                 AS disclosure,
               max(CASE WHEN f.linkId = {L["CONNECTION_LABEL"]} THEN f.answer[0].valueString END) AS label
        FROM fields WHERE grp = {L["CONNECTION"]} AND map_id IN (SELECT map_id FROM maps)
        GROUP BY map_id, pos""",
        f"""CREATE OR REPLACE TEMP VIEW roles AS
        SELECT DISTINCT key, a.valueCoding.code AS role FROM (
          SELECT concat(map_id, '#', cast(pos AS STRING)) AS key, a
          FROM fields LATERAL VIEW explode(f.answer) t AS a
          WHERE grp = {L["CONNECTION"]} AND f.linkId = {L["CONNECTION_ROLES"]})
        WHERE key IN (SELECT key FROM connections) AND a.valueCoding.code IS NOT NULL""",
        f"""CREATE OR REPLACE TEMP VIEW ties AS
        SELECT map_id,
               max(CASE WHEN f.linkId = {L["TIE_FROM"]} THEN f.answer[0].valueString END) AS from_id,
               max(CASE WHEN f.linkId = {L["TIE_TO"]} THEN f.answer[0].valueString END) AS to_id,
               max(CASE WHEN f.linkId = {L["TIE_TYPE"]} THEN f.answer[0].valueCoding.code END) AS type
        FROM fields WHERE grp = {L["TIE"]} AND map_id IN (SELECT map_id FROM maps)
        GROUP BY map_id, pos""",
    ]


class SparkEngine:
    """A Spark session (``local[*]`` unless ``WB_FHIR_SPARK_MASTER`` says otherwise)."""

    name = "spark"

    def __init__(self, workdir: Path) -> None:
        try:
            from pyspark.sql import SparkSession
        except ImportError as exc:
            raise InputError(f"the Spark engine needs pyspark ({exc}): pip install 'wb-fhir[spark]'") from None
        local = workdir / "spark"
        local.mkdir(mode=0o700, exist_ok=True)
        self._session = (
            SparkSession.builder.master(os.environ.get(MASTER_ENV, "local[*]"))
            .appName("wb-fhir report")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.ansi.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.local.dir", str(local))
            # C1 only and the serial GC: far less CPU for start-up and short jobs.
            .config(
                "spark.driver.extraJavaOptions",
                f"-Djava.io.tmpdir={local} -XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
            )
            .getOrCreate()
        )
        self._session.sparkContext.setLogLevel("ERROR")

    def _read(self, files: tuple[Path, ...], columns: dict[str, Schema], view: str) -> None:
        from pyspark.sql import functions

        frame = self._session.createDataFrame([], f"{_ddl(columns)}, filename STRING")
        ndjson = [str(f) for f in files if not is_parquet(f)]
        parquet = [str(f) for f in files if is_parquet(f)]
        if ndjson:
            reader = self._session.read.schema(_ddl(columns)).option("mode", "FAILFAST")
            frame = frame.unionByName(reader.json(ndjson).withColumn("filename", functions.input_file_name()))
        if parquet:
            # Whatever the writer's types: each row to JSON and back through the same typed schema.
            rows = self._session.read.option("mergeSchema", "true").parquet(*parquet)
            typed = rows.select(
                functions.from_json(functions.to_json(functions.struct("*")), _ddl(columns)).alias("r"),
                functions.input_file_name().alias("filename"),
            ).select("r.*", "filename")
            frame = frame.unionByName(typed)
        frame.createOrReplaceTempView(view)

    def load(self, dataset: Dataset) -> None:
        """Build the flat tables from the dataset's NDJSON files (cached once read)."""
        from pyspark.errors import PySparkException

        try:
            self._read(dataset.questionnaire_responses, QUESTIONNAIRE_RESPONSE, "qr_raw")
            self._read(dataset.patients, PATIENT, "patient_raw")
            for statement in flatten_sql():
                self._session.sql(statement)
                if statement.startswith("CREATE OR REPLACE TEMP VIEW qr "):
                    # Parse the JSON once: every table below derives from it.
                    self._session.sql("CACHE TABLE qr")
        except PySparkException as exc:
            raise InputError(f"the files could not be read: {_first_line(exc)}") from None
        log.info("spark: tables built")

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of one query over the flat tables."""
        return [tuple(row) for row in self._session.sql(sql).collect()]

    def materialize(self, name: str, sql: str) -> None:
        """Keep the rows of a query as a cached view ``name`` (replacing one of that name)."""
        self._session.sql(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
        self._session.sql(f"CACHE TABLE {name}")

    def stream(self, sql: str, batch: int = 10_000) -> Iterator[tuple[Any, ...]]:
        """Rows of one query, partition by partition."""
        for row in self._session.sql(sql).toLocalIterator():
            yield tuple(row)

    def close(self) -> None:
        self._session.stop()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
