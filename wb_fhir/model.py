"""The concepts of wellbeing network mapping, as frozen, typed values.

A :class:`WellbeingMap` is one mapping conversation about one person at one point in time.
Instances are immutable (collections are tuples); change one with :func:`dataclasses.replace`
and, when the change comes from a person, re-check it through the map file's rules with
``map_from_data(map_to_data(changed))`` (:mod:`wb_fhir.mapfile`). The constructors here check
nothing: build maps from files or data with :mod:`wb_fhir.mapfile`, which checks everything,
within the limits of :mod:`wb_fhir.limits`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from wb_fhir.terminology import (
    Category,
    Disclosure,
    Frequency,
    GoalStatus,
    Impact,
    Kind,
    Role,
    SignpostStatus,
    Status,
    TieType,
)

DEFAULT_RINGS: tuple[str, ...] = ("Inner circle", "Middle", "Wider network")

try:
    # Validating a map needs one SHA-1 (its id), and hashlib's OpenSSL start-up costs more than
    # the rest of wb_fhir's model; CPython's own SHA-1 gives the same digest.
    from _sha1 import sha1  # type: ignore[import-not-found]  # no stub: it is private to CPython
except ImportError:  # a Python built without it
    from hashlib import sha1

_ID_NAMESPACE = bytes.fromhex("af166f17e1b05494acc7c4937ba57307")
"""``uuid.uuid5(uuid.NAMESPACE_URL, CANONICAL)``, written out (importing uuid costs start-up time; a test checks it)."""


@lru_cache(maxsize=16384)
def stable_uuid(*parts: str) -> str:
    """A UUID that is always the same for the same parts (used for business identifiers).

    ``str(uuid.uuid5(namespace, "\x1f".join(parts)))``, written out: a map of a thousand
    connections needs thousands of them, and the UUID object is most of their cost. The same
    identifier is asked for several times while one map is mapped (a connection's Observation,
    the ties that point at it, the summary that lists it), so recent ones are remembered.
    """
    digest = bytearray(sha1(_ID_NAMESPACE + "\x1f".join(parts).encode("utf-8")).digest()[:16])  # noqa: S324 - RFC 4122 name-based UUID
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True)
class Subject:
    """The person the map is about, as the care record knows them."""

    nhs_number: str | None = None
    fhir_id: str | None = None
    display: str | None = None

    @property
    def key(self) -> str:
        """What identifies the person across maps: NHS number first, else the FHIR id."""
        return f"nhs:{self.nhs_number}" if self.nhs_number else f"fhir:{self.fhir_id}"


@dataclass(frozen=True)
class Practitioner:
    """A practitioner who took part in the mapping conversation."""

    display: str
    role: str | None = None
    fhir_id: str | None = None


@dataclass(frozen=True)
class Connection:
    """A person, place or activity in the person's life."""

    id: str
    kind: Kind
    label: str
    category: Category
    ring: int
    impact: Impact
    frequency: Frequency | None = None
    status: Status = Status.CURRENT
    knows_about_mental_health: Disclosure | None = None
    roles: tuple[Role, ...] = ()
    fhir_id: str | None = None
    confirmed: bool = True
    notes: str | None = None

    @property
    def is_practitioner(self) -> bool:
        return self.kind is Kind.PERSON and self.category is Category.PRACTITIONER

    @property
    def is_current(self) -> bool:
        return self.status is Status.CURRENT


@dataclass(frozen=True)
class Tie:
    """A relation between two connections (``from`` and ``to`` are connection ids)."""

    from_id: str
    to_id: str
    type: TieType

    @property
    def id(self) -> str:
        """Stable id of the tie, made from its ends and type."""
        return f"{self.from_id}--{self.type.value}--{self.to_id}"


@dataclass(frozen=True)
class Milestone:
    """One step towards a goal, done or not."""

    id: str
    description: str
    due: dt.date | None = None
    done: bool = False
    done_on: dt.date | None = None


@dataclass(frozen=True)
class Goal:
    """A co-produced goal, linked to the connections it is about."""

    id: str
    description: str
    status: GoalStatus = GoalStatus.PROPOSED
    about: tuple[str, ...] = ()
    supporters: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    barriers: tuple[str, ...] = ()
    milestones: tuple[Milestone, ...] = ()
    notes: tuple[str, ...] = ()
    target: dt.date | None = None


@dataclass(frozen=True)
class Signpost:
    """A sign-post or referral to a community asset, followed up by its status."""

    asset: str
    reason: str
    status: SignpostStatus = SignpostStatus.SUGGESTED
    note: str | None = None
    date: dt.date | None = None
    # the date of each step it went through (issue 18), and when to check on it by
    suggested_on: dt.date | None = None
    agreed_on: dt.date | None = None
    referred_on: dt.date | None = None
    attended_on: dt.date | None = None
    declined_on: dt.date | None = None
    follow_up: dt.date | None = None

    @property
    def id(self) -> str:
        """Stable id of the sign-post, made from the asset and the reason."""
        return f"{self.asset}--{self.reason}"

    def step_date(self, status: SignpostStatus) -> dt.date | None:
        """The date the sign-post reached ``status``, when recorded."""
        value: dt.date | None = getattr(self, f"{status.value}_on")
        return value


@dataclass(frozen=True)
class WellbeingMap:
    """One mapping conversation about one person at one point in time."""

    subject: Subject
    date: dt.date
    practitioners: tuple[Practitioner, ...] = ()
    time_at_home: int | None = None
    rings: tuple[str, ...] = DEFAULT_RINGS
    connections: tuple[Connection, ...] = ()
    ties: tuple[Tie, ...] = ()
    goals: tuple[Goal, ...] = ()
    signposts: tuple[Signpost, ...] = ()
    reflections: str | None = None
    next_review: dt.date | None = None
    id: str = field(default="")

    def __post_init__(self) -> None:
        if not self.id:
            # The same person on the same day is the same map: pushing it again updates it.
            object.__setattr__(self, "id", stable_uuid("map", self.subject.key, self.date.isoformat()))

    def connection(self, connection_id: str) -> Connection:
        """The connection with this id (KeyError if there is none)."""
        return self._connections_by_id[connection_id]

    @cached_property
    def _connections_by_id(self) -> dict[str, Connection]:
        # ties, goals and sign-posts look their connections up: by index, not by a scan each
        by_id: dict[str, Connection] = {}
        for c in self.connections:
            by_id.setdefault(c.id, c)  # the first, as a scan would find
        return by_id

    def goal(self, goal_id: str) -> Goal:
        """The goal with this id (KeyError if there is none)."""
        for g in self.goals:
            if g.id == goal_id:
                return g
        raise KeyError(goal_id)

    @property
    def display_name(self) -> str:
        """The person's display name, or a neutral title when the map has none."""
        return self.subject.display or "Wellbeing network"
