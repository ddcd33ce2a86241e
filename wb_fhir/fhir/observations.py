"""Observations of a map: one per connection and per tie, time at home, and the summary.

Each connection Observation also carries the connection's series identifier (the same at
every review) so ``Observation?identifier=<connection system>|<value>`` follows one
connection over time. :func:`measures_from_observations` computes the network measures back
from the Observations alone, which proves they hold what the map holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from enum import StrEnum
from typing import Any

from wb_fhir.fhir.references import (
    JSON,
    Key,
    Linker,
    coding,
    concept,
    connection_key,
    connection_series_key,
    meta,
    practitioner_ref,
    questionnaire_response_key,
    summary_key,
    tie_key,
    time_at_home_key,
)
from wb_fhir.measures import NetworkMeasures, measure
from wb_fhir.model import DEFAULT_RINGS, Connection, Subject, Tie, WellbeingMap
from wb_fhir.terminology import (
    CODESYSTEM_URL,
    EXT_ORDINAL_VALUE,
    IMPACT_WEIGHT,
    OBSERVATION_CATEGORIES,
    OBSERVATION_CATEGORY_SYSTEM,
    UCUM,
    Category,
    Impact,
    Kind,
    ObservationCode,
    Profile,
    Status,
    TieType,
)

_CATEGORY = [{"coding": [{"system": OBSERVATION_CATEGORY_SYSTEM, "code": code}]} for code in OBSERVATION_CATEGORIES]


def percent(value: float) -> JSON:
    """A UCUM percentage."""
    return {"value": value, "unit": "%", "system": UCUM, "code": "%"}


def _base(wmap: WellbeingMap, linker: Linker, profile: Profile, code: ObservationCode) -> JSON:
    obs: JSON = {
        "resourceType": "Observation",
        "meta": meta(profile, "Observation"),
        "status": "final",
        "category": [dict(c) for c in _CATEGORY],
        "code": concept(code),
        "subject": linker.subject(wmap.subject),
        "effectiveDateTime": wmap.date.isoformat(),
    }
    if wmap.practitioners:
        # a practitioner without a FHIR id is still named (display only): who was there matters
        obs["performer"] = [practitioner_ref(p) for p in wmap.practitioners]
    return obs


def _component(code: ObservationCode, value: Any) -> JSON:
    out: JSON = {"code": concept(code)}
    if isinstance(value, StrEnum):
        out["valueCodeableConcept"] = concept(value)
    elif isinstance(value, bool):
        out["valueBoolean"] = value
    elif isinstance(value, int):
        out["valueInteger"] = value
    elif isinstance(value, str):
        out["valueString"] = value
    else:
        out["valueQuantity"] = value
    return out


def impact_concept(impact: Impact) -> JSON:
    """The impact as a CodeableConcept with its ordinal weight."""
    c = coding(impact)
    c["extension"] = [{"url": EXT_ORDINAL_VALUE, "valueDecimal": IMPACT_WEIGHT[impact]}]
    return {"coding": [c]}


def connection_observation(wmap: WellbeingMap, c: Connection, linker: Linker, source: Key | None = None) -> JSON:
    """The Observation of one connection at the time of the map (``source``: the map's QuestionnaireResponse)."""
    obs = _base(wmap, linker, Profile.CONNECTION, ObservationCode.CONNECTION)
    obs["identifier"] = [connection_key(wmap, c).identifier(), connection_series_key(wmap, c.id).identifier()]
    obs["valueCodeableConcept"] = impact_concept(c.impact)
    if c.fhir_id:
        obs["focus"] = [{"reference": c.fhir_id}]
    obs["derivedFrom"] = [linker.ref(source or questionnaire_response_key(wmap))]
    components = [
        _component(ObservationCode.CONNECTION_ID, c.id),
        _component(ObservationCode.CONNECTION_KIND, c.kind),
        _component(ObservationCode.CONNECTION_LABEL, c.label),
        _component(ObservationCode.CONNECTION_CATEGORY, c.category),
        _component(ObservationCode.RING, c.ring),
    ]
    if c.frequency:
        components.append(_component(ObservationCode.FREQUENCY, c.frequency))
    components.append(_component(ObservationCode.STATUS, c.status))
    if c.knows_about_mental_health:
        components.append(_component(ObservationCode.DISCLOSURE, c.knows_about_mental_health))
    components += [_component(ObservationCode.PRACTITIONER_ROLE, r) for r in c.roles]
    obs["component"] = components
    return obs


def tie_observation(wmap: WellbeingMap, t: Tie, linker: Linker, source: Key | None = None) -> JSON:
    """The Observation of a tie between two connections."""
    obs = _base(wmap, linker, Profile.TIE, ObservationCode.TIE)
    obs["identifier"] = [tie_key(wmap, t).identifier()]
    obs["focus"] = [
        linker.ref(connection_key(wmap, wmap.connection(t.from_id))),
        linker.ref(connection_key(wmap, wmap.connection(t.to_id))),
    ]
    obs["valueCodeableConcept"] = concept(t.type)
    obs["derivedFrom"] = [linker.ref(source or questionnaire_response_key(wmap))]
    obs["component"] = [_component(ObservationCode.TIE_FROM, t.from_id), _component(ObservationCode.TIE_TO, t.to_id)]
    return obs


def time_at_home_observation(wmap: WellbeingMap, linker: Linker, source: Key | None = None) -> JSON | None:
    """Share of the waking day spent at home, or None when the map has none."""
    if wmap.time_at_home is None:
        return None
    obs = _base(wmap, linker, Profile.TIME_AT_HOME, ObservationCode.TIME_AT_HOME)
    obs["identifier"] = [time_at_home_key(wmap).identifier()]
    obs["valueQuantity"] = percent(wmap.time_at_home)
    obs["derivedFrom"] = [linker.ref(source or questionnaire_response_key(wmap))]
    return obs


def summary_observation(wmap: WellbeingMap, linker: Linker, source: Key | None = None) -> JSON:
    """The network summary: measures of the whole map, with every other Observation as member."""
    m = measure(wmap)
    obs = _base(wmap, linker, Profile.NETWORK_SUMMARY, ObservationCode.NETWORK_SUMMARY)
    obs["identifier"] = [summary_key(wmap).identifier()]
    members = [linker.ref(connection_key(wmap, c)) for c in wmap.connections]
    members += [linker.ref(tie_key(wmap, t)) for t in wmap.ties]
    if wmap.time_at_home is not None:
        members.append(linker.ref(time_at_home_key(wmap)))
    if members:
        obs["hasMember"] = members
    obs["derivedFrom"] = [linker.ref(source or questionnaire_response_key(wmap))]
    figures: list[tuple[ObservationCode, Any]] = [
        (ObservationCode.SIZE_PERSON, m.by_kind[Kind.PERSON]),
        (ObservationCode.SIZE_PLACE, m.by_kind[Kind.PLACE]),
        (ObservationCode.SIZE_ACTIVITY, m.by_kind[Kind.ACTIVITY]),
        (ObservationCode.SIZE_INNER, m.inner_circle),
        (ObservationCode.SIZE_LOST, m.by_status[Status.LOST]),
        (ObservationCode.SIZE_WISHED_FOR, m.by_status[Status.WISHED_FOR]),
        (ObservationCode.COUNT_POSITIVE, m.positive),
        (ObservationCode.COUNT_NEGATIVE, m.negative),
        (ObservationCode.COUNT_MIXED, m.mixed),
        (ObservationCode.PRACTITIONER_IN_INNER, m.practitioner_in_inner_circle),
    ]
    if m.family_or_home_share is not None:
        figures.append((ObservationCode.FAMILY_HOME_SHARE, percent(round(m.family_or_home_share * 100, 2))))
    obs["component"] = [_component(code, value) for code, value in figures]
    return obs


def observations(wmap: WellbeingMap, linker: Linker | None = None) -> list[JSON]:
    """Every Observation of a map: connections, ties, time at home, then the summary."""
    linker = linker or Linker()
    source = questionnaire_response_key(wmap)
    out = [connection_observation(wmap, c, linker, source) for c in wmap.connections]
    out += [tie_observation(wmap, t, linker, source) for t in wmap.ties]
    home = time_at_home_observation(wmap, linker, source)
    if home is not None:
        out.append(home)
    out.append(summary_observation(wmap, linker, source))
    return out


# --- back from Observations ------------------------------------------------------------------


def observation_code(obs: JSON) -> str | None:
    """The project code of an Observation (None for anyone else's)."""
    for c in obs.get("code", {}).get("coding", []):
        if c.get("system") == CODESYSTEM_URL:
            code: str = c.get("code")
            return code
    return None


def _components(obs: JSON) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for comp in obs.get("component", []):
        code = observation_code(comp)
        if code is None:
            continue
        for key, value in comp.items():
            if key.startswith("value"):
                if key == "valueCodeableConcept":
                    value = observation_code({"code": value})
                out.setdefault(code, []).append(value)
    return out


def _value_code(obs: JSON) -> str:
    return observation_code({"code": obs["valueCodeableConcept"]}) or ""


def measures_from_observations(observations: Iterable[JSON], *, rings: int = len(DEFAULT_RINGS)) -> NetworkMeasures:
    """The network measures computed from a map's connection, tie and time-at-home Observations.

    ``rings`` is the number of rings of the map (Observations record rings, not their count).
    """
    connections: list[Connection] = []
    ties: list[Tie] = []
    time_at_home: int | None = None
    for obs in observations:
        code = observation_code(obs)
        parts = _components(obs)
        if code == ObservationCode.CONNECTION:
            connections.append(
                Connection(
                    id=parts[ObservationCode.CONNECTION_ID][0],
                    kind=Kind(parts[ObservationCode.CONNECTION_KIND][0]),
                    label=parts[ObservationCode.CONNECTION_LABEL][0],
                    category=Category(parts[ObservationCode.CONNECTION_CATEGORY][0]),
                    ring=parts[ObservationCode.RING][0],
                    impact=Impact(_value_code(obs)),
                    status=Status(parts[ObservationCode.STATUS][0]),
                )
            )
        elif code == ObservationCode.TIE:
            ties.append(
                Tie(
                    parts[ObservationCode.TIE_FROM][0],
                    parts[ObservationCode.TIE_TO][0],
                    TieType(_value_code(obs)),
                )
            )
        elif code == ObservationCode.TIME_AT_HOME:
            time_at_home = int(obs["valueQuantity"]["value"])
    ring_count = max([rings, *(c.ring for c in connections)])
    labels: Sequence[str] = tuple(f"ring {n}" for n in range(1, ring_count + 1))
    # The measures are defined on a map; build the smallest map the Observations describe.
    shell = WellbeingMap(subject=Subject(fhir_id="Patient/measures"), date=date.min)
    return measure(
        replace(shell, rings=tuple(labels), connections=tuple(connections), ties=tuple(ties), time_at_home=time_at_home)
    )
