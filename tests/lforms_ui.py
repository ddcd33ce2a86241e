"""A person at LHC-Forms 40.1.3: typing, clicking and picking in its widgets, nothing set by script.

:class:`LFormsUser` enters a whole map through the form's own widgets (text boxes, radio buttons,
check boxes, its autocompleter lists, the "+" buttons that add a repetition), the way a
practitioner would: every choice is picked by the text the form shows, every reference to a
connection or goal is picked from the list the form offers (the ones entered above). Ids are not
entered: the form hides them, and ``wb-fhir extract`` makes them from the labels.

LHC-Forms names each widget by the item's linkId and its place: ``connection.label/2/1`` is the
label of the second connection, ``goal.milestone.due/1/2/1`` the due date of the first goal's
second milestone; a choice's radio button or check box adds ``|system|code``; the "+" button of
a repeating item is ``add-`` and the place of its last repetition.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Any

from wb_fhir.fhir.items import SIGNPOST_STEP_LINK_ID
from wb_fhir.model import WellbeingMap
from wb_fhir.terminology import CATEGORY_LINK_ID, CODESYSTEM_URL, display


def _place(*path: int) -> str:
    return "/".join(str(n) for n in path)


class LFormsUser:
    """Fills the wb_fhir Questionnaire in LHC-Forms from a map, by keyboard and mouse."""

    def __init__(self, page: Any) -> None:
        self.page = page

    # -- widgets --

    def widget(self, link: str, *path: int) -> Any:
        return self.page.locator(f"[id='{link}/{_place(*path)}']")

    def type(self, link: str, path: tuple[int, ...], text: str) -> None:
        box = self.widget(link, *path)
        box.click()
        box.press("Control+a")
        box.press_sequentially(text)
        box.press("Tab")

    def date(self, link: str, path: tuple[int, ...], when: date) -> None:
        self.type(link, path, when.strftime("%m/%d/%Y"))  # the form shows and takes MM/DD/YYYY

    def click(self, link: str, path: tuple[int, ...], value: str) -> None:
        """A radio button or check box: ``value`` is a code (of the wb-fhir code system) or true/false."""
        suffix = value if value in ("true", "false") else f"{CODESYSTEM_URL}|{value}"
        self.page.locator(f"[id='{link}/{_place(*path)}|{suffix}']").click()

    def code(self, link: str, path: tuple[int, ...], value: StrEnum) -> None:
        self.click(link, path, value.value)

    def pick(self, link: str, path: tuple[int, ...], shown: str, typed: int = 3) -> None:
        """Type the start of ``shown`` into an autocompleter and click it in the list the form offers."""
        box = self.widget(link, *path)
        box.click()
        box.press_sequentially(shown[:typed])
        choices = self.page.locator("#lhc-tools-searchResults li")
        choice = choices.filter(has_text=re.compile(rf"^\s*(\d+:\s*)?{re.escape(shown)}\s*$"))
        choice.first.click()

    def choose(self, link: str, path: tuple[int, ...], value: StrEnum) -> None:
        """A drop-down of codes: picked by the text the form shows."""
        self.pick(link, path, display(value))

    def add(self, link: str, *last: int) -> None:
        """The "+" button under the last repetition of ``link`` (at ``last``)."""
        self.page.locator(f"[id='add-{link}/{_place(*last)}']").click()

    # -- the map --

    def enter(self, wmap: WellbeingMap) -> None:
        """Enter everything of ``wmap`` but its subject (which the form prefills from the record)."""
        self.date("date", (1,), wmap.date)
        for n, practitioner in enumerate(wmap.practitioners, start=1):
            if n > 1:
                self.add("practitioner", n - 1)
            self.type("practitioner.name", (n, 1), practitioner.display)
            if practitioner.role:
                self.type("practitioner.role", (n, 1), practitioner.role)
            if practitioner.fhir_id:
                self.type("practitioner.reference", (n, 1), practitioner.fhir_id)
        if wmap.time_at_home is not None:
            self.type("time-at-home", (1,), str(wmap.time_at_home))
        for n, ring in enumerate(wmap.rings, start=1):
            if n > 1:
                self.add("ring-label", n - 1)
            self.type("ring-label", (n,), ring)
        labels = {c.id: c.label for c in wmap.connections}
        for n, c in enumerate(wmap.connections, start=1):
            if n > 1:
                self.add("connection", n - 1)
            at = (n, 1)
            self.code("connection.kind", at, c.kind)
            self.type("connection.label", at, c.label)
            self.choose(CATEGORY_LINK_ID[c.kind].value, at, c.category)
            self.type("connection.ring", at, str(c.ring))
            self.code("connection.impact", at, c.impact)
            if c.frequency is not None:
                self.choose("connection.frequency", at, c.frequency)
            self.code("connection.status", at, c.status)
            if c.knows_about_mental_health is not None:
                self.code("connection.disclosure", at, c.knows_about_mental_health)
            for role in c.roles:
                self.code("connection.roles", at, role)
            if c.fhir_id:
                self.type("connection.reference", at, c.fhir_id)
            self.click("connection.confirmed", at, "true" if c.confirmed else "false")
            if c.notes:
                self.type("connection.notes", at, c.notes)
        for n, tie in enumerate(wmap.ties, start=1):
            if n > 1:
                self.add("tie", n - 1)
            self.pick("tie.from", (n, 1), labels[tie.from_id])
            self.pick("tie.to", (n, 1), labels[tie.to_id])
            self.choose("tie.type", (n, 1), tie.type)
        goals = {g.id: g.description for g in wmap.goals}
        for n, goal in enumerate(wmap.goals, start=1):
            if n > 1:
                self.add("goal", n - 1)
            at = (n, 1)
            self.type("goal.description", at, goal.description)
            self.choose("goal.status", at, goal.status)
            for about in goal.about:
                self.pick("goal.about", at, labels[about])
            for supporter in goal.supporters:
                self.pick("goal.supporters", at, labels[supporter])
            for key, values in (("goal.resources", goal.resources), ("goal.barriers", goal.barriers)):
                self._strings(key, n, values)
            if goal.target:
                self.date("goal.target", at, goal.target)
            self._strings("goal.notes", n, goal.notes)
            for m, milestone in enumerate(goal.milestones, start=1):
                if m > 1:
                    self.add("goal.milestone", n, m - 1)
                where = (n, m, 1)
                self.type("goal.milestone.description", where, milestone.description)
                if milestone.due:
                    self.date("goal.milestone.due", where, milestone.due)
                self.click("goal.milestone.done", where, "true" if milestone.done else "false")
                if milestone.done_on:
                    self.date("goal.milestone.done-on", where, milestone.done_on)
        for n, signpost in enumerate(wmap.signposts, start=1):
            if n > 1:
                self.add("signpost", n - 1)
            at = (n, 1)
            self.type("signpost.asset", at, signpost.asset)
            self.pick("signpost.reason", at, labels.get(signpost.reason) or goals[signpost.reason])
            self.choose("signpost.status", at, signpost.status)
            if signpost.note:
                self.type("signpost.note", at, signpost.note)
            if signpost.date:
                self.date("signpost.date", at, signpost.date)
            for step, link in SIGNPOST_STEP_LINK_ID.items():  # shown once the status has reached the step
                if (day := signpost.step_date(step)) is not None:
                    self.date(link.value, at, day)
            if signpost.follow_up:
                self.date("signpost.follow-up", at, signpost.follow_up)
        if wmap.reflections:
            self.type("reflections", (1,), wmap.reflections)
        if wmap.next_review:
            self.date("next-review", (1,), wmap.next_review)

    def _strings(self, link: str, group: int, values: tuple[str, ...]) -> None:
        for m, value in enumerate(values, start=1):
            if m > 1:
                self.add(link, group, m - 1)
            self.type(link, (group, m), value)
