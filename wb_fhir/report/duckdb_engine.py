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
from wb_fhir.report.dataset import Dataset, is_parquet
from wb_fhir.report.tables import CONSTANTS, PATIENT, QUESTIONNAIRE_RESPONSE, L, Schema, duckdb_structure, duckdb_type

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


def _reader(files: Sequence[Path], schema: dict[str, Schema]) -> str:
    """A table of the typed fields (and ``filename``) of NDJSON and Parquet files of FHIR resources.

    Parquet is read whatever its writer's types: each row goes to JSON and back through the same
    typed structure, so fields missing from a file are NULL rather than an error.
    """
    parts = []
    ndjson = [f for f in files if not is_parquet(f)]
    parquet = [f for f in files if is_parquet(f)]
    if ndjson:
        parts.append(
            f"SELECT * FROM read_json({_files(ndjson)}, format='newline_delimited', "
            f"columns={_struct(schema)}, filename=true)"
        )
    if parquet:
        structure = duckdb_structure(schema).replace("'", "''")
        parts.append(
            f"SELECT unnest(json_transform(to_json(p), '{structure}')), p.filename "
            f"FROM read_parquet({_files(parquet)}, filename=true, union_by_name=true) p"
        )
    if not parts:
        parts.append(
            "SELECT "
            + ", ".join(f"NULL::{duckdb_type(kind)} AS {name}" for name, kind in schema.items())
            + ", NULL::VARCHAR AS filename WHERE false"
        )
    return "(" + " UNION ALL BY NAME ".join(parts) + ")"


def flatten_sql(dataset: Dataset) -> list[str]:
    """The statements that build the flat tables of :mod:`wb_fhir.report.tables` in DuckDB."""
    c = CONSTANTS
    read_qr = _reader(dataset.questionnaire_responses, QUESTIONNAIRE_RESPONSE)
    patients = f"""CREATE TEMP TABLE patients AS
        SELECT ref, min(nhs) AS nhs FROM (
          SELECT 'Patient/' || id AS ref, i.value AS nhs FROM (
            SELECT id, unnest(identifier) AS i FROM {_reader(dataset.patients, PATIENT)}
            WHERE resourceType = 'Patient')
          WHERE i.system = {c["nhs_system"]}) GROUP BY ref"""

    def first(items: str, link: str, value: str) -> str:
        # The first answer of the first item with this linkId (NULL when there is none).
        return f"list_filter({items}, lambda f: f.linkId = {L[link]})[1].answer[1].{value}"

    def connection(field: str, link: str, value: str) -> str:
        return f"{field} := {first('g.item', link, value)}"

    categories = ", ".join(
        first("g.item", link, "valueCoding.code")
        for link in ("CONNECTION_CATEGORY_PERSON", "CONNECTION_CATEGORY_PLACE", "CONNECTION_CATEGORY_ACTIVITY")
    )
    # One pass over the JSON: each response becomes one row holding its connections and ties as
    # lists of flat structs (list functions, not an unnest and regroup of every item).
    return [
        patients,
        f"""CREATE TEMP TABLE qr AS
        SELECT * EXCLUDE (copy) FROM (
          SELECT *, row_number() OVER (PARTITION BY map_id
                      ORDER BY last_updated DESC NULLS LAST, resource_id DESC NULLS LAST, filename DESC) AS copy
          FROM (
            SELECT coalesce(CASE WHEN identifier.system = {c["map_system"]} THEN identifier.value END,
                            'QuestionnaireResponse/' || id) AS map_id,
                   nullif(regexp_extract(subject.reference, '(Patient/[^/]+)', 1), '') AS subject_ref,
                   CASE WHEN subject.identifier.system = {c["nhs_system"]} THEN subject.identifier.value END
                     AS subject_nhs,
                   coalesce({first("item", "DATE", "valueDate")}, substr(authored, 1, 10)) AS date,
                   {first("item", "TIME_AT_HOME", "valueInteger")} AS time_at_home,
                   meta.lastUpdated AS last_updated, id AS resource_id, filename,
                   [struct_pack(
                      {connection("connection_id", "CONNECTION_ID", "valueString")},
                      {connection("kind", "CONNECTION_KIND", "valueCoding.code")},
                      category := coalesce({categories}),
                      {connection("ring", "CONNECTION_RING", "valueInteger")},
                      {connection("impact", "CONNECTION_IMPACT", "valueCoding.code")},
                      status := coalesce({first("g.item", "CONNECTION_STATUS", "valueCoding.code")}, 'current'),
                      {connection("frequency", "CONNECTION_FREQUENCY", "valueCoding.code")},
                      {connection("disclosure", "CONNECTION_DISCLOSURE", "valueCoding.code")},
                      {connection("label", "CONNECTION_LABEL", "valueString")},
                      roles := flatten([[a.valueCoding.code FOR a IN f.answer]
                                        FOR f IN g.item IF f.linkId = {L["CONNECTION_ROLES"]}]))
                    FOR g IN item IF g.linkId = {L["CONNECTION"]}] AS conns,
                   [struct_pack(
                      {connection("from_id", "TIE_FROM", "valueString")},
                      {connection("to_id", "TIE_TO", "valueString")},
                      {connection("type", "TIE_TYPE", "valueCoding.code")})
                    FOR g IN item IF g.linkId = {L["TIE"]}] AS tie_list
            FROM {read_qr}
            WHERE resourceType = 'QuestionnaireResponse'
              AND split_part(questionnaire, '|', 1) = {c["questionnaire"]}))
        WHERE copy = 1""",
        """CREATE TEMP TABLE maps AS
        SELECT q.map_id,
               coalesce('nhs:' || p.nhs, 'nhs:' || q.subject_nhs, 'ref:' || q.subject_ref) AS person,
               q.date, q.time_at_home
        FROM qr q LEFT JOIN patients p ON p.ref = q.subject_ref
        WHERE coalesce(p.nhs, q.subject_nhs, q.subject_ref) IS NOT NULL""",
        """CREATE TEMP TABLE connections_roles AS
        SELECT map_id, map_id || '#' || pos AS key, c.* FROM (
          SELECT map_id, unnest(conns) AS c, generate_subscripts(conns, 1) AS pos
          FROM qr WHERE map_id IN (SELECT map_id FROM maps))""",
        """CREATE TEMP TABLE connections AS SELECT * EXCLUDE (roles) FROM connections_roles""",
        """CREATE TEMP TABLE roles AS
        SELECT DISTINCT key, role FROM (SELECT key, unnest(roles) AS role FROM connections_roles)
        WHERE role IS NOT NULL""",
        """CREATE TEMP TABLE ties AS
        SELECT map_id, t.* FROM (
          SELECT map_id, unnest(tie_list) AS t FROM qr WHERE map_id IN (SELECT map_id FROM maps))""",
        "DROP TABLE connections_roles",
        "DROP TABLE qr",
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
                raise InputError(f"the files could not be read: {_first_line(exc)}") from None
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
