"""Codes, systems and canonical URLs: the single source for code, schema and profiles.

Every coded value a map file may hold, every Observation code and every URL that the
profiles in ``profiles/`` use is defined here once. The JSON Schema of the map file, the
CodeSystem, the ValueSets and the Questionnaire are generated from (or checked against)
these definitions, so code and conformance resources cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# --- canonical URLs -------------------------------------------------------------------

CANONICAL = "https://wb-fhir.org/fhir"
"""Base of every canonical URL the project defines (profiles, CodeSystem, ValueSets...)."""

PACKAGE_NAME = "wb-fhir.r4"
PACKAGE_VERSION = "0.1.0"
FHIR_VERSION = "4.0.1"

CODESYSTEM_URL = f"{CANONICAL}/CodeSystem/wb-fhir"
QUESTIONNAIRE_ID = "wellbeing-network-mapping"
QUESTIONNAIRE_URL = f"{CANONICAL}/Questionnaire/{QUESTIONNAIRE_ID}"
QUESTIONNAIRE_VERSION = "0.1.0"


def structure_definition_url(name: str) -> str:
    """The canonical URL of one of the project's StructureDefinitions."""
    return f"{CANONICAL}/StructureDefinition/{name}"


def value_set_url(name: str) -> str:
    """The canonical URL of one of the project's ValueSets."""
    return f"{CANONICAL}/ValueSet/{name}"


def identifier_system(resource: str) -> str:
    """The system of the business identifiers wb_fhir gives one kind of resource."""
    return f"{CANONICAL}/identifier/{resource}"


# --- external systems ------------------------------------------------------------------

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
OBSERVATION_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"

CARE_PLAN_DOCUMENT_TYPE = (SNOMED, "734163000", "Care plan")
OBSERVATION_CATEGORIES = ("social-history", "survey")

SMART_BACKEND_SCOPE = "system/*.rs system/*.cu"
"""The scopes a SMART Backend Services client asks for unless told otherwise."""
SMART_SIGNING_ALGORITHMS = ("RS384", "ES384")
"""The algorithms SMART Backend Services requires servers to support for client assertions."""


# --- the project's codes ---------------------------------------------------------------


@dataclass(frozen=True)
class Concept:
    """One code of the project's CodeSystem."""

    code: str
    display: str
    definition: str


class Kind(StrEnum):
    PERSON = "person"
    PLACE = "place"
    ACTIVITY = "activity"


class Category(StrEnum):
    # people
    FAMILY = "family"
    PARTNER = "partner"
    FRIEND = "friend"
    NEIGHBOUR = "neighbour"
    COLLEAGUE = "colleague"
    ACQUAINTANCE = "acquaintance"
    PRACTITIONER = "practitioner"
    PEER_SUPPORT = "peer-support"
    # places
    HOME = "home"
    WORK = "work"
    EDUCATION = "education"
    HEALTH_SERVICE = "health-service"
    SPORT_LEISURE = "sport-leisure"
    FAITH = "faith"
    COMMUNITY = "community"
    LIBRARY = "library"
    SHOP = "shop"
    PARK = "park"
    ONLINE = "online"
    # activities
    HOBBY = "hobby"
    CREATIVE = "creative"
    VOLUNTEERING = "volunteering"
    LEARNING = "learning"
    SOCIAL = "social"
    SELF_CARE = "self-care"
    # any kind
    OTHER = "other"


CATEGORIES_BY_KIND: dict[Kind, tuple[Category, ...]] = {
    Kind.PERSON: (
        Category.FAMILY,
        Category.PARTNER,
        Category.FRIEND,
        Category.NEIGHBOUR,
        Category.COLLEAGUE,
        Category.ACQUAINTANCE,
        Category.PRACTITIONER,
        Category.PEER_SUPPORT,
        Category.OTHER,
    ),
    Kind.PLACE: (
        Category.HOME,
        Category.WORK,
        Category.EDUCATION,
        Category.HEALTH_SERVICE,
        Category.SPORT_LEISURE,
        Category.FAITH,
        Category.COMMUNITY,
        Category.LIBRARY,
        Category.SHOP,
        Category.PARK,
        Category.ONLINE,
        Category.OTHER,
    ),
    Kind.ACTIVITY: (
        Category.HOBBY,
        Category.CREATIVE,
        Category.SPORT_LEISURE,
        Category.VOLUNTEERING,
        Category.WORK,
        Category.LEARNING,
        Category.FAITH,
        Category.SOCIAL,
        Category.SELF_CARE,
        Category.OTHER,
    ),
}


class Impact(StrEnum):
    VERY_POSITIVE = "very-positive"
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    MIXED = "mixed"
    NEGATIVE = "negative"
    VERY_NEGATIVE = "very-negative"


IMPACT_WEIGHT: dict[Impact, int] = {
    Impact.VERY_POSITIVE: 2,
    Impact.POSITIVE: 1,
    Impact.NEUTRAL: 0,
    Impact.MIXED: 0,
    Impact.NEGATIVE: -1,
    Impact.VERY_NEGATIVE: -2,
}
"""Ordinal weight of each impact (FHIR ``ordinalValue``/``itemWeight``): mixed weighs 0."""

IMPACT_GLYPH: dict[Impact, str] = {
    Impact.VERY_POSITIVE: "++",
    Impact.POSITIVE: "+",
    Impact.NEUTRAL: "0",
    Impact.MIXED: "±",
    Impact.NEGATIVE: "-",
    Impact.VERY_NEGATIVE: "--",
}
"""A glyph per impact so that a picture never relies on colour alone."""


class Frequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    LESS_OFTEN = "less-often"
    NOT_CURRENTLY = "not-currently"


class Status(StrEnum):
    CURRENT = "current"
    LOST = "lost"
    WISHED_FOR = "wished-for"


class Role(StrEnum):
    BRIDGE_BUILDER = "bridge-builder"
    SKILL_BUILDER = "skill-builder"
    MOTIVATOR = "motivator"
    NAVIGATOR = "navigator"
    NETWORK_MEMBER = "network-member"


class Disclosure(StrEnum):
    YES = "yes"
    NO = "no"
    PARTLY = "partly"
    UNSURE = "unsure"


class TieType(StrEnum):
    KNOWS = "knows"
    BRIDGED = "bridged"
    MET_AT = "met-at"
    TAKES_PLACE_AT = "takes-place-at"
    SUPPORTS = "supports"


TIE_RULES: dict[TieType, tuple[frozenset[Kind], frozenset[Kind]]] = {
    TieType.KNOWS: (frozenset({Kind.PERSON}), frozenset({Kind.PERSON})),
    TieType.BRIDGED: (frozenset({Kind.PERSON}), frozenset(Kind)),
    TieType.MET_AT: (frozenset({Kind.PERSON}), frozenset({Kind.PLACE, Kind.ACTIVITY})),
    TieType.TAKES_PLACE_AT: (frozenset({Kind.ACTIVITY}), frozenset({Kind.PLACE})),
    TieType.SUPPORTS: (frozenset({Kind.PERSON}), frozenset(Kind)),
}
"""Which kinds each tie type may join: (kinds allowed at ``from``, kinds allowed at ``to``)."""


class GoalStatus(StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    ON_HOLD = "on-hold"
    ACHIEVED = "achieved"
    ABANDONED = "abandoned"


class SignpostStatus(StrEnum):
    SUGGESTED = "suggested"
    AGREED = "agreed"
    REFERRED = "referred"
    ATTENDED = "attended"
    DECLINED = "declined"


class ObservationCode(StrEnum):
    """Codes of the Observations wb_fhir writes, and of their components."""

    CONNECTION = "connection"
    TIE = "tie"
    NETWORK_SUMMARY = "network-summary"
    TIME_AT_HOME = "time-at-home"
    # components of a connection Observation
    CONNECTION_ID = "connection-id"
    CONNECTION_KIND = "connection-kind"
    CONNECTION_LABEL = "connection-label"
    CONNECTION_CATEGORY = "connection-category"
    RING = "ring"
    FREQUENCY = "connection-frequency"
    STATUS = "connection-status"
    DISCLOSURE = "disclosure"
    PRACTITIONER_ROLE = "practitioner-role"
    # components of a tie Observation
    TIE_FROM = "tie-from"
    TIE_TO = "tie-to"
    # components of the network summary Observation
    SIZE_PERSON = "size-person"
    SIZE_PLACE = "size-place"
    SIZE_ACTIVITY = "size-activity"
    SIZE_INNER = "size-inner-circle"
    SIZE_LOST = "size-lost"
    SIZE_WISHED_FOR = "size-wished-for"
    COUNT_POSITIVE = "count-positive"
    COUNT_NEGATIVE = "count-negative"
    COUNT_MIXED = "count-mixed"
    PRACTITIONER_IN_INNER = "practitioner-in-inner-circle"
    FAMILY_HOME_SHARE = "family-home-share"


# Display and definition of every code. A local code is used wherever no standard code
# fits: SNOMED CT and LOINC have no concepts for a person's own rating of a place or
# activity in a wellbeing network, for the closeness ring of a concentric map, or for the
# practitioner roles of the Community Health Networks study.
_CONCEPTS: dict[type[StrEnum], dict[str, tuple[str, str]]] = {
    Kind: {
        "person": ("Person", "A person in the network: family, friend, practitioner..."),
        "place": ("Place", "A place the person regularly goes to or spends time in."),
        "activity": ("Activity", "Something the person regularly does."),
    },
    Category: {
        "family": ("Family", "A family member."),
        "partner": ("Partner", "A partner or spouse."),
        "friend": ("Friend", "A friend."),
        "neighbour": ("Neighbour", "A neighbour."),
        "colleague": ("Colleague", "Someone the person works or studies with."),
        "acquaintance": ("Acquaintance", "Someone the person knows a little."),
        "practitioner": ("Practitioner", "A health or social care practitioner."),
        "peer-support": ("Peer support", "A peer supporter or peer support worker."),
        "home": ("Home", "The person's home or another home."),
        "work": ("Work", "Paid or unpaid work, or a workplace."),
        "education": ("Education", "A college, school or other place of learning."),
        "health-service": ("Health service", "A health or care service: surgery, clinic..."),
        "sport-leisure": ("Sport and leisure", "Sport, exercise or leisure."),
        "faith": ("Faith", "A faith or spiritual community, or worship."),
        "community": ("Community", "A community centre, group or space."),
        "library": ("Library", "A library."),
        "shop": ("Shop", "A shop, market or café."),
        "park": ("Park", "A park or green space."),
        "online": ("Online", "An online place or community."),
        "hobby": ("Hobby", "A hobby or pastime."),
        "creative": ("Creative", "A creative activity: art, music, writing..."),
        "volunteering": ("Volunteering", "Volunteering."),
        "learning": ("Learning", "A course or learning something new."),
        "social": ("Social", "Meeting or doing things with others."),
        "self-care": ("Self-care", "Looking after oneself: rest, routine, wellbeing."),
        "other": ("Other", "None of the other categories."),
    },
    Impact: {
        "very-positive": ("Very positive", "Greatly helps the person's wellbeing."),
        "positive": ("Positive", "Helps the person's wellbeing."),
        "neutral": ("Neutral", "Neither helps nor harms the person's wellbeing."),
        "mixed": ("Mixed", "Sometimes helps and sometimes harms the person's wellbeing."),
        "negative": ("Negative", "Harms the person's wellbeing."),
        "very-negative": ("Very negative", "Greatly harms the person's wellbeing."),
    },
    Frequency: {
        "daily": ("Daily", "Every day or most days."),
        "weekly": ("Weekly", "About once a week or more, not daily."),
        "monthly": ("Monthly", "About once a month or more, not weekly."),
        "less-often": ("Less often", "Less than once a month."),
        "not-currently": ("Not currently", "No contact at the moment."),
    },
    Status: {
        "current": ("Current", "A connection the person has now."),
        "lost": ("Lost", "A connection the person used to have."),
        "wished-for": ("Wished for", "A connection the person would like to have."),
    },
    Role: {
        "bridge-builder": ("Bridge builder", "Sign-posts or refers the person on."),
        "skill-builder": ("Skill builder", "Helps the person build skills."),
        "motivator": ("Motivator", "Encourages the person to act."),
        "navigator": ("Navigator", "Navigates with the person, a co-pilot."),
        "network-member": ("Network member", "Part of the network, friend-like."),
    },
    Disclosure: {
        "yes": ("Knows", "Knows about the person's mental health."),
        "no": ("Does not know", "Does not know about the person's mental health."),
        "partly": ("Knows partly", "Knows some of the person's mental health."),
        "unsure": ("Unsure", "The person is unsure what they know."),
    },
    TieType: {
        "knows": ("Knows", "Two people in the network know each other."),
        "bridged": ("Bridged to", "A person connected the person to this connection."),
        "met-at": ("Met at", "The person met someone at a place or activity."),
        "takes-place-at": ("Takes place at", "An activity takes place at a place."),
        "supports": ("Supports", "A person supports the person with this connection."),
    },
    GoalStatus: {
        "proposed": ("Proposed", "Suggested, not yet agreed."),
        "active": ("Active", "Agreed and being worked on."),
        "on-hold": ("On hold", "Paused for now."),
        "achieved": ("Achieved", "Reached."),
        "abandoned": ("Abandoned", "No longer pursued."),
    },
    SignpostStatus: {
        "suggested": ("Suggested", "Suggested in the conversation."),
        "agreed": ("Agreed", "The person agreed to try it."),
        "referred": ("Referred", "A referral was made."),
        "attended": ("Attended", "The person went."),
        "declined": ("Declined", "The person declined it."),
    },
    ObservationCode: {
        "connection": ("Wellbeing network connection", "One person, place or activity."),
        "tie": ("Wellbeing network tie", "A relation between two connections."),
        "network-summary": ("Wellbeing network summary", "Measures of the whole network."),
        "time-at-home": ("Waking time at home", "Share of the waking day spent at home."),
        "connection-id": ("Connection id", "Stable id of a connection across reviews."),
        "connection-kind": ("Connection kind", "Person, place or activity."),
        "connection-label": ("Connection label", "The person's own name for it."),
        "connection-category": ("Connection category", "What sort of connection it is."),
        "ring": ("Closeness ring", "Ring of the concentric map, 1 the closest."),
        "connection-frequency": ("Contact frequency", "How often the person has contact."),
        "connection-status": ("Connection status", "Current, lost or wished for."),
        "disclosure": ("Knows about mental health", "Whether they know."),
        "practitioner-role": ("Practitioner role", "A role a practitioner plays."),
        "tie-from": ("Tie from", "Stable id of the connection a tie starts at."),
        "tie-to": ("Tie to", "Stable id of the connection a tie ends at."),
        "size-person": ("People", "Number of current people connections."),
        "size-place": ("Places", "Number of current place connections."),
        "size-activity": ("Activities", "Number of current activity connections."),
        "size-inner-circle": ("Inner circle", "Number of current connections in ring 1."),
        "size-lost": ("Lost connections", "Number of lost connections."),
        "size-wished-for": ("Wished-for connections", "Number of wished-for connections."),
        "count-positive": ("Positive connections", "Current connections rated positive."),
        "count-negative": ("Negative connections", "Current connections rated negative."),
        "count-mixed": ("Mixed connections", "Current connections rated mixed."),
        "practitioner-in-inner-circle": (
            "Practitioner in inner circle",
            "Whether a practitioner is in the inner circle.",
        ),
        "family-home-share": (
            "Family or home based share",
            "Percentage of current connections that are family or home based.",
        ),
    },
}

VALUE_SETS: dict[str, type[StrEnum]] = {
    "connection-kind": Kind,
    "connection-category": Category,
    "impact": Impact,
    "frequency": Frequency,
    "connection-status": Status,
    "practitioner-role": Role,
    "disclosure": Disclosure,
    "tie-type": TieType,
    "goal-status": GoalStatus,
    "signpost-status": SignpostStatus,
    "observation-code": ObservationCode,
}
"""One ValueSet per coded field: its name (id and URL tail) and the codes it holds."""


def concept(value: StrEnum) -> Concept:
    """The display and definition of one code."""
    display, definition = _CONCEPTS[type(value)][value.value]
    return Concept(value.value, display, definition)


def display(value: StrEnum) -> str:
    """The human display of one code."""
    # straight from the table (no Concept made): every Coding of every Bundle comes here
    return _CONCEPTS[type(value)][value._value_][0]


def concepts() -> list[Concept]:
    """Every concept of the CodeSystem, each code once, in a stable order."""
    seen: dict[str, Concept] = {}
    for enum in _CONCEPTS:
        for member in enum:
            seen.setdefault(member.value, concept(member))
    return list(seen.values())


def _check() -> None:
    # A code defined twice must mean the same thing, or the one CodeSystem would be ambiguous.
    meaning: dict[str, tuple[str, str]] = {}
    for enum, table in _CONCEPTS.items():
        if set(table) != {m.value for m in enum}:
            raise AssertionError(f"concept table of {enum.__name__} does not match its codes")
        for code, pair in table.items():
            if meaning.setdefault(code, pair) != pair:
                raise AssertionError(f"code {code!r} has two meanings")


_check()


# --- the Questionnaire's items ------------------------------------------------------------


class LinkId(StrEnum):
    """linkIds of the Questionnaire ``wellbeing-network-mapping`` (groups and their items).

    The QuestionnaireResponse that wb_fhir writes, the Questionnaire in ``profiles/`` and the
    extraction back to a map all use these, and nothing else.
    """

    DATE = "date"
    SUBJECT = "subject"
    SUBJECT_NHS_NUMBER = "subject.nhs-number"
    SUBJECT_NAME = "subject.name"
    SUBJECT_REFERENCE = "subject.reference"
    PRACTITIONER = "practitioner"
    PRACTITIONER_NAME = "practitioner.name"
    PRACTITIONER_ROLE = "practitioner.role"
    PRACTITIONER_REF = "practitioner.reference"
    TIME_AT_HOME = "time-at-home"
    RING_LABEL = "ring-label"
    CONNECTION = "connection"
    CONNECTION_ID = "connection.id"
    CONNECTION_KIND = "connection.kind"
    CONNECTION_LABEL = "connection.label"
    CONNECTION_CATEGORY_PERSON = "connection.category-person"
    CONNECTION_CATEGORY_PLACE = "connection.category-place"
    CONNECTION_CATEGORY_ACTIVITY = "connection.category-activity"
    CONNECTION_RING = "connection.ring"
    CONNECTION_IMPACT = "connection.impact"
    CONNECTION_FREQUENCY = "connection.frequency"
    CONNECTION_STATUS = "connection.status"
    CONNECTION_DISCLOSURE = "connection.disclosure"
    CONNECTION_ROLES = "connection.roles"
    CONNECTION_REF = "connection.reference"
    CONNECTION_CONFIRMED = "connection.confirmed"
    CONNECTION_NOTES = "connection.notes"
    TIE = "tie"
    TIE_FROM = "tie.from"
    TIE_TO = "tie.to"
    TIE_TYPE = "tie.type"
    GOAL = "goal"
    GOAL_ID = "goal.id"
    GOAL_DESCRIPTION = "goal.description"
    GOAL_STATUS = "goal.status"
    GOAL_ABOUT = "goal.about"
    GOAL_SUPPORTERS = "goal.supporters"
    GOAL_RESOURCES = "goal.resources"
    GOAL_BARRIERS = "goal.barriers"
    GOAL_TARGET = "goal.target"
    GOAL_NOTES = "goal.notes"
    MILESTONE = "goal.milestone"
    MILESTONE_ID = "goal.milestone.id"
    MILESTONE_DESCRIPTION = "goal.milestone.description"
    MILESTONE_DUE = "goal.milestone.due"
    MILESTONE_DONE = "goal.milestone.done"
    MILESTONE_DONE_ON = "goal.milestone.done-on"
    SIGNPOST = "signpost"
    SIGNPOST_ASSET = "signpost.asset"
    SIGNPOST_REASON = "signpost.reason"
    SIGNPOST_STATUS = "signpost.status"
    SIGNPOST_NOTE = "signpost.note"
    SIGNPOST_DATE = "signpost.date"
    SIGNPOST_SUGGESTED_ON = "signpost.suggested-on"
    SIGNPOST_AGREED_ON = "signpost.agreed-on"
    SIGNPOST_REFERRED_ON = "signpost.referred-on"
    SIGNPOST_ATTENDED_ON = "signpost.attended-on"
    SIGNPOST_DECLINED_ON = "signpost.declined-on"
    SIGNPOST_FOLLOW_UP = "signpost.follow-up"
    REFLECTIONS = "reflections"
    NEXT_REVIEW = "next-review"


CATEGORY_LINK_ID: dict[Kind, LinkId] = {
    Kind.PERSON: LinkId.CONNECTION_CATEGORY_PERSON,
    Kind.PLACE: LinkId.CONNECTION_CATEGORY_PLACE,
    Kind.ACTIVITY: LinkId.CONNECTION_CATEGORY_ACTIVITY,
}


# --- profiles, extensions and identifier systems ---------------------------------------------


class Profile(StrEnum):
    """Names (ids) of the project's StructureDefinitions; URL via :func:`structure_definition_url`."""

    QUESTIONNAIRE_RESPONSE = "wb-questionnaire-response"
    CONNECTION = "wb-connection-observation"
    TIE = "wb-tie-observation"
    NETWORK_SUMMARY = "wb-network-summary-observation"
    TIME_AT_HOME = "wb-time-at-home-observation"
    GOAL = "wb-goal"
    CARE_PLAN = "wb-care-plan"
    DOCUMENT_REFERENCE = "wb-document-reference"
    PROVENANCE = "wb-provenance"
    # extensions
    EXT_MILESTONE = "wb-goal-milestone"
    EXT_GOAL_RESOURCE = "wb-goal-resource"
    EXT_GOAL_BARRIER = "wb-goal-barrier"
    EXT_GOAL_SUPPORTER = "wb-goal-supporter"
    EXT_GOAL_ID = "wb-goal-id"
    EXT_GOAL_ABOUT = "wb-goal-about"
    EXT_SIGNPOST = "wb-signpost"
    EXT_RING_LABEL = "wb-ring-label"


class IdentifierKind(StrEnum):
    """What each business identifier system names; system URL via :func:`identifier_system`."""

    MAP = "map"  # QuestionnaireResponse, one per map
    OBSERVATION = "observation"  # each Observation of one map
    CONNECTION = "connection"  # the same connection across reviews (follow it by search)
    GOAL = "goal"  # one Goal per goal of a person, updated at each review
    CARE_PLAN = "care-plan"  # one wellbeing CarePlan per person
    DOCUMENT = "document"  # DocumentReference of one map or review summary
    PROVENANCE = "provenance"
    SIGNPOST = "signpost"  # the ServiceRequest that follows up one sign-post of a person
    ASSET = "asset"  # a community asset (HealthcareService), value = the asset's id
    ASSET_LOCATION = "asset-location"  # a place where an asset is, or an area it serves
    ASSET_ORGANIZATION = "asset-organization"  # the organisation that runs an asset
    ORUK_SERVICE = "oruk-service"  # the id of an Open Referral UK service an asset came from


SDC = "http://hl7.org/fhir/uv/sdc/StructureDefinition"
EXT_OBSERVATION_EXTRACT = f"{SDC}/sdc-questionnaire-observationExtract"
EXT_OBSERVATION_EXTRACT_CATEGORY = f"{SDC}/sdc-questionnaire-observation-extract-category"
EXT_HIDDEN = "http://hl7.org/fhir/StructureDefinition/questionnaire-hidden"
EXT_ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
EXT_ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
EXT_UNIT = "http://hl7.org/fhir/StructureDefinition/questionnaire-unit"
EXT_MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
EXT_MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
EXT_ANSWER_EXPRESSION = f"{SDC}/sdc-questionnaire-answerExpression"
EXT_INITIAL_EXPRESSION = f"{SDC}/sdc-questionnaire-initialExpression"
EXT_LAUNCH_CONTEXT = f"{SDC}/sdc-questionnaire-launchContext"
EXT_TEMPLATE_EXTRACT = f"{SDC}/sdc-questionnaire-templateExtract"
EXT_TEMPLATE_EXTRACT_CONTEXT = f"{SDC}/sdc-questionnaire-templateExtractContext"
EXT_TEMPLATE_EXTRACT_VALUE = f"{SDC}/sdc-questionnaire-templateExtractValue"


# --- profiles: names the conformance resources need beyond the contract ------------------------

SDC_OBSERVATION_EXTRACT_RELATIONSHIP = "http://hl7.org/fhir/uv/sdc/CodeSystem/observation-extract-relationship"
"""SDC 4.0: ``observationExtract`` with ``valueCode`` ``component`` on a child item of a group that
extracts an Observation makes that child a component of the group's Observation."""
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition"
UK_CORE_PROFILES: dict[str, str] = {
    "Observation": f"{UK_CORE}/UKCore-Observation",
    "CarePlan": f"{UK_CORE}/UKCore-CarePlan",
    "Questionnaire": f"{UK_CORE}/UKCore-Questionnaire",
    "QuestionnaireResponse": f"{UK_CORE}/UKCore-QuestionnaireResponse",
    "DocumentReference": f"{UK_CORE}/UKCore-DocumentReference",
    "Patient": f"{UK_CORE}/UKCore-Patient",
    "Provenance": f"{UK_CORE}/UKCore-Provenance",
}
"""The UK Core profile each resource type also declares in ``meta.profile`` (where UK Core has one)."""

CATEGORY_VALUE_SETS: dict[Kind, str] = {
    Kind.PERSON: "connection-category-person",
    Kind.PLACE: "connection-category-place",
    Kind.ACTIVITY: "connection-category-activity",
}
"""ValueSet names of the categories of one kind (the answerValueSet of ``connection.category-*``)."""

MILESTONE_PARTS = ("id", "description", "due", "done", "done-on")
"""The sub-extension urls of ``Profile.EXT_MILESTONE`` (values: string, string, date, boolean, date)."""
SIGNPOST_PARTS = ("asset", "reason", "status", "note", "date")
"""The sub-extension urls of ``Profile.EXT_SIGNPOST`` (values: string, string, code or Coding, string, date)."""


# --- the mapping (map <-> FHIR) ----------------------------------------------------------

GOAL_ACHIEVEMENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/goal-achievement"
PROVENANCE_PARTICIPANT_SYSTEM = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
PROVENANCE_ENTITY_SOURCE = "source"
CARE_PLAN_ACTIVITY_KIND = "ServiceRequest"


# --- community assets and sign-post follow-up (issue 18) ---------------------------------------


class AssetCategory(StrEnum):
    """What kind of community asset: the connection categories an asset can become, and the
    study's kinds of asset (peer support, sport and leisure, faith, volunteering...)."""

    PEER_SUPPORT = "peer-support"
    SPORT_LEISURE = "sport-leisure"
    FAITH = "faith"
    VOLUNTEERING = "volunteering"
    LEARNING = "learning"
    CREATIVE = "creative"
    NATURE = "nature"
    PRACTICAL_HELP = "practical-help"
    SOCIAL = "social"
    COMMUNITY = "community"
    LIBRARY = "library"
    WORK = "work"
    HEALTH_SERVICE = "health-service"
    ONLINE = "online"
    OTHER = "other"


ASSET_CATEGORY_ALIASES: dict[str, AssetCategory] = {
    "sports-centre": AssetCategory.SPORT_LEISURE,
    "book-club": AssetCategory.SOCIAL,
    "faith-group": AssetCategory.FAITH,
    "arts": AssetCategory.CREATIVE,
    "outdoors": AssetCategory.NATURE,
    "employment": AssetCategory.WORK,
    "advice": AssetCategory.PRACTICAL_HELP,
}
"""Category codes of earlier asset directory files, read as the code they became."""

ASSET_CONNECTION_CATEGORIES: dict[AssetCategory, tuple[Category, ...]] = {
    AssetCategory.PEER_SUPPORT: (Category.PEER_SUPPORT, Category.SOCIAL),
    AssetCategory.SPORT_LEISURE: (Category.SPORT_LEISURE,),
    AssetCategory.FAITH: (Category.FAITH,),
    AssetCategory.VOLUNTEERING: (Category.VOLUNTEERING,),
    AssetCategory.LEARNING: (Category.LEARNING, Category.EDUCATION),
    AssetCategory.CREATIVE: (Category.CREATIVE, Category.HOBBY),
    AssetCategory.NATURE: (Category.PARK, Category.SELF_CARE),
    AssetCategory.PRACTICAL_HELP: (Category.COMMUNITY, Category.HEALTH_SERVICE),
    AssetCategory.SOCIAL: (Category.SOCIAL, Category.COMMUNITY, Category.HOBBY),
    AssetCategory.COMMUNITY: (Category.COMMUNITY, Category.SOCIAL),
    AssetCategory.LIBRARY: (Category.LIBRARY, Category.HOBBY, Category.LEARNING),
    AssetCategory.WORK: (Category.WORK,),
    AssetCategory.HEALTH_SERVICE: (Category.HEALTH_SERVICE, Category.SELF_CARE),
    AssetCategory.ONLINE: (Category.ONLINE,),
    AssetCategory.OTHER: (),
}
"""The connection categories (of any kind) that an asset of each category can meet."""


class RequestCode(StrEnum):
    """Codes of the requests wb_fhir writes (``ServiceRequest.code``)."""

    SIGNPOST = "signpost"


class AssetProfile(StrEnum):
    """Names of the StructureDefinitions of the asset bank and sign-post follow-up."""

    SERVICE = "wb-asset-service"
    LOCATION = "wb-asset-location"
    ORGANIZATION = "wb-asset-organization"
    PROVENANCE = "wb-asset-provenance"
    SIGNPOST_REQUEST = "wb-signpost-request"
    # extensions
    EXT_DETAILS = "wb-asset-details"
    EXT_SIGNPOST_HISTORY = "wb-signpost-history"
    EXT_SIGNPOST_FOLLOW_UP = "wb-signpost-follow-up"


_CONCEPTS[AssetCategory] = {
    # codes shared with Category mean the same thing (checked below)
    "peer-support": _CONCEPTS[Category]["peer-support"],
    "sport-leisure": _CONCEPTS[Category]["sport-leisure"],
    "faith": _CONCEPTS[Category]["faith"],
    "volunteering": _CONCEPTS[Category]["volunteering"],
    "learning": _CONCEPTS[Category]["learning"],
    "creative": _CONCEPTS[Category]["creative"],
    "nature": ("Nature", "Nature and the outdoors: green spaces, gardening, walking, wildlife."),
    "practical-help": ("Practical help", "Advice and practical help: money, benefits, housing, food, legal."),
    "social": _CONCEPTS[Category]["social"],
    "community": _CONCEPTS[Category]["community"],
    "library": _CONCEPTS[Category]["library"],
    "work": _CONCEPTS[Category]["work"],
    "health-service": _CONCEPTS[Category]["health-service"],
    "online": _CONCEPTS[Category]["online"],
    "other": _CONCEPTS[Category]["other"],
}
_CONCEPTS[RequestCode] = {
    "signpost": ("Sign-post to a community asset", "A sign-post or light referral to a community asset."),
}
VALUE_SETS["asset-category"] = AssetCategory
_check()

UK_CORE_PROFILES.update(
    {
        "HealthcareService": f"{UK_CORE}/UKCore-HealthcareService",
        "Location": f"{UK_CORE}/UKCore-Location",
        "Organization": f"{UK_CORE}/UKCore-Organization",
        "ServiceRequest": f"{UK_CORE}/UKCore-ServiceRequest",
    }
)

SERVICE_PROVISION_SYSTEM = "http://terminology.hl7.org/CodeSystem/service-provision-conditions"
"""HealthcareService.serviceProvisionCode: ``free``, ``disc`` (discounts available), ``cost``."""
LOCATION_PHYSICAL_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/location-physical-type"
ORG_ID_LIST = "https://org-id.guide/list"
"""Organisation identifier lists (GB-CHC charities, GB-COH companies...): system ``{ORG_ID_LIST}/GB-CHC``."""
ODS_ORGANISATION_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
ORUK_FEED_TAG = f"{CANONICAL}/tag/oruk-feed"
"""``meta.tag`` system of assets imported from an Open Referral UK feed; the code is the feed's prefix."""

ASSET_DETAIL_PARTS = ("contact", "access", "transport", "checked", "source-modified", "added-by", "added-on")
"""Sub-extensions of ``AssetProfile.EXT_DETAILS``, for what R4 has no element for: how to get in touch,
accessibility, transport (string), last checked (date), when the source last changed it (string),
who added it (string) and when (date)."""
SIGNPOST_HISTORY_PARTS = ("status", "date", "reason")
"""Sub-extensions of ``AssetProfile.EXT_SIGNPOST_HISTORY`` (Coding from signpost-status, date, string)."""
SIGNPOST_FOLLOW_UP_PARTS = ("status", "since", "due")
"""Sub-extensions of ``AssetProfile.EXT_SIGNPOST_FOLLOW_UP``: where a sign-post stands (Coding from
signpost-status), since when (date), and the date to check on it by (date)."""

SIGNPOST_PATH: tuple[SignpostStatus, ...] = (
    SignpostStatus.SUGGESTED,
    SignpostStatus.AGREED,
    SignpostStatus.REFERRED,
    SignpostStatus.ATTENDED,
)
"""The order a sign-post moves in; declined may end it at any step."""
SIGNPOST_REQUEST_STATUS: dict[SignpostStatus, str] = {
    SignpostStatus.AGREED: "active",
    SignpostStatus.REFERRED: "active",
    SignpostStatus.ATTENDED: "completed",
    SignpostStatus.DECLINED: "revoked",
}
"""ServiceRequest.status for each sign-post status (a suggested sign-post has no request yet)."""
FOLLOW_UP_DAYS = 28
"""An open sign-post with no follow-up date of its own is due this many days after its last step."""
DAYS_OF_WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""FHIR days-of-week codes, Monday first."""
