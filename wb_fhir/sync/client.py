"""One HTTP client for FHIR R4 servers: timeouts, retries, errors, paging, capabilities.

Layers, each replaceable, as in httpx's client (``send`` -> ``_send_handling_auth`` ->
``_send_single_request``):

- :meth:`FhirClient.request` builds the request, sends it, and raises for an error status;
- :meth:`FhirClient._send` retries what is safe to repeat, with backoff;
- :meth:`FhirClient._send_handling_auth` runs the auth layer's flow
  (:func:`wb_fhir.sync.auth.auth_flow`: SMART renews its token after a 401 there);
- :meth:`FhirClient._send_single_request` sends once through the network, a ``requests.Session``
  (hand one in: the seam for tests), and translates its exceptions.

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
number would otherwise leak it), and what the server echoes is scrubbed (:mod:`wb_fhir.sync.scrub`).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.auth import AuthBase

from wb_fhir.errors import AuthError, ConflictError, InputError, MatchError, ServerError
from wb_fhir.fhir.references import Search, nhs_number_token
from wb_fhir.mapfile import nhs_number_valid
from wb_fhir.sync._config import (
    FHIR_JSON,
    RETRY_STATUSES,
    USER_AGENT,
    RetryPolicy,
    Timeouts,
    check_base_url,
    is_loopback,
    safe_url,
)
from wb_fhir.sync.auth import auth_flow
from wb_fhir.sync.scrub import scrub

__all__ = [
    "FHIR_JSON",
    "RETRY_STATUSES",
    "USER_AGENT",
    "FhirClient",
    "FhirResponse",
    "RetryPolicy",
    "Timeouts",
    "bundle_is_idempotent",
    "check_base_url",
    "is_loopback",
    "missing_capabilities",
    "next_link",
    "outcome_text",
    "retry_after_seconds",
    "safe_url",
]

log = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_JSON_TYPES = ("application/fhir+json", "application/json", "application/json+fhir")
Params = Mapping[str, str] | Sequence[tuple[str, str]]
"""Search parameters as ``requests`` takes them (a Search gives them as pairs)."""


class _Transient(Exception):
    """A network failure that may go away: the connection failed, timed out, or was cut short."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(kind)
        self.kind, self.reason = kind, reason


@dataclass(frozen=True)
class FhirResponse:
    """The parts of an HTTP answer that callers use."""

    status: int
    headers: Mapping[str, str]
    body: dict[str, Any] | None

    @property
    def etag(self) -> str | None:
        return self.headers.get("ETag")


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

    # --- sending: build, retry, auth, send once, raise for status ---------------------------

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
        params: Params | None = None,
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
        prepared = self._build(method.upper(), path, params, body, content, content_type, headers)
        if idempotent is None:
            idempotent = prepared.method in IDEMPOTENT_METHODS
        response, attempts = self._send(prepared, self.retry.attempts if idempotent else 1)
        if response.status_code >= 400 and response.status_code not in ok:
            raise self._error(response, f" after {attempts} attempts" if attempts > 1 else "")
        return FhirResponse(response.status_code, response.headers, self._json(response))

    def _build(
        self,
        method: str,
        path: str,
        params: Params | None,
        body: Mapping[str, Any] | None,
        content: bytes | None,
        content_type: str | None,
        headers: Mapping[str, str] | None,
    ) -> requests.PreparedRequest:
        if content is not None and (body is not None or not content_type):
            raise ValueError("content needs a content_type and excludes body")
        url = self.url(path)
        self._same_origin(url)
        send_headers = dict(headers or {})
        data = None
        if body is not None:
            send_headers["Content-Type"] = f"{FHIR_JSON}; charset=utf-8"
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        elif content is not None:
            send_headers["Content-Type"] = str(content_type)
            data = content
        request = requests.Request(method, url, params=params, data=data, headers=send_headers)
        return self.session.prepare_request(request)

    def _send(self, request: requests.PreparedRequest, attempts: int) -> tuple[requests.Response, int]:
        """Send, retrying network failures and retryable statuses; the last answer and the attempts made."""
        attempts = max(1, attempts)
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            try:
                response = self._send_handling_auth(request.copy())
            except _Transient as exc:
                if last:
                    raise ServerError(
                        f"{request.method} {safe_url(request.url or '')}: {exc.kind} after {attempt} attempt(s) "
                        f"({exc.reason})"
                    ) from None
                self._wait(request, exc.kind, attempt, attempts, self.retry.backoff(attempt - 1, self.rng))
                continue
            if last or response.status_code not in self.retry.statuses:
                return response, attempt
            asked = retry_after_seconds(response.headers.get("Retry-After"), self.clock)
            if asked is not None and asked > self.retry.max_retry_after:
                raise self._error(response, f" (asked to retry after {asked:.0f}s: too long)")
            delay = asked if asked is not None else self.retry.backoff(attempt - 1, self.rng)
            self._wait(request, f"answered {response.status_code}", attempt, attempts, delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _wait(self, request: requests.PreparedRequest, why: str, attempt: int, attempts: int, delay: float) -> None:
        log.info(
            "%s %s %s; retry %d of %d in %.1fs",
            request.method,
            safe_url(request.url or ""),
            why,
            attempt,
            attempts - 1,
            delay,
        )
        self.sleep(delay)

    def _send_handling_auth(self, request: requests.PreparedRequest) -> requests.Response:
        """Send as the auth layer's flow asks: once, or once more after seeing the answer."""
        flow = auth_flow(self.auth, request)
        request = next(flow)
        while True:
            response = self._send_single_request(request)
            try:
                request = flow.send(response)
            except StopIteration:
                return response

    def _send_single_request(self, request: requests.PreparedRequest) -> requests.Response:
        """Send once through the session; the layer below's exceptions translated (network trouble: transient)."""
        url = request.url or ""
        # Per request: a session-level CA bundle would lose to REQUESTS_CA_BUNDLE.
        settings = self.session.merge_environment_settings(url, {}, False, self.verify, None)
        try:
            return self.session.send(
                request,
                timeout=self.timeouts.as_tuple(),
                allow_redirects=request.method in ("GET", "HEAD"),
                **settings,
            )
        except requests.exceptions.SSLError as exc:
            raise ServerError(
                f"TLS verification of {safe_url(url)} failed ({_reason(exc)}): the server's certificate "
                "is not one this machine trusts",
                setting="ca_bundle",
            ) from None
        except requests.exceptions.Timeout as exc:
            raise _Transient("timed out", _reason(exc)) from None
        except requests.exceptions.ConnectionError as exc:
            raise _Transient("connection failed", _reason(exc)) from None
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
            # The answer was cut short mid-body: the request may or may not have been done.
            raise _Transient("answer cut short", _reason(exc)) from None
        except requests.RequestException as exc:
            raise ServerError(
                f"{request.method} {safe_url(url)} failed: {type(exc).__name__} ({_reason(exc)})"
            ) from None

    def _same_origin(self, url: str) -> None:
        # Never send credentials to another host, e.g. by following a paging link.
        mine, theirs = urlsplit(self.base_url), urlsplit(url)
        if (mine.scheme, mine.netloc) != (theirs.scheme, theirs.netloc):
            raise ServerError(f"refusing to follow {safe_url(url)}: it is not on the server {self.base_url}")

    def _json(self, response: requests.Response) -> dict[str, Any] | None:
        method, url = response.request.method, response.url or response.request.url or ""
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

    def _error(self, response: requests.Response, note: str) -> ServerError:
        method, url = response.request.method, response.url or response.request.url or ""
        status = response.status_code
        outcome: dict[str, Any] | None = None
        try:
            value = response.json()
            if isinstance(value, dict) and value.get("resourceType") == "OperationOutcome":
                outcome = value
        except ValueError:
            pass
        detail = outcome_text(outcome) if outcome else (response.reason or "")
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

    def search(self, search: Search | str, params: Params | None = None) -> dict[str, Any]:
        """The first page of a search (a searchset Bundle), never from a cache.

        ``search`` is a :class:`~wb_fhir.fhir.references.Search`, or a resource type with ``params``.
        """
        search = _search(search, params)
        return _body(
            self.request("GET", search.resource_type, params=list(search.params), headers={"Cache-Control": "no-cache"})
        )

    def pages(
        self, search: Search | str, params: Params | None = None, *, max_pages: int = 10_000
    ) -> Iterator[dict[str, Any]]:
        """Every page of a search, following ``next`` links on the same server."""
        search = _search(search, params)
        page = self.search(search)
        for _ in range(max_pages):
            yield page
            following = next_link(page)
            if following is None:
                return
            page = _body(
                self.request("GET", urljoin(self.base_url + "/", following), headers={"Cache-Control": "no-cache"})
            )
        raise ServerError(f"a search of {search.resource_type} has more than {max_pages} pages; stopped")

    def search_all(
        self, search: Search | str, params: Params | None = None, *, mode: str = "match"
    ) -> Iterator[dict[str, Any]]:
        """Every resource a search finds (``mode`` match, or include for ``_include``d ones)."""
        for page in self.pages(search, params):
            for entry in page.get("entry", []):
                if entry.get("search", {}).get("mode", "match") == mode and "resource" in entry:
                    yield entry["resource"]

    def patient(self, nhs_number: str) -> dict[str, Any]:
        """The one Patient with this NHS number.

        :class:`~wb_fhir.errors.MatchError` when the server has none, or more than one; an
        :class:`~wb_fhir.errors.InputError` for a number that is not a valid NHS number.
        """
        if not nhs_number_valid(nhs_number):
            raise InputError("not a valid NHS number (ten digits with a modulus 11 check digit)", setting="nhs_number")
        page = self.search(Search("Patient").where(identifier=nhs_number_token(nhs_number)).count(2))
        found = [e["resource"] for e in page.get("entry", []) if e.get("search", {}).get("mode", "match") == "match"]
        if len(found) == 1:
            return dict(found[0])
        message = (
            "the server has no Patient with this NHS number"
            if not found
            else "the server has more than one Patient with this NHS number; sort that out on the server first"
        )
        raise MatchError(message, resource_type="Patient", found=len(found), setting="nhs_number")

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


def _search(search: Search | str, params: Params | None) -> Search:
    if isinstance(search, Search):
        if params is not None:
            raise ValueError("a Search carries its own parameters")
        return search
    pairs = params.items() if isinstance(params, Mapping) else (params or ())
    return Search(search, tuple((str(k), str(v)) for k, v in pairs))


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
