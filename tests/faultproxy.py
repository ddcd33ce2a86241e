"""A loopback HTTP proxy that injects faults in front of a FHIR server (for tests only).

Each request from the client is read whole (headers and Content-Length body), then treated
by the next fault of a script (or by a seeded random choice):

    pass           forward, answer with the server's answer
    reset-before   close the connection without forwarding (the server never sees it)
    reset-after    forward, let the server commit, then close without answering
    delay          forward after waiting ``delay`` seconds (past the client's read timeout)
    503            answer 503 with ``Retry-After: 0`` without forwarding
    truncate       forward, then send only the first half of the server's answer and close

Threads are daemonic, every wait has a timeout, and the proxy serves at most
``max_requests`` requests, so a test can never hang on it. Only loopback addresses are used.
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable

FAULTS = ("pass", "reset-before", "reset-after", "delay", "503", "truncate")


class FaultProxy:
    """Serve on ``127.0.0.1:port``, forwarding to ``upstream_port`` with faults."""

    def __init__(
        self,
        upstream_port: int,
        *,
        script: Iterable[str] = (),
        weights: dict[str, float] | None = None,
        seed: int = 7,
        delay: float = 2.5,
        max_requests: int = 2000,
        timeout: float = 60.0,
    ) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.script = deque(script)
        self.weights = weights or {"pass": 1.0}
        self.rng = random.Random(seed)
        self.delay = delay
        self.max_requests = max_requests
        self.timeout = timeout
        self.counts: Counter[str] = Counter()
        self._served = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _next_fault(self) -> str:
        with self._lock:
            self._served += 1
            if self._served > self.max_requests:
                return "reset-before"
            if self.script:
                fault = self.script.popleft()
            else:
                names = list(self.weights)
                fault = self.rng.choices(names, [self.weights[n] for n in names])[0]
            self.counts[fault] += 1
            return fault

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        client.settimeout(self.timeout)
        try:
            while not self._stop.is_set():
                request = _read_request(client)
                if request is None:
                    return
                fault = self._next_fault()
                if fault == "reset-before":
                    _reset(client)
                    return
                if fault == "503":
                    client.sendall(
                        b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Length: 0\r\n"
                        b"Connection: close\r\n\r\n"
                    )
                    return
                if fault == "delay":
                    time.sleep(self.delay)
                answer = self._forward(request)
                if fault == "reset-after":
                    _reset(client)
                    return
                if fault == "truncate":
                    client.sendall(answer[: len(answer) // 2])
                    return
                client.sendall(answer)
                return
        except OSError:
            return
        finally:
            client.close()

    def _forward(self, request: bytes) -> bytes:
        with socket.create_connection(self.upstream, timeout=self.timeout) as upstream:
            upstream.sendall(request)
            chunks = []
            while True:
                data = upstream.recv(65536)
                if not data:
                    break
                chunks.append(data)
        return b"".join(chunks)


def _read_request(sock: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > 1 << 20:
            return None
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = 0
    kept = []
    for line in lines:
        name = line.split(b":", 1)[0].strip().lower()
        if name == b"content-length":
            length = int(line.split(b":", 1)[1])
        if name == b"connection":
            continue
        kept.append(line)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        body += chunk
    # One request per connection keeps the proxy simple: the server closes after answering.
    kept.append(b"Connection: close")
    return b"\r\n".join(kept) + b"\r\n\r\n" + body


def _reset(sock: socket.socket) -> None:
    # SO_LINGER 0 makes close() send a TCP RST, like a dropped connection.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()
