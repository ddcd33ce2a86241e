"""Whether a map's review is due on a day (pure), as a sign-post's follow-up is.

A map plans its next review (``next_review``); on the day ``on`` the review is *open* before
that date, *due* on it and *overdue* after it, by the same rule as the follow-up of a sign-post
(:func:`wb_fhir.assets.followup.due_state`). A map without a date for its review has no state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from wb_fhir.assets.followup import FollowUpState, due_state
from wb_fhir.model import WellbeingMap


@dataclass(frozen=True)
class ReviewDue:
    """A map's next review as it stands on a day (``state`` None: no review date is set)."""

    next_review: date | None
    state: FollowUpState | None

    @property
    def due(self) -> bool:
        """Whether the review should happen now: its day has come (due) or passed (overdue)."""
        return self.state in (FollowUpState.DUE, FollowUpState.OVERDUE)

    def sentence(self) -> str:
        """The state in plain words (no full stop)."""
        if self.next_review is None:
            return "No review date is set"
        when = self.next_review.isoformat()
        if self.state is FollowUpState.OVERDUE:
            return f"A review is overdue (planned for {when})"
        if self.state is FollowUpState.DUE:
            return f"A review is due today (planned for {when})"
        return f"Next review on {when}"


def review_due(wmap: WellbeingMap, on: date) -> ReviewDue:
    """Where the map's next review stands on the day ``on``."""
    planned = wmap.next_review
    return ReviewDue(planned, due_state(planned, on) if planned is not None else None)
