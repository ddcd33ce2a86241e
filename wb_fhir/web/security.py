"""The app's guard (pure ASGI middleware): hosts, sessions, CSRF on every write, security headers.

Every request: the Host header must be one the app serves (a page elsewhere cannot reach a
loopback app through DNS rebinding); the session comes from its cookie or is started. Every
write (any method but GET, HEAD, OPTIONS) must carry the session's CSRF token, in the
``X-CSRF-Token`` header or a ``csrf_token`` form field, and an ``Origin`` (when the browser
sends one) of the app itself; otherwise 403 and the handler never runs. The body is read once
here (refused beyond ``max_body``) and handed on unchanged. Every response gets the strict
CSP and the other security headers, and is never cached.

Server-to-server endpoints that authenticate each call themselves (the CDS Hooks service: a JWT
signed by the EHR) are ``open_paths``: no session is started for them and no CSRF token asked
of them, since no browser calls them; everything else still applies.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from wb_fhir.web.config import SESSION_COOKIE, WebConfig
from wb_fhir.web.session import Identity, Session, SessionStore

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


class Refused(Exception):
    """A request the guard refuses: HTTP status and a plain message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Guard:
    """Wraps the app: see the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        config: WebConfig,
        sessions: SessionStore,
        identity: Identity,
        *,
        open_paths: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.config = config
        self.sessions = sessions
        self.identity = identity
        self.open_paths = open_paths
        self.headers = self._security_headers()

    def _security_headers(self) -> list[tuple[bytes, bytes]]:
        headers = {
            "content-security-policy": self.config.content_security_policy(),
            "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer",
            "cross-origin-opener-policy": "same-origin",
            "cross-origin-resource-policy": "same-origin",
            "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        }
        if not self.config.embedding.embedded:
            # it cannot name an origin: with EHR origins allowed, frame-ancestors alone decides
            headers["x-frame-options"] = "DENY"
        if self.config.secure:
            headers["strict-transport-security"] = "max-age=31536000"
        return [(k.encode(), v.encode()) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if self._open(scope["path"]):
            try:
                self._check_host(headers)
                if scope["method"] not in SAFE_METHODS:
                    receive = _replay(await self._body(receive), receive)
            except Refused as exc:
                await self._plain(exc.status, str(exc), scope, receive, send)
                return
            await self.app(scope, receive, self._with_headers(send, None, scope["path"]))
            return
        try:
            self._check_host(headers)
            session, fresh = self._session(headers)
            scope.setdefault("state", {})["session"] = session
            if scope["method"] not in SAFE_METHODS:
                receive = await self._check_write(scope, receive, headers, session)
        except Refused as exc:
            await self._plain(exc.status, str(exc), scope, receive, send)
            return

        await self.app(scope, receive, self._with_headers(send, session if fresh else None, scope["path"]))

    def _open(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self.open_paths)

    def _with_headers(self, send: Send, new_session: Session | None, path: str) -> Send:
        """``send`` adding the security headers (and the cookie of a session started now)."""
        cache = b"no-cache" if path.startswith("/static/") else b"no-store"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                own = {k.lower() for k, _ in raw}
                out = [h for h in self.headers if h[0] not in own] + [(b"cache-control", cache)]
                if new_session is not None:
                    out.append((b"set-cookie", self._cookie(new_session).encode()))
                message["headers"] = raw + out
            await send(message)

        return send_with_headers

    def _check_host(self, headers: Headers) -> None:
        host = headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
        if name.lower() not in self.config.allowed_hosts:
            raise Refused(400, "This app does not serve that host name.")

    def _session(self, headers: Headers) -> tuple[Session, bool]:
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed cookie header is the same as none
            cookie = SimpleCookie()
        morsel = cookie.get(self.config.cookie_name)
        session = self.sessions.get(morsel.value if morsel else None)
        if session is not None:
            return session, False
        session = self.sessions.new()
        self.identity.start(session)
        return session, True

    def _cookie(self, session: Session) -> str:
        return self.config.embedding.set_cookie(SESSION_COOKIE, session.id)

    async def _check_write(self, scope: Scope, receive: Receive, headers: Headers, session: Session) -> Receive:
        origin = headers.get("origin")
        if origin is not None and origin != "null":
            own = (
                f"{'https' if self.config.secure or scope.get('scheme') == 'https' else 'http'}://{headers.get('host')}"
            )
            if origin != own:
                raise Refused(403, "Refused: this change did not come from a page of this app.")
        body = await self._body(receive)
        token = headers.get(CSRF_HEADER)
        if token is None:
            content_type = headers.get("content-type", "")
            if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
                request = Request(scope, _replay(body, None))
                form = await request.form()
                value = form.get(CSRF_FIELD)
                token = value if isinstance(value, str) else None
                await form.close()
        if not session.csrf_ok(token):
            raise Refused(403, "Refused: this change did not carry the page's security token. Reload the page.")
        return _replay(body, receive)

    async def _body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise Refused(400, "The request was cut short.")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.config.max_body:
                raise Refused(413, "Refused: that is too large.")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _plain(self, status: int, text: str, scope: Scope, receive: Receive, send: Send) -> None:
        response: Response = PlainTextResponse(text, status_code=status)
        for key, value in self.headers:
            response.headers[key.decode()] = value.decode()
        await response(scope, receive, send)


def _replay(body: bytes, then: Receive | None) -> Receive:
    """A receive channel that gives the body read already, then waits on the real one."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if then is None:
            return {"type": "http.disconnect"}
        return await then()

    return receive
