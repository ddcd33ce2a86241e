"""Running inside an EHR's frame: who may embed the app, and cookies that still work there.

An EHR opens a SMART app in an ``<iframe>`` (or a tab). Two things decide whether that works:

- ``Content-Security-Policy: frame-ancestors``: the origins allowed to frame the app. None by
  default (``'none'``, with ``X-Frame-Options: DENY`` for old browsers); an EHR's origin is added
  by configuration, never guessed from a request.
- Cookies: inside a frame on another site, a cookie is only sent when it is ``SameSite=None;
  Secure``, and browsers that block third-party cookies keep it only when it is also
  ``Partitioned`` (CHIPS: one cookie jar per embedding site). Outside a frame the app's cookie is
  ``SameSite=Lax``: the OAuth redirect back from the EHR's authorization server is a top-level
  navigation from another site, which ``Strict`` would strip of the cookie (and so of the
  session that holds the PKCE verifier and ``state``). ``Secure`` is set under TLS, and always
  with ``SameSite=None`` (browsers refuse the one without the other; Chromium treats loopback
  ``http://`` as secure for this).

:class:`EmbeddingPolicy` is the configuration; :class:`EmbeddingHeaders` is a pure ASGI middleware
that puts its ``frame-ancestors`` into every response's CSP.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from wb_fhir.errors import InputError
from wb_fhir.sync.client import is_loopback

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_HOST = re.compile(r"^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*$|^[0-9a-f:.]+$")


def check_origin(origin: str) -> str:
    """An EHR origin as CSP wants it (``https://ehr.example.nhs.uk[:port]``, ``*.`` allowed); InputError otherwise."""
    parts = urlsplit(origin.strip())
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise InputError(f"frame ancestor {origin!r} has a port that is not a number") from None
    host = parts.hostname or ""
    if (
        parts.scheme not in ("https", "http")
        or not _HOST.match(host)
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        raise InputError(f"frame ancestor {origin!r} is not an origin like https://ehr.example.nhs.uk")
    if parts.scheme == "http" and not is_loopback(host):
        raise InputError(f"frame ancestor {origin!r} uses http://: an EHR that embeds the app must use https://")
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True, kw_only=True)
class EmbeddingPolicy:
    """Which EHR origins may frame the app, and whether it is served over TLS."""

    frame_ancestors: tuple[str, ...] = ()
    secure: bool = False
    """The app is reached over https:// (directly or through a reverse proxy)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "frame_ancestors", tuple(check_origin(o) for o in self.frame_ancestors))

    @property
    def embedded(self) -> bool:
        """Whether an EHR may frame the app."""
        return bool(self.frame_ancestors)

    @property
    def same_site(self) -> str:
        return "None" if self.embedded else "Lax"

    def frame_ancestors_directive(self) -> str:
        """The value of the CSP ``frame-ancestors`` directive."""
        return " ".join(self.frame_ancestors) if self.frame_ancestors else "'none'"

    def cookie_name(self, base: str) -> str:
        """``__Host-`` pins a Secure cookie to this origin (no Domain, Path=/)."""
        return f"__Host-{base}" if self.secure or self.embedded else base

    def set_cookie(self, base: str, value: str, *, max_age: int | None = None) -> str:
        """A ``Set-Cookie`` value: HttpOnly, Path=/, SameSite per embedding, Secure and Partitioned when framed."""
        parts = [f"{self.cookie_name(base)}={value}", "Path=/", "HttpOnly", f"SameSite={self.same_site}"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if self.secure or self.embedded:
            parts.append("Secure")
        if self.embedded:
            parts.append("Partitioned")
        return "; ".join(parts)

    def csp_with_frame_ancestors(self, csp: str | None) -> str:
        """A CSP with its ``frame-ancestors`` directive set to this policy's (added when absent)."""
        directives = [d.strip() for d in (csp or "").split(";") if d.strip()]
        kept = [d for d in directives if d.split()[0].lower() != "frame-ancestors"]
        return "; ".join([*kept, f"frame-ancestors {self.frame_ancestors_directive()}"])


class EmbeddingHeaders:
    """Pure ASGI middleware: every response's CSP gets the policy's ``frame-ancestors``.

    With EHR origins allowed, ``X-Frame-Options`` is dropped (it cannot name an origin, and a
    browser that honours it would refuse the frame); without, it is ``DENY``.
    """

    def __init__(self, app: ASGIApp, policy: EmbeddingPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                csp = next((v.decode("latin-1") for k, v in headers if k.lower() == b"content-security-policy"), None)
                kept = [(k, v) for k, v in headers if k.lower() not in (b"content-security-policy", b"x-frame-options")]
                kept.append((b"content-security-policy", self.policy.csp_with_frame_ancestors(csp).encode("latin-1")))
                if not self.policy.embedded:
                    kept.append((b"x-frame-options", b"DENY"))
                message["headers"] = kept
            await send(message)

        await self.app(scope, receive, send_with_policy)
