"""A local OpenAI-compatible server for tests: POST /v1/chat/completions and /v1/embeddings answer from one
queue of scripted replies and record every request body (parsed JSON), its headers and its path.

    with FakeLLM() as llm:
        llm.enqueue(completion('{"headline": ...}'), error(429, "slow down", headers={"Retry-After": "1"}))
        client = OpenAI(base_url=llm.base_url, api_key="x")
        ...
        llm.requests  # [{"model": ..., "messages": [...], ...}, ...]
        llm.enqueue(embeddings([[0.1, 0.2], [0.3, 0.4]]))  # llm.paths[-1] == "/v1/embeddings"

Hostile modes: `html_page()`, `Reply(body=...)` of any shape, `invalid_json()`, `events(...)` (a stream of any
data lines), `dripped(reply, every=2)` (one byte every 2 s, headers first or not), and
`FakeLLM(formats=("text", "json_object"))`, which refuses any other response_format as llama-cpp-python does.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PATH = "/v1/chat/completions"
EMBEDDINGS_PATH = "/v1/embeddings"


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list: sent as JSON; str/bytes: sent as is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line (ended early when the server stops)
    content_type: str = "application/json"
    drip: float = 0.0  # seconds between bytes: sent one at a time, after `drip_after` bytes of the body
    drip_after: int = 0
    drip_headers: bool = False  # drip from the status line on, not only the body


def completion(content: str | None, *, prompt_tokens: int = 120, completion_tokens: int = 40,
               model: str = "test-model", finish_reason: str = "stop") -> Reply:
    """A chat completion whose one choice says `content`, with the given token usage."""
    return Reply(body={
        "id": "chatcmpl-test", "object": "chat.completion", "created": 1_764_072_000, "model": model,
        "choices": [{"index": 0, "finish_reason": finish_reason, "logprobs": None,
                     "message": {"role": "assistant", "content": content, "refusal": None}}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    })


def streamed(*deltas: str, model: str = "test-model", garbage: bool = False) -> Reply:
    """A streamed chat completion (server-sent events) whose deltas are `deltas`; `garbage` breaks the stream
    after them with a line that is not JSON."""
    def event(delta: dict[str, Any], finish: str | None = None) -> str:
        chunk = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1_764_072_000, "model": model,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}
        return f"data: {json.dumps(chunk)}\n\n"
    body = event({"role": "assistant", "content": ""}) + "".join(event({"content": d}) for d in deltas)
    body += "data: {not json\n\n" if garbage else event({}, "stop") + "data: [DONE]\n\n"
    return Reply(body=body, content_type="text/event-stream")


def events(*data: str, done: bool = True) -> Reply:
    """A stream whose events carry `data` as given (chunks of any shape, or garbage), then `[DONE]`."""
    body = "".join(f"data: {d}\n\n" for d in data) + ("data: [DONE]\n\n" if done else "")
    return Reply(body=body, content_type="text/event-stream")


def chunk(delta: Any = None, *, choices: Any = ..., model: str = "test-model") -> str:
    """One chunk's JSON: one choice with `delta`, or `choices` exactly as given (None, [], …)."""
    body = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1_764_072_000, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": None, "logprobs": None}]
            if choices is ... else choices}
    return json.dumps(body)


def html_page(status: int = 200) -> Reply:
    """What a proxy or a misconfigured base URL answers: a web page."""
    return Reply(status=status, body="<!doctype html><html><head><title>Welcome</title></head>"
                                     "<body><h1>It works!</h1></body></html>", content_type="text/html")


def invalid_json() -> Reply:
    """A body that says it is JSON and is not."""
    return Reply(body='{"id": "chatcmpl-test", "choices": [{"message": {"content": "half')


def dripped(reply: Reply, *, every: float = 2.0, after: int = 0, headers: bool = False) -> Reply:
    """`reply` sent one byte every `every` seconds: after the headers and `after` bytes of the body, or from
    the status line on (`headers=True`). A per-read timeout longer than `every` never trips."""
    return dataclasses.replace(reply, drip=every, drip_after=after, drip_headers=headers)


def llama_cpp_refusal(kind: str) -> Reply:
    """llama-cpp-python's server's answer (0.3.36, read off the real one) to a response_format type it does not
    know: its request validation error, as a 500."""
    detail = ("1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
              f"'msg': \"Input should be 'text' or 'json_object'\", 'input': {kind!r}, "
              "'ctx': {'expected': \"'text' or 'json_object'\"}}\n\n"
              '  File "llama_cpp/server/app.py", line 376, in create_chat_completion\n    POST /v1/chat/completions')
    return Reply(status=500, body={"error": {"message": detail, "type": "internal_server_error", "param": None,
                                             "code": None}})


def embeddings(vectors: Sequence[Sequence[float]], *, order: Sequence[int] | None = None,
               model: str = "test-embedding", prompt_tokens: int = 8) -> Reply:
    """An embeddings reply: `vectors[i]` has index i; `order` lists the indexes in the order `data` gives them
    (the API numbers its items, so a client must not rely on their order)."""
    data = [{"object": "embedding", "index": i, "embedding": list(vectors[i])}
            for i in (range(len(vectors)) if order is None else order)]
    return Reply(body={"object": "list", "data": data, "model": model,
                       "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens}})


def error(status: int, message: str, *, param: str | None = None, headers: dict[str, str] | None = None,
          delay: float = 0.0) -> Reply:
    """An error in OpenAI's shape."""
    body = {"error": {"message": message, "type": "invalid_request_error" if status < 500 else "server_error",
                      "param": param, "code": None}}
    return Reply(status=status, body=body, headers=dict(headers or {}), delay=delay)


class FakeLLM:
    def __init__(self, respond: Callable[[dict[str, Any]], Reply] | None = None, *,
                 formats: Sequence[str] | None = None) -> None:
        """`respond` answers every request once the scripted replies are used up (a long-running fleet).
        `formats`: the response_format types accepted; a request for another gets `llama_cpp_refusal` and
        uses up no scripted reply. None accepts any."""
        self.respond = respond
        self.formats = None if formats is None else tuple(formats)
        self.replies: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.paths: list[str] = []
        self.dripped_at: list[float] = []  # when each dripped reply ended (the client hung up, or all was sent)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-llm", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            self.replies.extend(replies)

    def _next(self, body: dict[str, Any], headers: dict[str, str], path: str) -> Reply:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            self.paths.append(path)
            kind = (body.get("response_format") or {}).get("type") if isinstance(body, dict) else None
            if self.formats is not None and kind is not None and kind not in self.formats:
                return llama_cpp_refusal(kind)
            if self.replies:
                return self.replies.popleft()
        if self.respond is not None:
            return self.respond(body)
        # Unscripted: a status the client does not retry, so a test that forgot a reply fails loudly.
        return error(418, "no scripted reply left")

    def __enter__(self) -> FakeLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()


def _handler_for(server: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path not in (PATH, EMBEDDINGS_PATH):
                return self._send(error(404, f"no route {self.path}"))
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"unparsable": raw.decode("utf-8", "replace")}
            reply = server._next(body, {k.lower(): v for k, v in self.headers.items()}, self.path)
            if reply.delay and server._stopping.wait(reply.delay):
                return None
            return self._send(reply)

        def _send(self, reply: Reply) -> None:
            body = reply.body
            data = body if isinstance(body, bytes) else (
                body.encode() if isinstance(body, str) else json.dumps(body).encode())
            if reply.drip:
                return self._drip(reply, data)
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                self.close_connection = True

        def _drip(self, reply: Reply, data: bytes) -> None:
            lines = [f"HTTP/1.1 {reply.status} {self.responses.get(reply.status, ('',))[0]}",
                     f"Content-Type: {reply.content_type}", f"Content-Length: {len(data)}",
                     *(f"{k}: {v}" for k, v in reply.headers.items())]
            head = ("\r\n".join(lines) + "\r\n\r\n").encode()
            raw, at_once = head + data, 0 if reply.drip_headers else len(head) + reply.drip_after
            self.close_connection = True
            try:
                self.wfile.write(raw[:at_once])
                self.wfile.flush()
                for i in range(at_once, len(raw)):
                    if server._stopping.wait(reply.drip):
                        return
                    self.wfile.write(raw[i:i + 1])
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, OSError):
                pass
            server.dripped_at.append(time.monotonic())  # the moment the client hung up, or the drip ended

    return Handler
