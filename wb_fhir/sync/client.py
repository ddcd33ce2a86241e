"""One HTTP client for FHIR R4 servers: timeouts, retries, errors, paging, capabilities.

Layers, each replaceable, as in httpx's client (``send`` -> ``_send_handling_auth`` ->
``_send_single_request``):

- :meth:`FhirClient.request` builds the request, sends it, and raises for an error status;
- :meth:`FhirClient._send` retries what is safe to repeat, with backoff;
- :meth:`FhirClient._send_handling_auth` runs the auth layer's flow
  (:func:`wb_fhir.sync.auth.auth_flow`: SMART renews its token after a 401 there);
- :meth:`FhirClient._send_single_request` sends once through the network, a ``requests.Session``
  (hand one in: the seam for tests), within bounds (:mod:`wb_fhir.sync._http`: a wall-clock
  deadline, a cap on the answer read as a stream, redirects only for reads and only on the
  same origin), and translates its exceptions.

Every request ends by its deadline (:class:`~wb_fhir.sync._config.Limits`, retries and waits
included) and by the command's (:class:`~wb_fhir.sync._config.Deadline`), whatever the server
does; an answer larger than its cap is refused, and parsed once.

What is retried, and why it is safe: GET, HEAD, PUT and DELETE are idempotent in HTTP, and a
transaction Bundle is idempotent when every entry is (``PUT``/``DELETE``/``GET``, or ``POST``
with ``ifNoneExist``). Every Bundle wb_fhir writes is made of conditional upserts
(``PUT Type?identifier=...``) plus one ``POST`` of a Provenance with ``ifNoneExist``, so
sending it twice stores it once (:func:`bundle_is_idempotent` decides, per Bundle). Anything
else is sent once.

Every failure of the layer below is translated here into the :mod:`wb_fhir.errors` tree:
:class:`~wb_fhir.errors.ServerError` with the status and the OperationOutcome (scrubbed),
:class:`~wb_fhir.errors.ConflictError` on 409/412, :class:`~wb_fhir.errors.AuthError` on
401/403. Messages name no token; URLs in them carry no query string (searches by NHS
number would otherwise leak it), and what the server echoes is scrubbed (:mod:`wb_fhir.sync.scrub`),
including the credentials this client sent.
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
from wb_fhir.sync import _http
from wb_fhir.sync._config import (
    FHIR_JSON,
    RETRY_STATUSES,
    USER_AGENT,
    Deadline,
    Limits,
    RetryPolicy,
    Timeouts,
    check_base_url,
    is_loopback,
    origin,
    safe_url,
)
from wb_fhir.sync._http import SupportsWrite, describe
from wb_fhir.sync.auth import Auth, auth_flow
from wb_fhir.sync.scrub import Scrubber, scrub

__all__ = [
    "FHIR_JSON",
    "RETRY_STATUSES",
    "USER_AGENT",
    "Deadline",
    "FhirClient",
    "FhirResponse",
    "Limits",
    "RawAnswer",
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
MAX_DEPTH = 100
"""JSON nested deeper than this is refused: FHIR resources nest a few dozen levels at most, and
code that walks them recursively must not meet a hostile server's thousand."""
_BATCH_REFUSED = (400, 404, 405, 422, 501)
"""Answers of a server that does not take a batch of searches (asked one at a time instead)."""


@dataclass(frozen=True)
class _Call:
    """The bounds of one call of :meth:`FhirClient.request` or :meth:`FhirClient.download`."""

    ends: float
    """When it must be done (``time.monotonic``), retries included."""
    deadline: str
    """Which deadline that is, for messages."""
    setting: str | None
    sink: SupportsWrite | None = None
    auth: bool = True

    def time_for(self, seconds: float) -> bool:
        """Whether waiting ``seconds`` still leaves time for another attempt."""
        return time.monotonic() + seconds < self.ends


@dataclass(frozen=True)
class FhirResponse:
    """The parts of an HTTP answer that callers use."""

    status: int
    headers: Mapping[str, str]
    body: dict[str, Any] | None

    @property
    def etag(self) -> str | None:
        return self.headers.get("ETag")


@dataclass(frozen=True)
class RawAnswer:
    """An answer outside the FHIR JSON contract (:meth:`FhirClient.download`): its bytes as they came."""

    status: int
    headers: Mapping[str, str]
    content: bytes
    """The body (empty when it was streamed into a file)."""


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
    """A client for one FHIR R4 server (``base_url`` like ``https://host/fhir``).

    ``limits`` bound every request (deadline, caps on answers, redirects); ``deadline`` is the
    command's, shared with the auth layer (none: each request is bounded on its own).
    """

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
    limits: Limits = field(default_factory=Limits)
    deadline: Deadline | None = None
    _no_batch: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        self.base_url = check_base_url(self.base_url, allow_insecure_http=self.allow_insecure_http)
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers["Accept"] = FHIR_JSON
        self.session.verify = self.verify
        _http.watch_session(self.session)

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

    def _call(self, seconds: float | None = None, *, sink: SupportsWrite | None = None, auth: bool = True) -> _Call:
        """The bounds of a call starting now: its own deadline, or the command's if that comes first."""
        if seconds is None:
            seconds = self.limits.request_seconds
            deadline, setting = f"the deadline of {seconds:g} s for one request", "deadline"
        else:
            deadline, setting = f"the deadline of {seconds:g} s for one download", None
        ends = time.monotonic() + seconds
        if self.deadline is not None and self.deadline.ends <= ends:
            ends = self.deadline.ends
            deadline = f"the deadline of {self.deadline.seconds:g} s for the whole command"
            setting = "command_deadline"
        return _Call(ends, deadline, setting, sink, auth)

    def _send(
        self, request: requests.PreparedRequest, attempts: int, call: _Call | None = None
    ) -> tuple[requests.Response, int]:
        """Send, retrying network failures and retryable statuses; the last answer and the attempts made.

        No retry starts when its wait would end past the call's deadline.
        """
        call = call or self._call()
        attempts = max(1, attempts)
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            try:
                response = self._send_handling_auth(request.copy(), call)
            except _http.Transient as exc:
                delay = self.retry.backoff(attempt - 1, self.rng)
                if last or not call.time_for(delay):
                    late = "" if last else f"; no time left for another attempt within {call.deadline}"
                    raise ServerError(
                        f"{describe(request)}: {exc.kind} after {attempt} attempt(s) ({exc.reason}){late}",
                        setting=None if last else call.setting,
                    ) from None
                self._wait(request, exc.kind, attempt, attempts, delay)
                continue
            if last or response.status_code not in self.retry.statuses:
                return response, attempt
            asked = retry_after_seconds(response.headers.get("Retry-After"), self.clock)
            if asked is not None and asked > self.retry.max_retry_after:
                raise self._error(response, f" (asked to retry after {asked:.0f}s: too long)")
            delay = asked if asked is not None else self.retry.backoff(attempt - 1, self.rng)
            if not call.time_for(delay):
                return response, attempt
            self._wait(request, f"answered {response.status_code}", attempt, attempts, delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _wait(self, request: requests.PreparedRequest, why: str, attempt: int, attempts: int, delay: float) -> None:
        log.info("%s %s; retry %d of %d in %.1fs", describe(request), why, attempt, attempts - 1, delay)
        self.sleep(delay)

    def _send_handling_auth(self, request: requests.PreparedRequest, call: _Call | None = None) -> requests.Response:
        """Send as the auth layer's flow asks: once, or once more after seeing the answer."""
        call = call or self._call()
        flow = auth_flow(self.auth if call.auth else None, request)
        request = next(flow)
        while True:
            response = self._send_single_request(request, call)
            try:
                request = flow.send(response)
            except StopIteration:
                return response

    def _send_single_request(self, request: requests.PreparedRequest, call: _Call | None = None) -> requests.Response:
        """Send once through the session, within bounds; the layer below's failures translated.

        Network trouble is :class:`~wb_fhir.sync._http.Transient` (``_send`` may retry it);
        anything else a :class:`~wb_fhir.errors.ServerError` saying what happened.
        """
        call = call or self._call()
        bounds = _http.Bounds(
            ends=call.ends,
            max_bytes=self.limits.max_response_bytes,
            max_redirects=self.limits.max_redirects,
            allow_insecure_http=self.allow_insecure_http,
            sink=call.sink,
            sink_max_bytes=self.limits.max_download_bytes,
        )
        try:
            return _http.send(self.session, request, bounds=bounds, timeouts=self.timeouts, verify=self.verify)
        except _http.Transient:
            raise
        except _http.WriteFailed as exc:
            raise InputError(_http.in_words(exc, describe(request), call.deadline)) from None
        except _http.FAILURES as exc:
            setting = {
                _http.TlsFailed: "ca_bundle",
                _http.DeadlineExceeded: call.setting,
                _http.TooLarge: "max_response" if call.sink is None else None,
            }.get(type(exc))
            raise ServerError(_http.in_words(exc, describe(request), call.deadline), setting=setting) from None

    def _same_origin(self, url: str) -> None:
        # Never send credentials to another host, e.g. by following a paging link.
        if origin(url) != origin(self.base_url):
            raise ServerError(f"refusing to follow {safe_url(url)}: it is not on the server {self.base_url}")

    def scrub(self, text: str) -> str:
        """Text fit to print or store: scrubbed (:mod:`wb_fhir.sync.scrub`), also of this client's credentials."""
        secrets = self.auth.secrets() if isinstance(self.auth, Auth) else frozenset()
        return Scrubber(secrets=secrets)(text) if secrets else scrub(text)

    def _json(self, response: requests.Response) -> dict[str, Any] | None:
        method, url = response.request.method, response.url or response.request.url or ""
        content = response.content
        if not content or content.isspace():
            return None
        size = len(content)
        ctype = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype not in _JSON_TYPES:
            shown = _short(self.scrub(ctype)) or "no content type"
            raise ServerError(
                f"{method} {safe_url(url)} answered {response.status_code} with {shown}, "
                "not FHIR JSON: is this the FHIR base URL (no proxy or login page in the way)?",
                status=response.status_code,
            )
        del content
        try:
            value = _parse(_take_text(response))
        except ValueError as exc:
            raise ServerError(
                f"{method} {safe_url(url)} answered {response.status_code} with {exc} "
                f"({size} bytes): the answer was cut short or is not FHIR",
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
            value = _parse(_take_text(response))
            if isinstance(value, dict) and value.get("resourceType") == "OperationOutcome":
                outcome = value
        except ValueError:
            pass
        reason = _short(self.scrub(response.reason or ""))
        detail = outcome_text(outcome) if outcome else reason
        message = f"{method} {safe_url(url)} failed: {status} {reason}".rstrip() + note
        if detail and detail != reason:
            message += "\n" + detail
        # Diagnostics may echo what was sent (an NHS number in a search, a token): never shown, nor kept.
        message = self.scrub(message)
        kept = _scrub_strings(outcome, self.scrub) if outcome is not None else None
        if status in (401, 403):
            hint = "the server refused the credentials" if status == 401 else "not allowed for these credentials"
            return AuthError(f"{message}\n({hint})", status=status, outcome=kept)
        if status in (409, 412):
            return ConflictError(message, status=status, outcome=kept)
        return ServerError(message, status=status, outcome=kept)

    def download(
        self,
        url: str,
        *,
        accept: str,
        auth: bool = True,
        into: SupportsWrite | None = None,
        ok: tuple[int, ...] = (),
    ) -> RawAnswer:
        """GET something outside the FHIR JSON contract (a Bulk Data manifest, an NDJSON file), within bounds.

        On this server's origin it carries the credentials when ``auth``; a URL elsewhere (a
        pre-signed storage URL) is fetched only over https and never with them. With ``into``
        a successful body is streamed there (at most ``limits.max_download_bytes``, within
        ``limits.download_seconds``, sent once); without, it is kept in memory (at most
        ``limits.max_response_bytes``, retried like any read). A status >= 400 not in ``ok``
        is a :class:`~wb_fhir.errors.ServerError`.
        """
        url = self.url(url)
        same = origin(url) == origin(self.base_url)
        if not same and (auth or urlsplit(url).scheme != "https"):
            raise ServerError(f"refusing to fetch {safe_url(url)}: not on the server {self.base_url}")
        prepared = self.session.prepare_request(requests.Request("GET", url, headers={"Accept": accept}))
        seconds = self.limits.download_seconds if into is not None else None
        call = self._call(seconds, sink=into, auth=auth and same)
        response, attempts = self._send(prepared, 1 if into is not None else self.retry.attempts, call)
        if response.status_code >= 400 and response.status_code not in ok:
            raise self._error(response, f" after {attempts} attempts" if attempts > 1 else "")
        return RawAnswer(response.status_code, response.headers, response.content)

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
        yield from self._following(self.search(search), search, max_pages)

    def _following(self, page: dict[str, Any], search: Search, max_pages: int = 10_000) -> Iterator[dict[str, Any]]:
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
        yield from _resources(self.pages(search, params), mode)

    def search_each(self, searches: Sequence[Search]) -> list[list[dict[str, Any]]]:
        """Every resource each search finds: the first pages asked for in one batch request.

        One request instead of one a search (the server's work for each is the same, the rest of
        a request's cost is paid once). Later pages are followed one by one; a search the batch
        could not answer is asked alone, which reports its error in full; a server that refuses
        batches is asked one search at a time from then on.
        """
        if len(searches) < 2 or self._no_batch:
            return [list(self.search_all(s)) for s in searches]
        batch = {
            "resourceType": "Bundle",
            "type": "batch",
            "entry": [{"request": {"method": "GET", "url": s.url}} for s in searches],
        }
        try:
            # HAPI hands the batch's headers to each search in it: no-cache keeps them fresh too
            answer = _body(self.request("POST", "", body=batch, headers={"Cache-Control": "no-cache"}, idempotent=True))
        except ServerError as exc:
            if exc.status not in _BATCH_REFUSED:
                raise
            log.debug("the server refused a batch of searches (%s): searching one at a time", exc.status)
            self._no_batch = True
            return [list(self.search_all(s)) for s in searches]
        entries = answer.get("entry", [])
        if answer.get("type") != "batch-response" or len(entries) != len(searches):
            raise ServerError(
                f"the answer to a batch of {len(searches)} searches is not a batch-response with as many entries"
            )
        found = []
        for search, entry in zip(searches, entries, strict=True):
            page = entry.get("resource")
            if not str(entry.get("response", {}).get("status", "")).startswith("2") or not (
                isinstance(page, dict) and page.get("type") == "searchset"
            ):
                found.append(list(self.search_all(search)))
            else:
                found.append(list(_resources(self._following(page, search), "match")))
        return found

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


def _resources(pages: Iterator[dict[str, Any]], mode: str) -> Iterator[dict[str, Any]]:
    for page in pages:
        for entry in page.get("entry", []):
            if entry.get("search", {}).get("mode", "match") == mode and "resource" in entry:
                yield entry["resource"]


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


def _take_text(response: requests.Response) -> str:
    """The answer as text, taken out of the response: its bytes are freed before the text is parsed.

    An answer is held at most twice (bytes, then text; then text and what it parses into), not
    the five times of reading, joining, stripping, decoding and parsing copies.
    """
    content = response.content
    response._content = b""
    try:
        return content.decode(json.detect_encoding(content), "surrogatepass")
    except (UnicodeDecodeError, TypeError):
        return ""


def _parse(text: str) -> Any:
    """JSON parsed once; a ValueError saying why it is not acceptable."""
    if not text:
        raise ValueError("text that is not UTF-8 JSON")
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError:
        raise ValueError("malformed JSON") from None
    if _deeper_than(value, MAX_DEPTH):
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels")
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    # Iterative, so a deep document cannot exhaust the stack here either.
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _scrub_strings(node: Any, scrubber: Callable[[str], str]) -> Any:
    """A copy of a JSON value with every string scrubbed (the OperationOutcome a ServerError keeps)."""
    if isinstance(node, str):
        return scrubber(node)
    if isinstance(node, dict):
        return {k: _scrub_strings(v, scrubber) for k, v in node.items()}
    if isinstance(node, list):
        return [_scrub_strings(v, scrubber) for v in node]
    return node


def _short(text: str, limit: int = 80) -> str:
    """A server's own words (a reason phrase, a content type), cut to a line."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


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
