"""The embedded engine: DuckDB reads the NDJSON with a typed schema and answers in SQL.

Memory is bounded (``memory_limit``, spilling to a temporary folder beside the staged data),
so a caseload larger than memory still reports; the typed read parses only the fields the
report uses.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wb_fhir.errors import InputError
from wb_fhir.report.dataset import Dataset
from wb_fhir.report.tables import CATEGORY_LINKS, CONSTANTS, PATIENT, QUESTIONNAIRE_RESPONSE, L, Schema, duckdb_type

log = logging.getLogger(__name__)

DEFAULT_MEMORY_LIMIT = "1GB"


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError as exc:  # declared in pyproject: only a broken installation lacks it
        raise InputError(f"the report engine DuckDB is not installed ({exc}): pip install duckdb") from None
    return duckdb


def _struct(columns: dict[str, Schema]) -> str:
    return "{" + ", ".join(f"'{name}': '{duckdb_type(kind)}'" for name, kind in columns.items()) + "}"


def _files(paths: Sequence[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def flatten_sql(dataset: Dataset) -> list[str]:
    """The statements that build the flat tables of :mod:`wb_fhir.report.tables` in DuckDB."""
    c = CONSTANTS
    read_qr = (
        f"read_json({_files(dataset.questionnaire_responses)}, format='newline_delimited', "
        f"columns={_struct(QUESTIONNAIRE_RESPONSE)}, filename=true)"
        if dataset.questionnaire_responses
        else "(SELECT "
        + ", ".join(f"NULL::{duckdb_type(kind)} AS {name}" for name, kind in QUESTIONNAIRE_RESPONSE.items())
        + ", NULL::VARCHAR AS filename WHERE false)"
    )
    patients = (
        f"""CREATE TEMP TABLE patients AS
        SELECT ref, min(nhs) AS nhs FROM (
          SELECT 'Patient/' || id AS ref, i.value AS nhs FROM (
            SELECT id, unnest(identifier) AS i
            FROM read_json({_files(dataset.patients)}, format='newline_delimited',
                           columns={_struct(PATIENT)})
            WHERE resourceType = 'Patient')
          WHERE i.system = {c["nhs_system"]}) GROUP BY ref"""
        if dataset.patients
        else "CREATE TEMP TABLE patients AS SELECT NULL::VARCHAR AS ref, NULL::VARCHAR AS nhs WHERE false"
    )
    return [
        patients,
        f"""CREATE TEMP TABLE qr AS
        SELECT * FROM (
          SELECT *, row_number() OVER (PARTITION BY map_id
                      ORDER BY last_updated DESC NULLS LAST, resource_id DESC NULLS LAST, filename DESC) AS copy
          FROM (
            SELECT coalesce(CASE WHEN identifier.system = {c["map_system"]} THEN identifier.value END,
                            'QuestionnaireResponse/' || id) AS map_id,
                   nullif(regexp_extract(subject.reference, '(Patient/[^/]+)', 1), '') AS subject_ref,
                   CASE WHEN subject.identifier.system = {c["nhs_system"]} THEN subject.identifier.value END
                     AS subject_nhs,
                   substr(authored, 1, 10) AS authored, meta.lastUpdated AS last_updated, id AS resource_id,
                   filename, item
            FROM {read_qr}
            WHERE resourceType = 'QuestionnaireResponse'
              AND split_part(questionnaire, '|', 1) = {c["questionnaire"]}))
        WHERE copy = 1""",
        """CREATE TEMP TABLE top_items AS
        SELECT map_id, unnest(item) AS it, generate_subscripts(item, 1) AS pos FROM qr""",
        f"""CREATE TEMP TABLE maps AS
        SELECT q.map_id,
               coalesce('nhs:' || p.nhs, 'nhs:' || q.subject_nhs, 'ref:' || q.subject_ref) AS person,
               coalesce(t.date, q.authored) AS date,
               t.time_at_home
        FROM qr q
        LEFT JOIN patients p ON p.ref = q.subject_ref
        LEFT JOIN (
          SELECT map_id,
                 max(CASE WHEN it.linkId = {L["DATE"]} THEN it.answer[1].valueDate END) AS date,
                 max(CASE WHEN it.linkId = {L["TIME_AT_HOME"]} THEN it.answer[1].valueInteger END) AS time_at_home
          FROM top_items GROUP BY map_id) t ON t.map_id = q.map_id
        WHERE coalesce(p.nhs, q.subject_nhs, q.subject_ref) IS NOT NULL""",
        f"""CREATE TEMP TABLE fields AS
        SELECT map_id, it.linkId AS grp, pos, unnest(it.item) AS f
        FROM top_items WHERE it.linkId IN ({L["CONNECTION"]}, {L["TIE"]})""",
        f"""CREATE TEMP TABLE connections AS
        SELECT map_id, map_id || '#' || pos AS key,
               max(CASE WHEN f.linkId = {L["CONNECTION_ID"]} THEN f.answer[1].valueString END) AS connection_id,
               max(CASE WHEN f.linkId = {L["CONNECTION_KIND"]} THEN f.answer[1].valueCoding.code END) AS kind,
               max(CASE WHEN f.linkId IN ({CATEGORY_LINKS}) THEN f.answer[1].valueCoding.code END) AS category,
               max(CASE WHEN f.linkId = {L["CONNECTION_RING"]} THEN f.answer[1].valueInteger END) AS ring,
               max(CASE WHEN f.linkId = {L["CONNECTION_IMPACT"]} THEN f.answer[1].valueCoding.code END) AS impact,
               coalesce(max(CASE WHEN f.linkId = {L["CONNECTION_STATUS"]} THEN f.answer[1].valueCoding.code END),
                        'current') AS status,
               max(CASE WHEN f.linkId = {L["CONNECTION_FREQUENCY"]} THEN f.answer[1].valueCoding.code END)
                 AS frequency,
               max(CASE WHEN f.linkId = {L["CONNECTION_DISCLOSURE"]} THEN f.answer[1].valueCoding.code END)
                 AS disclosure,
               max(CASE WHEN f.linkId = {L["CONNECTION_LABEL"]} THEN f.answer[1].valueString END) AS label
        FROM fields WHERE grp = {L["CONNECTION"]} AND map_id IN (SELECT map_id FROM maps)
        GROUP BY map_id, pos""",
        f"""CREATE TEMP TABLE roles AS
        SELECT DISTINCT key, a.valueCoding.code AS role FROM (
          SELECT map_id || '#' || pos AS key, unnest(f.answer) AS a
          FROM fields WHERE grp = {L["CONNECTION"]} AND f.linkId = {L["CONNECTION_ROLES"]})
        WHERE key IN (SELECT key FROM connections) AND a.valueCoding.code IS NOT NULL""",
        f"""CREATE TEMP TABLE ties AS
        SELECT map_id,
               max(CASE WHEN f.linkId = {L["TIE_FROM"]} THEN f.answer[1].valueString END) AS from_id,
               max(CASE WHEN f.linkId = {L["TIE_TO"]} THEN f.answer[1].valueString END) AS to_id,
               max(CASE WHEN f.linkId = {L["TIE_TYPE"]} THEN f.answer[1].valueCoding.code END) AS type
        FROM fields WHERE grp = {L["TIE"]} AND map_id IN (SELECT map_id FROM maps)
        GROUP BY map_id, pos""",
        "DROP TABLE fields",
        "DROP TABLE top_items",
    ]


class DuckDBEngine:
    """DuckDB in this process; tables live in memory and spill to ``workdir`` past the limit."""

    name = "duckdb"

    def __init__(self, workdir: Path, *, memory_limit: str = DEFAULT_MEMORY_LIMIT, threads: int | None = None) -> None:
        duckdb = _duckdb()
        self._error = duckdb.Error
        self._con = duckdb.connect(":memory:")
        spill = workdir / "duckdb-spill"
        spill.mkdir(mode=0o700, exist_ok=True)
        self._con.execute(f"SET memory_limit = '{memory_limit}'")
        self._con.execute(f"SET temp_directory = '{str(spill).replace(chr(39), chr(39) * 2)}'")
        self._con.execute("SET preserve_insertion_order = false")
        if threads:
            self._con.execute(f"SET threads = {int(threads)}")

    def load(self, dataset: Dataset) -> None:
        """Build the flat tables from the dataset's NDJSON files."""
        for statement in flatten_sql(dataset):
            try:
                self._con.execute(statement)
            except self._error as exc:
                raise InputError(f"the NDJSON could not be read: {_first_line(exc)}") from None
        log.info("duckdb: tables built")

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of one query over the flat tables."""
        rows: list[tuple[Any, ...]] = self._con.execute(sql).fetchall()
        return rows

    def materialize(self, name: str, sql: str) -> None:
        """Keep the rows of a query as a table ``name`` (replacing one of that name)."""
        self._con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")

    def stream(self, sql: str, batch: int = 10_000) -> Any:
        """Rows of one query, a batch at a time (for exports larger than memory)."""
        cursor = self._con.execute(sql)
        while True:
            rows = cursor.fetchmany(batch)
            if not rows:
                return
            yield from rows

    def close(self) -> None:
        self._con.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
