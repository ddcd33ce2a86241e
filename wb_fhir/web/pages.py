"""The pages: people and their maps, the editor, a review, importing a map file."""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from wb_fhir.errors import InputError, Problem, ServerError
from wb_fhir.mapfile import JSON_SUFFIXES, map_from_data, map_to_data, nhs_number_valid, parse_text
from wb_fhir.model import DEFAULT_RINGS
from wb_fhir.review import carry_forward, compare_pair, review_narrative
from wb_fhir.terminology import (
    CATEGORIES_BY_KIND,
    IMPACT_GLYPH,
    Disclosure,
    Frequency,
    GoalStatus,
    Impact,
    Kind,
    Role,
    SignpostStatus,
    Status,
    TieType,
    display,
)
from wb_fhir.web.app import allowed, page, parts, pinned, record_for, session
from wb_fhir.web.mapview import preview
from wb_fhir.web.store import NEW_PERSON, Record, person_key
from wb_fhir.web.words import plain

log = logging.getLogger(__name__)
MAX_IMPORT = 2 * 1024 * 1024


def _choices(enum: Any) -> list[tuple[str, str]]:
    return [(v.value, display(v)) for v in enum]


def codes() -> dict[str, Any]:
    """The code lists the editor's fields offer, in the words of the CodeSystem."""
    return {
        "kinds": _choices(Kind),
        "categories": [
            (c.value, display(c), " ".join(k.value for k, cs in CATEGORIES_BY_KIND.items() if c in cs))
            for c in dict.fromkeys(c for cs in CATEGORIES_BY_KIND.values() for c in cs)
        ],
        "impacts": [(i.value, display(i), IMPACT_GLYPH[i]) for i in Impact],
        "frequencies": _choices(Frequency),
        "statuses": _choices(Status),
        "disclosures": _choices(Disclosure),
        "roles": _choices(Role),
        "tie_types": _choices(TieType),
        "goal_statuses": _choices(GoalStatus),
        "signpost_statuses": _choices(SignpostStatus),
        "default_rings": list(DEFAULT_RINGS),
    }


def _person_name(key: str, display_name: str | None) -> str:
    if display_name:
        return display_name
    if key == NEW_PERSON:
        return "Person not named yet"
    return "Person without a name"


async def home(request: Request) -> Response:
    p = parts(request)
    only = session(request).patient
    people = [
        (p.store.handle(key), _person_name(key, name), n)
        for key, name, n in p.store.people()
        if only is None or key == only
    ]
    return page(request, "home.html.j2", people=people, title="Wellbeing network maps")


async def new_map(request: Request) -> Response:
    data: dict[str, Any] = {"subject": {}, "date": date.today().isoformat()}
    record = parts(request).store.create(pinned(request, data))
    return RedirectResponse(f"/maps/{record.id}", status_code=303)


async def editor(request: Request) -> Response:
    record = record_for(request)
    p = parts(request)
    draft = p.store.draft(record.id)
    shown = preview(draft.data, p.directory.ids)
    return page(
        request,
        "editor.html.j2",
        title=f"Map: {_person_name(record.person, record.person_display)}",
        record=record,
        person_handle=p.store.handle(record.person),
        draft_json=json.dumps({"data": draft.data, "rev": draft.rev}, ensure_ascii=False),
        svg=shown.svg,
        codes=codes(),
        codes_json=json.dumps(codes(), ensure_ascii=False),
        saved=p.store.latest(record.id) is not None,
    )


def _person_or_404(request: Request) -> str:
    key = parts(request).store.person_of(request.path_params["person"])
    if key is None:
        raise HTTPException(404, "There are no maps of this person here.")
    allowed(request, key)
    return key


async def person(request: Request) -> Response:
    key = _person_or_404(request)
    p = parts(request)
    notice = None
    if key.startswith("nhs:") and p.recorder.server:
        try:
            notice = await run_in_threadpool(pull_person, request, key)
        except InputError as exc:
            notice = f"The care record: {exc}"
        except ServerError as exc:
            log.info("pull for the person page failed: %s", type(exc).__name__)
            notice = "The care record could not be reached; showing what is kept here."
    records = p.store.records(key)
    if not records:
        raise HTTPException(404, "There are no maps of this person here.")
    name = _person_name(key, records[-1].person_display)
    saved = [r for r in records if r.versions]
    return page(
        request,
        "person.html.j2",
        title=f"Maps of {name}",
        handle=p.store.handle(key),
        name=name,
        records=records,
        saved=saved,
        notice=notice,
        today=date.today().isoformat(),
    )


async def open_person(request: Request) -> Response:
    """Open a person by NHS number: from the care record with a server, else from this store."""
    form = await request.form()
    nhs = str(form.get("nhs_number", "")).replace(" ", "")
    if not nhs_number_valid(nhs):
        return page(
            request,
            "problems.html.j2",
            status=422,
            title="Find a person",
            problems=[],
            message="That is not an NHS number: ten digits, the last one a check digit.",
        )
    key = f"nhs:{nhs}"
    allowed(request, key)
    p = parts(request)
    if p.recorder.server:
        try:
            await run_in_threadpool(pull_person, request, key)
        except InputError as exc:
            return page(
                request,
                "problems.html.j2",
                status=404,
                title="Find a person",
                problems=[],
                message=f"The care record: {exc}",
            )
    if not p.store.records(key):
        return page(
            request,
            "problems.html.j2",
            status=404,
            title="Find a person",
            problems=[],
            message="There are no maps of this person yet. Start a new map for them.",
        )
    return RedirectResponse(f"/people/{p.store.handle(key)}", status_code=303)


def pull_person(request: Request, key: str) -> str:
    """Pull the person's maps from the record into the store (as new versions where they differ)."""
    p = parts(request)
    maps = p.recorder.fetch(key[4:], session(request))
    added = 0
    for wmap in maps:
        data = map_to_data(wmap)
        record = p.store.find_by_map(key, wmap.date.isoformat())
        if record is None:
            record = p.store.create(data)
        latest = p.store.latest(record.id)
        # the record adds its Patient id to a map saved here: that alone is no change
        plain_subject = {k: v for k, v in data["subject"].items() if k != "fhir_id"}
        if latest is None or latest.data not in (data, {**data, "subject": plain_subject}):
            p.store.save(record.id, data, origin="record")
            added += 1
    return f"Read {len(maps)} map(s) from the care record" + (f"; {added} new or changed." if added else ".")


async def start_review(request: Request) -> Response:
    """The next map of a person, started from their last saved map (carried forward)."""
    key = _person_or_404(request)
    p = parts(request)
    saved = [r for r in p.store.records(key) if r.versions]
    if not saved:
        raise HTTPException(404, "This person has no saved map to start from.")
    last_version = p.store.latest(saved[-1].id)
    assert last_version is not None
    last = map_from_data(last_version.data)
    form = await request.form()
    try:
        on = date.fromisoformat(str(form.get("date") or date.today().isoformat()))
    except ValueError:
        raise InputError([Problem("date", "is not a date (YYYY-MM-DD)")]) from None
    carried = carry_forward(last, on)
    record = p.store.create(map_to_data(carried.map))
    return RedirectResponse(f"/maps/{record.id}", status_code=303)


def saved_maps(request: Request, record: Record) -> list[tuple[Record, Any]]:
    """The saved maps of the record's person up to and including it, oldest first."""
    p = parts(request)
    out = []
    for r in p.store.records(record.person):
        latest = p.store.latest(r.id)
        if latest is not None:
            out.append((r, map_from_data(latest.data)))
        if r.id == record.id:
            break
    return out


async def review(request: Request) -> Response:
    record = record_for(request)
    maps = saved_maps(request, record)
    if not maps or maps[-1][0].id != record.id:
        raise HTTPException(404, "Save this map first: a review compares saved maps.")
    if len(maps) < 2:
        return page(
            request,
            "review.html.j2",
            title="Review",
            record=record,
            changes=None,
            narrative=None,
            maps=maps,
            person_handle=parts(request).store.handle(record.person),
        )
    old, new = maps[-2][1], maps[-1][1]
    changes = compare_pair(old, new)
    return page(
        request,
        "review.html.j2",
        title=f"Review of {new.date.isoformat()}",
        record=record,
        maps=maps,
        changes=changes,
        narrative=review_narrative(changes, new),
        person_handle=parts(request).store.handle(record.person),
    )


async def import_map(request: Request) -> Response:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return page(
            request,
            "problems.html.j2",
            status=422,
            title="Import a map file",
            problems=[],
            message="Choose a map file (YAML or JSON) to import.",
        )
    raw = await upload.read(MAX_IMPORT + 1)
    name = upload.filename
    problems = []
    data: Any = None
    try:
        if len(raw) > MAX_IMPORT:
            raise InputError("the file is too large for a map file (more than 2 MB)")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InputError("the file is not UTF-8 text") from None
        fmt = "json" if name.lower().endswith(JSON_SUFFIXES) else "yaml"
        data = parse_text(text, name, fmt=fmt)
        wmap = map_from_data(data, assets=parts(request).directory.ids)
    except InputError as exc:
        problems = plain(exc.problems, data)
    if problems:
        return page(
            request,
            "problems.html.j2",
            status=422,
            title="Import a map file",
            problems=problems,
            message=f"The file {name} has problems, so nothing was imported:",
        )
    data = map_to_data(wmap)
    allowed(request, person_key(data))
    p = parts(request)
    record = p.store.create(data)
    p.store.save(record.id, data, origin="imported")
    return RedirectResponse(f"/maps/{record.id}", status_code=303)


async def not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "Something went wrong."
    return page(
        request, "error.html.j2", status=status, title="Not found" if status == 404 else "Problem", message=detail
    )


async def input_error(request: Request, exc: Exception) -> Response:
    problems = plain(exc.problems, None) if isinstance(exc, InputError) else []
    return page(
        request, "problems.html.j2", status=422, title="Problems", problems=problems, message="That could not be done:"
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {HTTPException: not_found, InputError: input_error}

ROUTES = [
    Route("/", home),
    Route("/maps/new", new_map, methods=["POST"]),
    Route("/maps/{record}", editor),
    Route("/maps/{record}/review", review),
    Route("/people/{person}/review-start", start_review, methods=["POST"]),
    Route("/people/{person}", person),
    Route("/import", import_map, methods=["POST"]),
    Route("/people", open_person, methods=["POST"]),
]
