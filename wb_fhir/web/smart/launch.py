"""SMART App Launch 2.x for ``wb-fhir serve``: EHR and standalone launch, tokens kept server-side.

The flow (authorization code with PKCE, through Authlib's OAuth 2 client):

1. ``GET /launch?iss=...&launch=...`` (the EHR opens the app) or ``GET /login`` (standalone,
   the practitioner picks the patient at the EHR): ``iss`` must be a FHIR server the app is
   registered with; its ``.well-known/smart-configuration`` names the endpoints and whether it
   speaks SMART v2 scopes (``permission-v2``) or only v1. A fresh ``state``, nonce and PKCE
   verifier (S256) are kept in the server-side session; the browser is sent to the
   authorization endpoint with ``aud=iss`` (and ``launch``).
2. ``GET /callback?code=...&state=...``: ``state`` must be the one this browser's session sent
   (compared in constant time, used once); the code is exchanged with the verifier; the
   ``id_token`` is verified against the issuer's JWKS (signature, ``iss``, ``aud``, ``exp``,
   ``nonce``) and gives ``fhirUser``; the token response gives ``patient`` and ``encounter``.
   Scopes the app needs and did not get are named on a page; otherwise the browser goes on
   to the app's landing page.
3. :meth:`SmartLauncher.client_for` gives a :class:`~wb_fhir.sync.client.FhirClient` for the
   session, whose auth refreshes the access token shortly before it expires (and once after a
   401), with the refresh token, at the token endpoint.
"""

from __future__ import annotations

import html
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from wb_fhir.errors import AuthError, InputError
from wb_fhir.sync.auth import Auth, Flow
from wb_fhir.sync.client import USER_AGENT, FhirClient, Timeouts, check_base_url, safe_url
from wb_fhir.web.embedding import EmbeddingPolicy
from wb_fhir.web.smart import scopes
from wb_fhir.web.smart.session import PENDING_TTL, LaunchContext, Pending, Tokens, TokenStore

log = logging.getLogger(__name__)

COOKIE = "wbf-smart"
DISCOVERY_TTL = 600
"""Seconds a server's SMART configuration is reused before it is read again."""
RENEW_MARGIN = 60
"""Refresh an access token this many seconds before it expires."""
ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "ES256", "ES384"]


@dataclass(frozen=True, kw_only=True)
class SmartConfig:
    """How the app is registered with the EHRs that launch it.

    ``issuers`` are the FHIR base URLs allowed to launch the app (an ``iss`` not listed is
    refused: it would otherwise receive the practitioner's authorization); ``redirect_uri`` is
    the absolute URL of ``/callback`` as registered; ``client_secret`` is set for a
    confidential client (``client_secret_basic``), None for a public one (PKCE alone).
    ``standalone_iss`` is where ``/login`` starts (default: the first issuer); ``landing`` is
    where the browser goes after a launch.
    """

    client_id: str
    redirect_uri: str
    issuers: tuple[str, ...]
    client_secret: str | None = field(default=None, repr=False)
    standalone_iss: str | None = None
    resources: tuple[str, ...] = scopes.RESOURCE_SCOPES_V2
    landing: Callable[[LaunchContext], str] = lambda context: "/"
    verify: bool | str = True
    allow_insecure_http: bool = False
    timeouts: Timeouts = field(default_factory=Timeouts)

    def __post_init__(self) -> None:
        if not self.client_id:
            raise InputError("the SMART client id is empty")
        if not self.issuers:
            raise InputError("no FHIR server may launch the app: give at least one SMART issuer (iss)")
        check = self.allow_insecure_http
        object.__setattr__(
            self,
            "issuers",
            tuple(check_base_url(i, allow_insecure_http=check, what="SMART issuer") for i in self.issuers),
        )
        check_base_url(self.redirect_uri, allow_insecure_http=check, what="SMART redirect URI")
        if self.standalone_iss is not None and self.issuer(self.standalone_iss) is None:
            raise InputError(f"the standalone SMART issuer {self.standalone_iss} is not one of the issuers")

    def issuer(self, iss: str) -> str | None:
        """The registered issuer ``iss`` names (trailing slash aside), or None."""
        wanted = iss.strip().rstrip("/")
        return next((i for i in self.issuers if i == wanted), None)


@dataclass(frozen=True)
class SmartEndpoints:
    """What ``{iss}/.well-known/smart-configuration`` says."""

    iss: str
    authorization_endpoint: str
    token_endpoint: str
    issuer: str | None
    jwks_uri: str | None
    capabilities: frozenset[str]

    @property
    def v2(self) -> bool:
        """Whether the server speaks SMART v2 scopes (else the app asks in v1)."""
        return "permission-v2" in self.capabilities


class SmartError(AuthError):
    """A launch that cannot go on: a plain message for the page, and the HTTP status to show it with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message, status=status)
        self.page_status = status


def problem_page(title: str, lines: list[str], status: int) -> Response:
    """A small, plain page for a launch that went wrong (every text escaped)."""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body><main><h1>{html.escape(title)}</h1>"
        f"<ul>{items}</ul></main></body></html>"
    )
    return HTMLResponse(body, status_code=status)


class SmartLauncher:
    """The SMART side of the app: routes for the launch, and the session's context and FHIR client.

    ``session_id`` finds the browser's session id in a request; by default the launcher keeps
    its own cookie (set by :class:`~wb_fhir.web.embedding.EmbeddingPolicy`). An app with its own
    sessions passes ``lambda request: request.state.session.id``.
    """

    def __init__(
        self,
        config: SmartConfig,
        *,
        store: TokenStore | None = None,
        embedding: EmbeddingPolicy | None = None,
        session_id: Callable[[Request], str | None] | None = None,
        page: Callable[[str, list[str], int], Response] = problem_page,
        http: Callable[[], requests.Session] = requests.Session,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.store = store or TokenStore()
        self.embedding = embedding or EmbeddingPolicy()
        self._session_id = session_id
        self._page = page
        self._http = http
        self._clock = clock
        self._discovered: dict[str, tuple[float, SmartEndpoints]] = {}
        self._lock = threading.Lock()

    # --- what the app calls -----------------------------------------------------------

    def routes(self) -> list[BaseRoute]:
        """``/launch`` (EHR launch), ``/login`` (standalone launch), ``/callback`` (the redirect URI)."""
        return [
            Route("/launch", self.launch, methods=["GET"], name="smart_launch"),
            Route("/login", self.login, methods=["GET"], name="smart_login"),
            Route("/callback", self.callback, methods=["GET"], name="smart_callback"),
        ]

    def current_context(self, request: Request) -> LaunchContext | None:
        """The launch context of this browser's session, or None when it was not launched."""
        found = self.store.get(self._sid(request))
        return found.context if found is not None else None

    def client_for(self, request: Request) -> FhirClient:
        """A FHIR client for the launched session, authorised with its (refreshed) access token."""
        return self.session_client(self._sid(request))

    def session_client(self, sid: str | None) -> FhirClient:
        """:meth:`client_for` the session with this id (for work done away from a request)."""
        found = self.store.get(sid)
        if sid is None or found is None or found.context is None or found.tokens is None:
            raise AuthError("this browser has no SMART launch: open the app from the care record again")
        return FhirClient(
            found.context.iss,
            session=self._http(),
            auth=SessionAuth(self, sid),
            timeouts=self.config.timeouts,
            verify=self.config.verify,
            allow_insecure_http=self.config.allow_insecure_http,
        )

    def forget(self, request: Request) -> None:
        """End the SMART session of this browser (its tokens are dropped)."""
        sid = self._sid(request)
        if sid:
            self.store.forget(sid)

    # --- routes -----------------------------------------------------------------------

    def launch(self, request: Request) -> Response:
        iss = request.query_params.get("iss", "")
        launch = request.query_params.get("launch", "")
        if not iss or not launch:
            return self._page("The app cannot open", ["The care record must open it with iss and launch."], 400)
        return self._authorize(request, iss, launch)

    def login(self, request: Request) -> Response:
        iss = request.query_params.get("iss") or self.config.standalone_iss or self.config.issuers[0]
        return self._authorize(request, iss, None)

    def callback(self, request: Request) -> Response:
        sid = self._sid(request)
        found = self.store.get(sid)
        pending = found.pending if found is not None else None
        if found is None or pending is None or time.monotonic() - pending.created > PENDING_TTL:
            return self._page(
                "The sign-in has expired", ["Open the app from the care record again (the sign-in took too long)."], 400
            )
        state = request.query_params.get("state", "")
        if not secrets.compare_digest(state.encode(), pending.state.encode()):
            return self._page("The sign-in was refused", ["The answer did not belong to this sign-in."], 400)
        found.pending = None
        error = request.query_params.get("error")
        if error:
            reason = request.query_params.get("error_description") or error
            return self._page("The care record did not allow the app", [f"It said: {reason}"], 403)
        code = request.query_params.get("code", "")
        if not code:
            return self._page("The sign-in was refused", ["The care record sent no authorization code."], 400)
        try:
            endpoints = self.endpoints(pending.iss)
            answer = self._exchange(endpoints, pending, code)
            context, tokens = self._read_answer(endpoints, pending, answer)
        except SmartError as exc:
            return self._page("The app could not sign in", [str(exc)], exc.page_status)
        with found.lock:
            found.context, found.tokens = context, tokens
        log.info(
            "SMART launch complete (%s launch, %d scopes granted)",
            "EHR" if pending.ehr_launch else "standalone",
            len(context.granted),
        )
        if context.missing:
            return self._page(
                "The app needs more permissions",
                [
                    "The care record did not grant what the app needs to read and save maps. "
                    "Ask for these scopes to be granted, then open the app again:",
                    *context.missing,
                ],
                403,
            )
        return RedirectResponse(self.config.landing(context), status_code=303)

    # --- steps ------------------------------------------------------------------------

    def endpoints(self, iss: str) -> SmartEndpoints:
        """The issuer's SMART configuration (read once per :data:`DISCOVERY_TTL`)."""
        now = time.monotonic()
        with self._lock:
            cached = self._discovered.get(iss)
        if cached is not None and now - cached[0] < DISCOVERY_TTL:
            return cached[1]
        url = f"{iss}/.well-known/smart-configuration"
        body = self._get_json(url)
        insecure = self.config.allow_insecure_http
        try:
            authorize = check_base_url(str(body["authorization_endpoint"]), allow_insecure_http=insecure)
            token = check_base_url(str(body["token_endpoint"]), allow_insecure_http=insecure)
        except KeyError as exc:
            raise SmartError(f"{safe_url(url)} names no {exc.args[0]}", 502) from None
        except InputError as exc:
            raise SmartError(f"{safe_url(url)}: {exc}", 502) from None
        jwks = body.get("jwks_uri")
        found = SmartEndpoints(
            iss=iss,
            authorization_endpoint=authorize,
            token_endpoint=token,
            issuer=str(body["issuer"]) if body.get("issuer") else None,
            jwks_uri=str(jwks) if jwks else None,
            capabilities=frozenset(str(c) for c in body.get("capabilities", [])),
        )
        with self._lock:
            self._discovered[iss] = (now, found)
        return found

    def _authorize(self, request: Request, iss: str, launch: str | None) -> Response:
        known = self.config.issuer(iss)
        if known is None:
            return self._page(
                "The app cannot open",
                ["This care record is not registered with the app (its FHIR server is not an allowed issuer)."],
                400,
            )
        try:
            endpoints = self.endpoints(known)
        except SmartError as exc:
            return self._page("The app cannot reach the care record", [str(exc)], exc.page_status)
        requested = scopes.requested(ehr_launch=launch is not None, v2=endpoints.v2, resources=self.config.resources)
        pending = Pending(
            state=generate_token(32),
            code_verifier=generate_token(64),
            nonce=generate_token(24),
            iss=known,
            scope=requested,
            ehr_launch=launch is not None,
        )
        extra = {"aud": known, "nonce": pending.nonce}
        if launch is not None:
            extra["launch"] = launch
        oauth = self._oauth(scope=" ".join(requested))
        url, _ = oauth.create_authorization_url(
            endpoints.authorization_endpoint, state=pending.state, code_verifier=pending.code_verifier, **extra
        )
        # A launch is a sign-in: with its own cookie the launcher starts a new session id
        # every time (an id planted in the browser beforehand is never reused).
        sid = TokenStore.new_id() if self._session_id is None else self._session_id(request)
        if sid is None:
            return self._page("The app cannot open", ["This browser has no session with the app."], 400)
        session = self.store.open(sid)
        with session.lock:
            session.pending = pending
        response = RedirectResponse(url, status_code=302)
        if self._session_id is None:
            response.headers.append("set-cookie", self.embedding.set_cookie(COOKIE, sid))
        return response

    def _exchange(self, endpoints: SmartEndpoints, pending: Pending, code: str) -> dict[str, Any]:
        oauth = self._oauth(scope=None)
        try:
            token = oauth.fetch_token(
                endpoints.token_endpoint,
                grant_type="authorization_code",
                code=code,
                code_verifier=pending.code_verifier,
                timeout=self.config.timeouts.as_tuple(),
            )
        except OAuthError as exc:
            raise SmartError(f"the token endpoint refused the code ({exc.error})", 502) from None
        except (requests.RequestException, ValueError) as exc:
            raise SmartError(
                f"cannot get a token from {safe_url(endpoints.token_endpoint)} ({type(exc).__name__})", 502
            ) from None
        return dict(token)

    def _read_answer(
        self, endpoints: SmartEndpoints, pending: Pending, answer: Mapping[str, Any]
    ) -> tuple[LaunchContext, Tokens]:
        access = answer.get("access_token")
        if not isinstance(access, str) or not access:
            raise SmartError("the token endpoint answered without an access token", 502)
        granted = tuple(str(answer.get("scope") or " ".join(pending.scope)).split())
        claims = self._id_token_claims(endpoints, pending, answer.get("id_token")) if "openid" in granted else {}
        patient = answer.get("patient")
        needed = list(pending.scope)
        missing = list(scopes.missing(needed, granted))
        if not patient:
            context_scope = scopes.LAUNCH_EHR if pending.ehr_launch else scopes.LAUNCH_PATIENT
            if context_scope not in missing:
                missing.insert(0, context_scope)
        fhir_user = claims.get("fhirUser") or answer.get("fhirUser")
        context = LaunchContext(
            iss=pending.iss,
            patient=str(patient) if patient else None,
            encounter=str(answer["encounter"]) if answer.get("encounter") else None,
            fhir_user=relative_to(pending.iss, str(fhir_user)) if fhir_user else None,
            granted=granted,
            missing=tuple(missing),
            need_patient_banner=bool(answer.get("need_patient_banner", not pending.ehr_launch)),
        )
        tokens = Tokens(
            access_token=access,
            expires_at=self._clock() + _lifetime(answer),
            token_endpoint=endpoints.token_endpoint,
            refresh_token=str(answer["refresh_token"]) if answer.get("refresh_token") else None,
        )
        return context, tokens

    def _id_token_claims(self, endpoints: SmartEndpoints, pending: Pending, id_token: Any) -> dict[str, Any]:
        if not isinstance(id_token, str) or not id_token:
            raise SmartError("the care record granted openid but sent no id_token", 502)
        keys = self._jwks(endpoints)
        try:
            token = jwt.decode(id_token, keys, algorithms=ID_TOKEN_ALGORITHMS)
            registry = jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": endpoints.issuer} if endpoints.issuer else {"essential": True},
                aud={"essential": True, "value": self.config.client_id},
                exp={"essential": True},
                nonce={"essential": True, "value": pending.nonce},
            )
            registry.validate(token.claims)
        except (JoseError, ValueError) as exc:
            raise SmartError(f"the id_token from the care record is not valid ({type(exc).__name__})", 502) from None
        return dict(token.claims)

    def _jwks(self, endpoints: SmartEndpoints) -> KeySet:
        uri = endpoints.jwks_uri
        if uri is None:
            base = endpoints.issuer or endpoints.iss
            uri = self._get_json(f"{base.rstrip('/')}/.well-known/openid-configuration").get("jwks_uri")
            if not isinstance(uri, str):
                raise SmartError("the care record publishes no keys (jwks_uri) to check its id_token with", 502)
        try:
            return KeySet.import_key_set(self._get_json(uri))  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError) as exc:
            raise SmartError(f"the keys at {safe_url(uri)} cannot be read ({type(exc).__name__})", 502) from None

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            check_base_url(url, allow_insecure_http=self.config.allow_insecure_http)
            with self._http() as http:
                http.headers["User-Agent"] = USER_AGENT
                response = http.get(
                    url,
                    headers={"Accept": "application/json"},
                    timeout=self.config.timeouts.as_tuple(),
                    verify=self.config.verify,
                )
        except InputError as exc:
            raise SmartError(str(exc), 502) from None
        except requests.RequestException as exc:
            raise SmartError(f"cannot reach {safe_url(url)} ({type(exc).__name__})", 502) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            raise SmartError(f"{safe_url(url)} answered {response.status_code} without a JSON object", 502)
        return body

    def _oauth(self, *, scope: str | None) -> OAuth2Session:
        oauth = OAuth2Session(
            client_id=self.config.client_id,
            client_secret=self.config.client_secret,
            scope=scope,
            redirect_uri=self.config.redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic" if self.config.client_secret else "none",
        )
        oauth.verify = self.config.verify
        oauth.headers["User-Agent"] = USER_AGENT
        return oauth

    def _sid(self, request: Request) -> str | None:
        if self._session_id is not None:
            return self._session_id(request)
        return request.cookies.get(self.embedding.cookie_name(COOKIE))

    # --- tokens -----------------------------------------------------------------------

    def access_token(self, sid: str, *, renew: bool = False) -> str:
        """The session's access token, refreshed first when it is about to expire (or ``renew``)."""
        found = self.store.get(sid)
        if found is None or found.tokens is None:
            raise AuthError("the SMART session has ended: open the app from the care record again")
        with found.lock:
            tokens = found.tokens
            if renew or self._clock() >= tokens.expires_at - RENEW_MARGIN:
                found.tokens = tokens = self._refresh(tokens)
            return tokens.access_token

    def _refresh(self, tokens: Tokens) -> Tokens:
        if tokens.refresh_token is None:
            raise AuthError(
                "the access token has expired and the care record gave no refresh token: open the app again"
            )
        oauth = self._oauth(scope=None)
        try:
            answer = oauth.refresh_token(
                tokens.token_endpoint, refresh_token=tokens.refresh_token, timeout=self.config.timeouts.as_tuple()
            )
        except OAuthError as exc:
            raise AuthError(
                f"the care record refused to renew the access token ({exc.error}): open the app again"
            ) from None
        except (requests.RequestException, ValueError) as exc:
            raise AuthError(
                f"cannot refresh the access token at {safe_url(tokens.token_endpoint)} ({type(exc).__name__})"
            ) from None
        access = answer.get("access_token")
        if not isinstance(access, str) or not access:
            raise AuthError("the token endpoint answered a refresh without an access token")
        log.info("SMART access token refreshed")
        return Tokens(
            access_token=access,
            expires_at=self._clock() + _lifetime(answer),
            token_endpoint=tokens.token_endpoint,
            refresh_token=str(answer.get("refresh_token") or tokens.refresh_token),
        )


class SessionAuth(Auth):
    """Bearer auth for one SMART session: refreshes before expiry, and once after a 401."""

    def __init__(self, launcher: SmartLauncher, sid: str) -> None:
        self._launcher = launcher
        self._sid = sid

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self._launcher.access_token(self._sid)}"
        return r

    def auth_flow(self, request: requests.PreparedRequest) -> Flow:
        """Send with the session's token; after a 401 refresh it and send once more."""
        response = yield self(request.copy())
        if response.status_code == 401:
            self._launcher.access_token(self._sid, renew=True)
            yield self(request.copy())

    def __repr__(self) -> str:
        return "SessionAuth(token=***)"


def relative_to(base: str, url: str) -> str:
    """``Practitioner/123`` for ``{base}/Practitioner/123``; other URLs as they are."""
    prefix = base.rstrip("/") + "/"
    return url[len(prefix) :] if url.startswith(prefix) else url


def _lifetime(answer: Mapping[str, Any]) -> float:
    value = answer.get("expires_in")
    try:
        return float(value) if value is not None else 300.0
    except (TypeError, ValueError):
        return 300.0
