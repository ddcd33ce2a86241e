"""Hypothesis strategies for valid wellbeing maps (reusable by every test module).

``map_data()`` draws plain map-file data that obeys every rule of the loader (kinds and
categories, rings in range, tie kinds, unique ids, references that resolve, milestone
dates); ``wellbeing_maps()`` builds it through :func:`wb_fhir.mapfile.map_from_data`, so a
map drawn here is exactly what a valid file gives. Labels mix unicode and markup
(``<b>&"'``) to catch escaping bugs.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from wb_fhir.mapfile import map_from_data, nhs_check_digit
from wb_fhir.model import WellbeingMap
from wb_fhir.terminology import (
    CATEGORIES_BY_KIND,
    SIGNPOST_PATH,
    TIE_RULES,
    Category,
    Disclosure,
    Frequency,
    GoalStatus,
    Impact,
    Kind,
    Role,
    SignpostStatus,
    Status,
)

MARKUP = ["<b>", "&", '"', "'", "</div>", "<script>alert(1)</script>", "&amp;"]

# Text a person may type: letters of any script, digits, punctuation, symbols, inner spaces.
# No control characters or surrogates (FHIR strings exclude them); never blank.
_chars = st.characters(codec="utf-8", categories=("L", "M", "N", "P", "S", "Zs"))
free_text = st.one_of(
    st.text(_chars, min_size=1, max_size=30).map(str.strip).filter(bool),
    st.sampled_from(MARKUP),
    st.tuples(st.sampled_from(MARKUP), st.text(_chars, min_size=1, max_size=8)).map(
        lambda p: (p[0] + " " + p[1]).strip()
    ),
)
ids = st.from_regex(r"\A[a-z][a-z0-9-]{0,10}\Z")
dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


def nhs_number(nine: str) -> str | None:
    """Nine digits plus the modulus 11 check digit, or None when no check digit exists."""
    check = nhs_check_digit(nine)
    return None if check is None else nine + str(check)


def random_nhs_number(rng: random.Random | None = None) -> str:
    """A random valid NHS number in the 999 test range (tests share a long-lived server)."""
    rng = rng or random.Random()
    while True:
        number = nhs_number("999" + "".join(str(rng.randrange(10)) for _ in range(6)))
        if number is not None:
            return number


nhs_numbers = st.from_regex(r"\A[0-9]{9}\Z").map(nhs_number).filter(lambda n: n is not None)


@st.composite
def subjects(draw: st.DrawFn) -> dict[str, Any]:
    which = draw(st.sampled_from(["nhs", "fhir", "both"]))
    out: dict[str, Any] = {}
    if which in ("nhs", "both"):
        out["nhs_number"] = draw(nhs_numbers)
    if which in ("fhir", "both"):
        out["fhir_id"] = "Patient/" + draw(st.from_regex(r"\A[A-Za-z0-9-]{1,12}\Z"))
    if draw(st.booleans()):
        out["display"] = draw(free_text)
    return out


_REF_TYPES = {Kind.PERSON: ["RelatedPerson", "Practitioner"], Kind.PLACE: ["Location", "HealthcareService"]}


@st.composite
def connections(draw: st.DrawFn, c_id: str, rings: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(list(Kind)))
    category = draw(st.sampled_from(CATEGORIES_BY_KIND[kind]))
    c: dict[str, Any] = {
        "id": c_id,
        "kind": kind.value,
        "label": draw(free_text),
        "category": category.value,
        "ring": draw(st.integers(1, rings)),
        "impact": draw(st.sampled_from(list(Impact))).value,
    }
    if draw(st.booleans()):
        c["frequency"] = draw(st.sampled_from(list(Frequency))).value
    if draw(st.booleans()):
        c["status"] = draw(st.sampled_from(list(Status))).value
    if kind is Kind.PERSON and draw(st.booleans()):
        c["knows_about_mental_health"] = draw(st.sampled_from(list(Disclosure))).value
    if kind is Kind.PERSON and category is Category.PRACTITIONER:
        roles = draw(st.lists(st.sampled_from(list(Role)), unique=True, max_size=3))
        if roles:
            c["roles"] = [r.value for r in roles]
    if kind in _REF_TYPES and draw(st.integers(0, 3)) == 0:
        c["fhir_id"] = draw(st.sampled_from(_REF_TYPES[kind])) + "/" + draw(st.from_regex(r"\A[a-z0-9]{1,8}\Z"))
    if draw(st.integers(0, 4)) == 0:
        c["confirmed"] = False
    if draw(st.integers(0, 3)) == 0:
        c["notes"] = draw(free_text)
    return c


def reached_steps(status: SignpostStatus) -> list[SignpostStatus]:
    """The steps a sign-post at ``status`` went through: along the path, or to declined before attended."""
    path = list(SIGNPOST_PATH)
    if status is SignpostStatus.DECLINED:
        return [*path[: path.index(SignpostStatus.ATTENDED)], status]
    return path[: path.index(status) + 1]


@st.composite
def signpost_steps(draw: st.DrawFn, status: SignpostStatus, when: date) -> dict[str, str]:
    """Dates for some of the steps a sign-post at ``status`` went through, in order, none after ``when``,
    and perhaps a date to check on it by (any date)."""
    steps = [step for step in reached_steps(status) if draw(st.booleans())]
    days = sorted(draw(st.lists(st.dates(date(2020, 1, 1), when), min_size=len(steps), max_size=len(steps))))
    out = {f"{step.value}_on": day.isoformat() for step, day in zip(steps, days, strict=True)}
    if draw(st.booleans()):
        out["follow_up"] = draw(dates).isoformat()
    return out


@st.composite
def map_data(draw: st.DrawFn, max_connections: int = 10) -> dict[str, Any]:
    """Plain data of a valid map file."""
    when = draw(dates)
    data: dict[str, Any] = {"subject": draw(subjects()), "date": when.isoformat()}
    if draw(st.integers(0, 4)) == 0:
        data["id"] = str(draw(st.uuids()))
    practitioners = draw(st.lists(st.tuples(free_text, st.none() | free_text, st.booleans()), max_size=3))
    if practitioners:
        data["practitioners"] = [
            {"display": name, **({"role": role} if role else {}), **({"fhir_id": f"Practitioner/p{n}"} if ref else {})}
            for n, (name, role, ref) in enumerate(practitioners)
        ]
    if draw(st.booleans()):
        data["time_at_home"] = draw(st.integers(0, 100))
    rings = 3
    if draw(st.booleans()):
        labels = draw(st.lists(free_text, min_size=1, max_size=6))
        data["rings"] = labels
        rings = len(labels)
    c_ids = draw(st.lists(ids, unique=True, max_size=max_connections))
    conns = [draw(connections(c_id, rings)) for c_id in c_ids]
    if conns:
        data["connections"] = conns
    kinds = {c["id"]: Kind(c["kind"]) for c in conns}

    ties = []
    seen: set[tuple[str, str, str]] = set()
    if len(conns) >= 2:
        for _ in range(draw(st.integers(0, 2 * len(conns)))):
            a, b = draw(st.lists(st.sampled_from(c_ids), min_size=2, max_size=2, unique=True))
            allowed = [t for t, (f, to) in TIE_RULES.items() if kinds[a] in f and kinds[b] in to]
            if not allowed:
                continue
            t = draw(st.sampled_from(allowed)).value
            if (a, t, b) not in seen:
                seen.add((a, t, b))
                ties.append({"from": a, "to": b, "type": t})
    if ties:
        data["ties"] = ties

    people = [i for i in c_ids if kinds[i] is Kind.PERSON]
    goal_ids = draw(st.lists(ids.filter(lambda g: g not in kinds), unique=True, max_size=3))
    goals = []
    for g_id in goal_ids:
        g: dict[str, Any] = {"id": g_id, "description": draw(free_text)}
        if draw(st.booleans()):
            g["status"] = draw(st.sampled_from(list(GoalStatus))).value
        for key, pool in (("about", c_ids), ("supporters", people)):
            chosen = draw(st.lists(st.sampled_from(pool), unique=True, max_size=3)) if pool else []
            if chosen:
                g[key] = chosen
        for key in ("resources", "barriers", "notes"):
            texts = draw(st.lists(free_text, max_size=2))
            if texts:
                g[key] = texts
        if draw(st.booleans()):
            g["target"] = (when + timedelta(days=draw(st.integers(0, 400)))).isoformat()
        milestones = []
        for j in range(draw(st.integers(0, 3))):
            m: dict[str, Any] = {"description": draw(free_text), "done": draw(st.booleans())}
            if draw(st.booleans()):
                m["id"] = f"step-{j}"
            if draw(st.booleans()):
                m["due"] = draw(dates).isoformat()
            if m["done"] and draw(st.booleans()):
                m["done_on"] = draw(dates).isoformat()
            milestones.append(m)
        if milestones:
            g["milestones"] = milestones
        goals.append(g)
    if goals:
        data["goals"] = goals

    reasons = c_ids + goal_ids
    signposts = []
    pairs: set[tuple[str, str]] = set()
    if reasons:
        for _ in range(draw(st.integers(0, 3))):
            s = {"asset": draw(ids), "reason": draw(st.sampled_from(reasons))}
            if (s["asset"], s["reason"]) in pairs:
                continue
            pairs.add((s["asset"], s["reason"]))
            status = draw(st.sampled_from(list(SignpostStatus))) if draw(st.booleans()) else None
            if status is not None:
                s["status"] = status.value
            if draw(st.booleans()):
                s["note"] = draw(free_text)
            if draw(st.booleans()):
                s["date"] = draw(dates).isoformat()
            s.update(draw(signpost_steps(status or SignpostStatus.SUGGESTED, when)))
            signposts.append(s)
    if signposts:
        data["signposts"] = signposts
    if draw(st.booleans()):
        data["reflections"] = draw(free_text)
    if draw(st.booleans()):
        data["next_review"] = (when + timedelta(days=draw(st.integers(0, 400)))).isoformat()
    return data


def wellbeing_maps(max_connections: int = 10) -> st.SearchStrategy[WellbeingMap]:
    """Valid WellbeingMaps, built through the map file loader."""
    return map_data(max_connections).map(map_from_data)
