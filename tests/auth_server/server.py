"""A SMART App Launch 2 authorization server for the tests, built on Authlib's server components.

What a real EHR's authorization server does, on loopback, in this process (a werkzeug thread):

- OpenID Connect discovery (``/.well-known/openid-configuration``) and SMART discovery
  (``/.well-known/smart-configuration``; the FHIR server serves the same document for its base URL);
- ``/authorize``: a login page, then a consent page where the user may untick scopes (a token
  missing a scope is made this way) and, in a standalone launch, picks the patient;
- the authorization code grant with PKCE (S256 only, required of every client), the ``aud``
  parameter checked against the FHIR servers this server protects, ``state`` passed back;
- EHR launch: the ``launch`` parameter resolved to the context the EHR stored with
  :meth:`SmartAuthServer.new_launch` (patient, encounter), used once;
- tokens: JWT access tokens (RFC 9068, RS256, the key in ``/jwks``) carrying ``scope``, ``patient``
  and ``fhirUser``; an ``id_token`` with ``fhirUser``; the launch context (``patient``,
  ``encounter``, ``need_patient_banner``) in the token response; rotating refresh tokens when
  ``online_access`` or ``offline_access`` is granted;
- scopes: SMART v2 (``patient/Observation.cru``) and v1 (``patient/Observation.write``); a server
  made with ``versions=("v1",)`` refuses v2 scopes and says so in its discovery document.

Nothing here is secret beyond the run: keys and stores live in memory.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import quote

from authlib.common.security import generate_token
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError, InvalidScopeError
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, abort, jsonify, redirect, render_template_string, request, session
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import WSGIRequestHandler, make_server

from auth_server import pages
from auth_server.scopes import unsupported

CODE_LIFETIME = 600
REFRESH_LIFETIME = 8 * 3600
REFRESH_SCOPES = frozenset({"online_access", "offline_access"})


@dataclass(frozen=True)
class User:
    """A person who can sign in: a practitioner with a FHIR identity (``Practitioner/123``)."""

    username: str
    password: str
    fhir_user: str
    name: str = ""


@dataclass(frozen=True)
class Client(ClientMixin):  # type: ignore[misc]
    """A registered app: public (PKCE only) or confidential (``client_secret``)."""

    client_id: str
    redirect_uris: tuple[str, ...]
    client_secret: str | None = None
    name: str = "SMART app"

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str | None) -> str:
        return scope or ""

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return self.client_secret is not None and secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.client_secret is None:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


@dataclass(frozen=True)
class Principal:
    """Who was authorised, for which FHIR server, in which launch context."""

    user: User
    aud: str
    patient: str | None = None
    encounter: str | None = None
    ehr_launch: bool = False

    def get_user_id(self) -> str:
        return self.user.username


@dataclass
class AuthCode(AuthorizationCodeMixin):  # type: ignore[misc]
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    principal: Principal
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None

    def expired(self) -> bool:
        return time.time() > self.auth_time + CODE_LIFETIME


@dataclass
class RefreshToken(TokenMixin):  # type: ignore[misc]
    token: str
    client_id: str
    scope: str
    principal: Principal
    issued: float = field(default_factory=time.time)
    revoked: bool = False

    def check_client(self, client: Client) -> bool:
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return REFRESH_LIFETIME

    def is_expired(self) -> bool:
        return time.time() > self.issued + REFRESH_LIFETIME

    def is_revoked(self) -> bool:
        return self.revoked


class _Quiet(WSGIRequestHandler):
    # Request lines carry authorization codes and states: never log them.
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class SmartAuthServer:
    """The authorization server: configure users, clients and the FHIR servers it protects, then start."""

    def __init__(
        self,
        *,
        versions: tuple[str, ...] = ("v2", "v1"),
        access_token_lifetime: int = 300,
        patients: Iterable[str] = (),
        key: RSAKey | None = None,
    ) -> None:
        self.versions = versions
        self.access_token_lifetime = access_token_lifetime
        self.users: dict[str, User] = {}
        self.clients: dict[str, Client] = {}
        self.resource_servers: set[str] = set()
        self.patients: set[str] = set(patients)
        self.codes: dict[str, AuthCode] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.launches: dict[str, dict[str, str]] = {}
        self.issued: list[dict[str, Any]] = []
        self.key = key or RSAKey.generate_key(
            2048, {"kid": generate_token(12), "use": "sig", "alg": "RS256"}, private=True
        )
        self._lock = threading.Lock()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # --- what the EHR configures ------------------------------------------------------

    def add_user(self, user: User) -> User:
        self.users[user.username] = user
        return user

    def add_client(self, client: Client) -> Client:
        self.clients[client.client_id] = client
        return client

    def new_launch(self, patient: str, encounter: str | None = None) -> str:
        """What the EHR does before it opens the app: store the context, hand out an opaque launch id."""
        launch = generate_token(24)
        context = {"patient": patient}
        if encounter:
            context["encounter"] = encounter
        with self._lock:
            self.launches[launch] = context
            self.patients.add(patient)
        return launch

    def mint(
        self,
        aud: str,
        scope: str,
        *,
        patient: str | None = None,
        expires_in: int = 300,
        key: RSAKey | None = None,
        issuer: str | None = None,
    ) -> str:
        """An access token as the token endpoint would make it, for setting up test data (or forging one)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": issuer or self.url,
            "aud": aud,
            "sub": "test-setup",
            "client_id": "test-setup",
            "scope": scope,
            "iat": now,
            "exp": now + expires_in,
            "jti": generate_token(16),
        }
        if patient:
            claims["patient"] = patient
        signing = key or self.key
        return jwt.encode({"alg": "RS256", "kid": signing.kid or "", "typ": "at+jwt"}, claims, signing)

    @property
    def jwks(self) -> dict[str, Any]:
        return KeySet([self.key]).as_dict(private=False)

    # --- lifecycle --------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on loopback in a background thread; the issuer URL."""
        # The issuer URL holds the port, so the app is made once the socket is bound.
        self._server = make_server(host, port, Flask("binding"), threaded=True, request_handler=_Quiet)
        self.url = f"http://{host}:{self._server.server_port}"
        self._server.app = self.create_app()
        self._thread = threading.Thread(target=self._server.serve_forever, name="smart-auth", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- the Flask app ----------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        """The SMART configuration (``.well-known/smart-configuration``)."""
        permission = ["permission-v2"] if "v2" in self.versions else []
        permission += ["permission-v1"] if "v1" in self.versions else []
        examples = ["patient/*.cruds", "user/*.cruds"] if "v2" in self.versions else []
        examples += ["patient/*.read", "patient/*.write", "user/*.read"] if "v1" in self.versions else []
        return {
            "issuer": self.url,
            "jwks_uri": f"{self.url}/jwks",
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "scopes_supported": [
                "openid",
                "fhirUser",
                "profile",
                "launch",
                "launch/patient",
                "launch/encounter",
                "online_access",
                "offline_access",
                *examples,
            ],
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "capabilities": [
                "launch-ehr",
                "launch-standalone",
                "client-public",
                "client-confidential-symmetric",
                "context-ehr-patient",
                "context-ehr-encounter",
                "context-standalone-patient",
                "sso-openid-connect",
                "permission-offline",
                "permission-online",
                "permission-patient",
                "permission-user",
                *permission,
            ],
        }

    def create_app(self) -> Flask:
        app = Flask("smart_auth_server")
        app.secret_key = secrets.token_bytes(32)
        app.config.update(SESSION_COOKIE_NAME="smart_auth_session", SESSION_COOKIE_SAMESITE="Lax")
        server = _Server(self, app)

        @app.get("/.well-known/smart-configuration")
        def smart_configuration() -> Any:
            return jsonify(self.discovery())

        @app.get("/<path:base>/.well-known/smart-configuration")
        def fhir_smart_configuration(base: str) -> Any:
            # A FHIR base URL on this host (an EHR serving both): its SMART discovery is this server's.
            if f"{self.url}/{base}" not in self.resource_servers:
                abort(404)
            return jsonify(self.discovery())

        @app.get("/.well-known/openid-configuration")
        def openid_configuration() -> Any:
            config = self.discovery()
            return jsonify(
                {
                    **{k: config[k] for k in ("issuer", "jwks_uri", "authorization_endpoint", "token_endpoint")},
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "scopes_supported": config["scopes_supported"],
                    "claims_supported": ["sub", "iss", "aud", "exp", "iat", "fhirUser", "name"],
                }
            )

        @app.get("/jwks")
        def jwks() -> Any:
            return jsonify(self.jwks)

        @app.route("/login", methods=["GET", "POST"])
        def login() -> Any:
            target = request.values.get("next", "")
            if not target.startswith("/authorize?"):
                target = "/"
            problem = ""
            if request.method == "POST":
                user = self.users.get(request.form.get("username", ""))
                if user and secrets.compare_digest(user.password, request.form.get("password", "")):
                    session.clear()
                    session["user"] = user.username
                    return redirect(target)
                problem = "The user name or password is wrong."
            return render_template_string(pages.LOGIN, target=target, problem=problem), 401 if problem else 200

        @app.route("/authorize", methods=["GET", "POST"])
        def authorize() -> Any:
            user = self.users.get(session.get("user", ""))
            if user is None:
                return redirect(f"/login?next={quote(request.full_path, safe='')}")
            try:
                grant = server.get_consent_grant(end_user=user)
            except OAuth2Error as error:
                if error.redirect_uri:
                    return server.handle_error_response(None, error)
                return render_template_string(pages.ERROR, error=error.error, description=error.description), 400
            requested = grant.request.payload.scope.split()
            context = self._launch_context(grant, requested)
            if isinstance(context, OAuth2Error):
                context.state = grant.request.payload.state
                return server.handle_error_response(grant.request, context)
            if request.method == "GET":
                session["csrf"] = csrf = generate_token(24)
                return render_template_string(
                    pages.CONSENT,
                    client=grant.client,
                    user=user,
                    scopes=requested,
                    pick_patient="launch/patient" in requested and "patient" not in context,
                    patients=sorted(self.patients),
                    csrf=csrf,
                    action=request.full_path,
                )
            if not secrets.compare_digest(request.form.get("csrf", ""), session.pop("csrf", "-")):
                abort(400)
            if request.form.get("decision") != "allow":
                return server.create_authorization_response(grant=grant, grant_user=None)
            granted = [s for s in requested if s in request.form.getlist("granted")]
            patient = context.get("patient") or request.form.get("patient") or None
            if patient is not None and patient not in self.patients:
                abort(400)
            if patient is None and ("launch/patient" in granted or "launch" in granted):
                error = InvalidRequestError("no patient was chosen", redirect_uri=grant.redirect_uri)
                error.state = grant.request.payload.state
                return server.handle_error_response(grant.request, error)
            principal = Principal(
                user=user,
                aud=grant.request.payload.data["aud"],
                patient=patient,
                encounter=context.get("encounter"),
                ehr_launch="launch" in requested,
            )
            grant.granted_scope = " ".join(granted)  # what was ticked, not all that was asked for
            with self._lock:
                self.launches.pop(grant.request.payload.data.get("launch", ""), None)
            return server.create_authorization_response(grant=grant, grant_user=principal)

        @app.post("/token")
        def token() -> Any:
            return server.create_token_response()

        return app

    def _launch_context(self, grant: Any, requested: list[str]) -> dict[str, str] | OAuth2Error:
        """The EHR launch context, or an error the client is redirected with."""
        data = grant.request.payload.data
        if data.get("aud", "").rstrip("/") not in {u.rstrip("/") for u in self.resource_servers}:
            return InvalidRequestError(
                "'aud' is not a FHIR server this server protects", redirect_uri=grant.redirect_uri
            )
        if "launch" not in requested:
            return {}
        context = self.launches.get(data.get("launch", ""))
        if context is None:
            return InvalidRequestError("unknown or used 'launch'", redirect_uri=grant.redirect_uri)
        return context


class _Server(AuthorizationServer):  # type: ignore[misc]
    """Authlib's Flask authorization server wired to a :class:`SmartAuthServer`'s stores."""

    def __init__(self, smart: SmartAuthServer, app: Flask) -> None:
        self.smart = smart
        super().__init__(app, query_client=smart.clients.get, save_token=self._save_token)
        self.register_token_generator("default", _AccessTokens(smart))
        self.register_grant(_CodeGrant, [_S256Required(), _IdToken(smart), _Context()])
        self.register_grant(_RefreshGrant, [_Context()])

    def validate_requested_scope(self, scope: str | None) -> None:
        bad = unsupported((scope or "").split(), self.smart.versions)
        if bad:
            raise InvalidScopeError(f"not supported here: {' '.join(bad)}")

    def _save_token(self, token: dict[str, Any], request: Any) -> None:
        if token.get("refresh_token"):
            self.smart.refresh_tokens[token["refresh_token"]] = RefreshToken(
                token["refresh_token"], request.client.client_id, token["scope"], request.user
            )
        self.smart.issued.append({"scope": token["scope"], "client_id": request.client.client_id})


class _AccessTokens(JWTBearerTokenGenerator):  # type: ignore[misc]
    """RFC 9068 JWT access tokens for the FHIR server named in ``aud``; refresh tokens when asked for."""

    def __init__(self, smart: SmartAuthServer) -> None:
        super().__init__(smart.url, refresh_token_generator=lambda **_: generate_token(48))
        self.smart = smart
        self.expires_generator = lambda client, grant_type: smart.access_token_lifetime

    def get_jwks(self) -> KeySet:
        return KeySet([self.smart.key])

    def get_audiences(self, client: Client, user: Principal, scope: str) -> str:
        return user.aud

    def get_extra_claims(self, client: Client, grant_type: str, user: Principal, scope: str) -> dict[str, Any]:
        claims: dict[str, Any] = {}
        if user.patient:
            claims["patient"] = user.patient
        if "fhirUser" in scope.split():
            claims["fhirUser"] = user.user.fhir_user
        return claims

    def generate(
        self,
        grant_type: str,
        client: Client,
        user: Any = None,
        scope: Any = None,
        expires_in: Any = None,
        include_refresh_token: bool = True,
    ) -> Any:
        refresh = include_refresh_token and bool(set((scope or "").split()) & REFRESH_SCOPES)
        return super().generate(grant_type, client, user, scope, expires_in, refresh)


class _CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post", "none"]

    def save_authorization_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        self.server.smart.codes[code] = AuthCode(
            code=code,
            client_id=request.client.client_id,
            redirect_uri=request.payload.redirect_uri,
            scope=getattr(self, "granted_scope", request.scope),
            principal=request.user,
            nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
        )

    def query_authorization_code(self, code: str, client: Client) -> AuthCode | None:
        item = self.server.smart.codes.get(code)
        if item and item.client_id == client.client_id and not item.expired():
            return item
        return None

    def delete_authorization_code(self, authorization_code: AuthCode) -> None:
        self.server.smart.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: AuthCode) -> Principal:
        return authorization_code.principal


class _RefreshGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = ["client_secret_basic", "client_secret_post", "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        item = self.server.smart.refresh_tokens.get(refresh_token)
        if item and not item.is_expired() and not item.is_revoked():
            return item
        return None

    def authenticate_user(self, refresh_token: RefreshToken) -> Principal:
        return refresh_token.principal

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        refresh_token.revoked = True


class _S256Required(CodeChallenge):  # type: ignore[misc]
    """SMART: every client sends a PKCE challenge, and only S256."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if data.get("code_challenge_method") != "S256" or not data.get("code_challenge"):
            raise InvalidRequestError("PKCE with code_challenge_method=S256 is required", redirect_uri=redirect_uri)
        super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code: AuthCode) -> str | None:
        return authorization_code.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: AuthCode) -> str | None:
        return authorization_code.code_challenge_method


class _IdToken(OpenIDCode):  # type: ignore[misc]
    def __init__(self, smart: SmartAuthServer) -> None:
        super().__init__(require_nonce=False)
        self.smart = smart

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        return any(c.nonce == nonce for c in self.smart.codes.values())

    def resolve_client_private_key(self, client: Client) -> RSAKey:
        return self.smart.key

    def get_client_algorithm(self, client: Client) -> str:
        return "RS256"

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": "RS256", "kid": self.smart.key.kid or ""}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return {"iss": self.smart.url, "aud": [client.client_id]}

    def generate_user_info(self, user: Principal, scope: str) -> UserInfo:
        info = UserInfo(sub=user.user.username)
        if "fhirUser" in scope.split():
            info["fhirUser"] = f"{user.aud.rstrip('/')}/{user.user.fhir_user}"
        if "profile" in scope.split() and user.user.name:
            info["name"] = user.user.name
        return info


class _Context:
    """Adds the SMART launch context to token responses."""

    def __call__(self, grant: Any) -> None:
        grant.register_hook("after_create_token_response", self.add_context)

    @staticmethod
    def add_context(grant: Any, response: tuple[int, dict[str, Any], Any]) -> None:
        _, token, _ = response
        principal: Principal = grant.request.user
        granted = set(str(token.get("scope", "")).split())
        if principal.patient and granted & {"launch", "launch/patient"}:
            token["patient"] = principal.patient
            token["need_patient_banner"] = not principal.ehr_launch
        if principal.encounter and granted & {"launch", "launch/encounter"}:
            token["encounter"] = principal.encounter
