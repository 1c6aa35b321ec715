"""A fault-injecting HTTP/1.1 proxy for tests: client -> FaultProxy -> real registry.

Every request is forwarded to ``upstream`` (a ``host:port``) unless a :class:`Fault` matches
it; a fault can act before forwarding (hang, reset, close, delay, answer itself) or rewrite
the registry's answer (truncate or corrupt the body, rewrite or strip
``Docker-Content-Digest``). With ``tls=`` the proxy terminates TLS with the given server
context, so a plain-HTTP registry can be reached over HTTPS with a throwaway CA.

One thread per connection and one request per connection (the proxy answers
``Connection: close``), which keeps the framing trivial; httpx simply reconnects.
Every request is recorded (method, path, headers) so tests can assert what the client sent,
e.g. that no ``Authorization`` header reached another host.
"""

from __future__ import annotations

import functools
import hashlib
import re
import socket
import socketserver
import ssl
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Self

from devtools.service import Service

# Actions that answer without asking the registry.
HANG = "hang"  # accept, read the request, never answer (until the proxy stops)
RESET = "reset"  # close with a TCP RST before answering
CLOSE = "close"  # close cleanly before answering (an empty reply)
RESPOND = "respond"  # answer with status/headers/body given in the fault
RAW = "raw"  # send ``body`` as is (no HTTP framing at all), then close
# Actions that forward, then change the answer.
DELAY = "delay"  # wait ``seconds`` before forwarding
TRUNCATE = "truncate"  # send half the body (Content-Length unchanged), then close
CORRUPT = "corrupt"  # replace the body with ``body`` (non-JSON by default), fix Content-Length
DIGEST = "digest"  # rewrite Docker-Content-Digest to another, well-formed digest
STRIP_DIGEST = "strip-digest"  # drop Docker-Content-Digest
HANG_BODY = "hang-body"  # send the headers, then never the body
RELOCATE = "relocate"  # rewrite the answer's Location onto ``origin`` (another server)
TRICKLE = "trickle"  # send the headers, then the body one byte every ``seconds``
CALL = "call"  # run ``callback()`` (e.g. a competing push), then forward

WRONG_DIGEST = "sha256:" + hashlib.sha256(b"not the manifest").hexdigest()


@dataclass
class Fault:
    action: str
    method: str | None = None  # None: any method
    path: str | None = None  # regular expression searched in the request path
    times: int | None = None  # None: every matching request
    seconds: float = 0.0
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"<html>this is not a manifest</html>"
    origin: str = ""  # RELOCATE: scheme://host:port the Location is moved to
    callback: Callable[[], object] | None = None  # CALL
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method is not None and self.method != method:
            return False
        return self.path is None or _compiled(self.path).search(path) is not None


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    # re's own cache holds 512 patterns: a test with more faults would recompile each time.
    return re.compile(pattern)


@dataclass(frozen=True)
class Seen:
    """One request the proxy received."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes = b""


class FaultProxy(Service):
    """Use as a context manager; ``upstream=None`` makes a server with no registry behind it
    (every request needs a fault, e.g. ``HANG``)."""

    def __init__(
        self, upstream: str | None, *, tls: ssl.SSLContext | None = None, bind: str = "127.0.0.1"
    ) -> None:
        self.upstream = upstream
        self.tls = tls
        self.bind = bind  # e.g. 127.0.0.2: another origin on the same machine
        self.faults: list[Fault] = []
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> Self:
        server = _Server((self.bind, 0), _Handler)
        server.proxy = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases every hanging handler
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def port(self) -> int:
        assert self._server is not None, "FaultProxy is not started"
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        return f"{self.bind}:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    # -- faults -------------------------------------------------------------------------

    def add(self, action: str, **kwargs: object) -> Fault:
        fault = Fault(action, **kwargs)  # type: ignore[arg-type]
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()

    def seen(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method)
                and (path is None or re.search(path, r.path))
            ]

    def _match(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Fault | None:
        with self._lock:
            self.requests.append(Seen(method, path, headers, body))
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.hits += 1
                    return fault
        return None

    # -- one connection -----------------------------------------------------------------

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(10)
        if self.tls is not None:
            try:
                sock = self.tls.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError):
                return
        try:
            self._exchange(sock)
        except OSError:
            pass  # the client gave up first (e.g. its timeout during a hang)
        finally:
            sock.close()

    def _exchange(self, sock: socket.socket) -> None:
        try:
            head, body = _read_request(sock)
        except (OSError, ValueError):
            return
        request_line, headers = _parse_head(head)
        method, path, _ = request_line.split(" ", 2)
        fault = self._match(method, path, headers, body)
        action = fault.action if fault else None
        if action == HANG or (action is None and self.upstream is None):
            self._stopping.wait()
            return
        if action == RESET:
            # SO_LINGER with a zero timeout turns close() into a RST.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()  # now, before socketserver's shutdown(SHUT_WR) would send a FIN
            return
        if action == CLOSE:
            return
        if fault is not None and action == RAW:
            sock.sendall(fault.body)
            return
        if fault is not None and action == RESPOND:
            _send(sock, fault.status, fault.headers, fault.body, method)
            return
        if fault is not None and action == DELAY and self._stopping.wait(fault.seconds):
            return
        if fault is not None and action == CALL and fault.callback is not None:
            fault.callback()
        status_line, response_headers, response_body = self._forward(method, path, head, body)
        if fault is not None:
            self._rewrite(fault, sock, status_line, response_headers, response_body, method)
            return
        sock.sendall(_head(status_line, response_headers) + response_body)

    def _rewrite(
        self,
        fault: Fault,
        sock: socket.socket,
        status_line: str,
        headers: list[tuple[str, str]],
        body: bytes,
        method: str,
    ) -> None:
        if fault.action == TRUNCATE:
            sock.sendall(_head(status_line, headers) + body[: len(body) // 2])
            return
        if fault.action == HANG_BODY:
            sock.sendall(_head(status_line, headers))
            self._stopping.wait()
            return
        if fault.action == TRICKLE:
            sock.sendall(_head(status_line, headers))
            for i in range(len(body)):
                if self._stopping.wait(fault.seconds):
                    return
                sock.sendall(body[i : i + 1])
            return
        if fault.action == RELOCATE:
            location = dict((k.lower(), v) for k, v in headers).get("location", "")
            path = re.sub(r"^[a-z]+://[^/]+", "", location)
            headers = _set(headers, "Location", fault.origin + path)
        if fault.action == CORRUPT:
            body = fault.body
            headers = _set(headers, "Content-Length", str(len(body)))
            headers = _set(headers, "Docker-Content-Digest", None)
            for name, value in fault.headers.items():
                headers = _set(headers, name, value)
        elif fault.action == DIGEST:
            headers = _set(headers, "Docker-Content-Digest", WRONG_DIGEST)
        elif fault.action == STRIP_DIGEST:
            headers = _set(headers, "Docker-Content-Digest", None)
        sock.sendall(_head(status_line, headers) + (b"" if method == "HEAD" else body))

    def _forward(
        self, method: str, path: str, head: bytes, body: bytes
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        assert self.upstream is not None
        host, port = self.upstream.rsplit(":", 1)
        request_line, headers = _parse_head(head)
        lines = [request_line]
        for name, value in headers.items():
            if name in ("connection", "host", "keep-alive"):
                continue
            lines.append(f"{name}: {value}")
        lines += [f"Host: {self.upstream}", "Connection: close"]
        upstream = socket.create_connection((host, int(port)), timeout=10)
        with upstream:
            upstream.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            chunks = []
            while chunk := upstream.recv(65536):
                chunks.append(chunk)
        raw = b"".join(chunks)
        response_head, _, response_body = raw.partition(b"\r\n\r\n")
        status_line, *header_lines = response_head.decode("latin-1").split("\r\n")
        response_headers = [
            (name.strip(), value.strip())
            for name, _, value in (line.partition(":") for line in header_lines)
            if name.strip().lower() != "connection"
        ]
        return status_line, response_headers, response_body


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    request_queue_size = 256  # a burst of concurrent connections is not refused
    daemon_threads = True
    block_on_close = False
    proxy: FaultProxy


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        self.server.proxy._serve(self.request)


def _read_request(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ValueError("connection closed before a request")
        data += chunk
        if len(data) > 1 << 20:
            raise ValueError("request head too large")
    head, _, body = data.partition(b"\r\n\r\n")
    _, headers = _parse_head(head)
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head, body


def _parse_head(head: bytes) -> tuple[str, dict[str, str]]:
    request_line, *lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return request_line, headers


def _set(headers: list[tuple[str, str]], name: str, value: str | None) -> list[tuple[str, str]]:
    kept = [(k, v) for k, v in headers if k.lower() != name.lower()]
    return kept if value is None else [*kept, (name, value)]


def _head(status_line: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [status_line, *(f"{k}: {v}" for k, v in headers), "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _send(
    sock: socket.socket, status: int, headers: dict[str, str], body: bytes, method: str
) -> None:
    items = [(k, v) for k, v in headers.items() if k.lower() != "content-length"]
    items.append(("Content-Length", str(len(body))))
    sock.sendall(_head(f"HTTP/1.1 {status} Fault", items) + (b"" if method == "HEAD" else body))


def wait_until(predicate: Callable[[], object], timeout: float = 5.0) -> None:
    """Poll ``predicate()`` until true (the proxy records requests from its own threads)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
