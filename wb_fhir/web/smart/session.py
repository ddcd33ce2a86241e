"""What a SMART launch leaves on the server side: the context, the tokens, the flow in progress.

The browser holds one opaque, random session id (a cookie); everything else lives in a
:class:`TokenStore` in this process, keyed by that id. Tokens never reach the browser, a page,
a log line or an error message.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

SESSION_TTL = 12 * 3600
"""Seconds a SMART session lives without use (a clinical shift)."""
PENDING_TTL = 600
"""Seconds between sending the browser to the authorization server and its coming back."""


@dataclass(frozen=True)
class LaunchContext:
    """Who launched the app, for which person, on which FHIR server, with what permissions.

    ``patient`` and ``encounter`` are FHIR ids on ``iss``; ``fhir_user`` is ``Practitioner/123``
    when the user is a resource on ``iss`` (else the absolute URL the EHR gave). ``missing`` are
    the scopes the app needs and the EHR did not grant (empty: everything works).
    """

    iss: str
    patient: str | None
    encounter: str | None
    fhir_user: str | None
    granted: tuple[str, ...]
    missing: tuple[str, ...] = ()
    need_patient_banner: bool = True

    @property
    def patient_reference(self) -> str | None:
        return f"Patient/{self.patient}" if self.patient else None


@dataclass
class Pending:
    """An authorization request in flight: what the callback checks and needs."""

    state: str
    code_verifier: str
    nonce: str
    iss: str
    scope: tuple[str, ...]
    ehr_launch: bool
    created: float = field(default_factory=time.monotonic)

    def __repr__(self) -> str:
        return f"Pending(iss={self.iss!r}, ehr_launch={self.ehr_launch}, state=***, code_verifier=***)"


@dataclass
class Tokens:
    """The tokens of one session, and where to refresh them."""

    access_token: str
    expires_at: float
    token_endpoint: str
    refresh_token: str | None = None

    def __repr__(self) -> str:
        return f"Tokens(expires_at={self.expires_at:.0f}, refresh={'yes' if self.refresh_token else 'no'})"


@dataclass
class SmartSession:
    """One browser's SMART state."""

    pending: Pending | None = None
    context: LaunchContext | None = None
    tokens: Tokens | None = None
    last_used: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class TokenStore:
    """SMART sessions in memory, keyed by an opaque id, forgotten after :data:`SESSION_TTL` unused."""

    def __init__(self, ttl: float = SESSION_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._sessions: dict[str, SmartSession] = {}
        self._lock = threading.Lock()

    @staticmethod
    def new_id() -> str:
        """A fresh session id (256 random bits)."""
        return secrets.token_urlsafe(32)

    def get(self, session_id: str | None) -> SmartSession | None:
        """The live session with this id, if any."""
        if not session_id:
            return None
        now = self._clock()
        with self._lock:
            found = self._sessions.get(session_id)
            if found is None or now - found.last_used > self._ttl:
                self._sessions.pop(session_id, None)
                return None
            found.last_used = now
            return found

    def open(self, session_id: str) -> SmartSession:
        """The session with this id, made when there is none (expired ones are swept first)."""
        now = self._clock()
        with self._lock:
            for key in [k for k, s in self._sessions.items() if now - s.last_used > self._ttl]:
                del self._sessions[key]
            found = self._sessions.setdefault(session_id, SmartSession(last_used=now))
            found.last_used = now
            return found

    def forget(self, session_id: str) -> None:
        """End a session (sign out): its tokens are dropped."""
        with self._lock:
            self._sessions.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._sessions)
