"""Sending one HTTP request within bounds: a wall-clock deadline, a cap on the answer, a redirect rule.

requests' timeouts bound each read of a socket, not the whole answer: a server that sends one
byte a second never trips them. Here a *watch* (a timer) shuts the request's socket down when
its deadline passes, whatever the request is doing (TLS handshake, sending, waiting for the
headers, reading the body), and bounds the name lookup before it (:meth:`Watch.resolve`): the
connection classes that :class:`WatchedAdapter` installs hand their sockets (and names) to the
watch of the thread using them. A session with another adapter (a test
double, a proxy library) keeps its own; its answers are still read in chunks and stopped at
the deadline between them.

The answer is read as a stream and refused past its cap: the ``Content-Length`` first, then
what actually arrives, counted after decompression. It is kept in one buffer (never joined
into a second copy), for the caller to decode and parse once, or written chunk by chunk into a
file.

Redirects are never left to requests: :func:`send` follows them itself, for reads only (GET,
HEAD), only within the origin (scheme, host, port) of the URL first asked, at most
``max_redirects`` times, and refuses ``http://`` beyond loopback after any of them. So
credentials and signed assertions never leave the server they were meant for.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urljoin

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from wb_fhir.sync._config import MIB, Timeouts, insecure_http, origin, safe_url
from wb_fhir.sync.scrub import scrub

CHUNK = 32 * 1024
"""Bytes asked for per read of the body (a compressed chunk may give up to ~1,000 times more)."""
READS = frozenset({"GET", "HEAD"})

_local = threading.local()


class SupportsWrite(Protocol):
    """Where a streamed answer goes (an open binary file, or anything with ``write(bytes)``)."""

    def write(self, data: bytes, /) -> object: ...


# --- what can go wrong, in terms callers translate into messages ---------------------------


class Trouble(Exception):
    """The request failed below HTTP: ``kind`` says how, ``reason`` why (scrubbed, short)."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(kind)
        self.kind, self.reason = kind, reason


class Transient(Trouble):
    """A network failure that may go away: the connection failed, timed out, or was cut short."""


class TlsFailed(Trouble):
    """The server's TLS certificate could not be verified."""


class DeadlineExceeded(Exception):
    """The request's deadline passed before the answer was complete."""


class TooLarge(Exception):
    """The answer is larger than the cap (``size`` when the server said so in Content-Length)."""

    def __init__(self, cap: int, size: int | None) -> None:
        super().__init__(cap)
        self.cap, self.size = cap, size


class WriteFailed(Exception):
    """Writing the answer into its sink failed (``error``: the OSError, e.g. a full disk)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class RedirectRefused(Exception):
    """A redirect that is not followed: to ``target``, answered with ``status``, because ``why``."""

    def __init__(self, target: str, status: int, why: str) -> None:
        super().__init__(why)
        self.target, self.status, self.why = target, status, why


FAILURES = (Trouble, DeadlineExceeded, TooLarge, RedirectRefused, WriteFailed)
"""What :func:`send` raises: :func:`in_words` says each in words."""


def in_words(failure: Exception, where: str, within: str) -> str:
    """A failure of :func:`send` as one sentence, the same for every caller.

    ``where`` is the request (:func:`describe`), ``within`` the deadline it had. Each caller
    chooses the error to raise and the setting it names: the wording is shared.
    """
    if isinstance(failure, DeadlineExceeded):
        return f"{where}: no complete answer within {within}"
    if isinstance(failure, TooLarge):
        said = f" (it announced {size_text(failure.size)})" if failure.size is not None else ""
        return (
            f"{where}: the answer is larger than the cap of {size_text(failure.cap)} on one answer{said}; "
            "nothing more was read"
        )
    if isinstance(failure, RedirectRefused):
        return (
            f"{where} answered {failure.status}, a redirect to {safe_url(failure.target)}: not followed ({failure.why})"
        )
    if isinstance(failure, TlsFailed):
        return (
            f"{where}: TLS verification failed ({failure.reason}): the server's certificate is not one this "
            "machine trusts"
        )
    if isinstance(failure, WriteFailed):
        return f"cannot write what the server sends: {failure.error.strerror or failure.error}"
    if isinstance(failure, Trouble):
        return f"{where} failed: {failure.kind} ({failure.reason})"
    return f"{where} failed: {type(failure).__name__}"


def size_text(n: int) -> str:
    """A number of bytes for a message: in MB from one MB up."""
    return f"{n / MIB:g} MB" if n >= MIB else f"{n} bytes"


# --- the watch: a deadline on the sockets of one request -----------------------------------


class Watch:
    """Shuts down every socket handed to it once ``seconds`` have passed (``fired`` then)."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self.ends = time.monotonic() + max(0.0, seconds)
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(max(0.0, seconds), self._fire)
        self._timer.daemon = True
        self._previous: Watch | None = None

    def __enter__(self) -> Watch:
        self._previous = getattr(_local, "watch", None)
        _local.watch = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _local.watch = self._previous

    def attach(self, sock: socket.socket) -> None:
        """Watch a socket (shut at once if the deadline has passed already)."""
        with self._lock:
            if self.fired:
                _shut(sock)
            else:
                self._sockets.append(sock)

    def resolve(self, host: str, port: int) -> None:
        """Wait for ``host`` to resolve, at most until the deadline (then :class:`DeadlineExceeded`).

        ``getaddrinfo`` takes no timeout, and there is no socket to shut while it waits: a
        resolver that never answers would hold the request past any deadline. So the name is
        looked up first in a thread of its own, and the connection is made only once it has
        answered (looking it up again, now answered at once from the resolver's cache, or
        quickly). An address (``127.0.0.1``, ``::1``) needs no lookup.
        """
        try:
            ipaddress.ip_address(host.strip("[]"))
            return
        except ValueError:
            pass
        lookup = threading.Thread(target=_lookup, args=(host, port), name="wb-fhir-dns", daemon=True)
        lookup.start()
        lookup.join(max(0.0, self.ends - time.monotonic()))
        if lookup.is_alive():
            self.fired = True
            raise DeadlineExceeded

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for sock in self._sockets:
                _shut(sock)


def _lookup(host: str, port: int) -> None:
    # Failures are the connection's to report, in its own words, when it looks the name up itself.
    with contextlib.suppress(OSError, UnicodeError):
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


def _shut(sock: socket.socket) -> None:
    # socket.socket's own shutdown, also for an SSLSocket: wakes a thread blocked in recv at once.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _attach(sock: socket.socket | None) -> None:
    watch: Watch | None = getattr(_local, "watch", None)
    if watch is not None and sock is not None:
        watch.attach(sock)


if TYPE_CHECKING:
    _Base = HTTPConnection
else:
    _Base = object


class _Watched(_Base):
    """Hands each socket it makes or reuses to the watch of the current thread."""

    def _new_conn(self) -> socket.socket:
        watch: Watch | None = getattr(_local, "watch", None)
        if watch is not None:
            watch.resolve(self._dns_host, self.port)
        sock = super()._new_conn()
        _attach(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach(self.sock)  # a connection kept alive from an earlier request
        super().request(*args, **kwargs)


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class WatchedAdapter(HTTPAdapter):
    """requests' adapter, with connections whose sockets the current request's watch can shut."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS brings connection classes of its own
            manager.pool_classes_by_scheme = dict(_POOLS)
        return manager


def watch_session(session: requests.Session) -> requests.Session:
    """Give a session watched connections, where it uses requests' plain adapter (others are kept)."""
    for prefix in ("https://", "http://"):
        adapter = session.adapters.get(prefix)
        if type(adapter) is HTTPAdapter:
            session.mount(
                prefix,
                WatchedAdapter(
                    pool_connections=getattr(adapter, "_pool_connections", 10),
                    pool_maxsize=getattr(adapter, "_pool_maxsize", 10),
                    max_retries=adapter.max_retries,
                    pool_block=getattr(adapter, "_pool_block", False),
                ),
            )
    return session


# --- one request, its redirects, and its answer --------------------------------------------


@dataclass(frozen=True)
class Bounds:
    """How one request is bounded: its end (``time.monotonic``), its caps, its redirects."""

    ends: float
    max_bytes: int
    max_redirects: int = 5
    follow: bool = True
    """Follow redirects (reads only, same origin); False: a redirect is refused."""
    allow_insecure_http: bool = False
    sink: SupportsWrite | None = None
    """Where a successful (2xx) body goes instead of memory."""
    sink_max_bytes: int | None = None
    """The cap for what goes to ``sink`` (default ``max_bytes``)."""


def send(
    session: requests.Session,
    request: requests.PreparedRequest,
    *,
    bounds: Bounds,
    timeouts: Timeouts,
    verify: bool | str,
) -> requests.Response:
    """Send a request and read its whole answer within ``bounds``; redirects as the module says.

    The answer's body is in ``response.content`` (empty when it went to ``bounds.sink``).
    Raises :class:`DeadlineExceeded`, :class:`TooLarge`, :class:`RedirectRefused`,
    :class:`WriteFailed`, :class:`TlsFailed`, :class:`Transient` or :class:`Trouble`.
    """
    first = origin(request.url or "")
    for _ in range(bounds.max_redirects + 1):
        response = _exchange(session, request, bounds, timeouts, verify)
        if not response.is_redirect:
            return response
        target = urljoin(request.url or "", response.headers.get("Location", ""))
        status = response.status_code
        if not bounds.follow or request.method not in READS:
            raise RedirectRefused(target, status, f"a redirect is not followed for {request.method}")
        if origin(target) != first:
            raise RedirectRefused(target, status, "it leads to another server")
        if insecure_http(target) and not bounds.allow_insecure_http:
            raise RedirectRefused(target, status, "it leads to http:// beyond this machine")
        request = request.copy()
        try:
            request.prepare_url(target, None)
        except requests.RequestException:
            raise RedirectRefused(target, status, "it is not a URL") from None
    raise RedirectRefused(target, status, f"more than {bounds.max_redirects} redirects")


def _exchange(
    session: requests.Session,
    request: requests.PreparedRequest,
    bounds: Bounds,
    timeouts: Timeouts,
    verify: bool | str,
) -> requests.Response:
    remaining = bounds.ends - time.monotonic()
    if remaining <= 0:
        raise DeadlineExceeded
    url = request.url or ""
    # Per request: a session-level CA bundle would lose to REQUESTS_CA_BUNDLE.
    settings = session.merge_environment_settings(url, {}, True, verify, None)
    timeout = (min(timeouts.connect, remaining), min(timeouts.read, remaining))
    response: requests.Response | None = None
    with Watch(remaining) as watch:
        try:
            response = session.send(request, timeout=timeout, allow_redirects=False, **settings)
            _read(response, bounds)
            if watch.fired:  # cut off mid-headers, http.client may take what it had for a whole answer
                raise DeadlineExceeded
            return response
        except (DeadlineExceeded, TooLarge, WriteFailed):
            raise
        except Exception as exc:
            if watch.fired or time.monotonic() >= bounds.ends:
                raise DeadlineExceeded from None
            raise translate(exc) from None
        finally:
            if response is not None:
                response.close()


def _read(response: requests.Response, bounds: Bounds) -> None:
    to_sink = bounds.sink is not None and 200 <= response.status_code < 300
    cap = (bounds.sink_max_bytes or bounds.max_bytes) if to_sink else bounds.max_bytes
    length = response.headers.get("Content-Length", "").strip()
    if length.isdigit() and int(length) > cap:
        raise TooLarge(cap, int(length))
    size = 0
    # One growing buffer: a large one grows in place (realloc), so the answer is never held twice here.
    body = bytearray()
    for chunk in response.iter_content(CHUNK):
        size += len(chunk)
        if size > cap:
            raise TooLarge(cap, None)
        if to_sink:
            assert bounds.sink is not None
            try:
                bounds.sink.write(chunk)
            except OSError as exc:
                raise WriteFailed(exc) from None
        else:
            body += chunk
        if time.monotonic() >= bounds.ends:
            raise DeadlineExceeded
    # A bytearray where requests keeps bytes: read from, never copied into bytes (a second whole copy).
    response._content = body  # type: ignore[assignment]


def translate(exc: BaseException) -> Exception:
    """The layer below's exception as a :class:`Trouble` (transient when it may go away)."""
    if isinstance(exc, requests.exceptions.SSLError):
        return TlsFailed("TLS verification failed", reason(exc))
    if isinstance(exc, requests.exceptions.Timeout):
        return Transient("timed out", reason(exc))
    if isinstance(exc, requests.exceptions.ConnectionError):
        return Transient("connection failed", reason(exc))
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError):
        # The answer was cut short mid-body: the request may or may not have been done.
        return Transient("answer cut short", reason(exc))
    if isinstance(exc, requests.RequestException | urllib3.exceptions.HTTPError | http.client.HTTPException):
        return Trouble(type(exc).__name__, reason(exc))
    if isinstance(exc, OSError | ValueError):
        return Transient("connection failed", reason(exc))
    return Trouble(type(exc).__name__, reason(exc))


def reason(exc: BaseException) -> str:
    """The root cause of an exception, short and scrubbed (urllib3 names URLs with their query)."""
    inner: BaseException = exc
    while inner.__context__ is not None and inner.__context__ is not inner:
        inner = inner.__context__
    text = scrub(str(inner) or type(inner).__name__)
    return text if len(text) < 200 else text[:200] + "..."


def describe(request: requests.PreparedRequest) -> str:
    """``METHOD url`` for messages: the URL without its query string."""
    return f"{request.method} {safe_url(request.url or '')}"
