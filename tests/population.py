"""A generated caseload with known answers, for the report tests and the report benchmark.

:func:`population` draws people (random NHS numbers in the 999 test range), each with one to
three maps: network sizes from none to many, every kind, category, ring, impact and status,
practitioners with roles, ties, time at home missing for some, and equal-date maps told
apart by their ids. :func:`expected` computes the report's answers from the maps in plain
Python, on purpose without any code of ``wb_fhir.report``: the tests compare the two.
"""

from __future__ import annotations

import json
import random
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from strategies import random_nhs_number

from wb_fhir.fhir import questionnaire_response
from wb_fhir.mapfile import save_map
from wb_fhir.model import Connection, Subject, Tie, WellbeingMap, stable_uuid
from wb_fhir.terminology import (
    CATEGORIES_BY_KIND,
    NHS_NUMBER_SYSTEM,
    TIE_RULES,
    Category,
    Impact,
    Kind,
    Role,
    Status,
)

START = date(2024, 1, 1)
LABELS = ["Mum", "Dad", "Sam <b>", "Café & Co", "Gym", "Library", "Allotment", "CPN", "Book club", "Priya"]


@dataclass(frozen=True)
class Person:
    nhs_number: str
    maps: tuple[WellbeingMap, ...]


def _connection(rng: random.Random, n: int, rings: int) -> Connection:
    kind = rng.choices(list(Kind), [3, 1, 1])[0]
    common = {Category.FAMILY: 8, Category.PARTNER: 2, Category.HOME: 6, Category.PRACTITIONER: 5, Category.FRIEND: 4}
    weights = [common.get(c, 1) for c in CATEGORIES_BY_KIND[kind]]
    category = rng.choices(CATEGORIES_BY_KIND[kind], weights)[0]
    roles: tuple[Role, ...] = ()
    if kind is Kind.PERSON and category is Category.PRACTITIONER:
        roles = tuple(sorted(rng.sample(list(Role), rng.randrange(0, 3))))
    status = rng.choices(list(Status), [8, 1, 1])[0]
    return Connection(
        id=f"c{n}",
        kind=kind,
        label=f"{rng.choice(LABELS)} {n}",
        category=category,
        ring=rng.randint(1, rings),
        impact=rng.choice(list(Impact)),
        status=status,
        roles=roles,
    )


def _ties(rng: random.Random, connections: tuple[Connection, ...]) -> tuple[Tie, ...]:
    ties: dict[tuple[str, str, str], Tie] = {}
    for _ in range(rng.randrange(0, 4)):
        if len(connections) < 2:
            break
        a, b = rng.sample(connections, 2)
        for tie_type, (froms, tos) in TIE_RULES.items():
            if a.kind in froms and b.kind in tos:
                ties[(a.id, b.id, tie_type.value)] = Tie(a.id, b.id, tie_type)
                break
    return tuple(ties.values())


def make_map(
    rng: random.Random, nhs_number: str, when: date, *, map_id: str = "", size: int | None = None
) -> WellbeingMap:
    """One random map of a person on a day (``size`` connections, else drawn)."""
    rings = rng.choice([3, 3, 3, 4])
    if size is None:
        size = rng.choice([0, 1, 2, 3, 5, 8, 12, 20])
    connections = tuple(_connection(rng, n, rings) for n in range(size))
    return WellbeingMap(
        subject=Subject(nhs_number=nhs_number, display=f"Person {nhs_number[-4:]}"),
        date=when,
        time_at_home=None if rng.random() < 0.15 else rng.choice([0, 10, 25, 50, 51, 60, 75, 90, 100]),
        rings=("Inner circle", "Middle", "Wider network", "Far")[:rings],
        connections=connections,
        ties=_ties(rng, connections),
        id=map_id,
    )


def population(people: int, seed: int = 19, *, rng: random.Random | None = None) -> list[Person]:
    """``people`` people with one to three maps each (ids unique per call unless seeded alike)."""
    rng = rng or random.Random(seed)
    out: list[Person] = []
    for _ in range(people):
        nhs = random_nhs_number(rng)
        first = START + timedelta(days=rng.randrange(0, 600))
        count = rng.choice([1, 1, 2, 3])
        days = sorted({first} | {first + timedelta(days=rng.randrange(1, 400)) for _ in range(count - 1)})
        maps = [make_map(rng, nhs, d) for d in days]
        if count == 3 and rng.random() < 0.5:
            # Two maps on the latest day: the later id in sort order is the latest map.
            last = maps[-1].date
            ids = sorted(stable_uuid("equal-date", nhs, str(k)) for k in range(2))
            maps[-1] = make_map(rng, nhs, last, map_id=ids[1])
            maps.append(make_map(rng, nhs, last, map_id=ids[0]))
        out.append(Person(nhs, tuple(maps)))
    return out


def all_maps(people: list[Person]) -> list[WellbeingMap]:
    return [m for p in people for m in p.maps]


# --- the answers, computed independently of wb_fhir.report ----------------------------------


def _measure(count: int, denominator: int) -> dict[str, Any]:
    percent = None
    if denominator:
        percent = float((Decimal(100 * count) / Decimal(denominator)).quantize(Decimal("0.1"), ROUND_HALF_UP))
    return {"count": count, "denominator": denominator, "percent": percent}


def _quartiles(values: list[int]) -> dict[str, Any]:
    if not values:
        return {"median": None, "quartiles": None}
    if len(values) == 1:
        return {"median": float(values[0]), "quartiles": [float(values[0]), float(values[0])]}
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return {"median": float(q2), "quartiles": [float(q1), float(q3)]}


def _current(m: WellbeingMap) -> list[Connection]:
    return [c for c in m.connections if c.status is Status.CURRENT]


def _direction(before: float, after: float) -> str:
    return "up" if after > before else "down" if after < before else "same"


def expected(maps: list[WellbeingMap], *, since: date | None = None, until: date | None = None) -> dict[str, Any]:
    """The report's exact answers (no disclosure control) for these maps."""
    maps = [m for m in maps if (since is None or m.date >= since) and (until is None or m.date <= until)]
    by_person: dict[str, list[WellbeingMap]] = {}
    for m in maps:
        by_person.setdefault(m.subject.nhs_number or "", []).append(m)
    for ms in by_person.values():
        ms.sort(key=lambda m: (m.date, m.id))
    latest = [ms[-1] for ms in by_person.values()]
    sizes = [len(_current(m)) for m in latest]
    recorded = [m.time_at_home for m in latest if m.time_at_home is not None]
    current = [c for m in latest for c in _current(m)]
    practitioners = [c for c in current if c.kind is Kind.PERSON and c.category is Category.PRACTITIONER]
    rings: dict[str, dict[str, int]] = {}
    for c in current:
        rings.setdefault(str(c.ring), {k.value: 0 for k in Kind})[c.kind.value] += 1
    impacts = Counter(c.impact for c in current)
    roles = Counter(r for c in practitioners for r in c.roles)

    def family_or_home(m: WellbeingMap) -> bool:
        cur = _current(m)
        n = sum(
            1
            for c in cur
            if (c.kind is Kind.PERSON and c.category in (Category.FAMILY, Category.PARTNER))
            or (c.kind is Kind.PLACE and c.category is Category.HOME)
        )
        return 2 * n > len(cur)

    def losses(status: Status) -> dict[str, Any]:
        per = [sum(1 for c in m.connections if c.status is status) for m in latest]
        return {"connections": sum(per), "people": _measure(sum(1 for n in per if n), len(latest))}

    change_pairs = [(ms[0], ms[-1]) for ms in by_person.values() if len(ms) >= 2]

    def change(values: list[tuple[float, float]], with_median: bool = True) -> dict[str, Any]:
        directions = Counter(_direction(a, b) for a, b in values)
        out: dict[str, Any] = {d: _measure(directions[d], len(values)) for d in ("up", "same", "down")}
        if with_median:
            out["median_difference"] = statistics.median([b - a for a, b in values]) if values else None
            if out["median_difference"] is not None:
                out["median_difference"] = float(out["median_difference"])
        return out

    def inner(m: WellbeingMap) -> int:
        return sum(1 for c in _current(m) if c.ring == 1)

    def negative_share(m: WellbeingMap) -> float:
        cur = _current(m)
        return sum(1 for c in cur if c.impact in (Impact.NEGATIVE, Impact.VERY_NEGATIVE)) / len(cur)

    bands = {"0-25": (0, 25), "26-50": (26, 50), "51-75": (51, 75), "76-100": (76, 100)}
    return {
        "people": len(latest),
        "maps": len(maps),
        "practitioner_in_inner_circle": _measure(
            sum(1 for m in latest if any(c.ring == 1 for c in _current(m) if c.category is Category.PRACTITIONER)),
            len(latest),
        ),
        "more_than_half_waking_time_at_home": _measure(sum(1 for t in recorded if t > 50), len(recorded)),
        "family_or_home_based": _measure(
            sum(1 for m in latest if _current(m) and family_or_home(m)), sum(1 for s in sizes if s)
        ),
        "network_size": {
            "people": len(latest),
            **_quartiles(sizes),
            "by_kind": {
                k.value: _quartiles([sum(1 for c in _current(m) if c.kind is k) for m in latest]) for k in Kind
            },
        },
        "rings": dict(sorted(rings.items())),
        "impact": {i.value: _measure(impacts[i], len(current)) for i in Impact},
        "roles": {r.value: _measure(roles[r], len(practitioners)) for r in Role},
        "time_at_home": {
            "recorded": len(recorded),
            "median": float(statistics.median(recorded)) if recorded else None,
            "bands": {name: sum(1 for t in recorded if lo <= t <= hi) for name, (lo, hi) in bands.items()},
        },
        "lost": losses(Status.LOST),
        "wished_for": losses(Status.WISHED_FOR),
        "change": {
            "people": len(change_pairs),
            "network_size": change([(len(_current(a)), len(_current(b))) for a, b in change_pairs]),
            "inner_circle": change([(inner(a), inner(b)) for a, b in change_pairs]),
            "time_at_home": change(
                [
                    (a.time_at_home, b.time_at_home)
                    for a, b in change_pairs
                    if a.time_at_home is not None and b.time_at_home is not None
                ]
            ),
            "negative_share": change(
                [(negative_share(a), negative_share(b)) for a, b in change_pairs if _current(a) and _current(b)],
                with_median=False,
            ),
        },
    }


# --- the population as sources ----------------------------------------------------------------


def write_map_files(maps: list[WellbeingMap], folder: Path) -> Path:
    """Each map as a YAML file in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for n, m in enumerate(maps):
        save_map(m, folder / f"map-{n:05d}.yaml")
    return folder


def write_bulk_export(maps: list[WellbeingMap], folder: Path) -> list[Path]:
    """The maps as a server's Bulk Data export gives them: QuestionnaireResponses that point at
    Patients by id (``Patient/p-<NHS number>``), and the Patients with their NHS numbers."""
    folder.mkdir(parents=True, exist_ok=True)
    qrs, patients = folder / "QuestionnaireResponse.ndjson", folder / "Patient.ndjson"
    seen: set[str] = set()
    with qrs.open("w", encoding="utf-8") as q, patients.open("w", encoding="utf-8") as p:
        for n, m in enumerate(maps):
            nhs = m.subject.nhs_number or ""
            qr = questionnaire_response(m)
            qr["id"] = f"qr-{n}"
            qr["subject"] = {"reference": f"Patient/p-{nhs}"}
            q.write(json.dumps(qr) + "\n")
            if nhs not in seen:
                seen.add(nhs)
                patient = {
                    "resourceType": "Patient",
                    "id": f"p-{nhs}",
                    "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": nhs}],
                }
                p.write(json.dumps(patient) + "\n")
    return [qrs, patients]


PUBLICATION_KEYS = ("disclosure_control", "suppressed", "period")


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    """The report without the keys that describe how it was made (to compare with :func:`expected`)."""
    return {k: v for k, v in report.items() if k not in PUBLICATION_KEYS}
