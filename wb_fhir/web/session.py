"""Sessions: who is using the app, and the token that guards every write (CSRF).

A session is found by a random id in a cookie (HttpOnly, SameSite, Secure under TLS) and kept
on the server side only; the browser never holds anything but that id. The identity layer is
pluggable: :class:`LocalIdentity` (the embedded default: the person at this computer) names no
one; an EHR launch replaces it with the launching practitioner and patient.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from wb_fhir.web.launched import Launched

SESSION_TTL = 12 * 3600
"""Seconds a session lives without use."""


@dataclass
class Session:
    """One browser's session: its CSRF token, who is using it, the person in context."""

    id: str
    csrf: str
    user: str | None = None
    """The practitioner using the app, when an identity layer knows them."""
    patient: str | None = None
    """The person the session is limited to (``nhs:...``), when launched for one."""
    launched: Launched | None = None
    """The SMART launch the session was opened by: the person's record and the practitioner."""
    data: dict[str, Any] = field(default_factory=dict)
    """What an identity layer keeps per session (tokens stay here, never in the browser)."""
    last_used: float = field(default_factory=time.monotonic)

    def csrf_ok(self, token: str | None) -> bool:
        """True when ``token`` is this session's CSRF token (compared in constant time)."""
        return bool(token) and hmac.compare_digest(self.csrf.encode(), str(token).encode())


class SessionStore:
    """Sessions in memory, ended after :data:`SESSION_TTL` seconds unused."""

    def __init__(self, ttl: float = SESSION_TTL) -> None:
        self._ttl = ttl
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id, if there is one."""
        if not session_id:
            return None
        now = time.monotonic()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None or now - session.last_used > self._ttl:
                self._sessions.pop(session_id, None)
                return None
            session.last_used = now
            return session

    def new(self) -> Session:
        """A new session with fresh random id and CSRF token."""
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32))
        with self._lock:
            now = time.monotonic()
            for key in [k for k, s in self._sessions.items() if now - s.last_used > self._ttl]:
                del self._sessions[key]
            self._sessions[session.id] = session
        return session

    def end(self, session_id: str) -> None:
        """Forget a session."""
        with self._lock:
            self._sessions.pop(session_id, None)


class Identity(Protocol):
    """Decides who a new session belongs to (an EHR launch fills in user and patient)."""

    def start(self, session: Session) -> None:
        """Fill in a new session."""


class LocalIdentity:
    """The embedded default: the practitioner and person at this computer, not named."""

    def start(self, session: Session) -> None:
        """Nothing to fill in: the app serves this computer only."""
