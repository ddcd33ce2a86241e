"""Authentication layers: a bearer token, SMART Backend Services, and the flow every request goes through.

An auth layer is a ``requests.auth.AuthBase`` (it sets the headers of a request) and, as
httpx's ``Auth.auth_flow``, owns a flow (:meth:`Auth.auth_flow`): a generator that yields the
request to send, sees the answer and may yield it once more (SMART renews its token after a
401). Any other ``requests`` auth, or none, sends once (:func:`auth_flow`). Secrets never appear
in a repr, a log line or an error message.

SMART Backend Services (client credentials): wb_fhir signs a JWT assertion with the
client's private key (RS384 or ES384, header ``kid``; claims ``iss`` = ``sub`` = client id,
``aud`` = the token endpoint, a fresh ``jti``, ``exp`` at most five minutes ahead), posts it
to the token endpoint (from ``{base}/.well-known/smart-configuration`` unless configured) and
caches the access token until shortly before it expires. Its flow renews it once on a 401
(:meth:`SmartBackendAuth.renew`); a second 401 is an :class:`~wb_fhir.errors.AuthError`.

The token endpoint is held to the same bounds as FHIR requests (:mod:`wb_fhir.sync._http`):
a deadline on the whole exchange, a cap of ``Limits.max_token_bytes`` on its answer, and no
redirect followed for the token request at all (the signed assertion goes to the endpoint it
names in ``aud``, nowhere else); discovery follows redirects on its own origin only. The
private key file is refused when group or others may read it (:func:`read_private_key`), as
ssh refuses such a key.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
import time
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from requests.auth import AuthBase

from wb_fhir.errors import AuthError, InputError
from wb_fhir.sync import _http
from wb_fhir.sync._config import USER_AGENT, Deadline, Limits, Timeouts, check_base_url, safe_url
from wb_fhir.sync.scrub import Scrubber
from wb_fhir.terminology import SMART_BACKEND_SCOPE as DEFAULT_SCOPE
from wb_fhir.terminology import SMART_SIGNING_ALGORITHMS as ALGORITHMS

log = logging.getLogger(__name__)

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = 300
"""Seconds an assertion is valid: SMART allows at most five minutes."""
RENEW_MARGIN = 60
"""Renew a cached token this many seconds before it expires."""
DEFAULT_TIMEOUTS = Timeouts()
DEFAULT_LIMITS = Limits()


Flow = Generator[requests.PreparedRequest, requests.Response, None]
"""An auth flow: yields each request to send and is sent each answer."""


class Auth(AuthBase):
    """An auth layer that owns its flow: by default it sets its headers and sends once."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r

    def auth_flow(self, request: requests.PreparedRequest) -> Flow:
        """Yield the request to send (with credentials); the answer comes back in, maybe to try again."""
        yield self(request)

    def secrets(self) -> frozenset[str]:
        """The credentials this layer sends now: scrubbed from anything a server echoes."""
        return frozenset()


def auth_flow(auth: AuthBase | None, request: requests.PreparedRequest) -> Flow:
    """The flow of any auth: its own for an :class:`Auth`, else one request with (or without) it."""
    if isinstance(auth, Auth):
        yield from auth.auth_flow(request)
    else:
        yield auth(request) if auth is not None else request


class BearerAuth(Auth):
    """A fixed bearer token (given as an option or in the environment, never on disk)."""

    def __init__(self, token: str) -> None:
        token = token.strip()
        if not token or any(c in token for c in "\r\n "):
            raise InputError("the bearer token is empty or holds spaces or line breaks")
        self._token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self._token}"
        return r

    def secrets(self) -> frozenset[str]:
        return frozenset({self._token})

    def __repr__(self) -> str:
        return "BearerAuth(token=***)"


def read_private_key(path: Path, *, allow_shared: bool = False) -> bytes:
    """The bytes of a private key file; refused when group or others may read or write it.

    As ssh does: a key others can read is no longer private. ``allow_shared`` says the user
    knows (a key on a file system without Unix modes, a key shared on purpose).
    """
    try:
        mode = path.stat().st_mode
        if os.name == "posix" and mode & 0o077 and not allow_shared:
            raise InputError(
                f"the private key is open to group or others (mode {stat.S_IMODE(mode):04o}); "
                "it must be readable by its owner only",
                str(path),
                setting="smart_key_mode",
            )
        return path.read_bytes()
    except InputError:
        raise
    except OSError as exc:
        raise InputError(f"cannot read the private key: {exc.strerror or exc}", str(path)) from None


@dataclass(frozen=True)
class SmartKey:
    """A client's private key for signing assertions, with its key id and algorithm."""

    pem: bytes
    kid: str
    alg: str = "RS384"

    def __post_init__(self) -> None:
        if self.alg not in ALGORITHMS:
            raise InputError(f"SMART signing algorithm must be one of {', '.join(ALGORITHMS)}, not {self.alg!r}")
        if not self.kid:
            raise InputError("the SMART key id is empty", setting="smart_kid")
        # cryptography (and jwt) load only for SMART: a push with a bearer token or none never pays for them
        from cryptography.hazmat.primitives.asymmetric import ec, rsa
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        try:
            key = load_pem_private_key(self.pem, password=None)
        except (ValueError, TypeError) as exc:
            raise InputError(f"SMART private key is not an unencrypted PEM private key ({exc})") from None
        if self.alg == "RS384" and not isinstance(key, rsa.RSAPrivateKey):
            raise InputError("SMART algorithm RS384 needs an RSA private key")
        if self.alg == "ES384" and not (
            isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP384R1)
        ):
            raise InputError("SMART algorithm ES384 needs an EC private key on curve P-384")

    def __repr__(self) -> str:
        return f"SmartKey(kid={self.kid!r}, alg={self.alg!r}, pem=***)"


class SmartBackendAuth(Auth):
    """SMART Backend Services: a signed JWT assertion exchanged for a cached access token."""

    def __init__(
        self,
        *,
        client_id: str,
        key: SmartKey,
        base_url: str | None = None,
        token_url: str | None = None,
        scope: str = DEFAULT_SCOPE,
        session: requests.Session | None = None,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        verify: bool | str = True,
        allow_insecure_http: bool = False,
        clock: Callable[[], float] = time.time,
        limits: Limits = DEFAULT_LIMITS,
        deadline: Deadline | None = None,
    ) -> None:
        if not client_id:
            raise InputError("the SMART client id is empty", setting="smart_client_id")
        if token_url is None and base_url is None:
            raise InputError("SMART needs a token endpoint or the server URL to discover it", setting="smart_token_url")
        self.client_id = client_id
        self.key = key
        self.scope = scope
        self._base_url = base_url
        self._token_url = (
            check_base_url(token_url, allow_insecure_http=allow_insecure_http, what="token endpoint")
            if token_url
            else None
        )
        self._session = _http.watch_session(session or requests.Session())
        self._session.headers["User-Agent"] = USER_AGENT
        self._timeouts = timeouts
        self._limits = limits
        self._deadline = deadline
        self._verify = verify
        self._insecure = allow_insecure_http
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires = 0.0

    def __repr__(self) -> str:
        return f"SmartBackendAuth(client_id={self.client_id!r}, key={self.key!r}, token=***)"

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.access_token()}"
        return r

    def auth_flow(self, request: requests.PreparedRequest) -> Flow:
        """Send with the cached token; after a 401 (expired early, revoked) renew it and send once more."""
        response = yield self(request.copy())
        if response.status_code == 401:
            log.info("%s %s answered 401; renewing the access token once", request.method, safe_url(request.url or ""))
            self.renew()
            yield self(request.copy())

    def secrets(self) -> frozenset[str]:
        token = self._token  # no lock: also called while a token is being fetched under it
        return frozenset({token}) if token else frozenset()

    def renew(self) -> None:
        """Forget the cached token, so the next request gets a new one."""
        with self._lock:
            self._token = None
            self._expires = 0.0

    @property
    def token_url(self) -> str:
        """The token endpoint, discovered from the server's SMART configuration if not given."""
        if self._token_url is None:
            self._token_url = self._discover()
        return self._token_url

    def access_token(self) -> str:
        """A valid access token, from the cache while it has more than a minute to live."""
        with self._lock:
            if self._token is None or self._clock() >= self._expires - RENEW_MARGIN:
                self._token, lifetime = self._fetch()
                self._expires = self._clock() + lifetime
            return self._token

    def assertion(self) -> str:
        """A fresh signed client assertion for the token endpoint."""
        now = int(self._clock())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.token_url,
            "exp": now + ASSERTION_LIFETIME,
            "iat": now,
            "jti": str(uuid.uuid4()),
        }
        import jwt

        return jwt.encode(claims, self.key.pem, algorithm=self.key.alg, headers={"kid": self.key.kid, "typ": "JWT"})

    def _discover(self) -> str:
        assert self._base_url is not None
        url = f"{self._base_url.rstrip('/')}/.well-known/smart-configuration"
        body = self._exchange("GET", url)
        endpoint = body.get("token_endpoint")
        if not isinstance(endpoint, str) or not endpoint:
            raise AuthError(f"{safe_url(url)} names no token_endpoint", setting="smart_token_url")
        return check_base_url(endpoint, allow_insecure_http=self._insecure, what="token endpoint")

    def _fetch(self) -> tuple[str, float]:
        form = {
            "grant_type": "client_credentials",
            "scope": self.scope,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.assertion(),
        }
        body = self._exchange("POST", self.token_url, form)
        token = body.get("access_token")
        if not isinstance(token, str) or not token or any(c.isspace() for c in token):
            raise AuthError(f"the token endpoint {safe_url(self.token_url)} answered without a usable access_token")
        expires_in = body.get("expires_in", ASSERTION_LIFETIME)
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else float(ASSERTION_LIFETIME)
        if not 0 < lifetime < float("inf"):  # nan, negative or infinite: a short life, asked again soon
            lifetime = float(RENEW_MARGIN)
        log.info("got an access token from %s, valid %.0fs", safe_url(self.token_url), lifetime)
        return token, lifetime

    def _exchange(self, method: str, url: str, form: dict[str, str] | None = None) -> dict[str, Any]:
        """One request to the authorization server, bounded; its JSON object, or an AuthError."""
        seconds = self._limits.request_seconds
        ends = time.monotonic() + seconds
        late = f"the deadline of {seconds:g} s for one request"
        if self._deadline is not None and self._deadline.ends <= ends:
            ends, late = self._deadline.ends, f"the deadline of {self._deadline.seconds:g} s for the whole command"
        request = self._session.prepare_request(
            requests.Request(method, url, data=form, headers={"Accept": "application/json"})
        )
        bounds = _http.Bounds(
            ends=ends,
            max_bytes=self._limits.max_token_bytes,
            max_redirects=self._limits.max_redirects,
            follow=method == "GET",  # never the token request: the assertion goes where its aud says only
            allow_insecure_http=self._insecure,
        )
        where = f"{method} {safe_url(url)}"
        try:
            response = _http.send(self._session, request, bounds=bounds, timeouts=self._timeouts, verify=self._verify)
        except _http.FAILURES as exc:
            raise AuthError(
                _http.in_words(exc, where, late),
                status=exc.status if isinstance(exc, _http.RedirectRefused) else None,
                setting={_http.RedirectRefused: "smart_token_url", _http.TlsFailed: "ca_bundle"}.get(type(exc)),
            ) from None
        try:
            body = json.loads(response.content)
        except (ValueError, RecursionError):
            body = None
        if response.status_code >= 400 or not isinstance(body, dict):
            detail = ""
            if isinstance(body, dict) and body.get("error"):
                # OAuth errors (RFC 6749 5.2) name a code and a description; a hostile one may echo a secret.
                detail = f": {self._shown(body['error'])}" + (
                    f" ({self._shown(body['error_description'])})" if body.get("error_description") else ""
                )
            elif not isinstance(body, dict):
                detail = ": the answer is not a JSON object"
            raise AuthError(f"{where} failed: {response.status_code}{detail}", status=response.status_code)
        return body

    def _shown(self, value: object, limit: int = 200) -> str:
        """A server's words for a message: on one line, scrubbed (then cut, so no secret is cut in half)."""
        text = Scrubber(secrets=self.secrets())(" ".join(str(value).split()))
        return text if len(text) <= limit else text[:limit] + "..."
