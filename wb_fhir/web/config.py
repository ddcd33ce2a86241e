"""How the web app runs: where it keeps maps, which server it writes to, how it is protected."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from wb_fhir.sync import FhirClient
from wb_fhir.web.session import Session

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
MAX_BODY = 8 * 1024 * 1024
"""Largest request body accepted (an imported map file, a draft)."""


@dataclass(frozen=True, kw_only=True)
class WebConfig:
    """Everything the app needs to know about where it runs.

    ``store_path`` is the app's SQLite store of maps; ``server`` the FHIR server maps are also
    written to (None: kept here only) and ``client`` makes the client for a session (one for
    all, or each session's own); ``assets_path`` is the community asset
    directory to sign-post from. ``secure`` marks cookies Secure (the app is served over TLS,
    directly or by a reverse proxy); ``allowed_hosts`` are the Host headers accepted (DNS
    rebinding protection); ``frame_ancestors`` are the origins that may embed the app (none by
    default); ``same_site`` is the session cookie's SameSite value.
    """

    store_path: Path
    outbox_path: Path | None = None
    server: str | None = None
    client: Callable[[Session], FhirClient] | None = None
    assets_path: Path | None = None
    secure: bool = False
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    frame_ancestors: tuple[str, ...] = ()
    same_site: str = "strict"
    max_body: int = MAX_BODY
    extra_csp: dict[str, str] = field(default_factory=dict)
    """Directives added to the Content-Security-Policy (e.g. for an EHR's identity provider)."""

    @property
    def cookie_name(self) -> str:
        # The __Host- prefix pins the cookie to this origin; browsers accept it only when Secure.
        return "__Host-wbf-session" if self.secure else "wbf-session"

    def content_security_policy(self) -> str:
        """The app's CSP: its own scripts, styles and fetches only, no inline script, no other origin."""
        directives = {
            "default-src": "'none'",
            "script-src": "'self'",
            "style-src": "'self'",
            "img-src": "'self' data: blob:",
            "connect-src": "'self'",
            "font-src": "'self'",
            "form-action": "'self'",
            "base-uri": "'none'",
            "object-src": "'none'",
            "frame-ancestors": " ".join(self.frame_ancestors) if self.frame_ancestors else "'none'",
        }
        directives.update(self.extra_csp)
        return "; ".join(f"{k} {v}" for k, v in directives.items())
