"""Requests that are not FHIR, held to the bounds FhirClient keeps: discovery, key sets, OAuth 2.

The SMART launch's discovery (``.well-known/smart-configuration``), its token exchanges (made by
Authlib's OAuth 2 client), the key sets that check an ``id_token`` or a CDS Hooks JWT: none is
FHIR, and each comes from a server as little to be trusted as a FHIR server.
:class:`BoundedSession` is a ``requests.Session`` whose every request goes through the layer
:class:`~wb_fhir.sync.client.FhirClient` sends through (:mod:`wb_fhir.sync._http`):

- a wall-clock deadline on the whole exchange (``limits.request_seconds``, or the command's
  :class:`~wb_fhir.sync._config.Deadline` when that comes first), whatever the server does;
- the answer read as a stream and refused past ``max_bytes`` (default ``limits.max_token_bytes``);
- redirects followed only for GET and HEAD, only within the origin first asked, at most
  ``limits.max_redirects`` times, and none at all with ``follow_redirects=False`` (a token
  request: the code, the PKCE verifier or a signed assertion go where they were sent, nowhere
  else); ``http://`` beyond loopback refused after any redirect;
- TLS verified with ``verify`` on every request (``True``, or a CA bundle).

An OAuth library built on requests takes one as its session (Authlib: ``oauth.session = ...``).
The settings requests passes to ``send`` (``timeout``, ``verify``, ``allow_redirects``...) are
replaced by these bounds. Failures are :class:`~wb_fhir.errors.ServerError` (``setting`` says
which setting would help), never an exception of requests.
"""

from __future__ import annotations

import json
import time
from typing import Any

import requests

from wb_fhir.errors import ServerError
from wb_fhir.sync import _http
from wb_fhir.sync._config import USER_AGENT, Deadline, Limits, Timeouts, safe_url

__all__ = ["BoundedSession"]


class BoundedSession(requests.Session):
    """A ``requests.Session`` whose every request is bounded as FhirClient's are (see the module).

    ``transport`` is the session that meets the network (default: a new ``requests.Session``,
    its sockets watched by the deadline): the seam for tests and proxies.
    """

    def __init__(
        self,
        *,
        limits: Limits | None = None,
        timeouts: Timeouts | None = None,
        verify: bool | str = True,
        allow_insecure_http: bool = False,
        deadline: Deadline | None = None,
        max_bytes: int | None = None,
        follow_redirects: bool = True,
        transport: requests.Session | None = None,
    ) -> None:
        super().__init__()
        self.limits = limits or Limits()
        self.timeouts = timeouts or Timeouts()
        self.verify = self._verify = verify
        self.allow_insecure_http = allow_insecure_http
        self.deadline = deadline
        self.max_bytes = max_bytes or self.limits.max_token_bytes
        self.follow_redirects = follow_redirects
        self.headers["User-Agent"] = USER_AGENT
        self._transport = _http.watch_session(transport or requests.Session())

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        """Send within the bounds; the whole answer is in ``response.content``."""
        seconds = self.limits.request_seconds
        ends = time.monotonic() + seconds
        late, setting = f"the deadline of {seconds:g} s for one request", "deadline"
        if self.deadline is not None and self.deadline.ends <= ends:
            ends, setting = self.deadline.ends, "command_deadline"
            late = f"the deadline of {self.deadline.seconds:g} s for the whole command"
        bounds = _http.Bounds(
            ends=ends,
            max_bytes=self.max_bytes,
            max_redirects=self.limits.max_redirects,
            follow=self.follow_redirects,
            allow_insecure_http=self.allow_insecure_http,
        )
        where = _http.describe(request)
        try:
            return _http.send(self._transport, request, bounds=bounds, timeouts=self.timeouts, verify=self._verify)
        except _http.FAILURES as exc:
            raise ServerError(
                _http.in_words(exc, where, late),
                status=exc.status if isinstance(exc, _http.RedirectRefused) else None,
                setting={_http.DeadlineExceeded: setting, _http.TlsFailed: "ca_bundle"}.get(type(exc)),
            ) from None

    def get_json(self, url: str) -> dict[str, Any]:
        """GET a JSON object (a discovery document, a key set); a ServerError for anything else."""
        response = self.get(url, headers={"Accept": "application/json"})
        try:
            body = json.loads(response.content)
        except (ValueError, RecursionError):
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            status = response.status_code
            raise ServerError(f"GET {safe_url(url)} answered {status} without a JSON object", status=status)
        return body

    def close(self) -> None:
        self._transport.close()
        super().close()
