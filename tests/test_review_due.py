"""Whether a map's review is due: open before its date, due on it, overdue after, as a sign-post's follow-up."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from wb_fhir.assets.followup import FollowUpState, state_on
from wb_fhir.mapfile import load_map
from wb_fhir.review import review_due
from wb_fhir.terminology import SignpostStatus

FIGURE1 = Path(__file__).resolve().parent.parent / "examples" / "figure1.yaml"
PLANNED = date(2026, 6, 1)


@pytest.mark.parametrize(
    ("on", "state", "due", "words"),
    [
        (PLANNED - timedelta(days=1), FollowUpState.OPEN, False, "Next review on 2026-06-01"),
        (PLANNED, FollowUpState.DUE, True, "A review is due today (planned for 2026-06-01)"),
        (PLANNED + timedelta(days=1), FollowUpState.OVERDUE, True, "A review is overdue (planned for 2026-06-01)"),
    ],
)
def test_the_review_stands_as_a_follow_up_would(on: date, state: FollowUpState, due: bool, words: str) -> None:
    wmap = replace(load_map(FIGURE1), next_review=PLANNED)
    found = review_due(wmap, on)
    assert found.next_review == PLANNED and found.state is state and found.due is due
    assert found.sentence() == words
    # one rule for both: a sign-post whose follow-up is planned for the same day stands the same
    assert state_on(SignpostStatus.AGREED, wmap.date, PLANNED, on) == (PLANNED, state)


def test_a_map_without_a_review_date_has_no_state() -> None:
    found = review_due(replace(load_map(FIGURE1), next_review=None), date(2030, 1, 1))
    assert found.state is None and found.due is False and found.sentence() == "No review date is set"
