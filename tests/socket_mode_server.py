"""A fake of Slack's Socket Mode on 127.0.0.1, for tests that drive the real `briefbot run` process: the recording
Web API of tests/slack_server.py plus `apps.connections.open`, which hands out `ws://` URLs on a WebSocket server
written here on the standard library (RFC 6455: text, ping, pong and close frames; no TLS, no extensions).

    with SocketModeSlack() as slack:                     # env: SLACK_API_URL=slack.api_url, SLACK_APP_TOKEN=xapp-…
        link = slack.socket.wait_for_connection(1)       # the process called apps.connections.open and connected
        envelope_id = link.envelope("slash_commands", {...}, accepts_response_payload=True)
        link.wait_for_ack(envelope_id)                   # {"envelope_id": …, "payload": {...}} as the app sent it
        link.disconnect("refresh_requested")             # Slack asks for a new connection; the client reconnects
        slack.socket.wait_for_connection(2)

What Slack does, and so this server: each URL from apps.connections.open carries a one-time ticket and is refused
once used or unknown; on connecting, Slack sends `hello` at once; envelopes carry an `envelope_id` the app acks
with `{"envelope_id": …}` (plus `payload` where `accepts_response_payload`); `disconnect` is a message, not a close,
and the old connection stays open until the client lets it go. slack_sdk's built-in client (the one Bolt's
`SocketModeHandler` uses) connects without TLS to any port but 443, so `ws://127.0.0.1:PORT/…` works as is.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import itertools
import json
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from tests.slack_server import APP_ID, Call, SlackServer

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
MAX_FRAME = 1 << 20  # a client frame larger than this is a protocol error here (Slack's acks are small)
_T = TypeVar("_T")


def accept_key(key: str) -> str:
    """Sec-WebSocket-Accept for a client's Sec-WebSocket-Key."""
    return base64.b64encode(hashlib.sha1((key + _GUID).encode()).digest()).decode()


def frame(opcode: int, payload: bytes) -> bytes:
    """One unmasked, final frame (a server never masks)."""
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([n])
    elif n < 1 << 16:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    return head + payload


def _nonce_ok(key: str) -> bool:
    """A Sec-WebSocket-Key is 16 random bytes in base64 (RFC 6455 §4.1)."""
    try:
        return len(base64.b64decode(key, validate=True)) == 16
    except (binascii.Error, ValueError):
        return False


class ProtocolError(Exception):
    """The client broke RFC 6455 (an unmasked frame, a huge one, a fragmented control frame)."""


def _wait(condition: Callable[[], _T | None], *, timeout: float, what: str | Callable[[], str]) -> _T:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what() if callable(what) else what}")
        time.sleep(0.02)


@dataclass(frozen=True)
class Received:
    """A text message the client sent, parsed (an ack is `{"envelope_id": …}` with an optional `payload`)."""

    message: dict[str, Any]
    at: float  # time.monotonic()


class SocketConnection:
    """One accepted WebSocket connection: send Slack's messages on it, read what the app sent back."""

    def __init__(self, server: SocketModeServer, sock: socket.socket, number: int, ticket: str) -> None:
        self.server = server
        self.number = number  # 1 for the first connection the server accepted
        self.ticket = ticket
        self.closed = threading.Event()
        self.closed_by: str | None = None  # "client" (close frame or EOF) or "server"
        self.close_code: int | None = None
        self.errors: list[str] = []  # protocol errors the client made
        self._sock = sock
        self._send_lock = threading.Lock()
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self._pings: list[bytes] = []
        self._pongs: list[bytes] = []
        self._sent: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._reader = threading.Thread(target=self._read_loop, name=f"socket-mode-{number}", daemon=True)

    def start(self) -> None:
        self._reader.start()

    # -- what Slack sends

    def send(self, message: dict[str, Any]) -> None:
        with self._lock:
            self._sent.append(message)
        self._send_frame(TEXT, json.dumps(message).encode())

    def hello(self) -> None:
        """What Slack sends first on every connection."""
        self.send({"type": "hello", "num_connections": self.number,
                   "debug_info": {"host": "applink-local", "build_number": 1, "approximate_connection_time": 18060},
                   "connection_info": {"app_id": self.server.app_id}})

    def envelope(self, kind: str, payload: dict[str, Any], *, accepts_response_payload: bool = False,
                 retry_attempt: int = 0, retry_reason: str = "") -> str:
        """Send one envelope ("slash_commands", "events_api" or "interactive") around `payload`; its id."""
        envelope_id = f"{uuid.uuid4()}-{self.number}-{next(self._ids)}"
        message: dict[str, Any] = {"envelope_id": envelope_id, "payload": payload, "type": kind,
                                   "accepts_response_payload": accepts_response_payload}
        if kind == "events_api":
            message.update(retry_attempt=retry_attempt, retry_reason=retry_reason)
        self.send(message)
        return envelope_id

    def disconnect(self, reason: str = "refresh_requested") -> None:
        """Slack's notice that this connection will go away: "refresh_requested" (it is about to be refreshed),
        "warning" (10 seconds left) or "link_disabled" (Socket Mode turned off). The socket stays open."""
        self.send({"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-local"}})

    def ping(self, payload: bytes = b"slack") -> None:
        self._send_frame(PING, payload)

    def close(self, code: int = 1000) -> None:
        """A server-initiated close: a close frame, then the socket is shut."""
        with contextlib.suppress(OSError):
            self._send_frame(CLOSE, struct.pack("!H", code))
        self._finish("server", code)

    # -- what the app sent

    def received(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.message for r in self._received]

    def acks(self) -> dict[str, dict[str, Any]]:
        """The app's acks by envelope id."""
        return {str(m["envelope_id"]): m for m in self.received() if "envelope_id" in m}

    def pongs(self) -> list[bytes]:
        with self._lock:
            return list(self._pongs)

    def pings(self) -> list[bytes]:
        with self._lock:
            return list(self._pings)

    def wait_for_ack(self, envelope_id: str, *, timeout: float = 10.0) -> dict[str, Any]:
        return _wait(lambda: self.acks().get(envelope_id), timeout=timeout,
                     what=lambda: f"an ack of {envelope_id} on connection {self.number}; received {self.received()}")

    def wait_closed(self, *, timeout: float = 10.0) -> None:
        if not self.closed.wait(timeout):
            raise AssertionError(f"connection {self.number} still open after {timeout:g} s")

    # -- the wire

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        with self._send_lock:
            self._sock.sendall(frame(opcode, payload))

    def _recv_exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self._sock.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def _read_frame(self) -> tuple[bool, int, bytes]:
        b1, b2 = self._recv_exact(2)
        fin, opcode, masked, n = bool(b1 & 0x80), b1 & 0x0F, bool(b2 & 0x80), b2 & 0x7F
        if b1 & 0x70:
            raise ProtocolError("a reserved bit is set (no extension was negotiated)")
        if not masked:
            raise ProtocolError("an unmasked frame from the client (RFC 6455 §5.1)")
        if n == 126:
            n = struct.unpack("!H", self._recv_exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._recv_exact(8))[0]
        if n > MAX_FRAME:
            raise ProtocolError(f"a frame of {n} bytes")
        if opcode >= CLOSE and (not fin or n > 125):
            raise ProtocolError("a fragmented or long control frame")
        mask = self._recv_exact(4)
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(self._recv_exact(n)))
        return fin, opcode, data

    def _read_loop(self) -> None:
        pieces: list[bytes] = []
        try:
            while not self.closed.is_set():
                fin, opcode, data = self._read_frame()
                if opcode == PING:
                    with self._lock:
                        self._pings.append(data)
                    self._send_frame(PONG, data)
                elif opcode == PONG:
                    with self._lock:
                        self._pongs.append(data)
                elif opcode == CLOSE:
                    code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else 1005
                    with contextlib.suppress(OSError):
                        self._send_frame(CLOSE, data[:2])
                    self._finish("client", code)
                elif opcode in (TEXT, CONTINUATION):
                    pieces.append(data)
                    if fin:
                        self._on_text(b"".join(pieces))
                        pieces = []
                else:
                    raise ProtocolError(f"opcode {opcode:#x}")
        except ProtocolError as exc:
            self.errors.append(str(exc))
            self.close(1002)
        except (EOFError, OSError):
            self._finish("client", None)

    def _on_text(self, data: bytes) -> None:
        try:
            message = json.loads(data.decode("utf-8"))
        except ValueError:
            message = None
        if not isinstance(message, dict):
            self.errors.append(f"a text message that is not a JSON object: {data[:200]!r}")
            return
        with self._lock:
            self._received.append(Received(message, time.monotonic()))

    def _finish(self, by: str, code: int | None) -> None:
        with self._lock:
            if self.closed.is_set():
                return
            self.closed_by, self.close_code = by, code
            self.closed.set()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()


class SocketModeServer:
    """Accepts WebSocket connections at `ws://127.0.0.1:PORT/link/?ticket=…` for tickets it issued, once each.
    `hello=False` leaves sending `hello` to the test."""

    def __init__(self, *, app_id: str = APP_ID, hello: bool = True) -> None:
        self.app_id = app_id
        self.send_hello = hello
        self.refused: list[str] = []  # request lines of handshakes refused (unknown or reused ticket, bad headers)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._lock = threading.Lock()
        self._tickets: set[str] = set()
        self._connections: list[SocketConnection] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, name="socket-mode-accept", daemon=True)

    def __enter__(self) -> SocketModeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._listener.close()
        for connection in self.connections():
            connection.close(1001)

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def issue_url(self) -> str:
        """A fresh URL for apps.connections.open to return."""
        ticket = uuid.uuid4().hex
        with self._lock:
            self._tickets.add(ticket)
        return f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={self.app_id}"

    def connections(self) -> list[SocketConnection]:
        with self._lock:
            return list(self._connections)

    def wait_for_connection(self, number: int, *, timeout: float = 20.0,
                            explain: Callable[[], str] | None = None) -> SocketConnection:
        """The `number`-th connection (1 for the first), once it is open; `explain()` is added to a failure."""
        def found() -> SocketConnection | None:
            connections = self.connections()
            return connections[number - 1] if len(connections) >= number else None

        return _wait(found, timeout=timeout, what=lambda: f"connection {number} (have {len(self.connections())}, "
                                                          f"refused {self.refused})\n{explain() if explain else ''}")

    # -- accepting

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handshake, args=(sock,), name="socket-mode-handshake", daemon=True).start()

    def _handshake(self, sock: socket.socket) -> None:
        sock.settimeout(5)
        try:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = sock.recv(1024)
                if not chunk or len(request) > 16_384:
                    sock.close()
                    return
                request += chunk
        except OSError:
            sock.close()
            return
        sock.settimeout(None)
        head = request.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        request_line, headers = head[0], {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        method, _, rest = request_line.partition(" ")
        target = rest.rsplit(" ", 1)[0]
        parts = urlsplit(target)
        ticket = (parse_qs(parts.query).get("ticket") or [""])[0]
        with self._lock:
            known = ticket in self._tickets
            self._tickets.discard(ticket)
        key = headers.get("sec-websocket-key", "")
        upgrade = (method == "GET" and headers.get("upgrade", "").lower() == "websocket"
                   and "upgrade" in headers.get("connection", "").lower()
                   and headers.get("sec-websocket-version") == "13" and _nonce_ok(key))
        if not (known and upgrade and parts.path == "/link/"):
            self.refused.append(request_line)
            with contextlib.suppress(OSError):
                sock.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            sock.close()
            return
        sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n").encode())
        with self._lock:
            connection = SocketConnection(self, sock, len(self._connections) + 1, ticket)
            self._connections.append(connection)
        connection.start()
        if self.send_hello:
            connection.hello()


class SocketModeSlack(SlackServer):
    """tests/slack_server.py's recording Web API plus `apps.connections.open`: with an app-level token
    (xapp-…) it answers a fresh URL on `self.socket`; with any other token `not_allowed_token_type`, as Slack
    does. `app_tokens`, when set, are the only app-level tokens accepted (others: invalid_auth)."""

    def __init__(self, *, hello: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.socket = SocketModeServer(hello=hello)
        self.app_tokens: set[str] | None = None
        self._methods["apps.connections.open"] = self._connections_open

    def __enter__(self) -> SocketModeSlack:
        super().__enter__()
        self.socket.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.socket.__exit__(*exc)
        super().__exit__(*exc)

    def _connections_open(self, call: Call) -> dict[str, Any]:
        token = call.token or ""
        if not token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        if self.app_tokens is not None and token not in self.app_tokens:
            return {"ok": False, "error": "invalid_auth"}
        return {"ok": True, "url": self.socket.issue_url()}
