"""One HTTP client for FHIR R4 servers: timeouts, retries, errors, paging, capabilities.

Layers, each replaceable: the network is a ``requests.Session`` (hand one in: the seam for
tests), authentication is a ``requests.auth.AuthBase`` (:mod:`wb_fhir.sync.auth`), and retries
live here, in :meth:`FhirClient.request`.

What is retried, and why it is safe: GET, HEAD, PUT and DELETE are idempotent in HTTP, and a
transaction Bundle is idempotent when every entry is (``PUT``/``DELETE``/``GET``, or ``POST``
with ``ifNoneExist``). Every Bundle wb_fhir writes is made of conditional upserts
(``PUT Type?identifier=...``) plus one ``POST`` of a Provenance with ``ifNoneExist``, so
sending it twice stores it once (:func:`bundle_is_idempotent` decides, per Bundle). Anything
else is sent once.

Every failure of the layer below is translated here into the :mod:`wb_fhir.errors` tree:
:class:`~wb_fhir.errors.ServerError` with the status and the OperationOutcome,
:class:`~wb_fhir.errors.ConflictError` on 409/412, :class:`~wb_fhir.errors.AuthError` on
401/403. Messages name no token; URLs in them carry no query string (searches by NHS
number would otherwise leak it).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urljoin, urlsplit

import requests
from requests.auth import AuthBase

from wb_fhir import __version__
from wb_fhir.errors import AuthError, ConflictError, InputError, ServerError
from wb_fhir.sync.scrub import scrub

log = logging.getLogger(__name__)

USER_AGENT = f"wb-fhir/{__version__} (+https://wb-fhir.org) python-requests/{requests.__version__}"
FHIR_JSON = "application/fhir+json"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_JSON_TYPES = ("application/fhir+json", "application/json", "application/json+fhir")


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for a connection and for each read of the answer."""

    connect: float = 10.0
    read: float = 60.0

    def as_tuple(self) -> tuple[float, float]:
        return (self.connect, self.read)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry a request that is safe to repeat.

    Backoff is exponential with jitter (``base * 2**n`` scaled by a random factor in
    [0.5, 1], at most ``cap``); a server's ``Retry-After`` wins when it asks for a wait no
    longer than ``max_retry_after``; a longer one ends the retries.
    """

    attempts: int = 5
    base: float = 0.5
    cap: float = 30.0
    max_retry_after: float = 120.0
    statuses: frozenset[int] = RETRY_STATUSES

    def backoff(self, retry: int, rng: Callable[[], float]) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first retry)."""
        return float(min(self.cap, self.base * 2**retry) * (0.5 + rng() / 2))


@runtime_checkable
class RenewableAuth(Protocol):
    """An auth layer whose credentials can be renewed once after a 401."""

    def renew(self) -> None: ...


@dataclass(frozen=True)
class FhirResponse:
    """The parts of an HTTP answer that callers use."""

    status: int
    headers: Mapping[str, str]
    body: dict[str, Any] | None

    @property
    def etag(self) -> str | None:
        return self.headers.get("ETag")


def check_base_url(url: str, *, allow_insecure_http: bool = False, what: str = "server URL") -> str:
    """The URL without a trailing slash; refuse ``http://`` beyond loopback unless insisted on."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{what} must be an http:// or https:// URL, got {url!r}")
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback(parts.hostname):
        raise InputError(
            f"{what} {url} uses http:// to a host that is not this machine: health records must "
            "travel over https:// (use --allow-insecure-http only on a network you trust)"
        )
    return url.rstrip("/")


def is_loopback(host: str) -> bool:
    """Whether a host name or address is this machine (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def safe_url(url: str) -> str:
    """A URL for messages and logs: no query string (it may hold an NHS number), no user info."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    query = "?..." if parts.query else ""
    return f"{parts.scheme}://{host}{port}{parts.path}{query}"


def bundle_is_idempotent(bundle: Mapping[str, Any]) -> bool:
    """Whether sending this transaction/batch Bundle twice stores it once (safe to retry)."""
    for entry in bundle.get("entry", []):
        request = entry.get("request", {})
        method = str(request.get("method", "")).upper()
        if method in ("PUT", "DELETE", "GET", "HEAD"):
            continue
        if method == "POST" and request.get("ifNoneExist"):
            continue
        return False
    return True


def outcome_text(outcome: Mapping[str, Any]) -> str:
    """An OperationOutcome as readable lines: severity [code] at location: diagnostics."""
    lines = []
    for issue in outcome.get("issue", []):
        severity = issue.get("severity", "error")
        code = issue.get("code", "unknown")
        where = issue.get("expression") or issue.get("location") or []
        text = issue.get("diagnostics") or issue.get("details", {}).get("text") or ""
        place = f" at {', '.join(where)}" if where else ""
        lines.append(f"{severity} [{code}]{place}: {text}".rstrip(": "))
    return "\n".join(lines)


def retry_after_seconds(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds asked by a ``Retry-After`` header (delta-seconds or an HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now())


@dataclass
class FhirClient:
    """A client for one FHIR R4 server (``base_url`` like ``https://host/fhir``)."""

    base_url: str
    session: requests.Session = field(default_factory=requests.Session)
    auth: AuthBase | None = None
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    verify: bool | str = True
    allow_insecure_http: bool = False
    sleep: Callable[[float], None] = time.sleep
    rng: Callable[[], float] = random.random
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self.base_url = check_base_url(self.base_url, allow_insecure_http=self.allow_insecure_http)
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept"] = FHIR_JSON
        self.session.verify = self.verify

    def __repr__(self) -> str:
        return f"FhirClient({self.base_url!r}, auth={type(self.auth).__name__ if self.auth else None})"

    # --- the one place requests are sent ------------------------------------------------

    def url(self, path: str) -> str:
        """An absolute URL for a path relative to the base (absolute URLs are kept)."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | list[tuple[str, str]] | None = None,
        body: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        ok: tuple[int, ...] = (),
    ) -> FhirResponse:
        """Send one request, retrying when safe; an error for any status >= 400 not in ``ok``.

        ``body`` is sent as FHIR JSON; ``content`` is sent as it is, with ``content_type``
        (e.g. FHIR XML, which this client does not parse). The answer is always asked for as JSON.
        """
        if content is not None and (body is not None or not content_type):
            raise ValueError("content needs a content_type and excludes body")
        method = method.upper()
        url = self.url(path)
        self._same_origin(url)
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        attempts = self.retry.attempts if idempotent else 1
        send_headers = dict(headers or {})
        data = None
        if body is not None:
            send_headers["Content-Type"] = f"{FHIR_JSON}; charset=utf-8"
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        elif content is not None:
            send_headers["Content-Type"] = str(content_type)
            data = content
        renewed = False
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    headers=send_headers,
                    auth=self.auth,
                    timeout=self.timeouts.as_tuple(),
                    # Per request: a session-level path would lose to REQUESTS_CA_BUNDLE.
                    verify=self.verify,
                    allow_redirects=method in ("GET", "HEAD"),
                )
            except requests.exceptions.SSLError as exc:
                raise ServerError(
                    f"TLS verification of {safe_url(url)} failed ({_reason(exc)}); "
                    "give the trust's CA certificates with --ca-bundle"
                ) from None
            except (
                requests.exceptions.ConnectionError,
                requests.exceptions.Timeout,
                # The answer was cut short mid-body: the request may or may not have been done.
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ) as exc:
                kind = (
                    "timed out"
                    if isinstance(exc, requests.exceptions.Timeout)
                    else "connection failed"
                    if isinstance(exc, requests.exceptions.ConnectionError)
                    else "answer cut short"
                )
                if attempt < attempts:
                    delay = self.retry.backoff(attempt - 1, self.rng)
                    log.info(
                        "%s %s %s; retry %d of %d in %.1fs", method, safe_url(url), kind, attempt, attempts - 1, delay
                    )
                    self.sleep(delay)
                    continue
                raise ServerError(
                    f"{method} {safe_url(url)}: {kind} after {attempt} attempt(s) ({_reason(exc)})"
                ) from None
            except requests.RequestException as exc:
                raise ServerError(f"{method} {safe_url(url)} failed: {type(exc).__name__} ({_reason(exc)})") from None
            status = response.status_code
            if status == 401 and not renewed and isinstance(self.auth, RenewableAuth):
                # The token may have expired early or been revoked: renew it once.
                renewed = True
                log.info("%s %s answered 401; renewing the access token once", method, safe_url(url))
                self.auth.renew()
                attempt -= 1
                continue
            if status in self.retry.statuses and attempt < attempts:
                asked = retry_after_seconds(response.headers.get("Retry-After"), self.clock)
                if asked is not None and asked > self.retry.max_retry_after:
                    raise self._error(method, url, response, f" (asked to retry after {asked:.0f}s: too long)")
                delay = asked if asked is not None else self.retry.backoff(attempt - 1, self.rng)
                log.info(
                    "%s %s answered %d; retry %d of %d in %.1fs",
                    method,
                    safe_url(url),
                    status,
                    attempt,
                    attempts - 1,
                    delay,
                )
                self.sleep(delay)
                continue
            if status >= 400 and status not in ok:
                raise self._error(method, url, response, f" after {attempt} attempts" if attempt > 1 else "")
            return FhirResponse(status, response.headers, self._json(method, url, response))

    def _same_origin(self, url: str) -> None:
        # Never send credentials to another host, e.g. by following a paging link.
        mine, theirs = urlsplit(self.base_url), urlsplit(url)
        if (mine.scheme, mine.netloc) != (theirs.scheme, theirs.netloc):
            raise ServerError(f"refusing to follow {safe_url(url)}: it is not on the server {self.base_url}")

    def _json(self, method: str, url: str, response: requests.Response) -> dict[str, Any] | None:
        if not response.content.strip():
            return None
        ctype = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype not in _JSON_TYPES:
            raise ServerError(
                f"{method} {safe_url(url)} answered {response.status_code} with {ctype or 'no content type'}, "
                "not FHIR JSON: is this the FHIR base URL (no proxy or login page in the way)?",
                status=response.status_code,
            )
        try:
            value = response.json()
        except ValueError:
            raise ServerError(
                f"{method} {safe_url(url)} answered {response.status_code} with malformed JSON "
                f"({len(response.content)} bytes): the answer was cut short or is not FHIR",
                status=response.status_code,
            ) from None
        if not isinstance(value, dict) or "resourceType" not in value:
            raise ServerError(
                f"{method} {safe_url(url)} answered JSON that is not a FHIR resource", status=response.status_code
            )
        return value

    def _error(self, method: str, url: str, response: requests.Response, note: str) -> ServerError:
        status = response.status_code
        outcome: dict[str, Any] | None = None
        try:
            value = response.json()
            if isinstance(value, dict) and value.get("resourceType") == "OperationOutcome":
                outcome = value
        except ValueError:
            pass
        detail = outcome_text(outcome) if outcome else (response.reason or "")
        url = response.url or url
        message = f"{method} {safe_url(url)} failed: {status} {response.reason or ''}".rstrip() + note
        if detail and detail != response.reason:
            message += "\n" + detail
        # Diagnostics may echo what was sent (an NHS number in a search, a token): never shown.
        message = scrub(message)
        if status in (401, 403):
            hint = "the server refused the credentials" if status == 401 else "not allowed for these credentials"
            return AuthError(f"{message}\n({hint})", status=status, outcome=outcome)
        if status in (409, 412):
            return ConflictError(message, status=status, outcome=outcome)
        return ServerError(message, status=status, outcome=outcome)

    # --- FHIR interactions ----------------------------------------------------------------

    def read(self, resource_type: str, resource_id: str) -> dict[str, Any]:
        """One resource by id."""
        return _body(self.request("GET", f"{resource_type}/{resource_id}"))

    def search(self, resource_type: str, params: Mapping[str, str] | list[tuple[str, str]]) -> dict[str, Any]:
        """The first page of a search (a searchset Bundle), never from a cache."""
        return _body(self.request("GET", resource_type, params=params, headers={"Cache-Control": "no-cache"}))

    def pages(
        self, resource_type: str, params: Mapping[str, str] | list[tuple[str, str]], *, max_pages: int = 10_000
    ) -> Iterator[dict[str, Any]]:
        """Every page of a search, following ``next`` links on the same server."""
        page = self.search(resource_type, params)
        for _ in range(max_pages):
            yield page
            following = next_link(page)
            if following is None:
                return
            page = _body(
                self.request("GET", urljoin(self.base_url + "/", following), headers={"Cache-Control": "no-cache"})
            )
        raise ServerError(f"a search of {resource_type} has more than {max_pages} pages; stopped")

    def search_all(
        self, resource_type: str, params: Mapping[str, str] | list[tuple[str, str]], *, mode: str = "match"
    ) -> Iterator[dict[str, Any]]:
        """Every resource a search finds (``mode`` match, or include for ``_include``d ones)."""
        for page in self.pages(resource_type, params):
            for entry in page.get("entry", []):
                if entry.get("search", {}).get("mode", "match") == mode and "resource" in entry:
                    yield entry["resource"]

    def transaction(self, bundle: Mapping[str, Any]) -> dict[str, Any]:
        """Post a transaction Bundle; retried only when it is idempotent."""
        response = self.request("POST", "", body=bundle, idempotent=bundle_is_idempotent(bundle))
        result = _body(response)
        if result.get("resourceType") != "Bundle":
            raise ServerError(f"the transaction answer is a {result.get('resourceType')}, not a Bundle")
        return result

    def capabilities(self) -> dict[str, Any]:
        """The server's CapabilityStatement (``GET /metadata``)."""
        statement = _body(self.request("GET", "metadata"))
        if statement.get("resourceType") != "CapabilityStatement":
            raise ServerError(
                f"{self.base_url}/metadata is a {statement.get('resourceType')}, not a CapabilityStatement"
            )
        return statement


def next_link(bundle: Mapping[str, Any]) -> str | None:
    """The ``next`` link of a searchset Bundle, if any."""
    for link in bundle.get("link", []):
        if link.get("relation") == "next" and link.get("url"):
            return str(link["url"])
    return None


def _body(response: FhirResponse) -> dict[str, Any]:
    if response.body is None:
        raise ServerError(f"the server answered {response.status} with no body where a resource was expected")
    return response.body


def _reason(exc: BaseException) -> str:
    # requests nests the root cause; its text names host, port and URL, never credentials.
    inner: BaseException = exc
    while inner.__context__ is not None and inner.__context__ is not inner:
        inner = inner.__context__
    text = str(inner) or type(inner).__name__
    # urllib3 names the URL with its query: a search by NHS number would show it.
    text = scrub(text)
    return text if len(text) < 200 else text[:200] + "..."


def now_iso(clock: Callable[[], float] = time.time) -> str:
    """An ISO 8601 UTC timestamp."""
    return datetime.fromtimestamp(clock(), UTC).isoformat(timespec="seconds")


REQUIRED_INTERACTIONS: dict[str, tuple[str, ...]] = {
    "Patient": ("search-type",),
    "QuestionnaireResponse": ("update", "search-type"),
    "Observation": ("update", "search-type"),
    "Goal": ("update", "search-type", "read"),
    "CarePlan": ("update", "search-type", "read"),
    "DocumentReference": ("update",),
    "Provenance": ("create",),
}
"""What push and pull ask of a server, per resource type."""

CONDITIONAL_UPDATE_TYPES = ("QuestionnaireResponse", "Observation", "Goal", "CarePlan", "DocumentReference")


def missing_capabilities(statement: Mapping[str, Any]) -> list[str]:
    """What a CapabilityStatement lacks for wb_fhir, one plain sentence each (empty: all there)."""
    missing: list[str] = []
    version = str(statement.get("fhirVersion", ""))
    if not version.startswith("4.0."):
        missing.append(f"FHIR version is {version or 'not stated'}, wb_fhir needs 4.0.x (R4)")
    servers = [r for r in statement.get("rest", []) if r.get("mode") == "server"]
    if not servers:
        return [*missing, "no rest mode 'server' in the CapabilityStatement"]
    rest = servers[0]
    system = {i.get("code") for i in rest.get("interaction", [])}
    if "transaction" not in system:
        missing.append("the system interaction 'transaction' is not supported")
    resources = {r.get("type"): r for r in rest.get("resource", [])}
    for rtype, needed in REQUIRED_INTERACTIONS.items():
        resource = resources.get(rtype)
        if resource is None:
            missing.append(f"{rtype} is not supported")
            continue
        have = {i.get("code") for i in resource.get("interaction", [])}
        lacking = [i for i in needed if i not in have]
        if lacking:
            missing.append(f"{rtype} lacks the interaction(s) {', '.join(lacking)}")
        if rtype in CONDITIONAL_UPDATE_TYPES and not resource.get("conditionalUpdate", False):
            missing.append(f"{rtype} does not declare conditional update")
    return missing
