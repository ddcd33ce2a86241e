"""The ASGI app of ``wb-fhir serve``: its parts, its routes, and how its pages are written.

The app is as thin as the command line: pages and endpoints call the same library functions
as the CLI (check, draw, compare, carry forward, bundle, push, pull) and hold no rules of their
own. Pages are server-rendered by jinja2 with autoescape on; a little JavaScript (shipped in
``static/``, no other origin) makes the editor live.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from wb_fhir import __version__
from wb_fhir.errors import InputError
from wb_fhir.model import WellbeingMap
from wb_fhir.web.config import WebConfig
from wb_fhir.web.directory import Directory, load_directory
from wb_fhir.web.launched import pin_subject, with_author
from wb_fhir.web.record import FhirRecorder, Recorder
from wb_fhir.web.security import Guard
from wb_fhir.web.session import Identity, LocalIdentity, Session, SessionStore
from wb_fhir.web.store import NEW_PERSON, MapStore, Record

HERE = Path(__file__).resolve().parent


@dataclass
class Parts:
    """What every page and endpoint works with."""

    config: WebConfig
    store: MapStore
    recorder: Recorder
    directory: Directory


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The page templates (autoescape on: every text from a map arrives escaped)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["version"] = __version__
    return env


def parts(request: Request) -> Parts:
    """The app's parts, from a request."""
    found: Parts = request.app.state.parts
    return found


def session(request: Request) -> Session:
    """The request's session (started by the guard)."""
    found: Session = request.scope["state"]["session"]
    return found


def allowed(request: Request, person: str) -> None:
    """A session launched for one person (an EHR launch) reaches that person's maps only."""
    only = session(request).patient
    if only is not None and person not in (only, NEW_PERSON):
        raise HTTPException(403, "This session is for another person.")


def pinned(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    """Map data as this session may keep it: about the launched person in an EHR launch."""
    launched = session(request).launched
    return pin_subject(data, launched) if launched is not None else data


def authored(request: Request, wmap: WellbeingMap) -> WellbeingMap:
    """A map about to be saved: in an EHR launch, the launching practitioner is its author."""
    launched = session(request).launched
    return with_author(wmap, launched.practitioner) if launched is not None else wmap


def record_for(request: Request) -> Record:
    """The record named in the path, if this session may see it (else 404 or 403)."""
    try:
        record = parts(request).store.record(request.path_params["record"])
    except InputError:
        raise HTTPException(404, "There is no such map here.") from None
    allowed(request, record.person)
    return record


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page from a template, with the session's CSRF token and the app's state."""
    p = parts(request)
    current = session(request)
    return render(
        template,
        status,
        csrf=current.csrf,
        server=p.recorder.server,
        has_directory=bool(p.directory.assets),
        path=request.url.path,
        launched=current.launched,
        **context,
    )


def render(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page from a template; what :func:`page` gives from the request is given here (or left out)."""
    defaults = {"csrf": "", "server": None, "has_directory": False, "path": "", "launched": None}
    html = environment().get_template(template).render(**{**defaults, **context})
    return HTMLResponse(html, status_code=status)


def create_app(config: WebConfig, *, identity: Identity | None = None) -> Any:
    """The ASGI app (a Starlette app wrapped in the guard) for ``config``.

    With ``config.smart`` the app runs inside an EHR (:mod:`wb_fhir.web.ehr`): the SMART launch
    routes, the CDS Hooks service when ``config.cds`` is set, every page behind a launch, and
    each session's FHIR client from its launch.
    """
    from wb_fhir.web import api, exports, pages
    from wb_fhir.web.ehr import RECORD, Ehr

    recorder = Recorder()
    routes: list[BaseRoute] = [
        *pages.ROUTES,
        *api.ROUTES,
        *exports.ROUTES,
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    middleware: list[Middleware] = []
    open_paths: tuple[str, ...] = ()
    if config.smart is not None:
        ehr = Ehr(config)
        recorder = FhirRecorder(ehr.client, config.outbox_path, RECORD)
        routes = [*ehr.routes(), *routes]
        middleware.append(ehr.gate())
        open_paths = ehr.open_paths
    elif config.client is not None:
        recorder = FhirRecorder(config.client, config.outbox_path, config.server or "the FHIR server")
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=pages.EXCEPTION_HANDLERS)
    app.state.parts = Parts(config, MapStore(config.store_path), recorder, load_directory(config.assets_path))
    return Guard(app, config, SessionStore(), identity or LocalIdentity(), open_paths=open_paths)
