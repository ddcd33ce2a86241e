"""CDS Hooks 2.0 for ``wb-fhir serve``: a ``patient-view`` card about the person's wellbeing map.

``GET /cds-services`` lists one service; the EHR calls ``POST /cds-services/wb-fhir-patient-view``
when a practitioner opens a person's record. The card says when the map was last made or
reviewed, whether a review is due (from the map's ``next_review``), the network in one line
(size, inner circle, time at home: :func:`wb_fhir.measures.measure`; the review by
:func:`wb_fhir.review.review_due`), and gives a SMART link
that opens the app on the person. Cards carry counts and dates only, never names or labels.

Data: the EHR sends the Patient and the newest map as ``prefetch`` (the templates below); what it
does not send is read from ``fhirServer`` with the hook's ``fhirAuthorization`` access token.

Every call must carry a JWT signed by an EHR on the allow-list (``Authorization: Bearer``):
signature against that EHR's JWKS (its key set, or the URL it publishes it at; never a URL the
token names), ``iss`` on the list, ``aud`` this service's URL, ``exp`` in the future, ``iat``,
and a ``jti`` not seen before. Anything else is refused with 401 before the body is read.

Key sets and the record are read through the HTTP layer of ``FhirClient``
(:class:`~wb_fhir.sync.bounded.BoundedSession` and ``FhirClient`` itself, with ``limits``): a
deadline on each request, a cap on each answer, TLS verified, redirects only on the same origin.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import requests
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from wb_fhir.errors import InputError, ServerError, WbFhirError
from wb_fhir.fhir import extract_map
from wb_fhir.measures import measure
from wb_fhir.model import WellbeingMap
from wb_fhir.review.due import review_due
from wb_fhir.review.prefill import latest_response
from wb_fhir.sync.auth import BearerAuth
from wb_fhir.sync.bounded import BoundedSession
from wb_fhir.sync.client import FhirClient, Limits, Timeouts, check_base_url, safe_url
from wb_fhir.terminology import QUESTIONNAIRE_URL

log = logging.getLogger(__name__)

SERVICE_ID = "wb-fhir-patient-view"
PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "maps": (
        "QuestionnaireResponse?subject=Patient/{{context.patientId}}"
        f"&questionnaire={QUESTIONNAIRE_URL}&_sort=-authored&_count=1"
    ),
}
ALGORITHMS = ["ES384", "RS384", "ES256", "RS256"]
"""CDS Hooks requires ES384 and RS384; ES256 and RS256 are accepted as many EHRs use them."""
MAX_TOKEN_AGE = 300
"""Seconds a hook JWT may live (``exp - iat``): the EHR signs each call afresh."""
JWKS_TTL = 600


@dataclass(frozen=True, kw_only=True)
class CdsConfig:
    """The CDS Hooks service: where it is, which EHRs may call it, where its card's link goes.

    ``service_base`` is the absolute URL of ``/cds-services`` as the EHR calls it (``aud`` of
    every hook JWT is ``{service_base}/{SERVICE_ID}``); ``trusted`` maps each EHR's ``iss`` to
    its JWKS URL or its key set (a JWKS dict); ``app_launch_url`` is the app's SMART launch URL.
    """

    service_base: str
    trusted: Mapping[str, str | Mapping[str, Any]]
    app_launch_url: str
    verify: bool | str = True
    allow_insecure_http: bool = False
    timeouts: Timeouts = field(default_factory=Timeouts)
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        insecure = self.allow_insecure_http
        object.__setattr__(
            self,
            "service_base",
            check_base_url(self.service_base, allow_insecure_http=insecure, what="CDS service URL"),
        )
        check_base_url(self.app_launch_url, allow_insecure_http=insecure, what="SMART launch URL")
        if not self.trusted:
            raise InputError("no EHR may call the CDS service: give at least one trusted issuer and its JWKS")
        for iss, keys in self.trusted.items():
            if isinstance(keys, str):
                check_base_url(keys, allow_insecure_http=insecure, what=f"JWKS URL of {iss}")

    @property
    def service_url(self) -> str:
        return f"{self.service_base}/{SERVICE_ID}"


class Unauthorized(WbFhirError):
    """A hook call whose JWT does not prove it came from a trusted EHR."""


def map_card(wmap: WellbeingMap | None, today: date, link: Mapping[str, Any]) -> dict[str, Any]:
    """The ``patient-view`` card for the person's newest map (None: they have none yet)."""
    source = {"label": "wb_fhir wellbeing network map"}
    if wmap is None:
        return {
            "summary": "No wellbeing network map yet",
            "detail": "This person has no wellbeing network map in the record. Open the app to make one with them.",
            "indicator": "info",
            "source": source,
            "links": [dict(link)],
        }
    status = review_due(wmap, today)
    m = measure(wmap)
    home = f"{m.time_at_home}% of waking time at home" if m.time_at_home is not None else "time at home not recorded"
    network = f"Network: {m.size} connections, {m.inner_circle} in the inner circle, {home}."
    summary = (
        f"Wellbeing map: review due (map of {wmap.date.isoformat()})"
        if status.due
        else f"Wellbeing map made or reviewed on {wmap.date.isoformat()}"
    )
    return {
        "summary": summary,
        "detail": f"Last made or reviewed on {wmap.date.isoformat()}. {status.sentence()}.\n\n{network}",
        "indicator": "warning" if status.due else "info",
        "source": source,
        "links": [dict(link)],
    }


class CdsHooks:
    """The CDS Hooks service: discovery and the ``patient-view`` service, as Starlette routes."""

    def __init__(
        self,
        config: CdsConfig,
        *,
        http: Callable[[], requests.Session] = requests.Session,
        clock: Callable[[], float] = time.time,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.config = config
        self._http = http
        self._clock = clock
        self._today = today
        self._keys: dict[str, tuple[float, KeySet]] = {}
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def routes(self) -> list[BaseRoute]:
        """``GET /cds-services`` and ``POST /cds-services/{id}``."""
        return [
            Route("/cds-services", self.discovery, methods=["GET"], name="cds_discovery"),
            Route("/cds-services/{service_id}", self.call, methods=["POST"], name="cds_call"),
        ]

    def discovery(self, request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "services": [
                    {
                        "hook": "patient-view",
                        "id": SERVICE_ID,
                        "title": "Wellbeing network map",
                        "description": (
                            "When the person's wellbeing map was last made or reviewed, whether a review is due, "
                            "their network in one line, and a link that opens the map."
                        ),
                        "prefetch": PREFETCH,
                    }
                ]
            }
        )

    async def call(self, request: Request) -> Response:
        if request.path_params["service_id"] != SERVICE_ID:
            return JSONResponse({"error": "no such CDS service"}, status_code=404)
        authorization = request.headers.get("authorization")
        try:
            await run_in_threadpool(self.verify, authorization)  # may fetch the EHR's keys
        except Unauthorized as exc:
            log.info("CDS hook call refused: %s", exc)
            return JSONResponse({"error": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        raw = await request.body()
        return await run_in_threadpool(self.answer, raw)

    def answer(self, raw: bytes) -> Response:
        """The answer to a verified hook call's body: the card, or why there is none."""
        try:
            body = json.loads(raw)
        except ValueError:
            return JSONResponse({"error": "the hook request is not JSON"}, status_code=400)
        if not isinstance(body, dict) or body.get("hook") != "patient-view":
            return JSONResponse({"error": "this service answers the patient-view hook"}, status_code=400)
        patient = str(body.get("context", {}).get("patientId") or "")
        if not patient:
            return JSONResponse({"error": "context.patientId is missing"}, status_code=400)
        try:
            wmap = self._newest_map(body, patient)
        except _NeedData as exc:
            return JSONResponse({"error": str(exc)}, status_code=412)
        except WbFhirError as exc:
            log.info("CDS hook could not read the record: %s", type(exc).__name__)
            return JSONResponse({"cards": [self._unreadable()]})
        link = {"label": "Open the wellbeing map", "url": self.config.app_launch_url, "type": "smart"}
        return JSONResponse({"cards": [map_card(wmap, self._today(), link)]})

    # --- the JWT --------------------------------------------------------------------------

    def verify(self, authorization: str | None) -> dict[str, Any]:
        """The claims of a hook call's JWT; :class:`Unauthorized` unless every check passes."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthorized("no signed JWT (Authorization: Bearer)")
        token = authorization[7:].strip()
        try:
            # Only to learn which EHR claims to have signed it: nothing is trusted before the signature.
            unverified = json.loads(jws.extract_compact(token.encode("ascii")).payload)
        except (JoseError, ValueError, UnicodeError) as exc:
            raise Unauthorized(f"the JWT cannot be read ({type(exc).__name__})") from None
        iss = unverified.get("iss") if isinstance(unverified, dict) else None
        if not isinstance(iss, str) or iss not in self.config.trusted:
            raise Unauthorized("the JWT's issuer is not a trusted EHR")
        try:
            verified = jwt.decode(token, self._key_set(iss), algorithms=ALGORITHMS)
        except (JoseError, ValueError) as exc:
            raise Unauthorized(f"the JWT's signature is not the EHR's ({type(exc).__name__})") from None
        claims = dict(verified.claims)
        now = self._clock()
        try:
            jwt.JWTClaimsRegistry(
                now=int(now),
                leeway=5,
                iss={"essential": True, "value": iss},
                aud={"essential": True, "value": self.config.service_url},
                exp={"essential": True},
                iat={"essential": True},
                jti={"essential": True},
            ).validate(claims)
        except JoseError as exc:
            raise Unauthorized(f"the JWT's claims do not hold ({exc.error})") from None
        if float(claims["exp"]) - float(claims["iat"]) > MAX_TOKEN_AGE:
            raise Unauthorized("the JWT lives longer than five minutes")
        with self._lock:
            for jti in [k for k, until in self._seen.items() if until < now]:
                del self._seen[jti]
            if str(claims["jti"]) in self._seen:
                raise Unauthorized("the JWT was used before (jti)")
            self._seen[str(claims["jti"])] = float(claims["exp"]) + 5
        return claims

    def _key_set(self, iss: str) -> KeySet:
        keys = self.config.trusted[iss]
        if not isinstance(keys, str):
            return KeySet.import_key_set(dict(keys))  # type: ignore[arg-type]
        now = time.monotonic()
        with self._lock:
            cached = self._keys.get(iss)
        if cached is not None and now - cached[0] < JWKS_TTL:
            return cached[1]
        try:
            with BoundedSession(
                limits=self.config.limits,
                timeouts=self.config.timeouts,
                verify=self.config.verify,
                allow_insecure_http=self.config.allow_insecure_http,
                transport=self._http(),
            ) as http:
                found = KeySet.import_key_set(http.get_json(keys))  # type: ignore[arg-type]
        except ServerError as exc:
            raise Unauthorized(f"the EHR's keys cannot be read: {exc}") from None
        except (ValueError, TypeError, JoseError) as exc:
            raise Unauthorized(f"the EHR's keys at {safe_url(keys)} cannot be read ({type(exc).__name__})") from None
        with self._lock:
            self._keys[iss] = (now, found)
        return found

    # --- the data -------------------------------------------------------------------------

    def _newest_map(self, body: Mapping[str, Any], patient: str) -> WellbeingMap | None:
        prefetch = body.get("prefetch") or {}
        maps = prefetch.get("maps") if isinstance(prefetch, dict) else None
        if isinstance(maps, dict) and maps.get("resourceType") == "Bundle":
            responses = [e["resource"] for e in maps.get("entry", []) if isinstance(e.get("resource"), dict)]
        else:
            responses = self._fetch_maps(body, patient)
        newest = latest_response(responses)
        if newest is None:
            return None
        return extract_map(newest, source=f"QuestionnaireResponse/{newest.get('id')}").map

    def _fetch_maps(self, body: Mapping[str, Any], patient: str) -> list[dict[str, Any]]:
        server = body.get("fhirServer")
        authorization = body.get("fhirAuthorization") or {}
        token = authorization.get("access_token") if isinstance(authorization, dict) else None
        if not isinstance(server, str) or not isinstance(token, str):
            raise _NeedData("no prefetched map and no fhirServer with fhirAuthorization to read it from")
        client = FhirClient(
            server,
            auth=BearerAuth(token),
            timeouts=self.config.timeouts,
            verify=self.config.verify,
            allow_insecure_http=self.config.allow_insecure_http,
            limits=self.config.limits,
        )
        params = {"subject": f"Patient/{patient}", "questionnaire": QUESTIONNAIRE_URL, "_count": "50"}
        return list(client.search_all("QuestionnaireResponse", params))

    @staticmethod
    def _unreadable() -> dict[str, Any]:
        return {
            "summary": "Wellbeing map: the record could not be read",
            "detail": "The newest wellbeing map could not be read from the record just now. Open the app to see it.",
            "indicator": "warning",
            "source": {"label": "wb_fhir wellbeing network map"},
        }


class _NeedData(WbFhirError):
    """The hook gave neither the prefetch nor a way to fetch it (CDS Hooks: 412)."""
