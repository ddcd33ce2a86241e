"""The local asset directory file (YAML or JSON): read and check it, write it back.

A directory file holds ``assets: [...]``; each asset needs ``id`` and ``name``, everything
else is optional. A minimal entry, as earlier versions wrote them, stays valid::

    assets:
      - {id: green-gym, name: Green gym volunteering, category: volunteering,
         address: Meet at the park gates, access: Tools and gloves provided}

and a full one::

      - id: riverside-leisure-centre
        name: Riverside Leisure Centre
        categories: [sport-leisure, social]
        organisation: {id: riverside-council, name: Riverside Council}
        address: Riverside Road
        town: Plymouth
        postcode: PL1 2AB
        position: {lat: 50.3687, lon: -4.1427}
        phone: 01752 000000
        opening: ["mon-fri 07:00-21:00", "sat,sun 08:00-18:00"]
        free: false
        cost: Concessions with a referral
        checked: 2026-10-01

Every problem is reported with its place (``assets[3].postcode``), all at once. Where no file
is named, the directory is ``$WB_FHIR_ASSETS``, else ``assets.yaml`` in the user's data
directory once something was written there, else the example directory shipped with wb_fhir.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date, time
from pathlib import Path
from typing import Any

import platformdirs

from wb_fhir._files import atomic_write
from wb_fhir._resources import data_dir
from wb_fhir.assets.model import Asset, AssetDirectory, Opening, Organisation, Place, Source
from wb_fhir.errors import InputError, Problem
from wb_fhir.terminology import ASSET_CATEGORY_ALIASES, DAYS_OF_WEEK, AssetCategory

ENV_ASSETS = "WB_FHIR_ASSETS"
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_TIME = r"([01]?\d|2[0-3]):([0-5]\d)"
_OPENING = re.compile(rf"^\s*(?P<days>[a-z,\-\s]+?)(?:\s+(?P<opens>{_TIME})\s*-\s*(?P<closes>{_TIME}))?\s*$")

_TEXT_FIELDS = (
    "description",
    "area",
    "contact",
    "phone",
    "email",
    "url",
    "opening_notes",
    "cost",
    "eligibility",
    "access",
    "transport",
    "notes",
    "added_by",
)
_PLACE_FIELDS = ("address", "town", "postcode", "position")
FIELDS = (
    "id",
    "name",
    "category",
    "categories",
    "types",
    "organisation",
    *_PLACE_FIELDS,
    "places",
    "opening",
    "free",
    "checked",
    "active",
    "source",
    "added_on",
    *_TEXT_FIELDS,
)


# --- where the directory is -------------------------------------------------------------------


def user_directory_path() -> Path:
    """``$WB_FHIR_ASSETS``, else ``assets.yaml`` in the user's data directory (where imports write)."""
    env = os.environ.get(ENV_ASSETS)
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("wb-fhir")) / "assets.yaml"


def example_directory_path() -> Path:
    """The example directory shipped with wb_fhir."""
    return data_dir("examples") / "assets.yaml"


def default_directory_path() -> Path:
    """The directory to read when none is named: the user's, once it exists, else the shipped example."""
    mine = user_directory_path()
    return mine if mine.exists() or os.environ.get(ENV_ASSETS) else example_directory_path()


def local_asset_names(path: str | Path | None = None) -> dict[str, str]:
    """``{asset id: name}`` of a directory (the default one when None); empty when it cannot be read.

    For showing assets by name: a missing or broken directory must never stop a review.
    """
    try:
        return dict(load_assets(path or default_directory_path()).names)
    except InputError:
        return {}


# --- reading -------------------------------------------------------------------------------------


def is_asset_directory(data: Any) -> bool:
    """True when plain data looks like an asset directory rather than a map."""
    return isinstance(data, dict) and "assets" in data and "subject" not in data


def load_assets(path: str | Path) -> AssetDirectory:
    """Read and check a community asset directory file."""
    from wb_fhir.mapfile import load_data

    return assets_from_data(load_data(path), str(path))


def assets_from_data(data: Any, source: str | None = None) -> AssetDirectory:
    """Check plain data and build the directory, or raise InputError with every problem."""
    if not isinstance(data, dict) or not isinstance(data.get("assets"), list):
        raise InputError("an asset directory holds 'assets:', a list of assets", source)
    problems = [Problem(key, "unknown key (allowed here: assets)") for key in sorted(set(data) - {"assets"})]
    assets: list[Asset] = []
    seen: set[str] = set()
    for i, item in enumerate(data["assets"]):
        reader = _Reader(f"assets[{i}]")
        asset = reader.asset(item)
        problems += reader.problems
        asset_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(asset_id, str):
            if asset_id in seen:
                problems.append(Problem(f"assets[{i}].id", f"{asset_id!r} is used by another asset"))
            seen.add(asset_id)
        if asset is not None:
            assets.append(asset)
    if problems:
        raise InputError(problems, source)
    return AssetDirectory(tuple(assets))


def parse_opening(text: str) -> Opening:
    """``"mon-fri 09:00-17:00"``, ``"tue,thu 14:00-16:00"`` or ``"sat"`` (all day) as an Opening."""
    match = _OPENING.match(text.lower())
    if not match:
        raise ValueError(f"{text!r} is not an opening time such as 'mon-fri 09:00-17:00' or 'sat'")
    days: list[str] = []
    for part in re.split(r"\s*,\s*", match["days"].strip()):
        ends = [d.strip()[:3] for d in part.split("-")]
        if len(ends) > 2 or any(d not in DAYS_OF_WEEK for d in ends):
            raise ValueError(f"{part!r} is not a day or a range of days (mon, tue, ..., sun; mon-fri)")
        first, last = DAYS_OF_WEEK.index(ends[0]), DAYS_OF_WEEK.index(ends[-1])
        span = range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)]
        days += [DAYS_OF_WEEK[d] for d in span if DAYS_OF_WEEK[d] not in days]
    if match["opens"] is None:
        return Opening(tuple(days))
    opens, closes = _clock(match["opens"]), _clock(match["closes"])
    if closes <= opens:
        raise ValueError(f"{text!r} closes before it opens")
    return Opening(tuple(days), opens, closes)


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


class _Reader:
    """Checks one asset entry, collecting problems with their places."""

    def __init__(self, at: str) -> None:
        self.at = at
        self.problems: list[Problem] = []

    def bad(self, key: str, message: str) -> None:
        self.problems.append(Problem(f"{self.at}.{key}" if key else self.at, message))

    def asset(self, item: Any) -> Asset | None:
        if not isinstance(item, dict):
            self.bad("", "must be a mapping of keys to values")
            return None
        for key in sorted(set(item) - set(FIELDS), key=str):
            self.bad(str(key), f"unknown key (allowed here: {', '.join(FIELDS)})")
        for key in ("id", "name"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                self.bad(key, "is required text")
        if isinstance(item.get("id"), str) and item["id"].strip() and not ID_PATTERN.match(item["id"]):
            self.bad("id", f"{item['id']!r} is not a valid id (letters, digits, '-', '_', '.'; up to 64)")
        texts = {key: self.text(item, key) for key in _TEXT_FIELDS}
        categories = self.categories(item)
        types = self.texts(item, "types")
        organisation = self.organisation(item.get("organisation"))
        places = self.places(item)
        opening = self.opening(item.get("opening"))
        free = self.boolean(item, "free")
        active = self.boolean(item, "active")
        checked = self.date(item, "checked")
        added_on = self.date(item, "added_on")
        source = self.source(item.get("source"))
        if self.problems:
            return None
        return Asset(
            id=item["id"],
            name=item["name"].strip(),
            categories=categories,
            types=types,
            organisation=organisation,
            places=places,
            opening=opening,
            free=free,
            checked=checked,
            active=True if active is None else active,
            source=source,
            added_on=added_on,
            **texts,
        )

    # --- field readers -------------------------------------------------------------------

    def text(self, item: dict[str, Any], key: str, at: str | None = None) -> str | None:
        value = item.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            # YAML reads 01752000000 as an octal number: only quoted text is safe
            self.bad(at or key, f"must be text, not {type(value).__name__} (quote it in YAML)")
            return None
        text = value.strip()
        if not text:
            self.bad(at or key, "must not be empty")
            return None
        return text

    def texts(self, item: dict[str, Any], key: str) -> tuple[str, ...]:
        value = item.get(key, [])
        if not isinstance(value, list):
            self.bad(key, "must be a list of text")
            return ()
        out = [self.text({"v": v}, "v", f"{key}[{n}]") for n, v in enumerate(value)]
        return tuple(t for t in out if t)

    def boolean(self, item: dict[str, Any], key: str) -> bool | None:
        value = item.get(key)
        if value is not None and not isinstance(value, bool):
            self.bad(key, "must be true or false")
            return None
        return value

    def date(self, item: dict[str, Any], key: str) -> date | None:
        value = item.get(key)
        if value is None:
            return None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.bad(key, f"{value!r} is not a date (YYYY-MM-DD)")
            return None

    def categories(self, item: dict[str, Any]) -> tuple[AssetCategory, ...]:
        if "category" in item and "categories" in item:
            self.bad("categories", "give 'category' or 'categories', not both")
            return (AssetCategory.OTHER,)
        raw: Any = item.get("categories", [item["category"]] if "category" in item else ["other"])
        key = "categories" if "categories" in item else "category"
        if not isinstance(raw, list) or not raw:
            self.bad(key, "must be a list of one or more categories")
            return (AssetCategory.OTHER,)
        out: list[AssetCategory] = []
        for n, code in enumerate(raw):
            place = key if key == "category" else f"categories[{n}]"
            if isinstance(code, str) and code in ASSET_CATEGORY_ALIASES:
                code = ASSET_CATEGORY_ALIASES[code].value
            if not isinstance(code, str) or code not in {c.value for c in AssetCategory}:
                self.bad(place, f"{code!r} is not one of: {', '.join(c.value for c in AssetCategory)}")
                continue
            if AssetCategory(code) not in out:
                out.append(AssetCategory(code))
        return tuple(out) or (AssetCategory.OTHER,)

    def organisation(self, value: Any) -> Organisation | None:
        if value is None:
            return None
        if isinstance(value, str) and value.strip():
            return Organisation(id=_slug(value), name=value.strip())
        if not isinstance(value, dict):
            self.bad("organisation", "must be a name or a mapping {id, name, url, email, phone, identifiers}")
            return None
        allowed = ("id", "name", "url", "email", "phone", "identifiers")
        for key in sorted(set(value) - set(allowed), key=str):
            self.bad(f"organisation.{key}", f"unknown key (allowed here: {', '.join(allowed)})")
        fields = {k: self.text(value, k, f"organisation.{k}") for k in ("id", "name", "url", "email", "phone")}
        if not fields["name"]:
            self.bad("organisation.name", "is required text")
            return None
        identifiers: list[tuple[str, str]] = []
        raw = value.get("identifiers", {})
        if not isinstance(raw, dict):
            self.bad("organisation.identifiers", "must be a mapping of scheme to value (GB-CHC: '1234567')")
        else:
            for scheme, ident in raw.items():
                text = self.text({"v": ident}, "v", f"organisation.identifiers.{scheme}")
                if text:
                    identifiers.append((str(scheme), text))
        org_id = fields.pop("id") or _slug(fields["name"] or "")
        if not ID_PATTERN.match(org_id):
            self.bad("organisation.id", f"{org_id!r} is not a valid id (letters, digits, '-', '_', '.'; up to 64)")
        name = fields.pop("name") or ""
        return Organisation(org_id, name, identifiers=tuple(identifiers), **fields)

    def places(self, item: dict[str, Any]) -> tuple[Place, ...]:
        flat = {k: item[k] for k in _PLACE_FIELDS if k in item}
        if "places" in item:
            if flat:
                self.bad("places", f"give 'places' or the fields {', '.join(_PLACE_FIELDS)}, not both")
            value = item["places"]
            if not isinstance(value, list):
                self.bad("places", "must be a list of places")
                return ()
            out = []
            ids: set[str] = set()
            for n, place in enumerate(value):
                one = self.place(place, f"places[{n}]", f"place-{n + 1}")
                if one is not None:
                    if one.id in ids:
                        self.bad(f"places[{n}].id", f"{one.id!r} is used by another place of this asset")
                    ids.add(one.id)
                    out.append(one)
            return tuple(out)
        if not flat:
            return ()
        one = self.place(flat, "", "main")
        return (one,) if one is not None else ()

    def place(self, value: Any, at: str, default_id: str) -> Place | None:
        if not isinstance(value, dict):
            self.bad(at, "must be a mapping {id, name, address, town, postcode, position}")
            return None
        prefix = f"{at}." if at else ""
        allowed = ("id", "name", *_PLACE_FIELDS) if at else _PLACE_FIELDS
        for key in sorted(set(value) - set(allowed), key=str):
            self.bad(f"{prefix}{key}", f"unknown key (allowed here: {', '.join(allowed)})")
        fields = {k: self.text(value, k, f"{prefix}{k}") for k in ("id", "name", "address", "town", "postcode")}
        lat = lon = None
        position = value.get("position")
        if position is not None:
            if (
                not isinstance(position, dict)
                or set(position) != {"lat", "lon"}
                or not all(_number(position[k]) for k in ("lat", "lon"))
            ):
                self.bad(f"{prefix}position", "must be {lat: degrees, lon: degrees}")
            elif not (-90 <= position["lat"] <= 90 and -180 <= position["lon"] <= 180):
                self.bad(f"{prefix}position", "is not a position on Earth (lat -90..90, lon -180..180)")
            else:
                lat, lon = float(position["lat"]), float(position["lon"])
        place_id = fields.pop("id") or default_id
        return Place(place_id, latitude=lat, longitude=lon, **fields)

    def opening(self, value: Any) -> tuple[Opening, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.bad("opening", "must be a list such as ['mon-fri 09:00-17:00', 'sat 10:00-12:00']")
            return ()
        out = []
        for n, text in enumerate(value):
            if not isinstance(text, str):
                self.bad(f"opening[{n}]", "must be text such as 'mon-fri 09:00-17:00' (quote it in YAML)")
                continue
            try:
                out.append(parse_opening(text))
            except ValueError as exc:
                self.bad(f"opening[{n}]", str(exc))
        return tuple(out)

    def source(self, value: Any) -> Source | None:
        if value is None:
            return None
        keys = set(value) if isinstance(value, dict) else set()
        if not isinstance(value, dict) or not {"system", "id"} <= keys or keys - {"system", "id", "modified"}:
            self.bad("source", "must be {system, id, modified}")
            return None
        fields = {k: self.text(value, k, f"source.{k}") for k in ("system", "id", "modified")}
        if not fields["system"] or not fields["id"]:
            return None
        return Source(fields["system"], fields["id"], fields["modified"])


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:64].strip("-")
    return slug or "organisation"


# --- writing -------------------------------------------------------------------------------------


def _opening_text(o: Opening) -> str:
    days = ",".join(o.days)
    for first in range(7):
        run = DAYS_OF_WEEK[first : first + len(o.days)]
        if len(o.days) > 2 and tuple(run) == o.days:
            days = f"{run[0]}-{run[-1]}"
    if o.opens is None or o.closes is None:
        return days
    return f"{days} {o.opens:%H:%M}-{o.closes:%H:%M}"


def _place_data(p: Place, with_id: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if with_id:
        out["id"] = p.id
        if p.name:
            out["name"] = p.name
    for key in ("address", "town", "postcode"):
        if getattr(p, key):
            out[key] = getattr(p, key)
    if p.position is not None:
        out["position"] = {"lat": p.latitude, "lon": p.longitude}
    return out


def asset_to_data(a: Asset) -> dict[str, Any]:
    """One asset as plain data in the directory file's shape, leaving out what is not set."""
    out: dict[str, Any] = {"id": a.id, "name": a.name}
    if len(a.categories) == 1:
        out["category"] = a.category.value
    else:
        out["categories"] = [c.value for c in a.categories]
    if a.description:
        out["description"] = a.description
    if a.types:
        out["types"] = list(a.types)
    if a.organisation is not None:
        o = a.organisation
        org: dict[str, Any] = {"id": o.id, "name": o.name}
        org.update({k: getattr(o, k) for k in ("url", "email", "phone") if getattr(o, k)})
        if o.identifiers:
            org["identifiers"] = dict(o.identifiers)
        out["organisation"] = org
    if len(a.places) == 1 and a.places[0].id == "main" and a.places[0].name is None:
        out.update(_place_data(a.places[0], with_id=False))
    elif a.places:
        out["places"] = [_place_data(p, with_id=True) for p in a.places]
    for key in ("area", "contact", "phone", "email", "url"):
        if getattr(a, key):
            out[key] = getattr(a, key)
    if a.opening:
        out["opening"] = [_opening_text(o) for o in a.opening]
    for key in ("opening_notes", "free", "cost", "eligibility", "access", "transport", "notes"):
        if getattr(a, key) is not None:
            out[key] = getattr(a, key)
    if a.checked:
        out["checked"] = a.checked.isoformat()
    if not a.active:
        out["active"] = False
    if a.source is not None:
        out["source"] = {"system": a.source.system, "id": a.source.id}
        if a.source.modified:
            out["source"]["modified"] = a.source.modified
    if a.added_by:
        out["added_by"] = a.added_by
    if a.added_on:
        out["added_on"] = a.added_on.isoformat()
    return out


def directory_to_data(directory: AssetDirectory) -> dict[str, Any]:
    """The directory as plain data (``{"assets": [...]}``)."""
    return {"assets": [asset_to_data(a) for a in directory.assets]}


def dumps_directory(directory: AssetDirectory, fmt: str = "yaml") -> str:
    """The directory file text, ``fmt`` ``"yaml"`` or ``"json"``."""
    data = directory_to_data(directory)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    import yaml

    from wb_fhir.mapfile import _Dumper

    header = "# Community asset directory (wb-fhir): the local knowledge bank that sign-posts point into.\n"
    return header + yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def save_assets(directory: AssetDirectory, path: str | Path) -> None:
    """Write the directory to a YAML or JSON file (by suffix), atomically; the folder is created."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = "json" if path.suffix.lower() == ".json" else "yaml"
    text = dumps_directory(directory, fmt)
    # What we write must read back as it is: a writer bug must never leave a broken bank behind.
    reread = assets_from_data(_parse(text, fmt), str(path))
    if reread != directory:
        raise AssertionError("the asset directory would not read back as written")
    atomic_write(path, text.encode("utf-8"))


def _parse(text: str, fmt: str) -> Any:
    from wb_fhir.mapfile import parse_text

    return parse_text(text, "asset directory", fmt=fmt)
