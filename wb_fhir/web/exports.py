"""Downloads of a saved map: the map file (YAML, JSON), the drawing (SVG, PNG, PDF), the FHIR
Bundle, and the review summary (HTML, PDF) of the person's maps up to it."""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from wb_fhir.bundles import map_bundle
from wb_fhir.mapfile import dumps_map, map_from_data
from wb_fhir.model import WellbeingMap
from wb_fhir.render import render
from wb_fhir.review import html_to_pdf, review_html
from wb_fhir.web.app import parts, record_for
from wb_fhir.web.pages import saved_maps

MEDIA = {
    "yaml": "application/yaml",
    "json": "application/json",
    "svg": "image/svg+xml",
    "png": "image/png",
    "pdf": "application/pdf",
    "bundle.json": "application/fhir+json",
}
SUMMARY_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'"
"""The review summary is a document of its own: styles inline, and no script at all."""


def _saved(request: Request) -> tuple[str, WellbeingMap]:
    store = parts(request).store
    record = record_for(request)
    latest = store.latest(record.id)
    if latest is None:
        raise HTTPException(404, "Save the map first: downloads are of the saved map.")
    return record.id, map_from_data(latest.data)


def _file_name(wmap: WellbeingMap, suffix: str) -> str:
    return f"wellbeing-map-{wmap.date.isoformat()}.{suffix}"


def _bytes(wmap: WellbeingMap, fmt: str) -> bytes:
    if fmt in ("yaml", "json"):
        return dumps_map(wmap, fmt).encode("utf-8")
    if fmt == "bundle.json":
        bundle = map_bundle(wmap)
        return (json.dumps(bundle, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    return render(wmap, fmt)


async def download(request: Request) -> Response:
    fmt = request.path_params["fmt"]
    if fmt not in MEDIA:
        raise HTTPException(404, "There is no such download.")
    _, wmap = _saved(request)
    data = await run_in_threadpool(_bytes, wmap, fmt)
    return Response(
        data,
        media_type=MEDIA[fmt],
        headers={"content-disposition": f'attachment; filename="{_file_name(wmap, fmt)}"'},
    )


async def summary(request: Request) -> Response:
    fmt = request.path_params["fmt"]
    if fmt not in ("html", "pdf"):
        raise HTTPException(404, "There is no such download.")
    record = record_for(request)
    maps = [m for _, m in saved_maps(request, record)]
    if len(maps) < 2:
        raise HTTPException(404, "A review summary needs two saved maps of the person.")
    html = await run_in_threadpool(review_html, maps)
    if fmt == "pdf":
        pdf = await run_in_threadpool(html_to_pdf, html)
        name = f"review-summary-{maps[-1].date.isoformat()}.pdf"
        return Response(
            pdf, media_type="application/pdf", headers={"content-disposition": f'attachment; filename="{name}"'}
        )
    response = Response(html, media_type="text/html; charset=utf-8")
    response.headers["content-security-policy"] = SUMMARY_CSP
    return response


ROUTES = [
    Route("/maps/{record}/summary.{fmt}", summary),
    Route("/maps/{record}/download.{fmt}", download),
]
