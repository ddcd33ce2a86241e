"""Building the Figure 1 network in the editor, by keyboard only or by mouse, and comparing.

The steps follow ``examples/figure1.yaml``; the stored map must equal it with ids aside (the
editor makes ids from names: "Friend from the gym" becomes ``friend-from-the-gym``).
"""

from __future__ import annotations

from typing import Any

from web_support import FIGURE1

from wb_fhir import load_map, map_to_data

KIND_ORDER = ["person", "place", "activity"]


def figure1() -> dict[str, Any]:
    return map_to_data(load_map(FIGURE1))


def without_ids(data: dict[str, Any]) -> dict[str, Any]:
    """The map data with connection and goal ids replaced by their labels and descriptions."""
    names = {c["id"]: f"c:{c['label']}" for c in data.get("connections", [])}
    names.update({g["id"]: f"g:{g['description']}" for g in data.get("goals", [])})
    out = dict(data)
    out["connections"] = [{**c, "id": names[c["id"]]} for c in data.get("connections", [])]
    out["ties"] = [{**t, "from": names[t["from"]], "to": names[t["to"]]} for t in data.get("ties", [])]
    out["goals"] = [
        {
            **g,
            "id": names[g["id"]],
            **({"about": [names[x] for x in g["about"]]} if "about" in g else {}),
            **({"supporters": [names[x] for x in g["supporters"]]} if "supporters" in g else {}),
        }
        for g in data.get("goals", [])
    ]
    out["signposts"] = [{**s, "reason": names[s["reason"]]} for s in data.get("signposts", [])]
    return out


def us_date(iso: str) -> str:
    """What to type into Chromium's date field (month, day, year) for an ISO date."""
    year, month, day = iso.split("-")
    return f"{month}{day}{year}"


class Keyboard:
    """Drives a page with the keyboard only: Tab and Shift+Tab to move, keys to act."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def focused(self, selector: str) -> bool:
        return bool(self.page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector))

    def tab_to(self, selector: str, limit: int = 500) -> bool:
        """Press Tab (or Shift+Tab, whichever way the element is) until it has the focus.

        True when it was reached backwards (Shift+Tab).
        """
        backwards = self.page.evaluate(
            """(s) => { const t = document.querySelector(s); const a = document.activeElement;
                 if (!t) throw new Error('no element ' + s);
                 const after = t.compareDocumentPosition(a) & Node.DOCUMENT_POSITION_FOLLOWING;
                 return !!(a && a !== document.body && after); }""",
            selector,
        )
        key = "Shift+Tab" if backwards else "Tab"
        for _ in range(limit):
            if self.focused(selector):
                return backwards
            self.page.keyboard.press(key)
        raise AssertionError(f"{selector} cannot be reached with the keyboard")

    def type_into(self, selector: str, text: str) -> None:
        self.tab_to(selector)
        self.page.keyboard.type(text)

    def date(self, selector: str, iso: str) -> None:
        if self.tab_to(selector):
            # Each part of a date field is a tab stop: reached backwards, the focus is on the
            # last part; go out before it and come in forwards, to the first part (the month).
            while self.focused(selector):
                self.page.keyboard.press("Shift+Tab")
            self.page.keyboard.press("Tab")
        self.page.keyboard.type(us_date(iso))
        got = self.page.eval_on_selector(selector, "e => e.value")
        assert got == iso, f"{selector}: {got!r}"

    def select(self, selector: str, value: str) -> None:
        """Choose an option of a focused drop-down with the arrow keys."""
        self.tab_to(selector)
        values = self.page.eval_on_selector(selector, "e => [...e.options].filter(o => !o.disabled).map(o => o.value)")
        current = self.page.eval_on_selector(selector, "e => e.value")
        step = "ArrowDown" if values.index(value) > values.index(current) else "ArrowUp"
        for _ in range(len(values)):
            if self.page.eval_on_selector(selector, "e => e.value") == value:
                return
            self.page.keyboard.press(step)
        raise AssertionError(f"{value} cannot be chosen in {selector}")

    def radio(self, group: str, value: str) -> None:
        """Choose in a radio group: Tab to it (the checked one), then arrow keys."""
        self.tab_to(f"{group}:checked")
        for _ in range(12):
            if self.page.eval_on_selector(f"{group}:checked", "e => e.value") == value:
                return
            self.page.keyboard.press("ArrowRight")
        raise AssertionError(f"{value} cannot be chosen in {group}")

    def check(self, selector: str, on: bool = True) -> None:
        self.tab_to(selector)
        if self.page.eval_on_selector(selector, "e => e.checked") != on:
            self.page.keyboard.press("Space")

    def press(self, selector: str) -> None:
        self.tab_to(selector)
        self.page.keyboard.press("Enter")


def fill_connection_by_keyboard(k: Keyboard, c: dict[str, Any]) -> None:
    """Fill in and add one connection with the keyboard (the form starts at its defaults)."""
    form = "#connection-form"
    k.radio(f"{form} input[name=kind]", c["kind"])
    k.type_into("#c-label", c["label"])
    k.select("#c-category", c["category"])
    k.radio(f"{form} input[name=ring]", str(c["ring"]))
    k.radio(f"{form} input[name=impact]", c["impact"])
    if "frequency" in c:
        k.select("#c-frequency", c["frequency"])
    k.radio(f"{form} input[name=status]", c.get("status", "current"))
    if "knows_about_mental_health" in c:
        k.select("#c-knows", c["knows_about_mental_health"])
    for role in c.get("roles", []):
        k.check(f"{form} input[name=roles][value={role}]")
    k.press("#c-submit")
