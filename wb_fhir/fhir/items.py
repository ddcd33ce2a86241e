"""The items of the Questionnaire ``wellbeing-network-mapping``, declared once.

:data:`QUESTIONNAIRE_ITEMS` is the item tree: text, type, repetition, the codes a choice allows,
the Observation code an item extracts to, form hints (hidden, control, bounds) and the SDC
expressions that let a form filler offer earlier answers and prefill from the record. The
Questionnaire in ``profiles/`` is generated from it (:mod:`wb_fhir.conformance.questionnaire`),
and reading a QuestionnaireResponse (:mod:`wb_fhir.fhir.extract`) uses it through :data:`ITEMS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from wb_fhir.terminology import (
    CATEGORIES_BY_KIND,
    CATEGORY_LINK_ID,
    CATEGORY_VALUE_SETS,
    NHS_NUMBER_SYSTEM,
    SIGNPOST_PATH,
    Category,
    Disclosure,
    Frequency,
    GoalStatus,
    Impact,
    Kind,
    LinkId,
    ObservationCode,
    Role,
    SignpostStatus,
    Status,
    TieType,
)

ANSWER_KEY = {
    "date": "valueDate",
    "string": "valueString",
    "text": "valueString",
    "integer": "valueInteger",
    "boolean": "valueBoolean",
    "choice": "valueCoding",
    "open-choice": "valueString",
    "reference": "valueReference",
}
"""The ``answer.value[x]`` of each Questionnaire item type (an open-choice also takes a valueCoding)."""


def _answers(link: LinkId) -> str:
    return f"item.where(linkId='{link.value}').answer.value"


def _id_or_label(group: LinkId, id_link: LinkId, label_link: LinkId) -> str:
    """FHIRPath: for each repetition of ``group`` in the response, its id, or its label while it has none."""
    return (
        f"%resource.item.where(linkId='{group.value}')"
        f".select(iif({_answers(id_link)}.exists(), {_answers(id_link)}, {_answers(label_link)}))"
    )


CONNECTION_CHOICES = _id_or_label(LinkId.CONNECTION, LinkId.CONNECTION_ID, LinkId.CONNECTION_LABEL)
"""answerExpression of the items that name a connection: the connections entered above."""
GOAL_CHOICES = _id_or_label(LinkId.GOAL, LinkId.GOAL_ID, LinkId.GOAL_DESCRIPTION)
"""The goals entered above (a sign-post's reason may be a goal)."""

PATIENT_NHS_NUMBER = f"%patient.identifier.where(system='{NHS_NUMBER_SYSTEM}').value.first()"
"""initialExpression of the person's NHS number, from the ``patient`` launch context."""
PATIENT_NAME = "%patient.name.first().select(iif(text.exists(), text, (given.first() | family).join(' ')))"
"""initialExpression of the person's name as the record knows it."""


@dataclass(frozen=True)
class Item:
    """One item of the Questionnaire and everything wb_fhir needs to know about it."""

    link: LinkId
    text: str
    item_type: str
    repeats: bool = False
    required: bool = False
    codes: type[StrEnum] | None = None
    """For a choice: the codes it allows (all of one terminology enum)."""
    value_set: str | None = None
    """For a choice: the name of the ValueSet of its answers (``terminology.value_set_url``)."""
    code: ObservationCode | None = None
    """What the answer means in an Observation (``item.code``): the Observation code or component code."""
    control: str | None = None
    hidden: bool = False
    bounds: tuple[int, int] | None = None
    percent: bool = False
    enable_when: tuple[tuple[LinkId, StrEnum], ...] = ()
    choices: str | None = None
    """FHIRPath (SDC answerExpression): answers offered from what was entered above (an open-choice:
    a form keeps what it was given, as a valueString, and what was picked, as a valueCoding display)."""
    initial: str | None = None
    """FHIRPath (SDC initialExpression) over the launch context: the prefilled answer."""
    reference: bool = False
    """A string holding a literal reference ``Type/id`` (form fillers drop ``reference`` answers they
    cannot resolve; a valueReference is still read)."""
    children: tuple[Item, ...] = ()

    @property
    def answer_key(self) -> str:
        return ANSWER_KEY[self.item_type]


def parent(link: str) -> str | None:
    """The linkId of the group an item belongs to (linkIds are dotted paths)."""
    return link.rsplit(".", 1)[0] if "." in link else None


_L = LinkId


def _choice(link: LinkId, text: str, codes: type[StrEnum], value_set: str, control: str, **more: object) -> Item:
    return Item(link, text, "choice", codes=codes, value_set=value_set, control=control, **more)  # type: ignore[arg-type]


_CATEGORIES = tuple(
    _choice(
        CATEGORY_LINK_ID[kind],
        f"What sort of {kind.value} is it?",
        Category,
        CATEGORY_VALUE_SETS[kind],
        "drop-down",
        required=True,
        code=ObservationCode.CONNECTION_CATEGORY,
        enable_when=((_L.CONNECTION_KIND, kind),),
    )
    for kind in CATEGORIES_BY_KIND
)

_CONNECTION = Item(
    _L.CONNECTION,
    "A person, place or activity in your life",
    "group",
    repeats=True,
    code=ObservationCode.CONNECTION,
    children=(
        Item(
            _L.CONNECTION_ID,
            "Connection id (kept the same across reviews)",
            "string",
            hidden=True,
            code=ObservationCode.CONNECTION_ID,
        ),
        _choice(
            _L.CONNECTION_KIND,
            "Is it a person, a place or an activity?",
            Kind,
            "connection-kind",
            "radio-button",
            required=True,
            code=ObservationCode.CONNECTION_KIND,
        ),
        Item(
            _L.CONNECTION_LABEL,
            "What do you call them or it?",
            "string",
            required=True,
            code=ObservationCode.CONNECTION_LABEL,
        ),
        *_CATEGORIES,
        Item(
            _L.CONNECTION_RING,
            "How close is it? (1 is the closest ring)",
            "integer",
            required=True,
            bounds=(1, 6),
            code=ObservationCode.RING,
        ),
        _choice(
            _L.CONNECTION_IMPACT, "How does it affect your wellbeing?", Impact, "impact", "radio-button", required=True
        ),
        _choice(
            _L.CONNECTION_FREQUENCY,
            "How often are you in contact?",
            Frequency,
            "frequency",
            "drop-down",
            code=ObservationCode.FREQUENCY,
        ),
        _choice(
            _L.CONNECTION_STATUS,
            "Is it current, lost or wished for?",
            Status,
            "connection-status",
            "radio-button",
            code=ObservationCode.STATUS,
        ),
        _choice(
            _L.CONNECTION_DISCLOSURE,
            "Do they know about your mental health?",
            Disclosure,
            "disclosure",
            "radio-button",
            code=ObservationCode.DISCLOSURE,
            enable_when=((_L.CONNECTION_KIND, Kind.PERSON),),
        ),
        _choice(
            _L.CONNECTION_ROLES,
            "Which roles does this practitioner play?",
            Role,
            "practitioner-role",
            "check-box",
            repeats=True,
            code=ObservationCode.PRACTITIONER_ROLE,
            enable_when=((_L.CONNECTION_CATEGORY_PERSON, Category.PRACTITIONER),),
        ),
        Item(
            _L.CONNECTION_REF,
            "The FHIR resource this connection is, if known (Type/id)",
            "string",
            reference=True,
        ),
        Item(_L.CONNECTION_CONFIRMED, "Confirmed with the person?", "boolean"),
        Item(_L.CONNECTION_NOTES, "Notes", "text"),
    ),
)

_TIE = Item(
    _L.TIE,
    "Ties between connections",
    "group",
    repeats=True,
    code=ObservationCode.TIE,
    children=(
        Item(
            _L.TIE_FROM, "From", "open-choice", required=True, choices=CONNECTION_CHOICES, code=ObservationCode.TIE_FROM
        ),
        Item(_L.TIE_TO, "To", "open-choice", required=True, choices=CONNECTION_CHOICES, code=ObservationCode.TIE_TO),
        _choice(_L.TIE_TYPE, "How are they related?", TieType, "tie-type", "drop-down", required=True),
    ),
)

_GOAL = Item(
    _L.GOAL,
    "Goals",
    "group",
    repeats=True,
    children=(
        Item(_L.GOAL_ID, "Goal id (kept the same across reviews)", "string", hidden=True),
        Item(_L.GOAL_DESCRIPTION, "What is the goal?", "string", required=True),
        _choice(_L.GOAL_STATUS, "Status", GoalStatus, "goal-status", "drop-down"),
        Item(_L.GOAL_ABOUT, "Which connections is it about?", "open-choice", repeats=True, choices=CONNECTION_CHOICES),
        Item(
            _L.GOAL_SUPPORTERS,
            "Who in the network supports it?",
            "open-choice",
            repeats=True,
            choices=CONNECTION_CHOICES,
        ),
        Item(_L.GOAL_RESOURCES, "Resources needed", "string", repeats=True),
        Item(_L.GOAL_BARRIERS, "Barriers", "string", repeats=True),
        Item(_L.GOAL_TARGET, "Target date", "date"),
        Item(_L.GOAL_NOTES, "Progress notes", "text", repeats=True),
        Item(
            _L.MILESTONE,
            "Milestones",
            "group",
            repeats=True,
            children=(
                Item(_L.MILESTONE_ID, "Milestone id", "string", hidden=True),
                # Not required: a goal may have no milestone, and a filler shows one empty repetition.
                Item(_L.MILESTONE_DESCRIPTION, "Milestone", "string"),
                Item(_L.MILESTONE_DUE, "Due by", "date"),
                Item(_L.MILESTONE_DONE, "Done?", "boolean"),
                Item(_L.MILESTONE_DONE_ON, "Done on", "date"),
            ),
        ),
    ),
)

SIGNPOST_STEP_LINK_ID: dict[SignpostStatus, LinkId] = {
    SignpostStatus.SUGGESTED: _L.SIGNPOST_SUGGESTED_ON,
    SignpostStatus.AGREED: _L.SIGNPOST_AGREED_ON,
    SignpostStatus.REFERRED: _L.SIGNPOST_REFERRED_ON,
    SignpostStatus.ATTENDED: _L.SIGNPOST_ATTENDED_ON,
    SignpostStatus.DECLINED: _L.SIGNPOST_DECLINED_ON,
}
"""The item holding the date a sign-post reached each status (``suggested_on``... of the map file)."""


def signpost_statuses_with(step: SignpostStatus) -> tuple[SignpostStatus, ...]:
    """The statuses of a sign-post that may have a date for ``step``: the map file's rule (a sign-post
    moves along ``SIGNPOST_PATH``; declined may end it at any step before attended)."""
    if step is SignpostStatus.DECLINED:
        return (SignpostStatus.DECLINED,)
    after = SIGNPOST_PATH[SIGNPOST_PATH.index(step) :]
    declined = (SignpostStatus.DECLINED,) if step is not SignpostStatus.ATTENDED else ()
    return after + declined


def _step(step: SignpostStatus, text: str) -> Item:
    # Shown once the status has reached the step: a form never asks for a date the map would refuse.
    statuses = signpost_statuses_with(step)
    enable = () if set(statuses) == set(SignpostStatus) else tuple((_L.SIGNPOST_STATUS, s) for s in statuses)
    return Item(SIGNPOST_STEP_LINK_ID[step], text, "date", enable_when=enable)


_SIGNPOST = Item(
    _L.SIGNPOST,
    "Sign-posts and referrals",
    "group",
    repeats=True,
    children=(
        Item(_L.SIGNPOST_ASSET, "Community asset (id)", "string", required=True),
        Item(
            _L.SIGNPOST_REASON,
            "For which connection or goal",
            "open-choice",
            required=True,
            choices=f"{CONNECTION_CHOICES} | {GOAL_CHOICES}",
        ),
        _choice(_L.SIGNPOST_STATUS, "Status", SignpostStatus, "signpost-status", "drop-down"),
        Item(_L.SIGNPOST_NOTE, "Note (if declined: why)", "text"),
        Item(_L.SIGNPOST_DATE, "Date", "date"),
        _step(SignpostStatus.SUGGESTED, "Suggested on"),
        _step(SignpostStatus.AGREED, "Agreed on"),
        _step(SignpostStatus.REFERRED, "Referred on"),
        _step(SignpostStatus.ATTENDED, "Attended on"),
        _step(SignpostStatus.DECLINED, "Declined on"),
        Item(_L.SIGNPOST_FOLLOW_UP, "Check on it by", "date"),
    ),
)

QUESTIONNAIRE_ITEMS: tuple[Item, ...] = (
    Item(_L.DATE, "Date of the conversation", "date", required=True, initial="today()"),
    Item(
        _L.SUBJECT,
        "The person (from the care record)",
        "group",
        hidden=True,
        children=(
            Item(_L.SUBJECT_NHS_NUMBER, "NHS number", "string", hidden=True, initial=PATIENT_NHS_NUMBER),
            Item(_L.SUBJECT_NAME, "Name", "string", hidden=True, initial=PATIENT_NAME),
            Item(
                _L.SUBJECT_REFERENCE,
                "Patient resource (Patient/id)",
                "string",
                hidden=True,
                initial="'Patient/' + %patient.id",
                reference=True,
            ),
        ),
    ),
    Item(
        _L.PRACTITIONER,
        "Practitioners who took part",
        "group",
        repeats=True,
        children=(
            Item(_L.PRACTITIONER_NAME, "Name", "string", required=True),
            Item(_L.PRACTITIONER_ROLE, "Role (CPN, GP, social worker...)", "string"),
            Item(
                _L.PRACTITIONER_REF, "The Practitioner resource, if known (Practitioner/id)", "string", reference=True
            ),
        ),
    ),
    Item(
        _L.TIME_AT_HOME,
        "How much of your waking day do you spend at home? (%)",
        "integer",
        bounds=(0, 100),
        percent=True,
        code=ObservationCode.TIME_AT_HOME,
    ),
    Item(_L.RING_LABEL, "Names of the rings, closest first", "string", repeats=True),
    _CONNECTION,
    _TIE,
    _GOAL,
    _SIGNPOST,
    Item(_L.REFLECTIONS, "Reflections: pointers for change, building blocks", "text"),
    Item(_L.NEXT_REVIEW, "Next review", "date"),
)
"""The top-level items, in the order of the contract."""


def _flatten(items: tuple[Item, ...]) -> dict[LinkId, Item]:
    out: dict[LinkId, Item] = {}
    for item in items:
        out[item.link] = item
        out.update(_flatten(item.children))
    return out


ITEMS: dict[LinkId, Item] = _flatten(QUESTIONNAIRE_ITEMS)
"""Every item by linkId, depth first."""

if set(ITEMS) != set(LinkId):  # pragma: no cover - guards the tree against a new linkId
    raise AssertionError("every linkId needs an item in wb_fhir.fhir.items.QUESTIONNAIRE_ITEMS")
