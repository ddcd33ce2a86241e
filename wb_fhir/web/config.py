"""How the web app runs: where it keeps maps, which server it writes to, how it is protected."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from wb_fhir.errors import InputError
from wb_fhir.sync import FhirClient
from wb_fhir.web.cds_hooks import CdsConfig
from wb_fhir.web.embedding import EmbeddingPolicy
from wb_fhir.web.session import Session
from wb_fhir.web.smart import SmartConfig

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
MAX_BODY = 8 * 1024 * 1024
"""Largest request body accepted (an imported map file, a draft)."""
SESSION_COOKIE = "wbf-session"


@dataclass(frozen=True, kw_only=True)
class WebConfig:
    """Everything the app needs to know about where it runs.

    ``store_path`` is the app's SQLite store of maps; ``server`` the FHIR server maps are also
    written to (None: kept here only) and ``client`` makes the client for a session (one for
    all); ``assets_path`` is the community asset directory to sign-post from. ``secure`` marks
    cookies Secure (the app is served over TLS, directly or by a reverse proxy);
    ``allowed_hosts`` are the Host headers accepted (DNS rebinding protection);
    ``frame_ancestors`` are the EHR origins that may embed the app (none by default).

    Inside an EHR: ``smart`` makes the app a SMART App Launch app (every page then needs a
    launch, and each session reads and writes the launching EHR's FHIR server with its own
    token, so ``server`` and ``client`` stay None); ``cds`` adds the CDS Hooks service.
    """

    store_path: Path
    outbox_path: Path | None = None
    server: str | None = None
    client: Callable[[Session], FhirClient] | None = None
    assets_path: Path | None = None
    secure: bool = False
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS
    frame_ancestors: tuple[str, ...] = ()
    smart: SmartConfig | None = None
    cds: CdsConfig | None = None
    max_body: int = MAX_BODY
    extra_csp: dict[str, str] = field(default_factory=dict)
    """Directives added to the Content-Security-Policy (e.g. for an EHR's identity provider)."""

    def __post_init__(self) -> None:
        # checked (and written as CSP wants them) once, here
        object.__setattr__(self, "frame_ancestors", self.embedding.frame_ancestors)
        if self.smart is not None and (self.server is not None or self.client is not None):
            raise InputError(
                "a SMART launch brings its own FHIR server (the launching EHR's): "
                "the app cannot also write to one fixed server"
            )
        if self.cds is not None and self.smart is None:
            raise InputError("the CDS Hooks card opens the app by a SMART launch: the app needs its SMART registration")

    @property
    def embedding(self) -> EmbeddingPolicy:
        """Frame ancestors and cookies: the one policy the guard and the SMART launcher both follow."""
        return EmbeddingPolicy(
            frame_ancestors=self.frame_ancestors, secure=self.secure, sign_in_redirect=self.smart is not None
        )

    @property
    def cookie_name(self) -> str:
        """The session cookie's name (``__Host-`` pins it to this origin when it is Secure)."""
        return self.embedding.cookie_name(SESSION_COOKIE)

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
            "frame-ancestors": self.embedding.frame_ancestors_directive(),
        }
        directives.update(self.extra_csp)
        return "; ".join(f"{k} {v}" for k, v in directives.items())
