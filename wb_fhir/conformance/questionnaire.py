"""The canonical Questionnaire ``wellbeing-network-mapping``, annotated for SDC extraction.

SDC 4.0 observation-based extraction: the ``connection`` group carries
``sdc-questionnaire-observationExtract`` = true and ``code`` = ``connection``, so each repetition
extracts one Observation; its children that carry a ``code`` and ``observationExtract`` =
``component`` (a code of the SDC observation-extract-relationship system) become components of
that Observation. ``time-at-home`` extracts its own Observation. ``connection.impact`` is not
annotated: SDC has no way to say "this child is the parent's value", so a generic SDC extractor
leaves it out, while wb_fhir puts it in ``valueCodeableConcept``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from wb_fhir.conformance._common import Resource, coding, metadata
from wb_fhir.terminology import (
    CATEGORY_LINK_ID,
    CATEGORY_VALUE_SETS,
    EXT_HIDDEN,
    EXT_ITEM_CONTROL,
    EXT_MAX_VALUE,
    EXT_MIN_VALUE,
    EXT_OBSERVATION_EXTRACT,
    EXT_OBSERVATION_EXTRACT_CATEGORY,
    EXT_UNIT,
    ITEM_CONTROL_SYSTEM,
    OBSERVATION_CATEGORIES,
    OBSERVATION_CATEGORY_SYSTEM,
    QUESTIONNAIRE_ID,
    QUESTIONNAIRE_URL,
    QUESTIONNAIRE_VERSION,
    UCUM,
    UK_CORE_PROFILES,
    Category,
    Kind,
    LinkId,
    ObservationCode,
    value_set_url,
)

Item = dict[str, Any]


def _item(
    link: LinkId,
    text: str,
    type_: str,
    *,
    repeats: bool = False,
    required: bool = False,
    children: list[Item] | None = None,
    extensions: list[dict[str, Any]] | None = None,
    value_set: str | None = None,
    code: ObservationCode | None = None,
    enable_when: list[dict[str, Any]] | None = None,
) -> Item:
    item: Item = {}
    if extensions:
        item["extension"] = extensions
    item["linkId"] = link.value
    if code is not None:
        item["code"] = [coding(code)]
    item["text"] = text
    item["type"] = type_
    if enable_when:
        item["enableWhen"] = enable_when
        item["enableBehavior"] = "any"
    if required:
        item["required"] = True
    if repeats:
        item["repeats"] = True
    if value_set is not None:
        item["answerValueSet"] = value_set_url(value_set)
    if children:
        item["item"] = children
    return item


def _control(code: str) -> dict[str, Any]:
    return {
        "url": EXT_ITEM_CONTROL,
        "valueCodeableConcept": {"coding": [{"system": ITEM_CONTROL_SYSTEM, "code": code}]},
    }


def _bounds(low: int, high: int) -> list[dict[str, Any]]:
    return [{"url": EXT_MIN_VALUE, "valueInteger": low}, {"url": EXT_MAX_VALUE, "valueInteger": high}]


_PERCENT = {"url": EXT_UNIT, "valueCoding": {"system": UCUM, "code": "%", "display": "%"}}
_HIDDEN = {"url": EXT_HIDDEN, "valueBoolean": True}
_AS_COMPONENT = {"url": EXT_OBSERVATION_EXTRACT, "valueCode": "component"}
_EXTRACT = {"url": EXT_OBSERVATION_EXTRACT, "valueBoolean": True}
_CATEGORIES = [
    {
        "url": EXT_OBSERVATION_EXTRACT_CATEGORY,
        "valueCodeableConcept": {"coding": [{"system": OBSERVATION_CATEGORY_SYSTEM, "code": code}]},
    }
    for code in OBSERVATION_CATEGORIES
]


def _when(question: LinkId, answer: StrEnum) -> list[dict[str, Any]]:
    return [{"question": question.value, "operator": "=", "answerCoding": coding(answer)}]


def _component(
    link: LinkId,
    text: str,
    type_: str,
    code: ObservationCode,
    *,
    control: str | None = None,
    more: list[dict[str, Any]] | None = None,
    **kwargs: Any,
) -> Item:
    extensions = [*(more or []), _AS_COMPONENT]
    if control is not None:
        extensions.insert(0, _control(control))
    return _item(link, text, type_, code=code, extensions=extensions, **kwargs)


def _connection() -> Item:
    categories = [
        _component(
            CATEGORY_LINK_ID[kind],
            f"What sort of {kind.value} is it?",
            "choice",
            ObservationCode.CONNECTION_CATEGORY,
            control="drop-down",
            required=True,
            value_set=CATEGORY_VALUE_SETS[kind],
            enable_when=_when(LinkId.CONNECTION_KIND, kind),
        )
        for kind in Kind
    ]
    children = [
        _component(
            LinkId.CONNECTION_ID,
            "Connection id (kept the same across reviews)",
            "string",
            ObservationCode.CONNECTION_ID,
            more=[_HIDDEN],
            required=True,
        ),
        _component(
            LinkId.CONNECTION_KIND,
            "Is it a person, a place or an activity?",
            "choice",
            ObservationCode.CONNECTION_KIND,
            control="radio-button",
            required=True,
            value_set="connection-kind",
        ),
        _component(
            LinkId.CONNECTION_LABEL,
            "What do you call them or it?",
            "string",
            ObservationCode.CONNECTION_LABEL,
            required=True,
        ),
        *categories,
        _component(
            LinkId.CONNECTION_RING,
            "How close is it? (1 is the closest ring)",
            "integer",
            ObservationCode.RING,
            more=_bounds(1, 6),
            required=True,
        ),
        _item(
            LinkId.CONNECTION_IMPACT,
            "How does it affect your wellbeing?",
            "choice",
            extensions=[_control("radio-button")],
            required=True,
            value_set="impact",
        ),
        _component(
            LinkId.CONNECTION_FREQUENCY,
            "How often are you in contact?",
            "choice",
            ObservationCode.FREQUENCY,
            control="drop-down",
            value_set="frequency",
        ),
        _component(
            LinkId.CONNECTION_STATUS,
            "Is it current, lost or wished for?",
            "choice",
            ObservationCode.STATUS,
            control="radio-button",
            value_set="connection-status",
        ),
        _component(
            LinkId.CONNECTION_DISCLOSURE,
            "Do they know about your mental health?",
            "choice",
            ObservationCode.DISCLOSURE,
            control="radio-button",
            value_set="disclosure",
            enable_when=_when(LinkId.CONNECTION_KIND, Kind.PERSON),
        ),
        _component(
            LinkId.CONNECTION_ROLES,
            "Which roles does this practitioner play?",
            "choice",
            ObservationCode.PRACTITIONER_ROLE,
            control="check-box",
            repeats=True,
            value_set="practitioner-role",
            enable_when=_when(LinkId.CONNECTION_CATEGORY_PERSON, Category.PRACTITIONER),
        ),
        _item(LinkId.CONNECTION_REF, "The FHIR resource this connection is, if known", "reference"),
        _item(LinkId.CONNECTION_CONFIRMED, "Confirmed with the person?", "boolean"),
        _item(LinkId.CONNECTION_NOTES, "Notes", "text"),
    ]
    return _item(
        LinkId.CONNECTION,
        "A person, place or activity in your life",
        "group",
        repeats=True,
        code=ObservationCode.CONNECTION,
        extensions=[_EXTRACT, *_CATEGORIES],
        children=children,
    )


def _milestone() -> Item:
    return _item(
        LinkId.MILESTONE,
        "Milestones",
        "group",
        repeats=True,
        children=[
            _item(LinkId.MILESTONE_ID, "Milestone id", "string", required=True, extensions=[_HIDDEN]),
            _item(LinkId.MILESTONE_DESCRIPTION, "Milestone", "string", required=True),
            _item(LinkId.MILESTONE_DUE, "Due by", "date"),
            _item(LinkId.MILESTONE_DONE, "Done?", "boolean"),
            _item(LinkId.MILESTONE_DONE_ON, "Done on", "date"),
        ],
    )


def _goal() -> Item:
    return _item(
        LinkId.GOAL,
        "Goals",
        "group",
        repeats=True,
        children=[
            _item(
                LinkId.GOAL_ID, "Goal id (kept the same across reviews)", "string", required=True, extensions=[_HIDDEN]
            ),
            _item(LinkId.GOAL_DESCRIPTION, "What is the goal?", "string", required=True),
            _item(LinkId.GOAL_STATUS, "Status", "choice", value_set="goal-status", extensions=[_control("drop-down")]),
            _item(LinkId.GOAL_ABOUT, "Which connections is it about? (ids)", "string", repeats=True),
            _item(LinkId.GOAL_SUPPORTERS, "Who in the network supports it? (ids)", "string", repeats=True),
            _item(LinkId.GOAL_RESOURCES, "Resources needed", "string", repeats=True),
            _item(LinkId.GOAL_BARRIERS, "Barriers", "string", repeats=True),
            _item(LinkId.GOAL_TARGET, "Target date", "date"),
            _item(LinkId.GOAL_NOTES, "Progress notes", "text", repeats=True),
            _milestone(),
        ],
    )


def _tie() -> Item:
    return _item(
        LinkId.TIE,
        "Ties between connections",
        "group",
        repeats=True,
        children=[
            _item(LinkId.TIE_FROM, "From (connection id)", "string", required=True),
            _item(LinkId.TIE_TO, "To (connection id)", "string", required=True),
            _item(
                LinkId.TIE_TYPE,
                "How are they related?",
                "choice",
                required=True,
                value_set="tie-type",
                extensions=[_control("drop-down")],
            ),
        ],
    )


def _signpost() -> Item:
    return _item(
        LinkId.SIGNPOST,
        "Sign-posts and referrals",
        "group",
        repeats=True,
        children=[
            _item(LinkId.SIGNPOST_ASSET, "Community asset (id)", "string", required=True),
            _item(LinkId.SIGNPOST_REASON, "For which connection or goal (id)", "string", required=True),
            _item(
                LinkId.SIGNPOST_STATUS,
                "Status",
                "choice",
                value_set="signpost-status",
                extensions=[_control("drop-down")],
            ),
            _item(LinkId.SIGNPOST_NOTE, "Note", "text"),
            _item(LinkId.SIGNPOST_DATE, "Date", "date"),
        ],
    )


def items() -> list[Item]:
    """The top-level items, in the order of the contract."""
    return [
        _item(LinkId.DATE, "Date of the conversation", "date", required=True),
        _item(
            LinkId.PRACTITIONER,
            "Practitioners who took part",
            "group",
            repeats=True,
            children=[
                _item(LinkId.PRACTITIONER_NAME, "Name", "string", required=True),
                _item(LinkId.PRACTITIONER_ROLE, "Role (CPN, GP, social worker...)", "string"),
                _item(LinkId.PRACTITIONER_REF, "The Practitioner resource, if known", "reference"),
            ],
        ),
        _item(
            LinkId.TIME_AT_HOME,
            "How much of your waking day do you spend at home? (%)",
            "integer",
            code=ObservationCode.TIME_AT_HOME,
            extensions=[*_bounds(0, 100), _PERCENT, _EXTRACT, *_CATEGORIES],
        ),
        _item(LinkId.RING_LABEL, "Names of the rings, closest first", "string", repeats=True),
        _connection(),
        _tie(),
        _goal(),
        _signpost(),
        _item(LinkId.REFLECTIONS, "Reflections: pointers for change, building blocks", "text"),
        _item(LinkId.NEXT_REVIEW, "Next review", "date"),
    ]


def build_questionnaire() -> Resource:
    """The Questionnaire resource."""
    resource = metadata(
        "Questionnaire",
        QUESTIONNAIRE_ID,
        QUESTIONNAIRE_URL,
        "WellbeingNetworkMapping",
        "Wellbeing network mapping",
        "One wellbeing network mapping conversation: the people, places and activities around a "
        "person, in closeness rings, rated for their impact on wellbeing; the ties between them; "
        "goals, sign-posts and what was agreed. Annotated for SDC observation-based extraction.",
        profile=UK_CORE_PROFILES["Questionnaire"],
    )
    resource["version"] = QUESTIONNAIRE_VERSION
    resource["subjectType"] = ["Patient"]
    resource["item"] = items()
    return resource


def all_link_ids(item_list: list[Item]) -> list[str]:
    """Every linkId of the items, depth first."""
    out: list[str] = []
    for item in item_list:
        out.append(item["linkId"])
        out.extend(all_link_ids(item.get("item", [])))
    return out
