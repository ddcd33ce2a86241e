"""The maps the benchmarks measure: any number of connections, always the same for the same size.

Connections cycle through every kind, category, ring, impact, frequency and status (practitioners
with a role); about one tie for every three connections; a practitioner and the time at home; no
goals or sign-posts (:mod:`benchmarks.floor` writes the Bundle of exactly these maps).
"""

from __future__ import annotations

from datetime import date

from wb_fhir.model import Connection, Practitioner, Subject, Tie, WellbeingMap
from wb_fhir.terminology import CATEGORIES_BY_KIND, TIE_RULES, Category, Frequency, Impact, Kind, Role, Status, TieType

_WORDS = ("Alex", "Sam", "the allotment", "choir", "Riverside park", "book club", "Nan", "the corner café", "football")
_STATUSES = (Status.CURRENT,) * 5 + (Status.WISHED_FOR, Status.LOST)
NHS_NUMBER = "9434765919"


def network(size: int, *, nhs_number: str = NHS_NUMBER, day: date = date(2026, 1, 15)) -> WellbeingMap:
    """A map of ``size`` connections about the person with this NHS number, on this day."""
    kinds = tuple(Kind)
    connections = []
    for n in range(size):
        kind = kinds[n % 3]
        category = CATEGORIES_BY_KIND[kind][(n // 3) % len(CATEGORIES_BY_KIND[kind])]
        practitioner = kind is Kind.PERSON and category is Category.PRACTITIONER
        connections.append(
            Connection(
                id=f"c{n}",
                kind=kind,
                label=f"{_WORDS[n % len(_WORDS)].capitalize()} {n}"
                + (" and friends from school" if n % 11 == 4 else ""),
                category=category,
                ring=1 + (n * 7 // 3) % 3,
                impact=tuple(Impact)[(n + n // 3) % len(Impact)],
                frequency=tuple(Frequency)[n % len(Frequency)],
                status=_STATUSES[n % len(_STATUSES)],
                roles=(tuple(Role)[n % len(Role)],) if practitioner else (),
            )
        )
    ties = []
    for n, a in enumerate(connections):
        tie_type = tuple(TieType)[n % len(TieType)]
        starts, ends = TIE_RULES[tie_type]
        if n % 3 or a.kind not in starts:
            continue
        b = next((c for c in connections[n + 1 : n + 8] if c.kind in ends), None)
        if b is not None:
            ties.append(Tie(a.id, b.id, tie_type))
    return WellbeingMap(
        subject=Subject(nhs_number=nhs_number, display=f"Test person ({size})"),
        date=day,
        practitioners=(Practitioner("Alex Jones", "CPN"),),
        time_at_home=(size * 13) % 101,
        connections=tuple(connections),
        ties=tuple(ties),
    )
