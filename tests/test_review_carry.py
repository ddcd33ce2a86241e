"""Carrying a map forward, and the diff / review start commands (in-process)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from wb_fhir.cli import main
from wb_fhir.errors import InputError
from wb_fhir.mapfile import load_map
from wb_fhir.review.carry import carry_forward
from wb_fhir.review.compare import compare_pair

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "review"
OLD = EXAMPLES / "jordan-2026-05-14.yaml"
NEW = EXAMPLES / "jordan-2026-11-12.yaml"


def test_carry_keeps_ids_connections_ties_and_open_items() -> None:
    last = load_map(NEW)
    carried = carry_forward(last, date(2027, 5, 12))
    nxt = carried.map
    assert nxt.date == date(2027, 5, 12) and nxt.next_review is None
    assert nxt.id != last.id
    assert nxt.connections == last.connections and nxt.ties == last.ties
    assert [g.id for g in nxt.goals] == ["less-betting", "evening-class"]
    assert [g.id for g in carried.closed_goals] == ["get-outside"]
    assert [s.asset for s in nxt.signposts] == ["recovery-college"]
    assert [s.asset for s in carried.closed_signposts] == ["green-gym"]
    assert nxt.reflections is not None
    assert "since the review of 2026-11-12" in nxt.reflections
    assert "Achieved last time: Spend more time outside the house." in nxt.reflections
    # nothing about the connections changed: the conversation starts from the last map
    changes = compare_pair(last, nxt)
    assert changes.connections == () and changes.ties == ()


def test_carry_keeps_milestones_of_open_goals() -> None:
    carried = carry_forward(load_map(OLD), date(2026, 11, 12)).map
    assert carried.goal("get-outside").milestones == load_map(OLD).goal("get-outside").milestones


def test_carry_refuses_a_date_not_after_the_previous_map() -> None:
    with pytest.raises(InputError, match=r"^date: 2026-11-12 is not after the date of the previous map"):
        carry_forward(load_map(NEW), date(2026, 11, 12))


def test_review_start_writes_a_valid_map_and_never_overwrites(tmp_path: Path) -> None:
    out = tmp_path / "next.yaml"
    runner = CliRunner()
    result = runner.invoke(main, ["review", "start", str(NEW), "-o", str(out), "--date", "2027-05-12"])
    assert result.exit_code == 0, result.output
    assert "not carried (closed at the last review): 1 goal(s), 1 sign-post(s)" in result.output
    assert load_map(out).date == date(2027, 5, 12)
    before = out.read_bytes()
    again = runner.invoke(main, ["review", "start", str(NEW), "-o", str(out), "--date", "2027-06-01"])
    assert again.exit_code == 2
    assert f"error: {out}: already exists (use --force to overwrite it)" in again.output
    assert out.read_bytes() == before
    forced = runner.invoke(main, ["review", "start", str(NEW), "-o", str(out), "--date", "2027-06-01", "--force"])
    assert forced.exit_code == 0 and load_map(out).date == date(2027, 6, 1)


def test_review_start_defaults_to_today(tmp_path: Path) -> None:
    out = tmp_path / "next.json"
    result = CliRunner().invoke(main, ["review", "start", str(NEW), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert load_map(out).date == date.today()


def test_review_start_bad_date(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["review", "start", str(NEW), "-o", str(tmp_path / "n.yaml"), "--date", "soon"])
    assert result.exit_code == 2
    assert "error: --date: 'soon' is not a date (YYYY-MM-DD)" in result.output
    assert not (tmp_path / "n.yaml").exists()


def test_review_help_shows_both_uses() -> None:
    result = CliRunner().invoke(main, ["review", "--help"])
    assert result.exit_code == 0
    assert "review OLD NEW [MORE...] -o OUT.html|OUT.pdf" in result.output
    assert "review start PREVIOUS -o NEXT.yaml" in result.output


def test_diff_text_and_json() -> None:
    runner = CliRunner()
    text = runner.invoke(main, ["diff", str(NEW), str(OLD)])
    assert text.exit_code == 0
    assert text.output.startswith("Changes from 2026-05-14 to 2026-11-12\n")
    for heading in ("Connections (8 changed)", "Ties (3 changed)", "Measures", "Goals", "Sign-posts (2 changed)"):
        assert heading in text.output
    data = json.loads(runner.invoke(main, ["diff", "--json", str(OLD), str(NEW)]).output)
    assert {c["id"] for c in data["connections"]} >= {"sue", "green-gym", "gardening"}


def test_diff_refuses_different_people_naming_files() -> None:
    figure1 = EXAMPLES.parent / "figure1.yaml"
    result = CliRunner().invoke(main, ["diff", str(OLD), str(figure1)])
    assert result.exit_code == 2
    assert result.output == f"error: {OLD} and {figure1} are maps of different people\n"


def test_diff_reports_problems_of_both_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("subject: {nhs_number: '9434765919'}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["diff", str(bad), str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2
    assert f"{bad}: date: is required but missing" in result.output
    assert f"{tmp_path / 'missing.yaml'}: no such file" in result.output
