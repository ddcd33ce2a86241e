"""Suggest assets for a map: for its open goals and its wished-for connections, ranked, with reasons (pure).

Each open goal (proposed, active, on hold) and each wished-for connection is a *need*. An
asset scores for a need when

- its category meets the need: the wished-for connection's category (``ASSET_CONNECTION_CATEGORIES``:
  a wished-for park meets a nature asset), or what the need's words speak of (the same words
  that sort Open Referral UK services into categories: "gardening" speaks of nature): 3 points;
  the categories of the connections a goal is about: 2 points;
- it shares words with the need (the goal's description, milestones, resources and the labels of
  the connections it is about; the connection's label and notes): 2 points a word in its name
  or types, 1 in its description;
- it answers a barrier of the goal: free when money is a barrier, a quiet room or a small group
  when groups are (1 point each).

Withdrawn assets, and assets already sign-posted for that need, are left out; so is anything
below :data:`MIN_SCORE`. Every suggestion says why, in words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from wb_fhir.assets.model import Asset
from wb_fhir.assets.oruk import categories_for
from wb_fhir.assets.search import fold
from wb_fhir.model import WellbeingMap
from wb_fhir.terminology import ASSET_CONNECTION_CATEGORIES, AssetCategory, Category, GoalStatus, Status, display

CATEGORY_POINTS = 3
ABOUT_POINTS = 2
VAGUE_POINTS = 1
VAGUE = frozenset({Category.HOBBY, Category.SOCIAL, Category.COMMUNITY})
"""Categories that say little about what someone wants: they meet an asset for one point."""
NAME_WORD_POINTS = 2
TEXT_WORD_POINTS = 1
BARRIER_POINTS = 1
PER_NEED = 3
MIN_SCORE = 2

_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "the",
        "to",
        "of",
        "for",
        "in",
        "on",
        "at",
        "by",
        "with",
        "from",
        "into",
        "out",
        "up",
        "down",
        "about",
        "more",
        "less",
        "some",
        "any",
        "get",
        "go",
        "goes",
        "going",
        "back",
        "again",
        "join",
        "find",
        "try",
        "start",
        "stop",
        "keep",
        "make",
        "do",
        "doing",
        "done",
        "once",
        "week",
        "weeks",
        "time",
        "times",
        "day",
        "days",
        "place",
        "places",
        "thing",
        "things",
        "new",
        "old",
        "my",
        "me",
        "i",
        "we",
        "our",
        "your",
        "people",
        "person",
        "group",
        "groups",
        "local",
        "two",
        "three",
        "one",
        "other",
        "others",
        "anywhere",
        "somewhere",
        "outside",
        "inside",
        "house",
        "home",
        "centre",
        "centres",
        "session",
        "sessions",
    ]
)
_MONEY = re.compile(r"\b(money|cost|costs|afford|expensive|pay|paying|price|fees?|skint|broke)\b", re.IGNORECASE)
_GROUPS = re.compile(r"\b(groups?|crowds?|busy|people|social anxiety|anxious)\b", re.IGNORECASE)
_QUIET = re.compile(r"\b(quiet|small group|one[- ]to[- ]one|1:1|calm|low[- ]key)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Need:
    """Something in a map an asset could help with: an open goal, or a wished-for connection."""

    kind: str
    """``goal`` or ``connection``."""
    id: str
    label: str
    categories: tuple[Category, ...]
    """The wished-for connection's category, or the categories of the connections a goal is about."""
    text: str
    """Every word of it: label, notes; a goal's milestones and resources too."""
    topic: str
    """What it is about, in a few words: the label (and the labels of the connections a goal is about)."""
    barriers: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"the goal {self.label!r}" if self.kind == "goal" else f"the wished-for connection {self.label!r}"


@dataclass(frozen=True)
class Suggestion:
    """An asset for a need, its score and why."""

    asset: Asset
    need: Need
    score: int
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "asset": self.asset.id,
            "name": self.asset.name,
            "for": {"kind": self.need.kind, "id": self.need.id, "label": self.need.label},
            "score": self.score,
            "reasons": list(self.reasons),
        }


def stem(word: str) -> str:
    """A crude English stem, enough to meet ``walks`` with ``walking`` and ``clubs`` with ``club``."""
    for suffix, keep in (("ing", 4), ("ers", 4), ("sses", 3), ("ies", 3), ("ed", 4), ("es", 5), ("s", 3)):
        if word.endswith(suffix) and len(word) - len(suffix) >= keep:
            if suffix == "ies":
                return word[:-3] + "y"
            if suffix == "sses":
                return word[:-2]
            if suffix == "s" and word.endswith(("ss", "us")):
                return word
            return word[: -len(suffix)]
    return word


def spelled(text: str) -> dict[str, str]:
    """``{stem: the word as written}`` for the meaningful words of a text."""
    out: dict[str, str] = {}
    for word in re.findall(r"[a-z]+", fold(text)):
        if word not in _STOP and len(word) > 2:
            out.setdefault(stem(word), word)
    return out


def words(text: str) -> set[str]:
    """The stems of the meaningful words of a text."""
    return set(spelled(text))


def needs(wmap: WellbeingMap) -> list[Need]:
    """The open goals and wished-for connections of a map, in the map's order."""
    by_id = {c.id: c for c in wmap.connections}
    out: list[Need] = []
    for g in wmap.goals:
        if g.status in (GoalStatus.ACHIEVED, GoalStatus.ABANDONED):
            continue
        about = [by_id[a] for a in g.about if a in by_id]
        categories = tuple(dict.fromkeys(c.category for c in about if c.category is not Category.OTHER))
        topic = " ".join([g.description, *(c.label for c in about)])
        text = " ".join([topic, *g.resources, *(m.description for m in g.milestones)])
        out.append(Need("goal", g.id, g.description, categories, text, topic, g.barriers))
    for c in wmap.connections:
        if c.status is Status.WISHED_FOR:
            categories = (c.category,) if c.category is not Category.OTHER else ()
            text = " ".join(filter(None, [c.label, c.notes]))
            out.append(Need("connection", c.id, c.label, categories, text, text))
    return out


def _asset_words(asset: Asset) -> tuple[frozenset[str], frozenset[str]]:
    """The words of an asset's name and types, and those of its description only."""
    name = words(" ".join([asset.name, *asset.types]))
    rest = words(" ".join(filter(None, [asset.description, asset.organisation.name if asset.organisation else None])))
    return frozenset(name), frozenset(rest - name)


@dataclass(frozen=True)
class _NeedWords:
    wanted: dict[str, str]
    spoken: tuple[AssetCategory, ...]


def _need_words(need: Need) -> _NeedWords:
    spoken = tuple(c for c in categories_for([need.topic], need.label) if c is not AssetCategory.OTHER)
    return _NeedWords(spelled(need.text), spoken)


def _category_points(asset: Asset, need: Need, spoken: tuple[AssetCategory, ...]) -> tuple[int, list[str]]:
    points = 0
    reasons: list[str] = []
    linked = [
        (ac, cc) for cc in need.categories for ac in asset.categories if cc in ASSET_CONNECTION_CATEGORIES.get(ac, ())
    ]
    named = None
    if linked:
        named, cc = linked[0]
        if need.kind == "connection":
            points = VAGUE_POINTS if cc in VAGUE else CATEGORY_POINTS
            reasons.append(f"{display(named)}, for {need.describe()} ({display(cc).lower()})")
        else:
            points = VAGUE_POINTS if cc in VAGUE else ABOUT_POINTS
            about = f"a {display(cc).lower()}" if cc in VAGUE else display(cc).lower()
            reasons.append(f"{display(named)}, as {need.describe()} is about {about}")
    heard = [c for c in asset.categories if c in spoken]
    if heard:
        points += CATEGORY_POINTS
        if heard[0] is named:
            reasons[-1] += ", which it speaks of"
        else:
            reasons.append(f"{display(heard[0])}, which {need.describe()} speaks of")
    return points, reasons


def _score(
    asset: Asset, need: Need, asset_words: tuple[frozenset[str], frozenset[str]], need_words: _NeedWords
) -> Suggestion | None:
    points, reasons = _category_points(asset, need, need_words.spoken)
    wanted = need_words.wanted
    in_name, in_text = asset_words
    name_hits, text_hits = sorted(wanted.keys() & in_name), sorted(wanted.keys() & in_text)
    if name_hits or text_hits:
        points += NAME_WORD_POINTS * len(name_hits) + TEXT_WORD_POINTS * len(text_hits)
        found = ", ".join(repr(wanted[w]) for w in name_hits + text_hits)
        reasons.append(f"shares {found} with {need.describe()}")
    if points < MIN_SCORE:
        return None
    for barrier in need.barriers:
        if asset.free is True and _MONEY.search(barrier):
            points += BARRIER_POINTS
            reasons.append(f"free, and {barrier!r} is a barrier")
        elif _GROUPS.search(barrier) and _QUIET.search(" ".join(filter(None, [asset.access, asset.description]))):
            points += BARRIER_POINTS
            reasons.append(f"a quiet or small setting, and {barrier!r} is a barrier")
    return Suggestion(asset, need, points, tuple(reasons))


def score(asset: Asset, need: Need) -> Suggestion | None:
    """How well an asset meets a need, with the reasons; None when below :data:`MIN_SCORE`."""
    return _score(asset, need, _asset_words(asset), _need_words(need))


def suggest(wmap: WellbeingMap, assets: Iterable[Asset], *, per_need: int = PER_NEED) -> list[Suggestion]:
    """The best assets for each need of a map (at most ``per_need`` each), best first within a need."""
    pool = [(a, _asset_words(a)) for a in assets if a.active]
    signposted = {(s.asset, s.reason) for s in wmap.signposts}
    out: list[Suggestion] = []
    for need in needs(wmap):
        need_words = _need_words(need)
        found = [
            s
            for a, a_words in pool
            if (a.id, need.id) not in signposted and (s := _score(a, need, a_words, need_words)) is not None
        ]
        found.sort(key=lambda s: (-s.score, s.asset.name.casefold(), s.asset.id))
        out += found[:per_need]
    return out


def by_need(suggestions: Iterable[Suggestion]) -> Mapping[Need, list[Suggestion]]:
    """Suggestions grouped by the need they are for, in order."""
    out: dict[Need, list[Suggestion]] = {}
    for s in suggestions:
        out.setdefault(s.need, []).append(s)
    return out
