"""Hostile HTTP servers on loopback, for tests: every answer is written by hand, byte by byte if need be.

A :class:`HostileServer` accepts connections on ``127.0.0.1`` and, for each request, calls the
test's handler with an :class:`Exchange`: the parsed request, and ways to answer it (whole,
dripped a byte at a time, streamed without end, redirected). Requests are recorded, so a test
can check what a server was sent (an ``Authorization`` header, a client assertion). Threads are
daemonic, every socket operation has a timeout and every handler a time limit, so a test can
never hang on a server; a client that hangs up ends the handler (a broken pipe is expected).
"""

from __future__ import annotations

import contextlib
import datetime
import gzip
import ipaddress
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
}
FHIR = "application/fhir+json"


@dataclass
class Request:
    """One request as the server read it."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.target).query)


class Hangup(Exception):
    """The client hung up (what a client that gives up on a hostile server does)."""


@dataclass
class Exchange:
    """A request and the socket to answer it on."""

    request: Request
    sock: socket.socket
    stop: threading.Event
    ends: float

    def send(self, data: bytes) -> None:
        if self.stop.is_set() or time.monotonic() > self.ends:
            raise Hangup
        try:
            self.sock.sendall(data)
        except OSError:
            raise Hangup from None

    def head(self, status: int, headers: dict[str, str] | None = None) -> bytes:
        lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def answer(
        self, status: int = 200, body: bytes | str | Any = b"", *, content_type: str = FHIR, **headers: str
    ) -> None:
        """A whole answer (``body`` as bytes, text, or a JSON value)."""
        if not isinstance(body, bytes | str):
            body = json.dumps(body)
        data = body.encode("utf-8") if isinstance(body, str) else body
        fields = {"Content-Type": content_type, "Content-Length": str(len(data)), **_header_names(headers)}
        self.send(self.head(status, fields) + data)

    def json(self, value: Any, status: int = 200, **headers: str) -> None:
        self.answer(status, json.dumps(value).encode(), **headers)

    def drip(self, data: bytes, every: float = 0.2) -> None:
        """Send ``data`` a byte at a time, ``every`` seconds apart (until the client hangs up)."""
        for i in range(len(data)):
            self.send(data[i : i + 1])
            time.sleep(every)

    def stream(self, status: int, chunks: Iterator[bytes], **headers: str) -> None:
        """An answer of unknown length (no Content-Length: it ends when the connection does)."""
        fields = {"Content-Type": FHIR, **_header_names(headers)}
        self.send(self.head(status, fields))
        for chunk in chunks:
            self.send(chunk)

    def redirect(self, location: str, status: int = 302) -> None:
        self.answer(status, b"", content_type="text/plain", Location=location)


def _header_names(headers: dict[str, str]) -> dict[str, str]:
    # Python names (Content_Encoding) as HTTP names (Content-Encoding).
    return {k.replace("_", "-"): v for k, v in headers.items()}


Handler = Callable[[Exchange], None]


@dataclass
class HostileServer:
    """Serve ``handler`` on a free loopback port (a context manager)."""

    handler: Handler
    limit: float = 30.0
    """Seconds a handler may run before its answer is cut off."""
    tls: ssl.SSLContext | None = None
    """Serve https with this context (``handshake=False``: accept, then never shake hands)."""
    handshake: bool = True
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = int(self._listener.getsockname()[1])
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        if self.tls is not None:
            if not self.handshake:
                self._stop.wait(self.limit)
                conn.close()
                return
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except OSError:
                conn.close()
                return
        with conn:
            try:
                request = _read_request(conn)
            except (OSError, ValueError):
                return
            if request is None:
                return
            self.requests.append(request)
            with contextlib.suppress(Hangup):
                self.handler(Exchange(request, conn, self._stop, time.monotonic() + self.limit))


def _read_request(conn: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return Request(method, target, headers, rest[:length])


# --- answers a test reaches for often -----------------------------------------------------------


def zeros(total: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    """``total`` bytes of JSON-looking filler, a chunk at a time (never held whole)."""
    block = b" " * chunk
    sent = 0
    yield b'{"resourceType": "Bundle", "type": "searchset", "entry": []'
    while sent < total:
        yield block
        sent += chunk
    yield b"}"


def gzip_bomb(size: int) -> bytes:
    """A gzip body that inflates to ``size`` bytes of spaces."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b" " * (1 << 20)
    parts = [compressor.compress(block) for _ in range(size >> 20)]
    parts.append(compressor.flush())
    data = b"".join(parts)
    assert len(gzip.decompress(data)) == size
    return data


def bundle(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """A searchset Bundle of these resources (all matches)."""
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources],
    }


def echo_outcome(request: Request) -> dict[str, Any]:
    """An OperationOutcome that echoes the request: its line (searches), its Authorization header, its body."""
    echoed = (
        f"HAPI-0000: cannot process {request.method} {request.target}; "
        f"Authorization: {request.headers.get('authorization', '-')}; "
        f"token {request.headers.get('authorization', '').removeprefix('Bearer ')}; "
        f"body {request.body[:2000].decode('utf-8', 'replace')}"
    )
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "processing", "diagnostics": echoed}],
    }


def self_signed(folder: Path) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context for 127.0.0.1 and the CA file a client trusts it with."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "server.pem", folder / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context, cert_path


# --- a hostile disk ------------------------------------------------------------------------------


def read_only_run(args: list[str], folder: Path) -> subprocess.CompletedProcess[str]:
    """Run wb-fhir with ``folder`` read-only: by its mode, or, for root (who writes anything), in a
    mount namespace of its own where the folder is mounted read-only (nothing outside it changes)."""
    command = [sys.executable, "-m", "wb_fhir", *args]
    if os.geteuid() != 0:
        for each in folder.iterdir():
            os.chmod(each, 0o400)
        os.chmod(folder, 0o500)
    else:
        unshare = shutil.which("unshare")
        if unshare is None:
            pytest.skip("root, and no unshare(1) to make a read-only mount")
        script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" && shift && exec "$@"'
        command = [
            unshare,
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            script,
            "sh",
            str(folder),
            *command,
        ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if os.geteuid() == 0 and ("mount:" in done.stderr or "unshare:" in done.stderr):
        pytest.skip(f"cannot make a read-only mount here: {done.stderr.strip()[:200]}")
    return done
