"""Made-up maps of any size, for the render tests, the benchmark and the reference pictures.

Deterministic: the same size always gives the same map. Connections cycle through every kind,
category, ring, impact, frequency and status, with short and long labels, and carry ties of
every type, so one call exercises everything the layout must handle.
"""

from __future__ import annotations

import random
from datetime import date

from wb_fhir.model import Connection, Practitioner, Subject, Tie, WellbeingMap
from wb_fhir.terminology import CATEGORIES_BY_KIND, TIE_RULES, Category, Frequency, Impact, Kind, Role, Status, TieType

_WORDS = ("Alex", "Sam", "the allotment", "choir", "Riverside park", "book club", "Nan", "the corner café", "football")
_STATUSES = (Status.CURRENT,) * 5 + (Status.WISHED_FOR, Status.LOST)


def generated_map(size: int, *, rings: int = 3) -> WellbeingMap:
    """A map with ``size`` connections spread over ``rings`` rings (1..6)."""
    kinds = tuple(Kind)
    connections = []
    for n in range(size):
        kind = kinds[n % 3]
        category = CATEGORIES_BY_KIND[kind][(n // 3) % len(CATEGORIES_BY_KIND[kind])]
        practitioner = kind is Kind.PERSON and category is Category.PRACTITIONER
        label = f"{_WORDS[n % len(_WORDS)].capitalize()} {n}" + (
            " and friends from the old days" if n % 11 == 4 else ""
        )
        connections.append(
            Connection(
                id=f"c{n}",
                kind=kind,
                label=label,
                category=category,
                ring=1 + (n * 7 // 3) % rings,
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
        if a.kind not in starts:
            continue
        b = next((c for c in connections[n + 1 : n + 8] if c.kind in ends), None)
        if b is not None:
            ties.append(Tie(a.id, b.id, tie_type))
    return WellbeingMap(
        subject=Subject(nhs_number="9434765919", display=f"Test person ({size})"),
        date=date(2026, 1, 15),
        practitioners=(Practitioner("Alex Jones", "CPN"),),
        time_at_home=(size * 13) % 101,
        rings=("Inner circle", "Middle", "Wider network", "Outer", "Further", "Furthest")[:rings],
        connections=tuple(connections),
        ties=tuple(ties),
    )


def random_map(seed: int, size: int, *, ties: int | None = None, rings: int = 3) -> WellbeingMap:
    """A map of ``size`` connections with kinds, rings, statuses and ties drawn at random from
    ``seed`` (about one tie per connection unless ``ties`` says otherwise; duplicates and
    self-ties skipped)."""
    rng = random.Random(seed)
    connections = []
    for n in range(size):
        kind = rng.choice(tuple(Kind))
        category = rng.choice(CATEGORIES_BY_KIND[kind])
        practitioner = kind is Kind.PERSON and category is Category.PRACTITIONER
        words = rng.sample(_WORDS, rng.choice((1, 1, 2, 3)))
        connections.append(
            Connection(
                id=f"r{n}",
                kind=kind,
                label=" ".join(words).capitalize(),
                category=category,
                ring=rng.randint(1, rings),
                impact=rng.choice(tuple(Impact)),
                status=rng.choice(_STATUSES),
                roles=(rng.choice(tuple(Role)),) if practitioner else (),
            )
        )
    wanted = size if ties is None else ties
    made: dict[tuple[str, str], Tie] = {}
    for _ in range(wanted * 4):
        if len(made) >= wanted or size < 2:
            break
        a, b = rng.sample(connections, 2)
        tie_type = rng.choice(tuple(TieType))
        starts, ends = TIE_RULES[tie_type]
        if a.kind in starts and b.kind in ends and (a.id, b.id) not in made and (b.id, a.id) not in made:
            made[(a.id, b.id)] = Tie(a.id, b.id, tie_type)
    return WellbeingMap(
        subject=Subject(nhs_number="9434765919", display=f"Random person ({seed})"),
        date=date(2026, 2, 1),
        rings=("Inner circle", "Middle", "Wider network", "Outer", "Further", "Furthest")[:rings],
        connections=tuple(connections),
        ties=tuple(made.values()),
    )
