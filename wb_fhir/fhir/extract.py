"""A QuestionnaireResponse of ``wellbeing-network-mapping`` back to a map.

Reads our own responses and those of any other SDC form filler: items in any order,
optional items missing, codings with or without display. Items the Questionnaire does not
have are reported as warnings, never dropped silently. The map is rebuilt through
:func:`wb_fhir.mapfile.map_from_data`, so every rule of a map file is checked, and each
problem is reported at its place in the response (``connection[2].connection.ring``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from wb_fhir.errors import InputError, Problem
from wb_fhir.fhir.items import ITEMS, SIGNPOST_STEP_LINK_ID, Item, parent
from wb_fhir.mapfile import map_from_data
from wb_fhir.model import WellbeingMap
from wb_fhir.terminology import (
    CATEGORY_LINK_ID,
    CODESYSTEM_URL,
    NHS_NUMBER_SYSTEM,
    QUESTIONNAIRE_URL,
    QUESTIONNAIRE_VERSION,
    IdentifierKind,
    LinkId,
    identifier_system,
)

JSON = dict[str, Any]


@dataclass(frozen=True)
class ExtractResult:
    """The map read from a response, and what in the response was not used (with its place)."""

    map: WellbeingMap
    warnings: tuple[Problem, ...] = ()


def map_from_questionnaire_response(qr: Any, *, source: str | None = None) -> WellbeingMap:
    """The map of a QuestionnaireResponse; anything it could not use is an InputError.

    Use :func:`extract_map` to accept a response with unknown items and get warnings instead.
    """
    result = extract_map(qr, source=source)
    if result.warnings:
        raise InputError(result.warnings, source)
    return result.map


def extract_map(qr: Any, *, source: str | None = None, patient: Any = None) -> ExtractResult:
    """Read a map from a QuestionnaireResponse; unknown or unused items become warnings.

    ``patient`` is the Patient resource the response names (read from the record): a response
    that names the person only as ``Patient/id`` (a form filler's, never populated) gets the NHS
    number from it, so its map has the same id as the person's other maps of that date.
    """
    reader = _Reader()
    data = reader.read(qr)
    if patient is not None and not reader.problems:
        data["subject"] = reader.with_patient(data["subject"], patient)
    if reader.problems:
        raise InputError(reader.problems, source)
    try:
        wmap = map_from_data(data)
    except InputError as exc:
        raise InputError([Problem(reader.place(p.path), p.message) for p in exc.problems], source) from None
    return ExtractResult(wmap, tuple(reader.warnings))


# --- reading the item tree -------------------------------------------------------------


@dataclass
class _Group:
    """One repetition of a group: its children by linkId, and its place in the response."""

    path: str
    children: dict[str, list[Any]] = field(default_factory=dict)

    def answers(self, link: LinkId) -> list[Any]:
        values: list[Any] = self.children.get(link.value, [])
        return values

    def one(self, link: LinkId) -> Any:
        values = self.answers(link)
        return values[0] if values else None

    def groups(self, link: LinkId) -> list[_Group]:
        groups: list[_Group] = self.children.get(link.value, [])
        return groups


_MAP_GROUPS = {
    "practitioners": LinkId.PRACTITIONER,
    "connections": LinkId.CONNECTION,
    "ties": LinkId.TIE,
    "goals": LinkId.GOAL,
    "milestones": LinkId.MILESTONE,
    "signposts": LinkId.SIGNPOST,
}
_MAP_FIELDS: dict[str, LinkId] = {
    "date": LinkId.DATE,
    "time_at_home": LinkId.TIME_AT_HOME,
    "rings": LinkId.RING_LABEL,
    "reflections": LinkId.REFLECTIONS,
    "next_review": LinkId.NEXT_REVIEW,
    "practitioners.display": LinkId.PRACTITIONER_NAME,
    "practitioners.role": LinkId.PRACTITIONER_ROLE,
    "practitioners.fhir_id": LinkId.PRACTITIONER_REF,
    "connections.id": LinkId.CONNECTION_ID,
    "connections.kind": LinkId.CONNECTION_KIND,
    "connections.label": LinkId.CONNECTION_LABEL,
    "connections.ring": LinkId.CONNECTION_RING,
    "connections.impact": LinkId.CONNECTION_IMPACT,
    "connections.frequency": LinkId.CONNECTION_FREQUENCY,
    "connections.status": LinkId.CONNECTION_STATUS,
    "connections.knows_about_mental_health": LinkId.CONNECTION_DISCLOSURE,
    "connections.roles": LinkId.CONNECTION_ROLES,
    "connections.fhir_id": LinkId.CONNECTION_REF,
    "connections.confirmed": LinkId.CONNECTION_CONFIRMED,
    "connections.notes": LinkId.CONNECTION_NOTES,
    "ties.from": LinkId.TIE_FROM,
    "ties.to": LinkId.TIE_TO,
    "ties.type": LinkId.TIE_TYPE,
    "goals.id": LinkId.GOAL_ID,
    "goals.description": LinkId.GOAL_DESCRIPTION,
    "goals.status": LinkId.GOAL_STATUS,
    "goals.about": LinkId.GOAL_ABOUT,
    "goals.supporters": LinkId.GOAL_SUPPORTERS,
    "goals.resources": LinkId.GOAL_RESOURCES,
    "goals.barriers": LinkId.GOAL_BARRIERS,
    "goals.target": LinkId.GOAL_TARGET,
    "goals.notes": LinkId.GOAL_NOTES,
    "goals.milestones.id": LinkId.MILESTONE_ID,
    "goals.milestones.description": LinkId.MILESTONE_DESCRIPTION,
    "goals.milestones.due": LinkId.MILESTONE_DUE,
    "goals.milestones.done": LinkId.MILESTONE_DONE,
    "goals.milestones.done_on": LinkId.MILESTONE_DONE_ON,
    "signposts.asset": LinkId.SIGNPOST_ASSET,
    "signposts.reason": LinkId.SIGNPOST_REASON,
    "signposts.status": LinkId.SIGNPOST_STATUS,
    "signposts.note": LinkId.SIGNPOST_NOTE,
    "signposts.date": LinkId.SIGNPOST_DATE,
    **{f"signposts.{step.value}_on": link for step, link in SIGNPOST_STEP_LINK_ID.items()},
    "signposts.follow_up": LinkId.SIGNPOST_FOLLOW_UP,
}
_SEGMENT = re.compile(r"([^.\[\]]+)(?:\[(\d+)\])?")
_REFERENCE = re.compile(
    r"(?:.*/)?((?:Patient|Practitioner|PractitionerRole|RelatedPerson|Location|HealthcareService)/[^/]+)$"
)


class _Reader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self._categories: dict[int, str] = {}

    # -- the response as a whole --

    def read(self, qr: Any) -> JSON:
        if not isinstance(qr, dict) or qr.get("resourceType") != "QuestionnaireResponse":
            kind = qr.get("resourceType") if isinstance(qr, dict) else None
            what = f"a {kind}" if isinstance(kind, str) else "not a FHIR resource"
            self.problems.append(Problem("resourceType", f"expected a QuestionnaireResponse, got {what}"))
            return {}
        self._check_questionnaire(qr.get("questionnaire"))
        status = qr.get("status")
        if status not in ("completed", "amended"):
            self.warnings.append(Problem("status", f"{status!r}: the response is not completed"))
        root = _Group("")
        self._read_items(qr.get("item", []), None, "", root, "item")
        data: JSON = {}
        identifier = qr.get("identifier")
        if isinstance(identifier, dict) and identifier.get("system") == identifier_system(IdentifierKind.MAP):
            data["id"] = identifier.get("value")
        data["subject"] = self._subject(qr.get("subject"), root.groups(LinkId.SUBJECT))
        when = root.one(LinkId.DATE)
        authored = qr.get("authored")
        if when is None and isinstance(authored, str) and len(authored) >= 10:
            self.warnings.append(Problem("item", "no 'date' item: the date of the map is taken from 'authored'"))
            when = authored[:10]
        _put(data, "date", when)
        data["practitioners"] = [
            _drop_none(
                {
                    "display": g.one(LinkId.PRACTITIONER_NAME),
                    "role": g.one(LinkId.PRACTITIONER_ROLE),
                    "fhir_id": g.one(LinkId.PRACTITIONER_REF),
                }
            )
            for g in root.groups(LinkId.PRACTITIONER)
        ]
        _put(data, "time_at_home", root.one(LinkId.TIME_AT_HOME))
        if root.answers(LinkId.RING_LABEL):
            data["rings"] = root.answers(LinkId.RING_LABEL)
        data["connections"] = [self._connection(i, g) for i, g in enumerate(root.groups(LinkId.CONNECTION))]
        data["ties"] = [
            _drop_none({"from": g.one(LinkId.TIE_FROM), "to": g.one(LinkId.TIE_TO), "type": g.one(LinkId.TIE_TYPE)})
            for g in root.groups(LinkId.TIE)
        ]
        data["goals"] = [self._goal(i, g) for i, g in enumerate(root.groups(LinkId.GOAL))]
        data["signposts"] = [
            _drop_none(
                {
                    "asset": g.one(LinkId.SIGNPOST_ASSET),
                    "reason": g.one(LinkId.SIGNPOST_REASON),
                    "status": g.one(LinkId.SIGNPOST_STATUS),
                    "note": g.one(LinkId.SIGNPOST_NOTE),
                    "date": g.one(LinkId.SIGNPOST_DATE),
                    **{f"{step.value}_on": g.one(link) for step, link in SIGNPOST_STEP_LINK_ID.items()},
                    "follow_up": g.one(LinkId.SIGNPOST_FOLLOW_UP),
                }
            )
            for g in root.groups(LinkId.SIGNPOST)
        ]
        _put(data, "reflections", root.one(LinkId.REFLECTIONS))
        _put(data, "next_review", root.one(LinkId.NEXT_REVIEW))
        self._name_ids(data)
        self._resolve_references(data)
        return {k: v for k, v in data.items() if v != []}

    def _check_questionnaire(self, canonical: Any) -> None:
        if not isinstance(canonical, str):
            self.problems.append(Problem("questionnaire", f"is missing: expected {QUESTIONNAIRE_URL}"))
            return
        url, _, version = canonical.partition("|")
        if url != QUESTIONNAIRE_URL:
            self.problems.append(
                Problem("questionnaire", f"{canonical!r} is another Questionnaire (expected {QUESTIONNAIRE_URL})")
            )
        elif version and version != QUESTIONNAIRE_VERSION:
            self.warnings.append(
                Problem("questionnaire", f"version {version!r}, read as version {QUESTIONNAIRE_VERSION}")
            )

    def _subject(self, subject: Any, groups: list[_Group]) -> JSON:
        person = groups[0] if groups else _Group("subject")
        nhs, name = person.one(LinkId.SUBJECT_NHS_NUMBER), person.one(LinkId.SUBJECT_NAME)
        patient = person.one(LinkId.SUBJECT_REFERENCE)
        if not isinstance(subject, dict):
            if nhs is None and patient is None:
                self.problems.append(Problem("subject", "is missing: a map is about one Patient"))
                return {}
            # a form filler that drops the response's subject still keeps the hidden answers
            subject = {}
        out: JSON = {}
        reference = subject.get("reference")
        if isinstance(reference, str):
            conditional = f"Patient?identifier={NHS_NUMBER_SYSTEM}|"
            match = _REFERENCE.match(reference)
            if reference.startswith(conditional):
                out["nhs_number"] = reference[len(conditional) :]
            elif match and match.group(1).startswith("Patient/"):
                out["fhir_id"] = match.group(1)
            else:
                self.problems.append(Problem("subject.reference", f"{reference!r} is not a Patient"))
        identifier = subject.get("identifier")
        if isinstance(identifier, dict):
            if identifier.get("system") == NHS_NUMBER_SYSTEM:
                out["nhs_number"] = identifier.get("value")
            else:
                self.warnings.append(Problem("subject.identifier", "not an NHS number: ignored"))
        if isinstance(subject.get("display"), str):
            out["display"] = subject["display"]
        if nhs is not None:
            if out.get("nhs_number", nhs) != nhs:
                self.problems.append(
                    Problem(f"{person.path}.{LinkId.SUBJECT_NHS_NUMBER.value}", "is not the NHS number of the subject")
                )
            out["nhs_number"] = nhs
        if patient is not None:
            if out.get("fhir_id", patient) != patient:
                self.problems.append(
                    Problem(f"{person.path}.{LinkId.SUBJECT_REFERENCE.value}", "is not the Patient of the subject")
                )
            out["fhir_id"] = patient
        if name is not None:
            out.setdefault("display", name)
        return out

    def with_patient(self, subject: JSON, patient: Any) -> JSON:
        """The subject completed from the record's Patient it names: NHS number and name."""
        if not isinstance(patient, dict) or patient.get("resourceType") != "Patient" or not patient.get("id"):
            self.problems.append(Problem("subject", "the record's Patient is not a Patient resource with an id"))
            return subject
        reference = f"Patient/{patient['id']}"
        if subject.get("fhir_id", reference) != reference:
            self.problems.append(Problem("subject", f"names {subject['fhir_id']}, not {reference}"))
            return subject
        numbers = [
            i.get("value")
            for i in patient.get("identifier", [])
            if isinstance(i, dict) and i.get("system") == NHS_NUMBER_SYSTEM
        ]
        nhs = numbers[0] if numbers and isinstance(numbers[0], str) else None
        if nhs is not None and subject.get("nhs_number", nhs) != nhs:
            self.problems.append(Problem("subject", f"is not the NHS number the record holds for {reference}"))
            return subject
        names = patient.get("name")
        name = names[0] if isinstance(names, list) and names and isinstance(names[0], dict) else {}
        display = name.get("text") or " ".join(p for p in [*name.get("given", []), name.get("family", "")] if p)
        out = {"fhir_id": reference} | subject | _drop_none({"nhs_number": nhs})
        if display and "display" not in out:
            out["display"] = display
        return out

    def _connection(self, i: int, g: _Group) -> JSON:
        c_id = g.one(LinkId.CONNECTION_ID)
        kind = g.one(LinkId.CONNECTION_KIND)
        categories = [(link, g.one(link)) for link in CATEGORY_LINK_ID.values() if g.one(link) is not None]
        category = None
        if len(categories) > 1:
            names = ", ".join(link.value for link, _ in categories)
            self.problems.append(Problem(g.path, f"has more than one category ({names})"))
        elif categories:
            link, category = categories[0]
            self._categories[i] = link.value
            for k, enabled in CATEGORY_LINK_ID.items():
                if enabled is link and kind is not None and kind != k.value:
                    self.problems.append(
                        Problem(f"{g.path}.{link.value}", f"is only enabled when kind is {k.value}, not {kind}")
                    )
        return _drop_none(
            {
                "id": c_id,
                "kind": kind,
                "label": g.one(LinkId.CONNECTION_LABEL),
                "category": category,
                "ring": g.one(LinkId.CONNECTION_RING),
                "impact": g.one(LinkId.CONNECTION_IMPACT),
                "frequency": g.one(LinkId.CONNECTION_FREQUENCY),
                "status": g.one(LinkId.CONNECTION_STATUS),
                "knows_about_mental_health": g.one(LinkId.CONNECTION_DISCLOSURE),
                "roles": g.answers(LinkId.CONNECTION_ROLES) or None,
                "fhir_id": g.one(LinkId.CONNECTION_REF),
                "confirmed": g.one(LinkId.CONNECTION_CONFIRMED),
                "notes": g.one(LinkId.CONNECTION_NOTES),
            }
        )

    def _goal(self, i: int, g: _Group) -> JSON:
        g_id = g.one(LinkId.GOAL_ID)
        return _drop_none(
            {
                "id": g_id,
                "description": g.one(LinkId.GOAL_DESCRIPTION),
                "status": g.one(LinkId.GOAL_STATUS),
                "about": g.answers(LinkId.GOAL_ABOUT) or None,
                "supporters": g.answers(LinkId.GOAL_SUPPORTERS) or None,
                "resources": g.answers(LinkId.GOAL_RESOURCES) or None,
                "barriers": g.answers(LinkId.GOAL_BARRIERS) or None,
                "milestones": [
                    _drop_none(
                        {
                            "id": m.one(LinkId.MILESTONE_ID),
                            "description": m.one(LinkId.MILESTONE_DESCRIPTION),
                            "due": m.one(LinkId.MILESTONE_DUE),
                            "done": m.one(LinkId.MILESTONE_DONE),
                            "done_on": m.one(LinkId.MILESTONE_DONE_ON),
                        }
                    )
                    for m in g.groups(LinkId.MILESTONE)
                    if m.children  # a filler may keep an empty repetition: a goal needs no milestone
                ]
                or None,
                "notes": g.answers(LinkId.GOAL_NOTES) or None,
                "target": g.one(LinkId.GOAL_TARGET),
            }
        )

    # -- items --

    def _read_items(self, items: Any, group: str | None, prefix: str, into: _Group, where: str) -> None:
        if not isinstance(items, list):
            self.problems.append(Problem(where, "must be a list of items"))
            return
        counts: dict[str, int] = {}
        for n, item in enumerate(items):
            link = item.get("linkId") if isinstance(item, dict) else None
            if not isinstance(link, str):
                self.problems.append(Problem(f"{prefix}item[{n}]", "is not an item with a linkId"))
                continue
            index = counts.get(link, 0)
            counts[link] = index + 1
            shape = ITEMS.get(link)  # type: ignore[call-overload]
            path = f"{prefix}{link}"
            if shape is None or parent(link) != group:
                self.warnings.append(Problem(path, "is not an item of the Questionnaire here: ignored"))
                continue
            if index and not shape.repeats:
                self.problems.append(Problem(path, "appears more than once but does not repeat"))
                continue
            if shape.item_type == "group":
                path = f"{path}[{index}]"
                child = _Group(path)
                self._read_items(item.get("item", []), link, f"{path}.", child, f"{path}.item")
                into.children.setdefault(link, []).append(child)
                if item.get("answer"):
                    self.warnings.append(Problem(path, "a group has no answers: its answers are ignored"))
            else:
                into.children.setdefault(link, []).extend(self._answers(item, shape, path))

    def _answers(self, item: JSON, shape: Item, path: str) -> list[Any]:
        answers = item.get("answer", [])
        if not isinstance(answers, list):
            self.problems.append(Problem(f"{path}.answer", "must be a list of answers"))
            return []
        if len(answers) > 1 and not shape.repeats:
            self.problems.append(Problem(path, f"has {len(answers)} answers but takes one"))
            return []
        if item.get("item"):
            self.warnings.append(Problem(f"{path}.item", "items nested in a question are not read: ignored"))
        values = []
        for n, answer in enumerate(answers):
            at = f"{path}.answer[{n}]" if shape.repeats else path
            value = self._value(answer, shape, at)
            if value is not None:
                values.append(value)
        return values

    def _value(self, answer: Any, shape: Item, at: str) -> Any:
        keys = [k for k in answer if k.startswith("value")] if isinstance(answer, dict) else []
        if len(keys) != 1:
            self.problems.append(Problem(at, f"needs one {shape.answer_key}"))
            return None
        if isinstance(answer, dict) and answer.get("item"):
            self.warnings.append(Problem(f"{at}.item", "items nested in an answer are not read: ignored"))
        key = keys[0]
        value = answer[key]
        if shape.item_type == "open-choice" and key == "valueCoding":
            return self._picked(value, at)
        if shape.reference and key in ("valueString", "valueReference"):
            return self._reference(value, at)
        if key != shape.answer_key:
            self.problems.append(Problem(at, f"expects {shape.answer_key}, not {key}"))
            return None
        if shape.item_type == "choice":
            return self._code(value, shape, at)
        expected = {"integer": int, "boolean": bool}.get(shape.item_type, str)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            self.problems.append(Problem(at, f"{value!r} is not a valid {key}"))
            return None
        return value

    def _reference(self, value: Any, at: str) -> str | None:
        ref = value.get("reference") if isinstance(value, dict) else value
        match = _REFERENCE.match(ref) if isinstance(ref, str) else None
        if match is None:
            self.problems.append(Problem(at, "needs a reference Type/id to an existing resource"))
            return None
        return match.group(1)

    def _picked(self, value: Any, at: str) -> str | None:
        """What a form filler picked from a list it made of earlier answers: its code, else its display."""
        picked = value.get("code", value.get("display")) if isinstance(value, dict) else None
        if not isinstance(picked, str):
            self.problems.append(Problem(at, "valueCoding needs a code or a display"))
            return None
        return picked

    # -- ids and the answers that name them --

    def _name_ids(self, data: JSON) -> None:
        """Give each connection and goal without an id one made from its label (or description)."""
        for key, text in (("connections", "label"), ("goals", "description")):
            entries = data.get(key, [])
            taken = {e["id"] for e in entries if "id" in e}
            for entry in entries:
                if "id" not in entry and isinstance(entry.get(text), str):
                    entry["id"] = _unique(_slug(entry[text]), taken)

    def _resolve_references(self, data: JSON) -> None:
        """Answers that name a connection (or goal) by its label where the form had no id for it."""
        connections = [(c.get("id"), c.get("label")) for c in data.get("connections", [])]
        goals = [(g.get("id"), g.get("description")) for g in data.get("goals", [])]
        for i, tie in enumerate(data.get("ties", [])):
            for end in ("from", "to"):
                if end in tie:
                    tie[end] = self._resolve(tie[end], connections, f"ties[{i}].{end}")
        for i, goal in enumerate(data.get("goals", [])):
            for key in ("about", "supporters"):
                for j, name in enumerate(goal.get(key, [])):
                    goal[key][j] = self._resolve(name, connections, f"goals[{i}].{key}[{j}]")
        for i, signpost in enumerate(data.get("signposts", [])):
            if "reason" in signpost:
                signpost["reason"] = self._resolve(signpost["reason"], connections + goals, f"signposts[{i}].reason")

    def _resolve(self, name: str, known: list[tuple[Any, Any]], at: str) -> str:
        if any(name == known_id for known_id, _ in known):
            return name
        matches = [known_id for known_id, label in known if isinstance(label, str) and _same(label, name)]
        if len(matches) > 1:
            self.warnings.append(
                Problem(self.place(at), f"{name!r} is the label of {len(matches)} entries: taken as {matches[0]!r}")
            )
        return str(matches[0]) if matches else name

    def _code(self, value: Any, shape: Item, at: str) -> str | None:
        if not isinstance(value, dict) or not isinstance(value.get("code"), str):
            self.problems.append(Problem(at, "valueCoding needs a code"))
            return None
        system, code = value.get("system"), str(value["code"])
        if system is not None and system != CODESYSTEM_URL:
            self.problems.append(Problem(at, f"{system!r} is not the code system {CODESYSTEM_URL}"))
            return None
        assert shape.codes is not None
        if code not in {m.value for m in shape.codes}:
            allowed = ", ".join(m.value for m in shape.codes)
            self.problems.append(Problem(at, f"{code!r} is not one of: {allowed}"))
            return None
        return code

    # -- places --

    def place(self, map_path: str) -> str:
        """The place in the response of a place in the map data (``connections[2].ring``)."""
        parts = [(m.group(1), m.group(2)) for m in _SEGMENT.finditer(map_path)]
        if not parts:
            return ""
        if parts[0][0] == "id":
            return "identifier.value"
        if parts[0][0] == "subject":
            return "subject"
        out: list[str] = []
        names: list[str] = []
        for name, index in parts:
            names.append(name)
            group = _MAP_GROUPS.get(name)
            if group is not None and index is not None:
                out.append(f"{group.value}[{index}]")
                continue
            if name == "category" and names[0] == "connections":
                link = self._categories.get(int(parts[0][1] or 0), LinkId.CONNECTION_CATEGORY_PERSON.value)
                out.append(link)
                continue
            field_link = _MAP_FIELDS.get(".".join(names))
            if field_link is None:
                out.append(name if index is None else f"{name}[{index}]")
                continue
            out.append(field_link.value if index is None else f"{field_link.value}.answer[{index}]")
        return ".".join(out)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:40] or "connection"


def _unique(base: str, taken: set[str]) -> str:
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    taken.add(candidate)
    return candidate


def _same(label: str, name: str) -> bool:
    return " ".join(label.casefold().split()) == " ".join(name.casefold().split())


def _put(data: JSON, key: str, value: Any) -> None:
    if value is not None:
        data[key] = value


def _drop_none(d: JSON) -> JSON:
    return {k: v for k, v in d.items() if v is not None}


def questionnaire_response_of(resource: Any) -> JSON:
    """The QuestionnaireResponse itself, or the one in a transaction Bundle of a map.

    A Bundle must be a transaction (as :func:`wb_fhir.fhir.transaction_bundle` writes) holding
    exactly one QuestionnaireResponse; every entry that is not a resource is named.
    """
    if not isinstance(resource, dict) or resource.get("resourceType") != "Bundle":
        if not isinstance(resource, dict):
            raise InputError([Problem("", "is not a FHIR resource (a JSON object with a resourceType)")])
        return resource
    if resource.get("type") != "transaction":
        raise InputError([Problem("type", f"{resource.get('type')!r}: expected a transaction Bundle")])
    entries = resource.get("entry", [])
    if not isinstance(entries, list):
        raise InputError([Problem("entry", "must be a list of entries")])
    problems: list[Problem] = []
    found: list[JSON] = []
    for n, entry in enumerate(entries):
        inner = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(inner, dict) or not isinstance(inner.get("resourceType"), str):
            problems.append(Problem(f"entry[{n}]", "has no resource"))
        elif inner["resourceType"] == "QuestionnaireResponse":
            found.append(inner)
    if not problems and len(found) != 1:
        problems.append(Problem("entry", f"holds {len(found)} QuestionnaireResponses, expected one"))
    if problems:
        raise InputError(problems)
    return found[0]
