"""What the engines read: FHIR NDJSON files, and how map files and NDJSON sources become them.

Every source ends as the same thing a Bulk Data export gives: files of QuestionnaireResponses
(one per line), and optionally files of Patients (to know people by NHS number). Map files are
checked (every problem of every file reported together) and written as QuestionnaireResponses
into a private staging folder; NDJSON files are used where they are, each sorted by the
resource type of its first line (a Bulk Data file holds one type).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from wb_fhir.errors import InputError, Problem
from wb_fhir.fhir import questionnaire_response
from wb_fhir.mapfile import iter_map_files, load_map

NDJSON_SUFFIXES = (".ndjson",)
PARQUET_SUFFIXES = (".parquet",)


@dataclass(frozen=True)
class Dataset:
    """NDJSON files of QuestionnaireResponses and of Patients."""

    questionnaire_responses: tuple[Path, ...] = ()
    patients: tuple[Path, ...] = ()

    def __add__(self, other: Dataset) -> Dataset:
        return Dataset(self.questionnaire_responses + other.questionnaire_responses, self.patients + other.patients)


def is_ndjson(path: Path) -> bool:
    """Whether a source path is a file of FHIR resources, NDJSON or Parquet (by suffix)."""
    return path.suffix.lower() in (*NDJSON_SUFFIXES, *PARQUET_SUFFIXES)


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() in PARQUET_SUFFIXES


def split_sources(paths: Iterable[str | Path]) -> tuple[list[Path], list[Path]]:
    """Sources as (NDJSON files, map files and folders); a folder may hold both."""
    ndjson: list[Path] = []
    maps: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            ndjson.extend(sorted(f for f in p.rglob("*") if f.is_file() and is_ndjson(f)))
            maps.append(p)
        elif is_ndjson(p):
            ndjson.append(p)
        else:
            maps.append(p)
    return ndjson, maps


def _first_parquet_type(path: Path) -> str | None:
    import duckdb

    if not path.is_file():
        raise InputError("no such file", str(path))
    quoted = str(path).replace("'", "''")
    try:
        row = duckdb.connect().execute(f"SELECT resourceType FROM read_parquet('{quoted}') LIMIT 1").fetchone()
    except duckdb.Error as exc:
        raise InputError(f"is not a Parquet file of FHIR resources ({str(exc).splitlines()[0]})", str(path)) from None
    return str(row[0]) if row and row[0] is not None else None


def _first_type(path: Path) -> str | None:
    if is_parquet(path):
        return _first_parquet_type(path)
    try:
        with path.open("rb") as f:
            for raw in f:
                if raw.strip():
                    value = json.loads(raw)
                    kind = value.get("resourceType") if isinstance(value, dict) else None
                    return kind if isinstance(kind, str) else None
    except FileNotFoundError:
        raise InputError("no such file", str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot be read: {exc}", str(path)) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"line 1 is not JSON ({exc.msg}): not NDJSON", str(path)) from None
    return None


def ndjson_dataset(files: Sequence[Path]) -> Dataset:
    """Sort NDJSON (or Parquet) files by the resource type they hold; files of other types are left out."""
    responses: list[Path] = []
    patients: list[Path] = []
    for f in files:
        kind = _first_type(f)
        if kind == "QuestionnaireResponse":
            responses.append(f)
        elif kind == "Patient":
            patients.append(f)
    return Dataset(tuple(responses), tuple(patients))


def stage_map_files(paths: Sequence[Path], folder: Path) -> Dataset:
    """Check every map file and write them as QuestionnaireResponses (NDJSON) into ``folder``."""
    files = [f for f in iter_map_files(paths) if not is_ndjson(f)]
    if not files:
        return Dataset()
    problems: list[Problem] = []
    out = folder / "maps.QuestionnaireResponse.ndjson"
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        for path in files:
            try:
                wmap = load_map(path)
            except InputError as exc:
                problems.extend(
                    Problem(f"{exc.source}: {p.path}" if p.path else str(exc.source), p.message) for p in exc.problems
                )
                continue
            f.write(json.dumps(questionnaire_response(wmap), ensure_ascii=False, separators=(",", ":")))
            f.write("\n")
    if problems:
        raise InputError(problems)
    return Dataset((out,))
