"""wb-fhir report on DuckDB: a generated caseload with known answers, from map files and from
NDJSON; disclosure control at its edges; the HTML, PDF and CSV; bad input.

The answers are computed by tests/population.py from the maps themselves, without any code of
wb_fhir.report.
"""

from __future__ import annotations

import csv
import io
import json
import random
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from population import (
    all_maps,
    comparable,
    expected,
    make_map,
    population,
    write_bulk_export,
    write_map_files,
)
from strategies import random_nhs_number

from wb_fhir.cli import main
from wb_fhir.model import Connection, Subject, WellbeingMap
from wb_fhir.report import protect, report_html, report_json
from wb_fhir.report.measures import Spread
from wb_fhir.terminology import Category, Impact, Kind

MAPS = all_maps(population(60, seed=1901))


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(main, list(args), env={"WB_FHIR_SERVER": "", **(env or {})})


def report(*args: str) -> dict[str, Any]:
    result = run("report", *args, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture(scope="module")
def map_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_map_files(MAPS, tmp_path_factory.mktemp("maps"))


@pytest.fixture(scope="module")
def bulk(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_bulk_export(MAPS, tmp_path_factory.mktemp("bulk"))


# --- known answers -----------------------------------------------------------------------------


def test_the_population_exercises_every_measure() -> None:
    answers = expected(MAPS)
    assert answers["people"] == 60 and answers["maps"] > 60
    assert answers["practitioner_in_inner_circle"]["count"] > 0
    assert answers["change"]["people"] > 0
    assert answers["network_size"]["quartiles"][0] < answers["network_size"]["quartiles"][1]
    # some people have no connection and some no time at home: the denominators differ
    assert answers["family_or_home_based"]["denominator"] < answers["people"]
    assert answers["more_than_half_waking_time_at_home"]["denominator"] < answers["people"]
    # equal-date maps of one person exist: the later id must win
    assert any(
        len({m.date for m in ms}) < len(ms)
        for ms in ({m.subject.nhs_number: [x for x in MAPS if x.subject == m.subject]} for m in MAPS)
        for ms in ms.values()
    )


def test_report_of_map_files_equals_the_known_answers(map_folder: Path) -> None:
    assert comparable(report(str(map_folder), "--no-suppression")) == expected(MAPS)


def test_report_of_a_bulk_export_equals_the_report_of_the_files(map_folder: Path, bulk: list[Path]) -> None:
    from_ndjson = report(*map(str, bulk), "--no-suppression")
    assert comparable(from_ndjson) == expected(MAPS)
    assert from_ndjson == report(str(map_folder), "--no-suppression")


def test_period_keeps_the_maps_of_those_dates(map_folder: Path) -> None:
    since, until = date(2024, 6, 1), date(2025, 3, 31)
    got = report(str(map_folder), "--no-suppression", "--since", "2024-06-01", "--until", "2025-03-31")
    assert comparable(got) == expected(MAPS, since=since, until=until)
    assert got["period"] == {"since": "2024-06-01", "until": "2025-03-31"}
    assert got["maps"] < len(MAPS)


def test_latest_map_is_by_date_then_by_the_later_id(tmp_path: Path) -> None:
    nhs = random_nhs_number()
    practitioner = Connection("cpn", Kind.PERSON, "CPN", Category.PRACTITIONER, 1, Impact.POSITIVE)
    friend = Connection("f", Kind.PERSON, "Friend", Category.FRIEND, 2, Impact.POSITIVE)
    subject = Subject(nhs_number=nhs)
    day = date(2025, 5, 1)
    maps = [
        WellbeingMap(subject, date(2025, 6, 1), connections=(friend,), id="00000000-0000-0000-0000-00000000000a"),
        WellbeingMap(subject, day, connections=(practitioner,), id="ffffffff-0000-0000-0000-000000000000"),
    ]
    got = report(str(write_map_files(maps, tmp_path / "a")), "--no-suppression")
    assert got["practitioner_in_inner_circle"]["count"] == 0  # the later date wins over the larger id
    maps[0] = WellbeingMap(subject, day, connections=(friend,), id="00000000-0000-0000-0000-00000000000a")
    got = report(str(write_map_files(maps, tmp_path / "b")), "--no-suppression")
    assert got["practitioner_in_inner_circle"]["count"] == 1  # same date: the later id in sort order
    assert got["people"] == 1 and got["maps"] == 2


def test_the_same_map_twice_counts_once(map_folder: Path, tmp_path: Path) -> None:
    copy = write_map_files(MAPS[:5], tmp_path / "copy")
    assert report(str(map_folder), str(copy), "--no-suppression")["maps"] == len(MAPS)


# --- disclosure control ------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "published"), [(0, 0), (1, "*"), (7, "*"), (8, 10), (12, 10), (13, 15)])
def test_nhs_digital_rule(count: int, published: int | str) -> None:
    assert protect(count) == published
    assert protect(count, suppress=False) == count


@pytest.mark.parametrize(
    ("with_practitioner", "count", "percent"),
    [(0, 0, 0.0), (1, "*", "*"), (7, "*", "*"), (8, 10, 50.0), (12, 10, 50.0), (13, 15, 75.0)],
)
def test_suppression_end_to_end(tmp_path: Path, with_practitioner: int, count: int | str, percent: float | str) -> None:
    # 20 people, exactly `with_practitioner` of them with a practitioner in the inner circle.
    rng = random.Random(with_practitioner)
    maps = []
    for n in range(20):
        m = make_map(rng, random_nhs_number(rng), date(2025, 1, 1), size=0)
        ring = 1 if n < with_practitioner else 2
        c = Connection("cpn", Kind.PERSON, "CPN", Category.PRACTITIONER, ring, Impact.POSITIVE)
        maps.append(WellbeingMap(m.subject, m.date, time_at_home=m.time_at_home, connections=(c,)))
    published = report(str(write_map_files(maps, tmp_path)))
    assert published["practitioner_in_inner_circle"] == {"count": count, "denominator": 20, "percent": percent}
    assert published["suppressed"] is True and "1 to 7" in published["disclosure_control"]
    exact = report(str(tmp_path), "--no-suppression")["practitioner_in_inner_circle"]
    assert exact == {"count": with_practitioner, "denominator": 20, "percent": 5.0 * with_practitioner}


def test_published_report_has_only_rounded_or_suppressed_counts(map_folder: Path) -> None:
    published = report(str(map_folder))

    def counts(value: Any) -> list[Any]:
        if isinstance(value, dict):
            keys = ("count", "denominator", "people", "maps", "connections", "recorded")
            found = [v for k, v in value.items() if k in keys and not isinstance(v, dict)]
            return found + [c for v in value.values() for c in counts(v)]
        return []

    found = counts(published)
    assert len(found) > 50
    for n in found:
        assert n == "*" or (isinstance(n, int) and n % 5 == 0), n
    exact = report(str(map_folder), "--no-suppression")
    for key in ("practitioner_in_inner_circle", "more_than_half_waking_time_at_home", "family_or_home_based"):
        m = published[key]
        if m["count"] != "*":
            # percentages from the rounded counts
            assert m["percent"] == round(100 * m["count"] / m["denominator"] + 1e-9, 1)
            assert abs(m["count"] - exact[key]["count"]) <= 2


def test_medians_of_one_to_seven_people_are_suppressed() -> None:
    from wb_fhir.report.disclosure import spread

    assert spread(Spread({3: 7}))["median"] == "*"
    assert spread(Spread({3: 8}))["median"] == 3.0
    assert spread(Spread({3: 7}), suppress=False) == {"median": 3.0, "quartiles": [3.0, 3.0]}
    assert spread(Spread({}))["median"] is None


# --- the report as a page, a PDF and a table ----------------------------------------------------


def test_html_report_beside_the_study_accessible_and_without_labels(map_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = run("report", str(map_folder), "-o", str(out))
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    for study in ("23% of 150", "most of 150", "about a third of 150"):
        assert study in html
    assert "Disclosure control is on" in html and "NOT FOR PUBLICATION" not in html
    assert html.count('role="img"') == 6 and html.count("<title id=") == 6 and html.count("<desc id=") == 6
    for m in MAPS:
        assert m.subject.nhs_number not in html
        for c in m.connections:
            assert f">{c.label}<" not in html
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")


def test_no_suppression_is_printed_on_the_report(map_folder: Path) -> None:
    exact = report_json_of(map_folder, suppress=False)
    html = report_html(exact)
    assert "NOT FOR PUBLICATION" in html and "no disclosure control: exact counts" in html


def report_json_of(folder: Path, *, suppress: bool) -> dict[str, Any]:
    return report(str(folder), *([] if suppress else ["--no-suppression"]))


def test_report_html_escapes_what_it_shows() -> None:
    published = report_json_of_markup()
    html = report_html(published)
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


def report_json_of_markup() -> dict[str, Any]:
    from wb_fhir.report.measures import Change, PopulationMeasures, Share

    empty = Spread({})
    m = PopulationMeasures(
        None, None, 0, 0, Share(0, 0), Share(0, 0), Share(0, 0), empty, {"person": empty, "place": empty,
        "activity": empty}, {}, {}, 0, 0, {}, empty, (0, 0), (0, 0), 0,
        {k: Change() for k in ("network_size", "inner_circle", "time_at_home", "negative_share")},
    )  # fmt: skip
    published = report_json(m)
    published["disclosure_control"] = "<b>x</b>"
    return published


def test_pdf_report_prints_the_measures_and_the_rule(map_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    result = run("report", str(map_folder), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "Practitioner in the inner circle" in text and "23% of 150" in text
    assert "counts from 1 to 7 are suppressed" in text


def test_csv_report_one_row_per_figure(map_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.csv"
    assert run("report", str(map_folder), "-o", str(out), "--no-suppression").exit_code == 0
    rows = {r["measure"]: r for r in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))}
    answers = expected(MAPS)
    row = rows["practitioner_in_inner_circle"]
    assert int(row["count"]) == answers["practitioner_in_inner_circle"]["count"]
    assert row["study"] == "23% of 150"
    assert rows["change.network_size.up"]["denominator"] == str(answers["change"]["people"])


def test_plain_text_summary(map_folder: Path) -> None:
    result = run("report", str(map_folder))
    assert result.exit_code == 0
    assert "Practitioner in the inner circle:" in result.stdout and "the study: 23% of 150" in result.stdout
    assert "NHS Digital disclosure control" in result.stdout


# --- bad input ---------------------------------------------------------------------------------


def test_bad_map_file_is_named_with_its_place(map_folder: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("subject: {nhs_number: '9434765918'}\ndate: 2025-01-01\n", encoding="utf-8")
    result = run("report", str(bad), str(map_folder))
    assert result.exit_code == 2
    assert f"{bad}: subject.nhs_number" in result.stderr and "Traceback" not in result.output


def test_malformed_ndjson_is_bad_input(tmp_path: Path) -> None:
    f = tmp_path / "x.ndjson"
    f.write_text('{"resourceType": "QuestionnaireResponse"}\n{not json\n', encoding="utf-8")
    result = run("report", str(f))
    assert result.exit_code == 2 and "the files could not be read" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "nothing to report on"),
        (("missing.yaml",), "missing.yaml: no such file"),
        (("{maps}", "--since", "2025-02-01", "--until", "2025-01-01"), "the period is empty"),
        (("{maps}", "-o", "report.docx"), "report.docx: the report is written as .html, .pdf or .csv"),
        (("{maps}", "--group", "g1"), "--group names a Group on a server"),
    ],
)
def test_bad_requests_exit_2(map_folder: Path, args: tuple[str, ...], message: str) -> None:
    result = run("report", *(a.replace("{maps}", str(map_folder)) for a in args))
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_server_in_the_environment_is_not_read_when_files_are_given(map_folder: Path) -> None:
    # An unreachable server in WB_FHIR_SERVER must not turn a report of files into a server read.
    result = run("report", str(map_folder), "--json", env={"WB_FHIR_SERVER": "http://127.0.0.1:9/fhir"})
    assert result.exit_code == 0, result.output


def test_report_of_parquet_equals_the_report_of_ndjson(bulk: list[Path], tmp_path: Path) -> None:
    # Parquet as another tool writes it from the Bulk export: its own types, every field it found.
    import duckdb

    parquet = []
    for f in bulk:
        target = tmp_path / f.with_suffix(".parquet").name
        duckdb.connect().execute(f"COPY (SELECT * FROM read_ndjson_auto('{f}')) TO '{target}' (FORMAT parquet)")
        parquet.append(str(target))
    assert comparable(report(*parquet, "--no-suppression")) == expected(MAPS)
