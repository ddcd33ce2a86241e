"""Configuration of the HTTP layer as small values, and the URL rules every request follows."""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from wb_fhir import __version__
from wb_fhir.errors import InputError
from wb_fhir.sync.scrub import scrub

USER_AGENT = f"wb-fhir/{__version__} (+https://wb-fhir.org) python-requests/{requests.__version__}"
FHIR_JSON = "application/fhir+json"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for a connection and for each read of the answer."""

    connect: float = 10.0
    read: float = 60.0

    def as_tuple(self) -> tuple[float, float]:
        return (self.connect, self.read)


MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Bounds on every request, whatever the server does.

    ``request_seconds`` is the wall-clock time one request may take in all (connecting,
    sending, waiting for the headers, reading the body, every retry and the waits between
    them): a server that drips one byte a second is cut off there, whatever the per-read
    :class:`Timeouts`. Answers are read as a stream and refused past their cap: FHIR JSON
    (``max_response_bytes``), the SMART token endpoint (``max_token_bytes``), files
    downloaded to disk such as Bulk Data NDJSON (``max_download_bytes``, within
    ``download_seconds``). Redirects are followed at most ``max_redirects`` times.
    """

    request_seconds: float = 300.0
    max_response_bytes: int = 64 * MIB
    max_token_bytes: int = 1 * MIB
    download_seconds: float = 3600.0
    max_download_bytes: int = 4096 * MIB
    max_redirects: int = 5

    def __post_init__(self) -> None:
        if min(self.request_seconds, self.download_seconds) <= 0:
            raise InputError("a deadline must be more than 0 seconds", setting="deadline")
        if min(self.max_response_bytes, self.max_token_bytes, self.max_download_bytes) <= 0:
            raise InputError("a cap on the size of answers must be more than 0 bytes", setting="max_response")


class Deadline:
    """A wall-clock end shared by every request of one command (``None`` seconds: no end).

    It starts when made; ``ends`` is on the ``time.monotonic`` clock, as every request's own end.
    """

    def __init__(self, seconds: float | None) -> None:
        if seconds is not None and seconds <= 0:
            raise InputError("the command deadline must be more than 0 seconds", setting="command_deadline")
        self.seconds = seconds
        self.ends = math.inf if seconds is None else time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left (``inf`` when there is no deadline)."""
        return self.ends - time.monotonic()

    def __repr__(self) -> str:
        return f"Deadline({self.seconds!r})"


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


def check_base_url(url: str, *, allow_insecure_http: bool = False, what: str = "server URL") -> str:
    """The URL without a trailing slash; refuse ``http://`` beyond loopback unless insisted on."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{what} must be an http:// or https:// URL, got {url!r}")
    if parts.scheme == "http" and not allow_insecure_http and not is_loopback(parts.hostname):
        raise InputError(
            f"{what} {url} uses http:// to a host that is not this machine: health records must travel over https://",
            setting="allow_insecure_http",
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


def origin(url: str) -> tuple[str, str, int]:
    """Scheme, host and port of a URL (the port spelt out): what "the same server" means."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or (443 if scheme == "https" else 80)


def insecure_http(url: str) -> bool:
    """Whether a URL is ``http://`` to a host that is not this machine (refused unless insisted on)."""
    parts = urlsplit(url)
    return parts.scheme.lower() != "https" and not is_loopback(parts.hostname or "")


def safe_url(url: str) -> str:
    """A URL for messages and logs: no query string (it may hold an NHS number), no user info.

    The path is scrubbed too (a server's redirect or paging link may carry an NHS number or a token).
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    query = "?..." if parts.query else ""
    return f"{parts.scheme}://{host}{port}{scrub(parts.path)}{query}"
