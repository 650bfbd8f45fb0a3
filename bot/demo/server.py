"""A small HTTP server on 127.0.0.1 that serves canned responses: the demo's sample sources, and the
tests' stand-in for the real web (conditional GET, redirects, slow, hanging, dripping, gzip, endless)."""

from __future__ import annotations

import gzip
import hashlib
import socket
import ssl
import struct
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/xml; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    etag: bool = True  # send an ETag and answer If-None-Match with 304
    last_modified: str | None = None  # send it and answer If-Modified-Since with 304
    redirect: str | None = None  # answer with a 302 to this location
    delay: float = 0.0  # seconds before the status line
    drip: float = 0.0  # seconds between 16-byte chunks of the body
    hang: bool = False  # never answer (until the server stops)
    endless: bool = False  # a body that never ends
    gzip: bool = False
    lie_length: bool = False  # a Content-Length far larger than the body is
    reset: bool = False  # reset the connection (TCP RST) instead of answering

    def etag_value(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


class _Server(ThreadingHTTPServer):
    # The standard backlog of 5 overflows when a poll opens dozens of connections at once on a busy machine, and
    # the clients see resets: a local server answering every source of a benchmark must queue them all.
    request_queue_size = 256
    daemon_threads = True


class LocalServer:
    """`with LocalServer() as server: server.route("/feed", Route(body=...)); server.url("/feed")`."""

    def __init__(self, routes: dict[str, Route] | None = None, host: str = "127.0.0.1", port: int = 0,
                 tls: ssl.SSLContext | None = None):
        self.routes: dict[str, Route] = dict(routes or {})
        self.hits: Counter[str] = Counter()
        self.active = 0  # requests being answered now
        self.most_active = 0  # the most ever answered at once
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.faults: dict[str, deque[Route]] = {}  # answered before the path's route, each once
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._httpd = _Server((host, port), _handler_for(self))
        self.scheme = "https" if tls else "http"
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="local-http", daemon=True)  # stop() waits at most one interval

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def route(self, path: str, route: Route) -> None:
        with self._lock:
            self.routes[path] = route

    def fault(self, path: str, route: Route, *, times: int = 1) -> None:
        """Answer the next `times` requests for `path` with `route`, then go back to its usual route."""
        with self._lock:
            self.faults.setdefault(path, deque()).extend([route] * times)

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _handler_for(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            with server._lock:
                server.active += 1
                server.most_active = max(server.most_active, server.active)
            try:
                self._answer()
            finally:
                with server._lock:
                    server.active -= 1

        def _answer(self) -> None:
            path = self.path
            with server._lock:
                queued = server.faults.get(path.split("?", 1)[0])
                route = queued.popleft() if queued else (
                    server.routes.get(path) or server.routes.get(path.split("?", 1)[0]))
                server.hits[path.split("?", 1)[0]] += 1
                server.requests.append((path, {k.lower(): v for k, v in self.headers.items()}))
            if route is None:
                return self._send(404, b"not found", "text/plain")
            if route.reset:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return None
            if route.hang:
                server._stopping.wait(60)
                return None
            if route.delay and server._stopping.wait(route.delay):
                return None
            if route.redirect:
                return self._send(302, b"", "text/plain", {"Location": route.redirect})
            headers = dict(route.headers)
            if route.status == 200:
                if route.etag:
                    tag = route.etag_value()
                    headers["ETag"] = tag
                    if self.headers.get("If-None-Match") == tag:
                        return self._send(304, b"", None, headers)
                if route.last_modified:
                    headers["Last-Modified"] = route.last_modified
                    if self.headers.get("If-Modified-Since") == route.last_modified:
                        return self._send(304, b"", None, headers)
            if route.endless:
                return self._endless(route)
            body = route.body
            if route.gzip:
                body = gzip.compress(body)
                headers["Content-Encoding"] = "gzip"
            return self._send(route.status, body, route.content_type, headers, drip=route.drip,
                              length=len(body) * 100 + 1000 if route.lie_length else None)

        def _send(self, status: int, body: bytes, content_type: str | None, headers: dict[str, str] | None = None,
                  *, drip: float = 0.0, length: int | None = None) -> None:
            try:
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                if status != 304:
                    self.send_header("Content-Length", str(length if length is not None else len(body)))
                self.send_header("Date", formatdate(usegmt=True))
                self.end_headers()
                if not drip:
                    self.wfile.write(body)
                    return
                for start in range(0, len(body), 16):
                    if server._stopping.wait(drip):
                        return
                    self.wfile.write(body[start : start + 16])
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return
            if length is not None:
                self.close_connection = True

        def _endless(self, route: Route) -> None:
            try:
                self.send_response(200)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b"<item><title>more</title></item>" * 2000
                deadline = time.monotonic() + 30
                while not server._stopping.is_set() and time.monotonic() < deadline:
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True

    return Handler
