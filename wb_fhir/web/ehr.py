"""The app inside an EHR: SMART App Launch in front of every page, CDS Hooks beside them.

- ``/launch`` (EHR launch), ``/login`` (standalone launch) and ``/callback`` are the SMART
  launcher's (:mod:`wb_fhir.web.smart`); its tokens stay in this process, keyed by the app's own
  session, whose cookie follows the app's :class:`~wb_fhir.web.embedding.EmbeddingPolicy`.
- Every other page needs a launch (:class:`LaunchGate`): without one, a page says to open the
  app from the care record; with scopes missing, a page names them. A launch is *opened* once
  (``/ehr/open``, where the callback sends the browser): the Patient and the practitioner
  (``fhirUser``) are read from the EHR's FHIR server, the session is limited to that person, their
  maps are pulled from the record, and the map that opens is their unsaved draft, or today's
  map, or a new one drafted from the record (RelatedPerson, CareTeam and the latest map, by
  :func:`~wb_fhir.review.prefill.prefill_patient`) with the practitioner as its author.
- Saves go through the app's normal path (store, outbox, push) with the session's client.
- ``/cds-services`` is the CDS Hooks service (:mod:`wb_fhir.web.cds_hooks`): called by the EHR's
  server, authenticated by its signed JWT, so the guard starts no session for it and asks no
  CSRF token of it.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date

from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wb_fhir.errors import InputError, ServerError
from wb_fhir.mapfile import map_to_data
from wb_fhir.review.prefill import prefill_patient
from wb_fhir.sync import FhirClient
from wb_fhir.web.app import parts, render, session
from wb_fhir.web.cds_hooks import CdsHooks
from wb_fhir.web.config import WebConfig
from wb_fhir.web.launched import launched_from, pin_subject, with_author
from wb_fhir.web.pages import pull_person
from wb_fhir.web.security import ASGIApp, Receive, Scope, Send
from wb_fhir.web.session import Session
from wb_fhir.web.smart import LaunchContext, SmartLauncher
from wb_fhir.web.words import plain

log = logging.getLogger(__name__)

OPEN_PATH = "/ehr/open"
CDS_PATH = "/cds-services"
FREE_PATHS = ("/launch", "/login", "/callback", "/static", CDS_PATH)
"""Paths that need no launch: the launch itself, the app's files, and the JWT-authenticated hooks."""


RECORD = "the care record"
"""Where maps go inside an EHR: each launch's own FHIR server."""


def launch_page(title: str, lines: list[str], status: int, *, sign_in: bool = False) -> Response:
    """A page about the launch (it did not work, or has not happened), in the app's own look."""
    return render("launch.html.j2", status, title=title, lines=lines, sign_in=sign_in, server=RECORD)


def _session_id(request: Request) -> str:
    return session(request).id


class Ehr:
    """The SMART launcher and the CDS Hooks service of an app with ``config.smart`` set."""

    def __init__(self, config: WebConfig) -> None:
        assert config.smart is not None
        self.launcher = SmartLauncher(
            replace(config.smart, landing=lambda _context: OPEN_PATH),
            embedding=config.embedding,
            session_id=_session_id,
            page=launch_page,
        )
        self.hooks = CdsHooks(config.cds) if config.cds is not None else None

    @property
    def open_paths(self) -> tuple[str, ...]:
        """What the guard leaves to its own authentication: the CDS Hooks service."""
        return (CDS_PATH,) if self.hooks is not None else ()

    def routes(self) -> list[BaseRoute]:
        """Opening a launch, the launcher's routes, and the CDS Hooks service."""
        hooks = self.hooks.routes() if self.hooks is not None else []
        return [Route(OPEN_PATH, self.open, methods=["GET"]), *self.launcher.routes(), *hooks]

    def client(self, session: Session) -> FhirClient:
        """The FHIR client of a session: the launching EHR's server, with the session's token."""
        return self.launcher.session_client(session.id)

    def gate(self) -> Middleware:
        """The middleware that keeps every page but the free ones behind a launch."""
        return Middleware(LaunchGate, ehr=self)

    # --- opening a launch -----------------------------------------------------------------

    async def open(self, request: Request) -> Response:
        context = self.launcher.current_context(request)
        assert context is not None  # the gate lets no request here without one
        try:
            target = await run_in_threadpool(self._open, request, context)
        except InputError as exc:
            return render(
                "problems.html.j2",
                422,
                title="The map could not be drafted",
                problems=plain(exc.problems, None),
                message="The care record's data for this person could not be made into a map:",
                launched=session(request).launched,
                server=RECORD,
            )
        except ServerError as exc:
            log.info("opening a SMART launch failed: %s", type(exc).__name__)
            return launch_page(
                "The care record could not be read",
                [
                    "The app could not read this person's record just now. Try opening it again.",
                    f"The care record said: {exc}",
                ],
                502,
            )
        return RedirectResponse(target, status_code=303)

    def _open(self, request: Request, context: LaunchContext) -> str:
        """Read the launch's person and practitioner, limit the session to them; the page to open."""
        assert context.patient is not None  # a context without a patient is a missing scope
        client = self.launcher.client_for(request)
        patient = client.read("Patient", context.patient)
        practitioner = None
        if context.fhir_user and context.fhir_user.startswith("Practitioner/"):
            try:
                practitioner = client.read("Practitioner", context.fhir_user.split("/", 1)[1])
            except ServerError as exc:  # the map can name them without their record
                log.info("the launching practitioner could not be read: %s", type(exc).__name__)
        launched = launched_from(context, patient, practitioner)
        current = session(request)
        current.user, current.patient, current.launched = context.fhir_user, launched.person, launched
        log.info("SMART launch opened")
        store = parts(request).store
        if launched.subject.nhs_number:
            try:
                pull_person(request, launched.person)
            except ServerError as exc:  # the draft below reads the record itself
                log.info("pulling the launched person's maps failed: %s", type(exc).__name__)
        records = store.records(launched.person)
        today = date.today().isoformat()
        for record in reversed(records):
            if not record.versions or record.map_date == today:
                return f"/maps/{record.id}"
        drafted = prefill_patient(client, patient, date.today()).map
        data = pin_subject(map_to_data(with_author(drafted, launched.practitioner)), launched)
        return f"/maps/{store.create(data).id}"

    # --- who may go on ----------------------------------------------------------------------

    def refusal(self, request: Request) -> Response | None:
        """Why this request may not go on (a page or a redirect), or None when it may."""
        context = self.launcher.current_context(request)
        if context is None:
            return launch_page(
                "Open the app from the care record",
                [
                    "This app works inside the care record: open it from the person's record there.",
                    "Or sign in through the care record and choose the person.",
                ],
                401,
                sign_in=True,
            )
        if context.missing:
            return launch_page(
                "The app needs more permissions",
                [
                    "The care record did not grant what the app needs to read and save maps. "
                    "Ask for these scopes to be granted, then open the app again:",
                    *context.missing,
                ],
                403,
            )
        launched = session(request).launched
        if (launched is not None and launched.context == context) or request.url.path == OPEN_PATH:
            return None
        if request.method in ("GET", "HEAD"):
            return RedirectResponse(OPEN_PATH, status_code=303)
        return launch_page(
            "The app was opened again",
            ["The app was opened again from the care record. Reload the page, then try again."],
            409,
        )


class LaunchGate:
    """Starlette middleware: every path but :data:`FREE_PATHS` needs an opened launch (see the module)."""

    def __init__(self, app: ASGIApp, ehr: Ehr) -> None:
        self.app = app
        self.ehr = ehr

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and not any(path == p or path.startswith(p + "/") for p in FREE_PATHS):
            refused = self.ehr.refusal(Request(scope, receive))
            if refused is not None:
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)
