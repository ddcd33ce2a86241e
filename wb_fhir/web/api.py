"""The editor's endpoints (JSON): keep the draft, draw it, save it, search the asset directory."""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from wb_fhir.mapfile import map_to_data
from wb_fhir.web.app import authored, parts, pinned, record_for, session
from wb_fhir.web.mapview import check, preview
from wb_fhir.web.record import Outcome


async def _draft_body(request: Request) -> tuple[dict[str, Any], int]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise HTTPException(400, "not JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict) or not isinstance(body.get("rev"), int):
        raise HTTPException(400, "expected {data: {...}, rev: N}")
    return body["data"], body["rev"]


async def get_draft(request: Request) -> Response:
    record = record_for(request)
    draft = parts(request).store.draft(record.id)
    return JSONResponse({"data": draft.data, "rev": draft.rev, "updated": draft.updated})


async def put_draft(request: Request) -> Response:
    record = record_for(request)
    data, rev = await _draft_body(request)
    kept = parts(request).store.put_draft(record.id, pinned(request, data), rev)
    return JSONResponse({"rev": kept.rev, "kept": kept.rev == rev})


async def draw(request: Request) -> Response:
    data, _ = await _draft_body(request)
    shown = await run_in_threadpool(preview, data, parts(request).directory.ids)
    return JSONResponse(shown.to_json())


async def save(request: Request) -> Response:
    """The same checks as ``wb-fhir validate``; then a new version, then the record (or the outbox)."""
    record = record_for(request)
    p = parts(request)
    data, rev = await _draft_body(request)
    data = pinned(request, data)
    p.store.put_draft(record.id, data, rev)
    wmap, problems = check(data, p.directory.ids)
    if wmap is None:
        return JSONResponse({"saved": False, "problems": [x.to_json() for x in problems]}, status_code=422)
    wmap = authored(request, wmap)
    version = p.store.save(record.id, map_to_data(wmap))
    outcome: Outcome = await run_in_threadpool(p.recorder.send, wmap, session(request))
    return JSONResponse(
        {
            "saved": True,
            "version": version.n,
            "data": version.data,
            "sent": outcome.state.value,
            "message": outcome.message,
            "detail": outcome.detail,
            "person": p.store.handle(p.store.record(record.id).person),
        }
    )


async def assets(request: Request) -> Response:
    found = parts(request).directory.search(request.query_params.get("q", ""))
    return JSONResponse({"assets": [a.to_json() for a in found]})


ROUTES = [
    Route("/api/maps/{record}/draft", get_draft, methods=["GET"]),
    Route("/api/maps/{record}/draft", put_draft, methods=["PUT"]),
    Route("/api/maps/{record}/save", save, methods=["POST"]),
    Route("/api/preview", draw, methods=["POST"]),
    Route("/api/assets", assets, methods=["GET"]),
]
