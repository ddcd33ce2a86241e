"""Running inside an EHR's frame: who may embed the app, and cookies that still work there.

An EHR opens a SMART app in an ``<iframe>`` (or a tab). Two things decide whether that works:

- ``Content-Security-Policy: frame-ancestors``: the origins allowed to frame the app. None by
  default (``'none'``, with ``X-Frame-Options: DENY`` for old browsers); an EHR's origin is added
  by configuration, never guessed from a request.
- Cookies: inside a frame on another site, a cookie is only sent when it is ``SameSite=None;
  Secure``, and browsers that block third-party cookies keep it only when it is also
  ``Partitioned`` (CHIPS: one cookie jar per embedding site). Outside a frame an app that signs
  in through an EHR (SMART) needs ``SameSite=Lax``: the OAuth redirect back from the EHR's
  authorization server is a top-level navigation from another site, which ``Strict`` would strip
  of the cookie (and so of the session that holds the PKCE verifier and ``state``). An app that
  signs in nowhere else keeps ``Strict``. ``Secure`` is set under TLS, and always with
  ``SameSite=None`` (browsers refuse the one without the other; Chromium treats loopback
  ``http://`` as secure for this).

:class:`EmbeddingPolicy` is the one place these are decided: the app's guard takes its
``frame-ancestors`` and its cookies from it, and so does the SMART launcher.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from wb_fhir.errors import InputError
from wb_fhir.sync.client import is_loopback

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
    """Which EHR origins may frame the app, whether it is served over TLS, whether it signs in elsewhere."""

    frame_ancestors: tuple[str, ...] = ()
    secure: bool = False
    """The app is reached over https:// (directly or through a reverse proxy)."""
    sign_in_redirect: bool = True
    """The app signs in through another site's redirect (SMART): its cookies must survive it."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "frame_ancestors", tuple(check_origin(o) for o in self.frame_ancestors))

    @property
    def embedded(self) -> bool:
        """Whether an EHR may frame the app."""
        return bool(self.frame_ancestors)

    @property
    def same_site(self) -> str:
        """``None`` in a frame, ``Lax`` where the sign-in comes back from another site, else ``Strict``."""
        if self.embedded:
            return "None"
        return "Lax" if self.sign_in_redirect else "Strict"

    def frame_ancestors_directive(self) -> str:
        """The value of the CSP ``frame-ancestors`` directive."""
        return " ".join(self.frame_ancestors) if self.frame_ancestors else "'none'"

    def cookie_name(self, base: str) -> str:
        """``__Host-`` pins a Secure cookie to this origin (no Domain, Path=/)."""
        return f"__Host-{base}" if self.secure or self.embedded else base

    def set_cookie(self, base: str, value: str) -> str:
        """A ``Set-Cookie`` value: HttpOnly, Path=/, SameSite per embedding, Secure and Partitioned when framed."""
        parts = [f"{self.cookie_name(base)}={value}", "Path=/", "HttpOnly", f"SameSite={self.same_site}"]
        if self.secure or self.embedded:
            parts.append("Secure")
        if self.embedded:
            parts.append("Partitioned")
        return "; ".join(parts)
