"""Write the Open Referral UK sample the asset tests import (run it to regenerate the files).

A fictional local directory of 36 services, in the shape of ORUK 3.0 (the UK profile of
HSDS 3.0): ``services.json`` as an ORUK API serves a page of full services, and ``csv/``, the
same directory as the tabular data package's CSV files. ``services-update.json`` is a later
export of the same feed: a few services changed, two withdrawn, one new. Services sit in and
around Plymouth, three of them in Exeter (60 km away), for searches by distance.

    python tests/data/oruk/make_sample.py
"""

from __future__ import annotations

import csv
import json
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
NS = uuid.UUID("5f1b1a52-0c1e-4a53-9b0c-7e6f0e1d2a11")


def uid(*parts: str) -> str:
    return str(uuid.uuid5(NS, "/".join(parts)))


ORGS = {
    "mind": ("City Mind", "https://mind.example.org", [("GB-CHC", "1100001")]),
    "council": ("Plymouth City Council", "https://council.example.org", []),
    "parks": ("City Parks Trust", "https://parks.example.org", [("GB-CHC", "1100002")]),
    "leisure": ("Active City Leisure", "https://leisure.example.org", [("GB-COH", "09000001")]),
    "faith": ("Churches Together", None, []),
    "cab": ("Citizens Advice City", "https://advice.example.org", [("GB-CHC", "1100003")]),
    "college": ("City College", "https://college.example.org", []),
    "arts": ("Barbican Arts Collective", None, []),
    "exeter": ("Exeter Wellbeing Network", "https://exeter.example.org", [("GB-CHC", "1100004")]),
}

# id, name, org, terms, (lat, lon, address, town, postcode), schedules, cost, ages, status, description
SERVICES: list[dict[str, Any]] = [
    dict(
        k="walk-hoe",
        n="Hoe health walks",
        o="parks",
        t=["Walking groups"],
        p=(50.3645, -4.1420, "The Hoe", "PL1 2PA"),
        s=[("WEEKLY", "MO,TH", "10:30", "11:30")],
        c=[0],
        d="Gentle led walks along the Hoe, all abilities.",
    ),
    dict(
        k="walk-park",
        n="Central Park walking for health",
        o="parks",
        t=["Walking groups"],
        p=(50.3861, -4.1437, "Central Park", "PL2 3DQ"),
        s=[("WEEKLY", "WE", "10:00", "11:00")],
        c=[0],
        d="A weekly walk around Central Park ending with tea.",
    ),
    dict(
        k="green-gym",
        n="Green gym conservation volunteering",
        o="parks",
        t=["Volunteering opportunities", "Conservation"],
        p=(50.3865, -4.1450, "Park gates, Central Park", "PL2 3DQ"),
        s=[("WEEKLY", "TU,SA", "10:00", "13:00")],
        c=[0],
        d="Practical conservation work outdoors: planting, paths and hedges.",
    ),
    dict(
        k="allotments",
        n="Ham Lane community allotments",
        o="parks",
        t=["Gardening", "Allotments"],
        p=(50.3972, -4.1705, "Ham Lane", "PL5 2DX"),
        s=[("WEEKLY", "WE,SU", "10:00", "15:00")],
        c=[],
        d="Shared plots with experienced growers; no experience needed.",
    ),
    dict(
        k="foodbank",
        n="Stonehouse food bank",
        o="faith",
        t=["Foodbanks"],
        p=(50.3675, -4.1600, "Union Street", "PL1 3EZ"),
        s=[("WEEKLY", "TU,FR", "12:00", "15:00")],
        c=[0],
        d="Emergency food parcels with a voucher.",
    ),
    dict(
        k="lunch-club",
        n="St Andrew's lunch club",
        o="faith",
        t=["Lunch clubs", "Befriending"],
        p=(50.3702, -4.1403, "St Andrew's Street", "PL1 2AH"),
        s=[("WEEKLY", "TH", "12:00", "14:00")],
        c=[2.5],
        d="A hot lunch and good company every Thursday.",
    ),
    dict(
        k="church-social",
        n="Mutley Baptist coffee morning",
        o="faith",
        t=["Places of worship", "Coffee mornings"],
        p=(50.3812, -4.1402, "Mutley Plain", "PL4 6LB"),
        s=[("WEEKLY", "SA", "10:00", "12:00")],
        c=[0],
        d="Coffee and cake after the Saturday service; everyone welcome.",
    ),
    dict(
        k="mosque-open",
        n="Islamic centre open day",
        o="faith",
        t=["Places of worship"],
        p=(50.3741, -4.1352, "Cobourg Street", "PL1 1SR"),
        s=[("MONTHLY", "1SA", "11:00", "15:00")],
        c=[0],
        d="Open day: tea, tours and conversation.",
    ),
    dict(
        k="peer-group",
        n="Mental health peer support group",
        o="mind",
        t=["Support groups", "Mental health support"],
        p=(50.3700, -4.1515, "5 Union Street", "PL1 2SR"),
        s=[("WEEKLY", "TU", "14:00", "15:30")],
        c=[0],
        ages=(18, None),
        d="A peer-led group for adults living with mental health problems.",
    ),
    dict(
        k="hearing-voices",
        n="Hearing voices group",
        o="mind",
        t=["Support groups"],
        p=(50.3700, -4.1515, "5 Union Street", "PL1 2SR"),
        s=[("WEEKLY", "WE", "14:00", "15:30")],
        c=[0],
        ages=(18, None),
        d="For people who hear voices or have other unusual experiences.",
    ),
    dict(
        k="gambling-peer",
        n="Gambling harms peer support",
        o="mind",
        t=["Support groups", "Debt advice"],
        p=(50.3700, -4.1515, "5 Union Street", "PL1 2SR"),
        s=[("WEEKLY", "MO", "18:30", "20:00")],
        c=[0],
        d="Peer support for people cutting down or stopping gambling.",
    ),
    dict(
        k="carers-cafe",
        n="Carers' café",
        o="mind",
        t=["Carers support", "Befriending"],
        p=(50.3718, -4.1431, "Central Library, Drake Circus", "PL4 8AL"),
        s=[("MONTHLY", "2WE", "10:00", "12:00")],
        c=[0],
        d="A monthly café for unpaid carers.",
    ),
    dict(
        k="online-forum",
        n="Night owls online peer forum",
        o="mind",
        t=["Online support", "Support groups"],
        p=None,
        s=[("WEEKLY", "MO,TU,WE,TH,FR,SA,SU", "20:00", "23:59")],
        c=[0],
        ages=(18, None),
        d="A moderated online forum for peer support in the evenings.",
    ),
    dict(
        k="library-books",
        n="Central Library reading group",
        o="council",
        t=["Book clubs", "Libraries"],
        p=(50.3718, -4.1431, "Central Library, Drake Circus", "PL4 8AL"),
        s=[("MONTHLY", "2WE", "18:00", "19:30")],
        c=[0],
        d="A friendly reading group; the library lends the books.",
    ),
    dict(
        k="library-digital",
        n="Digital skills drop-in",
        o="council",
        t=["Digital skills", "Libraries"],
        p=(50.3718, -4.1431, "Central Library, Drake Circus", "PL4 8AL"),
        s=[("WEEKLY", "FR", "10:00", "12:00")],
        c=[0],
        d="Help with phones, tablets and getting online.",
    ),
    dict(
        k="community-centre",
        n="Stonehouse community centre",
        o="council",
        t=["Community centres"],
        p=(50.3667, -4.1622, "Edgcumbe Street", "PL1 3QS"),
        s=[("WEEKLY", "MO,TU,WE,TH,FR", "09:00", "21:00")],
        c=[],
        d="Rooms, groups and a café for the neighbourhood.",
    ),
    dict(
        k="job-club",
        n="Job club",
        o="council",
        t=["Employment support"],
        p=(50.3727, -4.1458, "12 Market Avenue", "PL1 1PS"),
        s=[("WEEKLY", "TH", "10:00", "12:00")],
        c=[0],
        d="Help with CVs, applications and interviews.",
    ),
    dict(
        k="volunteer-centre",
        n="Volunteer centre drop-in",
        o="council",
        t=["Volunteering opportunities"],
        p=(50.3727, -4.1458, "12 Market Avenue", "PL1 1PS"),
        s=[("WEEKLY", "TU,FR", "10:00", "14:00")],
        c=[0],
        d="Find a volunteering role that suits you.",
    ),
    dict(
        k="swim",
        n="Life Centre swimming",
        o="leisure",
        t=["Swimming", "Sports centres"],
        p=(50.3790, -4.1340, "Central Park Avenue", "PL4 6AT"),
        s=[("WEEKLY", "MO,TU,WE,TH,FR", "06:30", "21:30"), ("WEEKLY", "SA,SU", "08:00", "18:00")],
        c=[4.5, 2.25],
        d="Public swimming sessions and lessons.",
    ),
    dict(
        k="gym-referral",
        n="Exercise on referral",
        o="leisure",
        t=["Exercise referral", "Gyms"],
        p=(50.3790, -4.1340, "Central Park Avenue", "PL4 6AT"),
        s=[("WEEKLY", "MO,WE,FR", "10:00", "12:00")],
        c=[2],
        ages=(16, None),
        d="A 12-week supported gym programme on referral from a health professional.",
    ),
    dict(
        k="five-a-side",
        n="Walking football",
        o="leisure",
        t=["Football", "Sports clubs"],
        p=(50.3648, -4.1372, "Riverside astro pitches", "PL1 3BX"),
        s=[("WEEKLY", "FR", "18:00", "19:00")],
        c=[3],
        d="Football at walking pace: no running, no tackling, all welcome.",
    ),
    dict(
        k="parkrun",
        n="Saturday parkrun",
        o="leisure",
        t=["Running"],
        p=(50.3861, -4.1437, "Central Park", "PL2 3DQ"),
        s=[("WEEKLY", "SA", "09:00", "10:00")],
        c=[0],
        d="A free, timed 5 km walk, jog or run every Saturday.",
    ),
    dict(
        k="yoga",
        n="Gentle yoga",
        o="leisure",
        t=["Yoga"],
        p=(50.3738, -4.1440, "Mayflower Street", "PL1 1QJ"),
        s=[("WEEKLY", "TU", "18:00", "19:00")],
        c=[5],
        d="Chair-based and gentle yoga for beginners.",
    ),
    dict(
        k="debt-advice",
        n="Debt and benefits advice",
        o="cab",
        t=["Debt advice", "Welfare benefits"],
        p=(50.3703, -4.1420, "1 Civic Square", "PL1 2AA"),
        s=[("WEEKLY", "MO,TU,WE,TH,FR", "09:30", "16:00")],
        c=[0],
        d="Free, confidential advice on debt, benefits and money.",
    ),
    dict(
        k="housing-advice",
        n="Housing advice clinic",
        o="cab",
        t=["Housing advice"],
        p=(50.3703, -4.1420, "1 Civic Square", "PL1 2AA"),
        s=[("WEEKLY", "WE", "13:00", "16:00")],
        c=[0],
        d="Help with tenancies, repairs and homelessness.",
    ),
    dict(
        k="esol",
        n="English for speakers of other languages",
        o="college",
        t=["Adult learning", "Language classes"],
        p=(50.3779, -4.1418, "North Road", "PL4 8AA"),
        s=[("WEEKLY", "MO,WE", "18:00", "20:00")],
        c=[0],
        ages=(19, None),
        d="Free English courses for adults.",
    ),
    dict(
        k="evening-classes",
        n="Evening courses for adults",
        o="college",
        t=["Adult learning"],
        p=(50.3779, -4.1418, "North Road", "PL4 8AA"),
        s=[("WEEKLY", "MO,TU,WE,TH", "18:00", "20:30")],
        c=[40],
        ages=(19, None),
        d="Short courses: cooking, photography, computing, languages.",
    ),
    dict(
        k="recovery-college",
        n="Recovery college",
        o="mind",
        t=["Mental health support", "Adult learning"],
        p=(50.3805, -4.1198, "Brent Road", "PL3 4AA"),
        s=[("WEEKLY", "MO,TU,WE,TH,FR", "10:00", "16:00")],
        c=[0],
        d="Free courses about recovery and wellbeing, co-produced with people with lived experience.",
    ),
    dict(
        k="art-studio",
        n="Open art studio",
        o="arts",
        t=["Art classes"],
        p=(50.3700, -4.1380, "Southside Street", "PL1 2LD"),
        s=[("WEEKLY", "TH", "13:00", "16:00")],
        c=[0],
        d="Drawing and painting, materials provided.",
    ),
    dict(
        k="choir",
        n="Sing for wellbeing",
        o="arts",
        t=["Choirs"],
        p=(50.3700, -4.1380, "Southside Street", "PL1 2LD"),
        s=[("WEEKLY", "WE", "19:00", "20:30")],
        c=[3],
        d="A choir with no auditions.",
    ),
    dict(
        k="pottery",
        n="Pottery for beginners",
        o="arts",
        t=["Crafts"],
        p=(50.3705, -4.1385, "Southside Street", "PL1 2LD"),
        s=[("WEEKLY", "SA", "10:00", "12:00")],
        c=[12],
        d="Hand-building and the wheel, clay included.",
    ),
    dict(
        k="mens-shed",
        n="Men's shed",
        o="council",
        t=["Community groups", "Woodwork"],
        p=(50.3950, -4.1250, "Crownhill Road", "PL5 3BY"),
        s=[("WEEKLY", "TU,TH", "10:00", "15:00")],
        c=[1],
        d="Woodwork, repairs and a chat in a shared workshop.",
    ),
    dict(
        k="old-drop-in",
        n="Old drop-in centre",
        o="mind",
        t=["Support groups"],
        p=(50.3710, -4.1500, "Union Street", "PL1 2SR"),
        s=[],
        c=[],
        status="defunct",
        d="Closed: see the peer support group instead.",
    ),
    dict(
        k="exeter-walks",
        n="Exeter riverside walks",
        o="exeter",
        t=["Walking groups"],
        p=(50.7184, -3.5339, "Exeter Quay", "EX2 4AN"),
        s=[("WEEKLY", "SU", "10:00", "11:30")],
        c=[0],
        d="Walks along the river Exe.",
    ),
    dict(
        k="exeter-peer",
        n="Exeter peer support café",
        o="exeter",
        t=["Support groups"],
        p=(50.7236, -3.5275, "Sidwell Street", "EX4 6NN"),
        s=[("WEEKLY", "TH", "14:00", "16:00")],
        c=[0],
        d="A peer support café for adults.",
    ),
    dict(
        k="exeter-art",
        n="Exeter art group",
        o="exeter",
        t=["Art classes"],
        p=(50.7221, -3.5310, "Gandy Street", "EX4 3LS"),
        s=[("WEEKLY", "MO", "10:00", "12:00")],
        c=[4],
        d="Painting together, all levels.",
        status="temporarily closed",
    ),
]

UPDATE_CHANGES = {
    "choir": {"n": "Sing for wellbeing choir", "s": [("WEEKLY", "WE", "18:30", "20:00")]},
    "yoga": {"c": [6]},
    "foodbank": {"d": "Emergency food parcels; a voucher helps but is not needed."},
}
UPDATE_WITHDRAWN = ("pottery", "mens-shed")
UPDATE_NEW = dict(
    k="repair-cafe",
    n="Repair café",
    o="council",
    t=["Community groups"],
    p=(50.3667, -4.1622, "Edgcumbe Street", "PL1 3QS"),
    s=[("MONTHLY", "1SA", "10:00", "13:00")],
    c=[0],
    d="Bring broken things; volunteers help fix them.",
)

CHECKED = "2026-09-01"
MODIFIED = "2026-09-01T09:00:00.000Z"


def organization(key: str) -> dict[str, Any]:
    name, website, identifiers = ORGS[key]
    out: dict[str, Any] = {"id": uid("org", key), "name": name, "description": f"{name}, a local organisation."}
    if website:
        out["website"] = website
    out["organization_identifiers"] = [
        {"id": uid("orgid", key, scheme), "identifier_scheme": scheme, "identifier_type": "", "identifier": value}
        for scheme, value in identifiers
    ]
    return out


def service(spec: dict[str, Any], modified: str = MODIFIED) -> dict[str, Any]:
    k = spec["k"]
    sid = uid("service", k)
    out: dict[str, Any] = {
        "id": sid,
        "name": spec["n"],
        "description": spec["d"],
        "url": f"https://directory.example.org/services/{k}",
        "email": f"{k}@example.org",
        "status": spec.get("status", "active"),
        "assured_date": CHECKED,
        "last_modified": modified,
    }
    if "ages" in spec:
        low, high = spec["ages"]
        if low is not None:
            out["minimum_age"] = low
        if high is not None:
            out["maximum_age"] = high
    out["schedules"] = [
        {
            "id": uid("schedule", k, str(n)),
            "freq": freq,
            "interval": 1,
            "byday": byday,
            "opens_at": f"{opens}:00",
            "closes_at": f"{closes}:00",
            "description": "" if freq == "WEEKLY" else f"{'First' if byday[0] == '1' else 'Second'} of the month",
        }
        for n, (freq, byday, opens, closes) in enumerate(spec["s"])
    ]
    area = "Exeter" if spec["o"] == "exeter" else "Plymouth"
    out["service_areas"] = [{"id": uid("area", k), "name": area, "extent_type": "", "service_area": area}]
    if spec["p"] is not None:
        lat, lon, street, postcode = spec["p"]
        location_id = uid("location", street, postcode, str(lat), str(lon))
        out["service_at_locations"] = [
            {
                "id": uid("sal", k),
                "location": {
                    "id": location_id,
                    "location_type": "physical",
                    "name": street if "," not in street else street.split(",")[0],
                    "latitude": lat,
                    "longitude": lon,
                    "addresses": [
                        {
                            "id": uid("address", location_id),
                            "address_1": street,
                            "city": "Exeter" if postcode.startswith("EX") else "Plymouth",
                            "state_province": "Devon",
                            "postal_code": postcode,
                            "country": "GB",
                            "address_type": "physical",
                        }
                    ],
                    "accessibility": [
                        {
                            "id": uid("access", location_id),
                            "description": "Step-free access" if n % 3 else "Step-free access; hearing loop",
                            "accessibility": "Step-free access",
                        }
                        for n in [len(street)]
                    ],
                },
            }
        ]
    else:
        out["service_at_locations"] = []
    out["languages"] = [{"id": uid("language", k)}]
    out["organization"] = organization(spec["o"])
    out["funding"] = [{"id": uid("funding", k), "source": "Local grants"}]
    out["cost_options"] = [
        {
            "id": uid("cost", k, str(n)),
            "option": "Everyone" if n == 0 else "Concessions",
            "amount": amount,
            "amount_description": "a session" if amount else "free",
        }
        for n, amount in enumerate(spec["c"])
    ]
    out["contacts"] = [{"id": uid("contact", k), "name": "Front desk", "title": "Reception"}]
    out["attributes"] = [
        {
            "id": uid("attribute", k, term),
            "link_type": "service",
            "taxonomy_term": {
                "id": uid("term", term),
                "name": term,
                "description": term,
                "taxonomy": "esdServiceTypes",
                "term_uri": f"https://taxonomy.example.org/{uid('term', term)}",
                "term": term,
            },
        }
        for term in spec["t"]
    ]
    return out


def page(services: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "total_items": len(services),
        "total_pages": 1,
        "page_number": 1,
        "size": len(services),
        "first_page": True,
        "last_page": True,
        "empty": not services,
        "contents": services,
    }


def write_csv(folder: Path, services: list[dict[str, Any]]) -> None:
    folder.mkdir(exist_ok=True)
    tables: dict[str, list[dict[str, Any]]] = {}

    def add(name: str, row: dict[str, Any]) -> None:
        rows = tables.setdefault(name, [])
        if row not in rows:
            rows.append(row)

    scalar = (
        "id",
        "name",
        "description",
        "url",
        "email",
        "status",
        "minimum_age",
        "maximum_age",
        "assured_date",
        "last_modified",
    )
    for s in services:
        org = s["organization"]
        add("organizations", {k: org.get(k, "") for k in ("id", "name", "description", "website")})
        for i in org["organization_identifiers"]:
            add("organization_identifiers", {"organization_id": org["id"], **i})
        add("services", {"organization_id": org["id"], **{k: s.get(k, "") for k in scalar}})
        for sal in s["service_at_locations"]:
            loc = sal["location"]
            add("service_at_location", {"id": sal["id"], "service_id": s["id"], "location_id": loc["id"]})
            add("locations", {k: loc[k] for k in ("id", "location_type", "name", "latitude", "longitude")})
            for a in loc["addresses"]:
                add("address", {"location_id": loc["id"], **a})
            for a in loc["accessibility"]:
                add("accessibility", {"location_id": loc["id"], **a})
        for sc in s["schedules"]:
            add("schedule", {"service_id": s["id"], **sc})
        for area in s["service_areas"]:
            add("service_areas", {"service_id": s["id"], **area})
        for c in s["cost_options"]:
            add("cost_options", {"service_id": s["id"], **c})
        for c in s["contacts"]:
            add("contacts", {"service_id": s["id"], **c})
        for lang in s["languages"]:
            add("languages", {"service_id": s["id"], **lang})
        for a in s["attributes"]:
            term = a["taxonomy_term"]
            add(
                "attribute", {"id": a["id"], "link_id": s["id"], "taxonomy_term_id": term["id"], "link_type": "service"}
            )
            add("taxonomy_terms", {k: term[k] for k in ("id", "name", "description", "taxonomy", "term_uri", "term")})
    for name, rows in tables.items():
        fields = list(dict.fromkeys(k for row in rows for k in row))
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)


def main() -> None:
    services = [service(spec) for spec in SERVICES]
    (HERE / "services.json").write_text(json.dumps(page(services), indent=2, ensure_ascii=False) + "\n", "utf-8")
    write_csv(HERE / "csv", services)
    later = "2026-10-15T09:00:00.000Z"
    updated = []
    for spec in SERVICES:
        if spec["k"] in UPDATE_WITHDRAWN:
            continue
        change = UPDATE_CHANGES.get(spec["k"])
        updated.append(service({**spec, **change}, later) if change else service(spec))
    updated.append(service(UPDATE_NEW, later))
    (HERE / "services-update.json").write_text(json.dumps(page(updated), indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(f"wrote {len(services)} services (JSON and CSV) and an update of {len(updated)} into {HERE}")


if __name__ == "__main__":
    main()
