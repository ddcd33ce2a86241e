"""Import from Open Referral UK (ORUK), the UK standard for local service directories.

ORUK 3.0 (the UK profile of HSDS 3.0) in both its forms:

- **JSON** as an ORUK API serves it: one service (``GET /services/{id}``), a page of services
  (``{"total_items": ..., "contents": [...]}``), or a list of services;
- **CSV**, the tabular data package: a folder (or ``.zip``) with ``services.csv`` and the tables
  it links to (``organizations.csv``, ``service_at_location.csv``, ``locations.csv``,
  ``address.csv``, ``schedule.csv``, ``cost_options.csv``, ``contacts.csv``, ``phones.csv``,
  ``service_areas.csv``, ``accessibility.csv``, ``attribute.csv``, ``taxonomy_terms.csv``...).

The names of ORUK 1.0 feeds, still served by many directories, are read too (``content``,
``regular_schedules``, ``physical_addresses``, ``accessibility_for_disabilities``,
``eligibilitys``, ``service_taxonomys``, ``deliverable_type``, ``attending_type``...).

Field by field, what becomes what (see docs/assets.md for the full table): the service's
``id`` the asset id (``PREFIX-id``) and its source; ``status`` active or not; ``schedules``
opening times (weekly ones; others in the opening notes); ``cost_options`` and ``fees`` free or
the cost; ages and ``eligibilitys`` the eligibility; ``service_at_locations`` the places
(address, position) and ``accessibility`` the access notes; ``service_areas`` the area served;
``assured_date`` the date last checked; taxonomy terms the types, and with the service's name
the categories. Not imported: funding, the assurer's email, reviews, holiday schedules.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Any

from wb_fhir._files import read_text
from wb_fhir.assets.directory import ID_PATTERN
from wb_fhir.assets.model import Asset, Opening, Organisation, Place, Source
from wb_fhir.errors import InputError, Problem
from wb_fhir.terminology import AssetCategory

ORUK = "oruk"
DEFAULT_PREFIX = "oruk"
_ICAL_DAYS = {"MO": "mon", "TU": "tue", "WE": "wed", "TH": "thu", "FR": "fri", "SA": "sat", "SU": "sun"}
_INACTIVE = {"inactive", "defunct", "temporarily closed"}

# Words in a taxonomy term or a service's name that say what kind of asset it is. The first
# match of each category counts; the order of categories is the order the words appear.
_CATEGORY_WORDS: tuple[tuple[AssetCategory, str], ...] = (
    (AssetCategory.PEER_SUPPORT, r"peer|support groups?|self[- ]help|mutual aid|lived experience|hearing voices"),
    (
        AssetCategory.SPORT_LEISURE,
        r"sports?|leisure|gym|swim\w*|football|fitness|exercise|physical activity|yoga|dance|cycling|running",
    ),
    (AssetCategory.FAITH, r"faith|church\w*|mosque|temple|synagogue|gurdwara|worship|relig\w*|spiritual|parish"),
    (AssetCategory.VOLUNTEERING, r"volunteer\w*"),
    (AssetCategory.LEARNING, r"learn\w*|courses?|education|classes|training|college|skills|literacy|numeracy"),
    (AssetCategory.CREATIVE, r"arts?|crafts?|music\w*|sing\w*|choirs?|drama|theatre|creative|paint\w*|drawing"),
    (AssetCategory.NATURE, r"garden\w*|allotments?|parks?|nature|outdoors?|walk\w*|conservation|green spaces?"),
    (
        AssetCategory.PRACTICAL_HELP,
        r"advice|benefits?|debt|money|housing|food ?banks?|legal|welfare|financ\w*|practical help",
    ),
    (AssetCategory.SOCIAL, r"social|lunch clubs?|coffee|befriend\w*|friendship|loneliness|isolation|clubs?"),
    (AssetCategory.COMMUNITY, r"community (?:centres?|hubs?|groups?|spaces?)|neighbourhood|village hall"),
    (AssetCategory.LIBRARY, r"librar\w*"),
    (AssetCategory.WORK, r"employ\w*|jobs?|careers?|work|mentors?"),
    (AssetCategory.HEALTH_SERVICE, r"health|counsell\w*|therap\w*|wellbeing|nhs|clinics?|recovery"),
    (AssetCategory.ONLINE, r"online|digital|virtual"),
)
_CATEGORY_RE = [(c, re.compile(rf"\b(?:{words})\b", re.IGNORECASE)) for c, words in _CATEGORY_WORDS]


@dataclass(frozen=True)
class OrukRead:
    """The assets read from an ORUK file, and what could not be used (with its place)."""

    assets: tuple[Asset, ...]
    warnings: tuple[Problem, ...]


# --- reading the file ------------------------------------------------------------------------------


def read_oruk(path: str | Path, *, prefix: str = DEFAULT_PREFIX) -> OrukRead:
    """Read an ORUK JSON file, or the CSV form (a folder or a ``.zip`` of CSV files)."""
    path = Path(path)
    if path.is_dir():
        return assets_from_oruk_tables(_tables_from_folder(path), source=str(path), prefix=prefix)
    if path.suffix.lower() == ".zip":
        return assets_from_oruk_tables(_tables_from_zip(path), source=str(path), prefix=prefix)
    if path.suffix.lower() == ".csv":
        return assets_from_oruk_tables(_tables_from_folder(path.parent), source=str(path.parent), prefix=prefix)
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"line {exc.lineno}, column {exc.colno}: not valid JSON: {exc.msg}", str(path)) from None
    except RecursionError:
        raise InputError("is nested too deeply to be a directory of services", str(path)) from None
    return assets_from_oruk_json(data, source=str(path), prefix=prefix)


def _tables_from_folder(folder: Path) -> dict[str, list[dict[str, str]]]:
    tables = {}
    for file in sorted(folder.glob("*.csv")):
        tables[file.stem.lower()] = _rows(read_text(file), str(file))
    return tables


def _tables_from_zip(path: Path) -> dict[str, list[dict[str, str]]]:
    try:
        with zipfile.ZipFile(path) as archive:
            tables = {}
            for info in archive.infolist():
                name = Path(info.filename).name
                if name.lower().endswith(".csv") and not info.is_dir():
                    if info.file_size > 200 * 1024 * 1024:
                        raise InputError(f"{name} is larger than 200 MB", str(path))
                    text = archive.read(info).decode("utf-8-sig")
                    tables[name[:-4].lower()] = _rows(text, f"{path}:{name}")
            return tables
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"is not a readable zip file ({exc})", str(path)) from None
    except UnicodeDecodeError:
        raise InputError("holds a CSV file that is not UTF-8 text", str(path)) from None


def _rows(text: str, source: str) -> list[dict[str, str]]:
    try:
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]
    except csv.Error as exc:
        raise InputError(f"not valid CSV: {exc}", source) from None


# --- JSON ------------------------------------------------------------------------------------------


def services_of(data: Any) -> list[Any]:
    """The services in ORUK JSON: one service, a page (3.0 ``contents``, 1.0 ``content``) or a list."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in ("contents", "content", "services", "items"):
            if isinstance(data.get(key), list):
                return list(data[key])
        if "id" in data and "name" in data:
            return [data]
    raise InputError(
        "is not Open Referral UK JSON: expected a service, a page of services ('contents') or a list of services"
    )


def assets_from_oruk_json(data: Any, *, source: str | None = None, prefix: str = DEFAULT_PREFIX) -> OrukRead:
    """The assets of ORUK JSON; problems of single services are warnings, the service skipped."""
    try:
        services = services_of(data)
    except InputError as exc:
        raise InputError(exc.problems, source) from None
    return _convert(services, source, prefix, "contents")


def _convert(services: list[Any], source: str | None, prefix: str, where: str) -> OrukRead:
    if not ID_PATTERN.match(f"{prefix}-x"):
        raise InputError(f"the prefix {prefix!r} is not usable in an id (letters, digits, '-', '_', '.')")
    assets: list[Asset] = []
    warnings: list[Problem] = []
    seen: set[str] = set()
    for n, service in enumerate(services):
        reader = _Service(f"{where}[{n}]", prefix)
        asset = reader.asset(service)
        warnings += reader.warnings
        if asset is None:
            continue
        if asset.id in seen:
            warnings.append(Problem(f"{where}[{n}].id", "the same service is listed twice: the first is kept"))
            continue
        seen.add(asset.id)
        assets.append(asset)
    if not assets and services:
        raise InputError([*warnings, Problem("", "no service could be imported")], source)
    return OrukRead(tuple(assets), tuple(warnings))


def _s(value: Any) -> str | None:
    """A text field of ORUK: strings and numbers as text; empty, null and anything else as None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        text = value.strip()
        return text or None
    return None


def _plain(value: Any) -> str | None:
    """Free text that may hold HTML (ORUK allows markup in descriptions) as plain text."""
    text = _s(value)
    if text is None:
        return None
    text = re.sub(r"<\s*(br|/p|/li|/div)\s*/?>", "\n", text, flags=re.IGNORECASE)
    text = html.unescape(re.sub(r"<[^>]*>", "", text))
    text = "\n".join(re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", text).strip() or None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value.strip():
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _list(service: Mapping[str, Any], *keys: str) -> list[Mapping[str, Any]]:
    for key in keys:
        value = service.get(key)
        if isinstance(value, list):
            return [v for v in value if isinstance(v, dict)]
    return []


def _date(value: Any) -> date | None:
    text = _s(value)
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _clock(value: Any) -> time | None:
    text = _s(value)
    match = re.match(r"^([01]?\d|2[0-3]):([0-5]\d)", text or "")
    return time(int(match[1]), int(match[2])) if match else None


def _join(parts: Iterable[str | None], sep: str = "; ") -> str | None:
    out = list(dict.fromkeys(p for p in parts if p))
    return sep.join(out) or None


def _prefixed(label: str, text: str | None) -> str | None:
    return f"{label}: {text}" if text else None


def _money(amount: float) -> str:
    return f"£{amount:.2f}".replace(".00", "")


class _Service:
    """Reads one ORUK service, collecting warnings with their places."""

    def __init__(self, at: str, prefix: str) -> None:
        self.at = at
        self.prefix = prefix
        self.warnings: list[Problem] = []

    def warn(self, key: str, message: str) -> None:
        self.warnings.append(Problem(f"{self.at}.{key}" if key else self.at, message))

    def asset(self, service: Any) -> Asset | None:
        if not isinstance(service, dict):
            self.warn("", "is not a service (an object): skipped")
            return None
        service_id, name = _s(service.get("id")), _s(service.get("name"))
        if service_id is None or name is None:
            self.warn("", "has no id or no name: skipped")
            return None
        asset_id = f"{self.prefix}-{service_id}"
        if not ID_PATTERN.match(asset_id):
            asset_id = f"{self.prefix}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', service_id)}"[:64]
        status = (_s(service.get("status")) or "active").lower()
        alert = _plain(service.get("alert"))
        terms = self.terms(service)
        places, access = self.places(service)
        contact, phone = self.contacts(service)
        free, cost = self.cost(service)
        opening, opening_notes = self.schedules(service)
        return Asset(
            id=asset_id,
            name=name,
            categories=categories_for(terms, name, _plain(service.get("description"))),
            description=_plain(service.get("description")),
            types=tuple(terms),
            organisation=self.organisation(service.get("organization")),
            places=places,
            area=_join(_s(a.get("name")) or _s(a.get("service_area")) for a in _list(service, "service_areas")),
            contact=contact,
            phone=phone,
            email=_s(service.get("email")),
            url=_s(service.get("url")),
            opening=opening,
            opening_notes=opening_notes,
            free=free,
            cost=cost,
            eligibility=self.eligibility(service),
            access=access,
            notes=_join(
                [
                    f"Temporarily closed. {alert or ''}".strip() if status == "temporarily closed" else alert,
                    _prefixed("Accreditations", _plain(service.get("accreditations"))),
                    self.languages(service),
                ],
                "\n",
            ),
            checked=_date(service.get("assured_date")),
            active=status not in _INACTIVE,
            source=Source(ORUK, service_id, _s(service.get("last_modified"))),
        )

    def terms(self, service: Mapping[str, Any]) -> list[str]:
        names: list[str] = []
        for attribute in _list(service, "attributes"):
            term = attribute.get("taxonomy_term")
            if isinstance(term, dict):
                names.append(_s(term.get("name")) or _s(term.get("term")) or "")
        for link in _list(service, "service_taxonomys", "service_taxonomies"):
            term = link.get("taxonomy")
            if isinstance(term, dict):
                names.append(_s(term.get("name")) or "")
        names.append(_s(service.get("deliverable_type")) or "")
        return list(dict.fromkeys(n for n in names if n))

    def organisation(self, value: Any) -> Organisation | None:
        if not isinstance(value, dict) or not _s(value.get("name")):
            return None
        org_id = _s(value.get("id")) or re.sub(r"[^a-z0-9]+", "-", str(value["name"]).lower()).strip("-")
        org_id = f"{self.prefix}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', org_id)}"[:64]
        identifiers = [
            (_s(i.get("identifier_scheme")) or "", _s(i.get("identifier")) or "")
            for i in _list(value, "organization_identifiers")
        ]
        return Organisation(
            org_id,
            str(_s(value.get("name"))),
            url=_s(value.get("website")) or _s(value.get("url")),
            email=_s(value.get("email")),
            identifiers=tuple((s, v) for s, v in identifiers if s and v),
        )

    def places(self, service: Mapping[str, Any]) -> tuple[tuple[Place, ...], str | None]:
        places: list[Place] = []
        access: list[str] = []
        for n, link in enumerate(_list(service, "service_at_locations")):
            location = link.get("location")
            if not isinstance(location, dict):
                continue
            if (_s(location.get("location_type")) or "physical").lower() == "virtual":
                continue
            at = f"service_at_locations[{n}].location"
            address = (_list(location, "addresses", "physical_addresses") or [{}])[0]
            lat, lon = _number(location.get("latitude")), _number(location.get("longitude"))
            if lat is not None and lon is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
                self.warn(f"{at}.latitude", f"({lat}, {lon}) is not a position on Earth: left out")
                lat = lon = None
            if lat == 0 and lon == 0:  # "null island": a feed's placeholder, not a place
                lat = lon = None
            place_id = _s(location.get("id")) or f"place-{n + 1}"
            place_id = re.sub(r"[^A-Za-z0-9_.-]+", "-", place_id)[:40]
            if any(p.id == place_id for p in places):
                continue
            places.append(
                Place(
                    place_id,
                    name=_s(location.get("name")),
                    address=_join([_s(address.get("address_1")), _s(address.get("address_2"))], ", "),
                    town=_s(address.get("city")),
                    postcode=_s(address.get("postal_code")),
                    latitude=lat if lon is not None else None,
                    longitude=lon if lat is not None else None,
                )
            )
            for a in _list(location, "accessibility", "accessibility_for_disabilities"):
                access.append(_plain(a.get("description")) or _plain(a.get("accessibility")) or "")
        return tuple(places), _join(access)

    def contacts(self, service: Mapping[str, Any]) -> tuple[str | None, str | None]:
        phones = [_s(p.get("number")) for p in _list(service, "phones")]
        people = []
        for c in _list(service, "contacts"):
            phones += [_s(p.get("number")) for p in _list(c, "phones")]
            who = _join([_s(c.get("name")), _s(c.get("title"))], ", ")
            if who:
                people.append(who)
        how = [
            _plain(s.get("attending_type"))
            for s in _list(service, "schedules", "regular_schedules")
            if _s(s.get("attending_type"))
        ]
        attending = [_s(service.get("attending_type")), _s(service.get("attending_access"))]
        contact = _join([*how, *(a.capitalize() for a in attending if a), *(f"Contact: {p}" for p in people)])
        return contact, next((p for p in phones if p), None)

    def cost(self, service: Mapping[str, Any]) -> tuple[bool | None, str | None]:
        options = _list(service, "cost_options")
        amounts = [_number(o.get("amount")) for o in options]
        known = [a for a in amounts if a is not None]
        words = []
        for o, amount in zip(options, amounts, strict=True):
            detail = _s(o.get("amount_description"))
            if amount == 0 and detail and detail.lower() in ("free", "no charge", "no cost"):
                detail = None
            what = _join(
                [
                    _money(amount) if amount else ("Free" if amount == 0 else None),
                    detail,
                    f"({_s(o.get('option'))})" if _s(o.get("option")) else None,
                ],
                " ",
            )
            words.append(what)
        fees = _plain(service.get("fees"))
        text = _join([*words, fees if fees and fees.lower() != "fees_description" else None])
        if known:
            return all(a == 0 for a in known), text
        if fees and re.search(r"\b(free|no charge|no cost)\b", fees, re.IGNORECASE):
            return True, text
        return None, text

    def eligibility(self, service: Mapping[str, Any]) -> str | None:
        parts: list[str | None] = []
        groups = [*[service], *_list(service, "eligibilitys", "eligibilities")]
        for g in groups:
            low, high = _number(g.get("minimum_age")), _number(g.get("maximum_age"))
            if low is not None and high is not None:
                parts.append(f"Ages {low:g} to {high:g}")
            elif low is not None:
                parts.append(f"Ages {low:g} and over")
            elif high is not None:
                parts.append(f"Ages up to {high:g}")
            if g is not service:
                parts.append(_s(g.get("eligibility")))
        parts.append(_plain(service.get("eligibility_description")))
        return _join(parts)

    def languages(self, service: Mapping[str, Any]) -> str | None:
        names = [_s(lang.get("name")) or _s(lang.get("language")) for lang in _list(service, "languages")]
        return _prefixed("Languages", _join(names, ", "))

    def schedules(self, service: Mapping[str, Any]) -> tuple[tuple[Opening, ...], str | None]:
        opening: list[Opening] = []
        notes: list[str | None] = []
        for n, s in enumerate(_list(service, "schedules", "regular_schedules")):
            at = f"schedules[{n}]"
            freq = (_s(s.get("freq")) or "WEEKLY").upper()
            interval = _number(s.get("interval")) or 1
            byday = [d.strip().upper() for d in (_s(s.get("byday")) or "").split(",") if d.strip()]
            weekday = _number(s.get("weekday"))  # ORUK 1.0: 1 = Monday
            if not byday and weekday is not None and 1 <= weekday <= 7:
                byday = [list(_ICAL_DAYS)[int(weekday) - 1]]
            opens, closes = _clock(s.get("opens_at")), _clock(s.get("closes_at"))
            weekly = freq == "WEEKLY" and interval == 1 and byday and all(d in _ICAL_DAYS for d in byday)
            description = _plain(s.get("description"))
            if weekly and (opens is None) == (closes is None) and (opens is None or closes is None or opens < closes):
                opening.append(Opening(tuple(_ICAL_DAYS[d] for d in byday), opens, closes))
                notes.append(description if description and not _says_only_times(description) else None)
                continue
            if not byday and freq == "WEEKLY" and not description:
                self.warn(at, "has no days (byday): left out")
                continue
            hours = f"{opens:%H:%M}-{closes:%H:%M}" if opens and closes else None
            when = _rule_words(freq, int(interval), byday, _s(s.get("bymonthday")))
            notes.append(description or _join([when, hours], " "))
        return tuple(opening), _join(notes)


_NTH = {"1": "first", "2": "second", "3": "third", "4": "fourth", "5": "fifth", "-1": "last"}
_DAY_NAMES = dict(
    zip(_ICAL_DAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True)
)


def _rule_words(freq: str, interval: int, byday: list[str], bymonthday: str | None) -> str:
    """An iCalendar rule that is not a plain weekly one, in words: 'every 2 weeks on Saturday'."""
    days = []
    for d in byday:
        match = re.fullmatch(r"(-?\d)?([A-Z]{2})", d)
        if match and match[2] in _DAY_NAMES:
            nth = _NTH.get(match[1] or "", "")
            days.append(f"the {nth} {_DAY_NAMES[match[2]]}" if nth else _DAY_NAMES[match[2]])
    on = f" on {' and '.join(days)}" if days else ""
    if freq == "MONTHLY":
        if bymonthday and not days:
            on = f" on day {bymonthday}"
        every = "every month" if interval == 1 else f"every {interval} months"
        return f"{every}{on}"
    return f"every {interval} weeks{on}" if interval != 1 else f"weekly{on}"


def _says_only_times(text: str) -> bool:
    return bool(re.fullmatch(r"[\d:.\s\-apm]+", text.lower()))


def categories_for(terms: Iterable[str], name: str, description: str | None = None) -> tuple[AssetCategory, ...]:
    """The asset categories that the taxonomy terms, else the name, else the description speak of."""
    for texts in (list(terms), [name], [description or ""]):
        found: list[tuple[int, int, AssetCategory]] = []
        for t_index, text in enumerate(texts):
            for category, pattern in _CATEGORY_RE:
                match = pattern.search(text)
                if match:
                    found.append((t_index, match.start(), category))
        ordered = list(dict.fromkeys(c for _, _, c in sorted(found, key=lambda f: (f[0], f[1]))))
        if ordered:
            return tuple(ordered[:3])
    return (AssetCategory.OTHER,)


# --- CSV: the tables joined back into services ---------------------------------------------------------


def _table(tables: Mapping[str, list[dict[str, str]]], *names: str) -> list[dict[str, str]]:
    for name in names:
        if name in tables:
            return tables[name]
    return []


def _group(rows: list[dict[str, str]], key: str) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        if row.get(key):
            out.setdefault(row[key], []).append(row)
    return out


def assets_from_oruk_tables(
    tables: Mapping[str, list[dict[str, str]]], *, source: str | None = None, prefix: str = DEFAULT_PREFIX
) -> OrukRead:
    """The assets of the ORUK CSV form (``{table name: rows}``), joined into services first."""
    services = _table(tables, "services", "service")
    if not services:
        raise InputError("holds no services.csv (the CSV form of Open Referral UK)", source)
    orgs = {r["id"]: r for r in _table(tables, "organizations", "organization") if r.get("id")}
    org_ids = _group(_table(tables, "organization_identifiers", "identifiers"), "organization_id")
    locations = {r["id"]: r for r in _table(tables, "locations", "location") if r.get("id")}
    addresses = _group(_table(tables, "addresses", "address", "physical_addresses", "physical_address"), "location_id")
    access = _group(_table(tables, "accessibility", "accessibility_for_disabilities"), "location_id")
    at_location = _table(tables, "service_at_location", "service_at_locations", "services_at_location")
    links = _group(at_location, "service_id")
    link_service = {r["id"]: r.get("service_id", "") for r in at_location if r.get("id")}
    schedules: dict[str, list[dict[str, str]]] = {}
    for row in _table(tables, "schedules", "schedule", "regular_schedules", "regular_schedule"):
        owner = row.get("service_id") or link_service.get(row.get("service_at_location_id", ""), "")
        if owner:
            schedules.setdefault(owner, []).append(row)
    contacts = _group(_table(tables, "contacts", "contact"), "service_id")
    phones = _table(tables, "phones", "phone")
    phones_by_contact = _group(phones, "contact_id")
    phones_by_service = _group(phones, "service_id")
    costs = _group(_table(tables, "cost_options", "cost_option"), "service_id")
    areas = _group(_table(tables, "service_areas", "service_area"), "service_id")
    languages = _group(_table(tables, "languages", "language"), "service_id")
    eligibility = _group(_table(tables, "eligibility", "eligibilitys", "eligibilities"), "service_id")
    terms = {r["id"]: r for r in _table(tables, "taxonomy_terms", "taxonomy_term", "taxonomies", "taxonomy")}
    attributes = _group(_table(tables, "attribute", "attributes"), "link_id")
    service_terms = _group(
        _table(tables, "service_taxonomy", "service_taxonomys", "services_taxonomy", "service_taxonomies"), "service_id"
    )

    def location(row: dict[str, str]) -> dict[str, Any]:
        return {
            **row,
            "addresses": addresses.get(row["id"], []),
            "accessibility": access.get(row["id"], []),
        }

    joined: list[dict[str, Any]] = []
    for row in services:
        sid = row.get("id", "")
        service: dict[str, Any] = dict(row)
        org = orgs.get(row.get("organization_id", ""))
        if org is not None:
            service["organization"] = {**org, "organization_identifiers": org_ids.get(org["id"], [])}
        service["service_at_locations"] = [
            {**link, "location": location(locations[link["location_id"]])}
            for link in links.get(sid, [])
            if link.get("location_id") in locations
        ]
        service["schedules"] = schedules.get(sid, [])
        service["contacts"] = [
            {**c, "phones": phones_by_contact.get(c.get("id", ""), [])} for c in contacts.get(sid, [])
        ]
        service["phones"] = phones_by_service.get(sid, [])
        service["cost_options"] = costs.get(sid, [])
        service["service_areas"] = areas.get(sid, [])
        service["languages"] = languages.get(sid, [])
        service["eligibilitys"] = eligibility.get(sid, [])
        service["attributes"] = [
            {**a, "taxonomy_term": terms[a["taxonomy_term_id"]]}
            for a in attributes.get(sid, [])
            if a.get("taxonomy_term_id") in terms
        ]
        service["service_taxonomys"] = [
            {"taxonomy": terms[t["taxonomy_id"]]} for t in service_terms.get(sid, []) if t.get("taxonomy_id") in terms
        ]
        joined.append(service)
    return _convert(joined, source, prefix, "services.csv")
