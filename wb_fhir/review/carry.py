"""Carry a map forward: the next review's map, pre-filled from the previous one (pure).

What is carried, and why:

- the person, the practitioners, the rings, time at home (to be re-asked), every connection with
  its id (so the same connection is followed across reviews), lost and wished-for ones included,
  and every tie;
- open goals (proposed, active, on hold) with their milestones, done or not;
- open sign-posts (suggested, agreed, referred), to be followed up.

What is left out: goals closed (achieved or abandoned) and sign-posts closed (attended or
declined) at the previous review. They were shown, and celebrated, in that review's summary and
stay in the record (the FHIR Goal and CarePlan activity keep their final status); the new map
starts with what is still open. An open sign-post whose reason is a goal that is left out goes
too (the map could not name its reason). The reflections become a prompt for the conversation
that names what was closed, and the next review date is cleared.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from wb_fhir.errors import InputError, Problem
from wb_fhir.model import Goal, Signpost, WellbeingMap
from wb_fhir.review.compare import CLOSED_GOAL, CLOSED_SIGNPOST


@dataclass(frozen=True)
class CarriedMap:
    """The next map, and what was deliberately not carried into it."""

    map: WellbeingMap
    closed_goals: tuple[Goal, ...]
    closed_signposts: tuple[Signpost, ...]


def carry_forward(previous: WellbeingMap, on: date) -> CarriedMap:
    """The map to start the review on ``on`` from, pre-filled from ``previous``."""
    if on <= previous.date:
        raise InputError(
            [Problem("date", f"{on} is not after the date of the previous map ({previous.date})")],
        )
    open_goals = tuple(g for g in previous.goals if g.status not in CLOSED_GOAL)
    closed_goals = tuple(g for g in previous.goals if g.status in CLOSED_GOAL)
    closed_ids = {g.id for g in closed_goals}
    open_signposts = tuple(s for s in previous.signposts if s.status not in CLOSED_SIGNPOST)
    kept_signposts = tuple(s for s in open_signposts if s.reason not in closed_ids)
    closed_signposts = tuple(s for s in previous.signposts if s not in kept_signposts)
    nxt = replace(
        previous,
        id="",  # a new map: its id follows from the person and the new date
        date=on,
        goals=open_goals,
        signposts=kept_signposts,
        reflections=reflections_prompt(previous, closed_goals),
        next_review=None,
    )
    return CarriedMap(nxt, closed_goals, closed_signposts)


def reflections_prompt(previous: WellbeingMap, closed_goals: tuple[Goal, ...]) -> str:
    """The prompt that opens the next conversation, in the place of the reflections."""
    lines = [f"To talk about: what has changed since the review of {previous.date.isoformat()}?"]
    lines.append("What helped, what got in the way, and what should we try next?")
    achieved = [g.description for g in closed_goals if g.status.value == "achieved"]
    if achieved:
        lines.append("Achieved last time: " + "; ".join(achieved) + ".")
    if previous.reflections:
        lines.append(f"Last time: {previous.reflections}")
    return "\n".join(lines)
