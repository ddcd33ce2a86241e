"""Configuration of the HTTP layer as small values, and the URL rules every request follows."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from wb_fhir import __version__
from wb_fhir.errors import InputError

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


def safe_url(url: str) -> str:
    """A URL for messages and logs: no query string (it may hold an NHS number), no user info."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    query = "?..." if parts.query else ""
    return f"{parts.scheme}://{host}{port}{parts.path}{query}"
