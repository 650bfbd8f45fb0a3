"""A recording fake of Slack's Web API on 127.0.0.1, for tests that drive the real `slack_sdk.WebClient` (and Bolt)
over HTTP: nothing is monkeypatched, and nothing leaves the machine.

    with SlackServer() as slack:
        client = WebClient(token="xoxb-test", base_url=slack.api_url)   # the trailing slash of api_url matters
        slack.fail("chat.postMessage", status=429, retry_after=2)        # the next post is rate limited
        slack.fail("chat.postMessage", status=500, commit=True)          # stored, but the client hears a 500
        ...
        slack.messages("C1")         # what the channel shows, oldest first; slack.replies("C1", ts) for a thread
        slack.calls("chat.update")   # every request, as Call(method, params, token, at)
        slack.hooks()                # bodies posted to slack.hook_url(...) (a command's response_url)
        assert slack.block_errors == []

What slack_sdk sends (3.48): chat.postMessage, chat.update, chat.postEphemeral and views.publish go as JSON, so
`blocks`/`metadata`/`view` arrive as lists and dicts; "GET" methods (conversations.history, users.info,
conversations.info, conversations.replies) go as a POST whose parameters are in the query string, with booleans
as "1"/"0"; oauth.v2.access is form-encoded with HTTP Basic client credentials. Form bodies that carry JSON
strings in `blocks`, `metadata`, `attachments` or `view` are decoded here, so `Call.params` has the same shape
whichever way a request came.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
APP_ID = "A1"

# Limits from docs/slack-platform.md §5: Block Kit counts, text truncation and the undocumented cumulative
# block-text limit (≈12–13k characters before `msg_blocks_too_long`; we check the low end).
MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100
TEXT_MAX = 40_000
MARKDOWN_TEXT_MAX = 12_000
BLOCK_TEXT_TOTAL_MAX = 12_000
PRIVATE_METADATA_MAX = 3_000
_TEXT_TYPES = ("plain_text", "mrkdwn", "markdown")
_JSON_FIELDS = ("blocks", "attachments", "metadata", "view", "unfurls", "chunks")
# Methods that do not answer not_authed without a token (auth.test answers invalid_auth for any bad token).
_NO_TOKEN_METHODS = ("auth.test", "oauth.v2.access", "oauth.v2.exchange", "oauth.access")
_HTML_ERROR = "<html><head><title>Server Error</title></head><body><h1>Slack is having trouble</h1></body></html>"
_TRUE = (True, 1, "1", "true", "True")


def _stream_text(params: dict[str, Any]) -> str:
    """The markdown a stream call adds: `markdown_text`, or the text of its markdown_text chunks."""
    chunks = params.get("chunks")
    if isinstance(chunks, str):
        chunks = json.loads(chunks)
    text = str(params.get("markdown_text") or "")
    for chunk in chunks or []:
        if isinstance(chunk, dict) and chunk.get("type") == "markdown_text":
            text += str(chunk.get("text") or "")
    return text


# ---- Block Kit checks -------------------------------------------------------------------------------------------


def validate_blocks(blocks: Any, *, surface: str = "message") -> list[str]:
    """What Slack would reject or mangle in `blocks` for a surface ("message", "home" or "modal"): too many
    blocks, a block slack_sdk's validators refuse (section text over 3,000 characters, header over 150, …), a
    field slack_sdk does not know (Slack answers `invalid_blocks`), an empty text object, a bare string where a
    text object belongs, and, for messages, cumulative text past the point Slack answers `msg_blocks_too_long`."""
    if blocks is None:
        return []
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            return ["blocks: not valid JSON"]
    if not isinstance(blocks, list):
        return [f"blocks: expected a list, got {type(blocks).__name__}"]
    limit = MESSAGE_MAX_BLOCKS if surface == "message" else VIEW_MAX_BLOCKS
    errors = [f"blocks: {len(blocks)} blocks, more than the {limit} a {surface} allows"] if len(blocks) > limit else []
    for i, raw in enumerate(blocks):
        errors.extend(_block_errors(f"blocks[{i}]", raw))
    total = sum(len(text) for text in _texts(blocks))
    if surface == "message" and total > BLOCK_TEXT_TOTAL_MAX:
        errors.append(f"blocks: {total} characters of text in all, over {BLOCK_TEXT_TOTAL_MAX} (msg_blocks_too_long)")
    return errors


def validate_message(params: dict[str, Any]) -> list[str]:
    """`validate_blocks` plus the top-level fields of chat.postMessage / chat.update / a response_url post."""
    errors = validate_blocks(params.get("blocks"))
    text, markdown = params.get("text"), params.get("markdown_text")
    if isinstance(text, str) and len(text) > TEXT_MAX:
        errors.append(f"text: {len(text)} characters; Slack truncates above {TEXT_MAX}")
    if markdown is not None:
        if text or params.get("blocks"):
            errors.append("markdown_text cannot be combined with text or blocks")
        if len(str(markdown)) > MARKDOWN_TEXT_MAX:
            errors.append(f"markdown_text: {len(str(markdown))} characters, over {MARKDOWN_TEXT_MAX}")
    elif params.get("blocks") and not text:
        errors.append("blocks without a top-level text fallback (notifications and screen readers get nothing)")
    return errors


def validate_view(view: Any) -> list[str]:
    """A Home tab or modal view as views.publish / views.open receive it."""
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except ValueError:
            return ["view: not valid JSON"]
    if not isinstance(view, dict):
        return [f"view: expected an object, got {type(view).__name__}"]
    kind = view.get("type")
    if kind not in ("home", "modal"):
        return [f"view.type: {kind!r}, not home or modal"]
    errors = validate_blocks(view.get("blocks"), surface=kind)
    if not isinstance(view.get("blocks"), list):
        errors.append("view.blocks: missing")
    if len(str(view.get("private_metadata") or "")) > PRIVATE_METADATA_MAX:
        errors.append(f"view.private_metadata: over {PRIVATE_METADATA_MAX} characters")
    return errors


def _block_errors(where: str, raw: Any) -> list[str]:
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        return [f"{where}: not a block (an object with a type)"]
    try:
        block = Block.parse(copy.deepcopy(raw))
        if block is None:
            return [f"{where}: unknown block type {raw['type']!r}"]
        parsed = block.to_dict()
    except Exception as exc:  # SlackObjectFormationError from the validators; TypeError for a missing field
        return [f"{where} ({raw['type']}): {exc}"]
    return [f"{where}{problem}" for problem in itertools.chain(_reshaped(raw, parsed, ""), _empty_texts(raw, ""))]


def _reshaped(raw: Any, parsed: Any, path: str) -> Iterator[str]:
    """Where slack_sdk's round trip lost a field (one Slack does not know) or turned a bare string into a text
    object (Slack itself does not: it wants the object)."""
    if isinstance(raw, dict) and isinstance(parsed, dict):
        for key, value in raw.items():
            if key in parsed:
                yield from _reshaped(value, parsed[key], f"{path}.{key}")
            elif value not in ("", None):  # slack_sdk drops empty values: _empty_texts reports empty text
                yield f"{path}.{key}: unknown field"
    elif isinstance(raw, list) and isinstance(parsed, list) and len(raw) == len(parsed):
        for i, (before, after) in enumerate(zip(raw, parsed, strict=True)):
            yield from _reshaped(before, after, f"{path}[{i}]")
    elif isinstance(raw, str) and isinstance(parsed, dict):
        yield f"{path}: a bare string where Slack wants a text object"


def _empty_texts(raw: Any, path: str) -> Iterator[str]:
    if isinstance(raw, dict):
        if raw.get("type") in _TEXT_TYPES and raw.get("text") == "":
            yield f"{path}: empty text"
        for key, value in raw.items():
            yield from _empty_texts(value, f"{path}.{key}")
    elif isinstance(raw, list):
        for i, value in enumerate(raw):
            yield from _empty_texts(value, f"{path}[{i}]")


def _texts(raw: Any) -> Iterator[str]:
    if isinstance(raw, dict):
        if raw.get("type") in _TEXT_TYPES and isinstance(raw.get("text"), str):
            yield raw["text"]
        for value in raw.values():
            yield from _texts(value)
    elif isinstance(raw, list):
        for value in raw:
            yield from _texts(value)


# ---- The server -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    method: str  # "chat.postMessage", …; "hooks/<name>" for a post to a response_url
    params: dict[str, Any]  # query string and body merged, JSON fields decoded, `token` removed
    token: str | None  # from `Authorization: Bearer …` or a `token` parameter
    at: float  # time.monotonic() when it arrived


@dataclass
class Fault:
    status: int
    retry_after: int | None
    error: str | None
    times: int
    delay: float
    channel: str | None
    commit: bool
    body: str | None


@dataclass
class _Reply:
    status: int = 200
    body: Any = None  # a dict is sent as JSON, a str as text/html
    headers: dict[str, str] = field(default_factory=dict)


def _error(error: str) -> dict[str, Any]:
    return {"ok": False, "error": error}


def _ts_key(ts: Any) -> tuple[int, int]:
    seconds, _, fraction = str(ts).partition(".")
    return int(seconds or 0), int((fraction or "0").ljust(6, "0")[:6])


class SlackServer:
    """A fake Slack Web API plus response_url endpoints. Configure it through its attributes (any time):

    tokens: bot token → team id (auth.test answers invalid_auth for others); team_names: team id → name;
    revoked_tokens: every method answers token_revoked; removed_channels: posting (and history) answers
    not_in_channel; archived_channels: posting answers is_archived; member_channels: where conversations.info
    says is_member (None: everywhere but removed_channels); timezones / default_tz: users.info's tz;
    rotation: oauth.v2.access issues refresh tokens; install_team / install_user / scopes: what an OAuth install
    returns; client_id / client_secret: checked by oauth.v2.access when set; hook_max_uses: a response_url
    answers 404 used_url after this many posts (Slack allows 5).
    """

    def __init__(self, *, clock: Callable[[], float | datetime] | None = None) -> None:
        """`clock`: when given, message ts follow it (never going backwards); otherwise they count up from
        1700000000.000100 in steps of 100 µs."""
        self.tokens: dict[str, str] = {"xoxb-test": "T1"}
        self.team_names: dict[str, str] = {}
        self.revoked_tokens: set[str] = set()
        self.removed_channels: set[str] = set()
        self.archived_channels: set[str] = set()
        self.member_channels: set[str] | None = None
        self.timezones: dict[str, str] = {}
        self.default_tz = "America/Los_Angeles"
        self.rotation = False
        self.install_team: tuple[str, str] = ("T1", "Test Team")
        self.install_user = "U1"
        self.scopes: list[str] = ["commands", "chat:write", "app_mentions:read", "im:history", "users:read"]
        self.client_id: str | None = None
        self.client_secret: str | None = None
        self.hook_max_uses = 5
        self.block_errors: list[str] = []
        self._calls: list[Call] = []
        self._posts: list[Call] = []
        self._faults: dict[str, list[Fault]] = {}
        self._messages: dict[str, list[dict[str, Any]]] = {}
        self._ephemerals: list[dict[str, Any]] = []
        self._views: dict[str, dict[str, Any]] = {}
        self.opened_views: list[dict[str, Any]] = []
        self._refresh_tokens: dict[str, str] = {}
        self._hook_uses: Counter[str] = Counter()
        self._clock = clock
        self._last_us = 0 if clock else 1_700_000_000_000_000
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._methods: dict[str, Callable[[Call], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.delete": self._delete,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.getPermalink": self._permalink,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "conversations.info": self._conversation_info,
            "users.info": self._user_info,
            "views.publish": self._publish,
            "views.open": self._open_view,
            "chat.startStream": self._start_stream,
            "chat.appendStream": self._append_stream,
            "chat.stopStream": self._stop_stream,
            "oauth.v2.access": self._oauth,
        }
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-slack", daemon=True)

    # -- lifecycle and addresses

    def __enter__(self) -> SlackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()  # wakes handlers sleeping in a delay fault
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def hook_url(self, name: str = "response") -> str:
        """A response_url whose posts are recorded as calls to "hooks/<name>"."""
        return f"http://127.0.0.1:{self.port}/hooks/{name}"

    # -- faults

    def fail(self, method: str, *, status: int | None = None, retry_after: int | None = None,
             error: str | None = None, times: int = 1, delay: float = 0.0, channel: str | None = None,
             commit: bool = False, body: str | None = None) -> None:
        """Queue a fault for the next `times` calls of `method` (only those to `channel`, when given); faults
        for a method are used in the order queued. The status defaults to 200 when `error` or `delay` is given
        and to 429 otherwise.

        429: {"ok": false, "error": "ratelimited"} with Retry-After (`retry_after`, default 1).
        5xx: an HTML page (or `body`; "" for an empty one), or {"ok": false, "error": error} when `error` is set.
        200 + error: {"ok": false, "error": error} ("not_in_channel", "channel_not_found", "invalid_blocks", …).
        delay: sleep that long first (a client with a shorter timeout gives up); with nothing else, the call is
        then handled normally.
        commit: handle the call for real first (the message is stored), then answer with the fault: Slack
        posted it but the caller never heard back. Use it for "hooks/<name>" to fail response_url posts."""
        if times < 1:
            raise ValueError("times must be at least 1")
        if status is None:
            status = 200 if error is not None or delay else 429
        fault = Fault(status, retry_after, error, times, delay, channel, commit, body)
        with self._lock:
            self._faults.setdefault(method, []).append(fault)

    def add_message(self, channel: str, text: str, *, user: str = "U1", thread_ts: str | None = None,
                    metadata: dict[str, Any] | None = None) -> str:
        """Put a message from a person in a channel (for history and thread reads); returns its ts."""
        with self._lock:
            ts = self._next_ts()
            message: dict[str, Any] = {"type": "message", "ts": ts, "user": user, "team": "T1", "text": text}
            if thread_ts is not None:
                message["thread_ts"] = thread_ts
            if metadata is not None:
                message["metadata"] = metadata
            self._store(_dm(channel), message)
            return ts

    # -- inspection

    def calls(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [call for call in self._calls if method is None or call.method == method]

    def count(self, method: str) -> int:
        return len(self.calls(method))

    def posts(self) -> list[Call]:
        """The chat.postMessage calls whose message was stored (including committed faults)."""
        with self._lock:
            return list(self._posts)

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """The channel's top-level messages, oldest first (a user id means the DM with that user)."""
        with self._lock:
            stored = self._messages.get(_dm(channel), [])
            return copy.deepcopy([m for m in stored if m.get("thread_ts", m["ts"]) == m["ts"]])

    def replies(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """The replies in the thread under `ts`, oldest first, without the parent."""
        with self._lock:
            stored = self._messages.get(_dm(channel), [])
            return copy.deepcopy([m for m in stored if m.get("thread_ts") == ts and m["ts"] != ts])

    def ephemerals(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._ephemerals)

    def home(self, user_id: str) -> dict[str, Any] | None:
        """The Home tab last published for a user."""
        with self._lock:
            return copy.deepcopy(self._views.get(user_id))

    def hooks(self, name: str | None = None) -> list[dict[str, Any]]:
        """Bodies posted to response_urls (to `hook_url(name)` only, when given), in order."""
        wanted = None if name is None else f"hooks/{name}"
        with self._lock:
            return [call.params for call in self._calls
                    if call.method.startswith("hooks/") and wanted in (None, call.method)]

    # -- dispatch (called from the handler threads)

    def _serve(self, call: Call) -> tuple[float, _Reply | None]:
        """Record the call and decide (delay, reply); a None reply is answered by `_answer` after the delay."""
        with self._lock:
            self._calls.append(call)
            self._check_blocks(call)
            fault = self._take_fault(call)
            if fault is None:
                return 0.0, self._answer(call)
            committed = self._answer(call) if fault.commit else None
            if fault.status == 200 and fault.error is None:
                return fault.delay, committed
            return fault.delay, self._fault_reply(fault)

    def _answer(self, call: Call) -> _Reply:
        with self._lock:
            if call.method.startswith("hooks/"):
                self._hook_uses[call.method] += 1
                if self._hook_uses[call.method] > self.hook_max_uses:
                    return _Reply(404, "used_url")
                return _Reply(200, "ok")
            if call.token is None and call.method not in _NO_TOKEN_METHODS:
                return _Reply(body=_error("not_authed"))
            if call.token in self.revoked_tokens:
                return _Reply(body=_error("token_revoked"))
            handler = self._methods.get(call.method)
            return _Reply(body=handler(call) if handler else {"ok": True})

    def _take_fault(self, call: Call) -> Fault | None:
        queue = self._faults.get(call.method, [])
        channel = _dm(str(call.params.get("channel", "")))
        for fault in queue:
            if fault.channel is None or _dm(fault.channel) == channel:
                fault.times -= 1
                if fault.times == 0:
                    queue.remove(fault)
                return fault
        return None

    @staticmethod
    def _fault_reply(fault: Fault) -> _Reply:
        headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
        if fault.status == 429:
            headers.setdefault("Retry-After", "1")
            return _Reply(429, _error(fault.error or "ratelimited"), headers)
        if fault.error is not None:
            return _Reply(fault.status, _error(fault.error), headers)
        return _Reply(fault.status, _HTML_ERROR if fault.body is None else fault.body, headers)

    def _check_blocks(self, call: Call) -> None:
        if call.method in ("chat.postMessage", "chat.postEphemeral", "chat.update") or call.method.startswith("hooks/"):
            problems = validate_message(call.params)
        elif call.method in ("views.publish", "views.open"):
            problems = validate_view(call.params.get("view"))
        elif call.method == "chat.stopStream":
            problems = validate_blocks(call.params.get("blocks"))
        else:
            return
        self.block_errors.extend(f"{call.method}: {problem}" for problem in problems)

    # -- state helpers

    def _next_ts(self) -> str:
        if self._clock is not None:
            now = self._clock()
            seconds = now.timestamp() if isinstance(now, datetime) else float(now)
            self._last_us = max(int(seconds * 1_000_000), self._last_us + 100)
        else:
            self._last_us += 100
        return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"

    def _team(self, token: str | None) -> str:
        return self.tokens.get(token or "", "T1")

    def _find(self, channel: str, ts: str) -> dict[str, Any] | None:
        return next((m for m in self._messages.get(channel, []) if m["ts"] == ts), None)

    def _store(self, channel: str, message: dict[str, Any]) -> None:
        parent = self._find(channel, message["thread_ts"]) if message.get("thread_ts") else None
        if parent is not None:
            users = parent.setdefault("reply_users", [])
            if message["user"] not in users:
                users.append(message["user"])
            parent.update(thread_ts=parent["ts"], reply_count=parent.get("reply_count", 0) + 1,
                          latest_reply=message["ts"])
        self._messages.setdefault(channel, []).append(message)

    def _channel_problem(self, channel: str) -> dict[str, Any] | None:
        if not channel:
            return _error("channel_not_found")
        if channel in self.removed_channels:
            return _error("not_in_channel")
        if channel in self.archived_channels:
            return _error("is_archived")
        return None

    # -- methods

    def _auth_test(self, call: Call) -> dict[str, Any]:
        team = self.tokens.get(call.token or "")
        if team is None:
            return _error("invalid_auth")
        return {"ok": True, "url": f"https://{team.lower()}.slack.com/", "team": self.team_names.get(team, team),
                "user": "briefbot", "team_id": team, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID,
                "is_enterprise_install": False}

    def _post_message(self, call: Call) -> dict[str, Any]:
        params, channel = call.params, _dm(str(call.params.get("channel", "")))
        problem = self._channel_problem(channel)
        if problem:
            return problem
        if not any(params.get(key) for key in ("text", "blocks", "attachments", "markdown_text")):
            return _error("no_text")
        ts = self._next_ts()
        message: dict[str, Any] = {"type": "message", "ts": ts, "user": BOT_USER_ID, "bot_id": BOT_ID,
                                   "app_id": APP_ID, "team": self._team(call.token), "text": params.get("text") or ""}
        for key in ("blocks", "attachments", "metadata", "markdown_text", "thread_ts"):
            if params.get(key) is not None:
                message[key] = params[key]
        self._store(channel, message)
        self._posts.append(call)
        return {"ok": True, "channel": channel, "ts": ts, "message": copy.deepcopy(message)}

    def _update(self, call: Call) -> dict[str, Any]:
        params, channel = call.params, _dm(str(call.params.get("channel", "")))
        if channel in self.archived_channels:
            return _error("is_archived")
        message = self._find(channel, str(params.get("ts", "")))
        if message is None:
            return _error("message_not_found")
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in params:
                message[key] = params[key]
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        return {"ok": True, "channel": channel, "ts": message["ts"], "text": message.get("text", ""),
                "message": copy.deepcopy(message)}

    # Streaming (chat.startStream / appendStream / stopStream): one message whose markdown grows; outside a
    # DM the recipient must be named, as Slack requires.
    def _start_stream(self, call: Call) -> dict[str, Any]:
        params, channel = call.params, _dm(str(call.params.get("channel", "")))
        problem = self._channel_problem(channel)
        if problem:
            return problem
        if not channel.startswith("D") and not (params.get("recipient_user_id") and params.get("recipient_team_id")):
            return _error("invalid_arguments")
        ts = self._next_ts()
        message: dict[str, Any] = {"type": "message", "ts": ts, "user": BOT_USER_ID, "bot_id": BOT_ID,
                                   "app_id": APP_ID, "team": self._team(call.token), "text": "",
                                   "markdown_text": _stream_text(params), "streaming": True}
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        self._store(channel, message)
        return {"ok": True, "channel": channel, "ts": ts}

    def _append_stream(self, call: Call) -> dict[str, Any]:
        channel = _dm(str(call.params.get("channel", "")))
        message = self._find(channel, str(call.params.get("ts", "")))
        if message is None:
            return _error("message_not_found")
        if not message.get("streaming"):
            return _error("message_not_in_streaming_state")
        message["markdown_text"] += _stream_text(call.params)
        return {"ok": True, "channel": channel, "ts": message["ts"]}

    def _stop_stream(self, call: Call) -> dict[str, Any]:
        reply = self._append_stream(call)
        if reply.get("ok"):
            message = self._find(_dm(str(call.params.get("channel", ""))), str(call.params.get("ts", "")))
            assert message is not None
            message["streaming"] = False
            for key in ("blocks", "metadata"):
                if call.params.get(key) is not None:
                    value = call.params[key]
                    message[key] = json.loads(value) if isinstance(value, str) else value
        return reply

    def _open_view(self, call: Call) -> dict[str, Any]:
        if not call.params.get("trigger_id"):
            return _error("invalid_arguments")
        view = call.params.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        self.opened_views.append(view)
        return {"ok": True, "view": {"id": f"V{next(self._ids)}", **(view or {})}}

    def _delete(self, call: Call) -> dict[str, Any]:
        channel = _dm(str(call.params.get("channel", "")))
        message = self._find(channel, str(call.params.get("ts", "")))
        if message is None:
            return _error("message_not_found")
        self._messages[channel].remove(message)
        return {"ok": True, "channel": channel, "ts": message["ts"]}

    def _post_ephemeral(self, call: Call) -> dict[str, Any]:
        channel = _dm(str(call.params.get("channel", "")))
        problem = self._channel_problem(channel)
        if problem:
            return problem
        ts = self._next_ts()
        self._ephemerals.append({"channel": channel, "ts": ts, **call.params})
        return {"ok": True, "message_ts": ts}

    def _permalink(self, call: Call) -> dict[str, Any]:
        channel, ts = _dm(str(call.params.get("channel", ""))), str(call.params.get("message_ts", ""))
        link = f"https://{self._team(call.token).lower()}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        return {"ok": True, "channel": channel, "permalink": link}

    def _listing(self, messages: list[dict[str, Any]], params: dict[str, Any]) -> list[dict[str, Any]]:
        shown = copy.deepcopy(messages)
        if params.get("include_all_metadata") not in _TRUE:
            for message in shown:
                message.pop("metadata", None)
        return shown

    def _history(self, call: Call) -> dict[str, Any]:
        params, channel = call.params, _dm(str(call.params.get("channel", "")))
        if channel in self.removed_channels:
            return _error("not_in_channel")
        inclusive = params.get("inclusive") in _TRUE
        oldest, latest = _ts_key(params.get("oldest") or 0), params.get("latest")
        found = [m for m in self.messages(channel)
                 if (_ts_key(m["ts"]) >= oldest if inclusive else _ts_key(m["ts"]) > oldest)
                 and (latest is None or (_ts_key(m["ts"]) <= _ts_key(latest) if inclusive
                                         else _ts_key(m["ts"]) < _ts_key(latest)))]
        found.reverse()
        start = int(base64.b64decode(params["cursor"]).decode().split(":")[1]) if params.get("cursor") else 0
        limit = int(params.get("limit") or 100)
        page, more = found[start:start + limit], len(found) > start + limit
        cursor = base64.b64encode(f"offset:{start + limit}".encode()).decode() if more else ""
        return {"ok": True, "messages": self._listing(page, params), "has_more": more, "pin_count": 0,
                "response_metadata": {"next_cursor": cursor}}

    def _replies(self, call: Call) -> dict[str, Any]:
        channel, ts = _dm(str(call.params.get("channel", ""))), str(call.params.get("ts", ""))
        parent = self._find(channel, ts)
        if parent is None:
            return _error("thread_not_found")
        thread = [parent, *(m for m in self._messages[channel] if m.get("thread_ts") == ts and m["ts"] != ts)]
        return {"ok": True, "messages": self._listing(thread, call.params), "has_more": False,
                "response_metadata": {"next_cursor": ""}}

    def _conversation_info(self, call: Call) -> dict[str, Any]:
        channel = _dm(str(call.params.get("channel", "")))
        member = channel not in self.removed_channels and (
            self.member_channels is None or channel in self.member_channels)
        return {"ok": True, "channel": {
            "id": channel, "name": f"channel-{channel.lower()}", "is_channel": channel.startswith("C"),
            "is_group": channel.startswith("G"), "is_im": channel.startswith("D"),
            "is_private": not channel.startswith("C"), "is_member": member,
            "is_archived": channel in self.archived_channels}}

    def _user_info(self, call: Call) -> dict[str, Any]:
        user = str(call.params.get("user", ""))
        if not user:
            return _error("user_not_found")
        tz = self.timezones.get(user, self.default_tz)
        now = datetime.now(UTC).astimezone(ZoneInfo(tz))
        offset = now.utcoffset()
        return {"ok": True, "user": {
            "id": user, "team_id": self._team(call.token), "name": user.lower(), "real_name": f"User {user}",
            "deleted": False, "is_bot": user == BOT_USER_ID, "tz": tz, "tz_label": now.tzname(),
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "profile": {"real_name": f"User {user}", "display_name": user.lower()}}}

    def _publish(self, call: Call) -> dict[str, Any]:
        user, view = str(call.params.get("user_id", "")), call.params.get("view")
        if not user or not isinstance(view, dict):
            return _error("invalid_arguments")
        published = {**view, "id": f"V{next(self._ids):08d}", "team_id": self._team(call.token), "app_id": APP_ID,
                     "bot_id": BOT_ID, "hash": f"{time.time():.6f}", "state": {"values": {}}}
        self._views[user] = published
        return {"ok": True, "view": copy.deepcopy(published)}

    def _oauth(self, call: Call) -> dict[str, Any]:
        params = call.params
        if self.client_id is not None and params.get("client_id") != self.client_id:
            return _error("invalid_client_id")
        if self.client_secret is not None and params.get("client_secret") != self.client_secret:
            return _error("bad_client_secret")
        if params.get("grant_type") == "refresh_token":
            team = self._refresh_tokens.get(str(params.get("refresh_token", "")))
            if team is None:
                return _error("invalid_refresh_token")
            team_name = self.install_team[1] if team == self.install_team[0] else self.team_names.get(team, team)
        elif params.get("code"):
            team, team_name = self.install_team
        else:
            return _error("invalid_code")
        n = next(self._ids)
        token = f"xoxb-{team}-{n}"
        self.tokens[token] = team
        answer: dict[str, Any] = {
            "ok": True, "app_id": APP_ID, "authed_user": {"id": self.install_user}, "scope": ",".join(self.scopes),
            "token_type": "bot", "access_token": token, "bot_user_id": BOT_USER_ID,
            "team": {"id": team, "name": team_name}, "enterprise": None, "is_enterprise_install": False}
        if self.rotation or params.get("grant_type") == "refresh_token":
            refresh = f"xoxe-1-{team}-{n}"
            self._refresh_tokens[refresh] = team
            answer.update(refresh_token=refresh, expires_in=43_200)
        return answer


def _dm(channel: str) -> str:
    """chat.postMessage to a user id posts in the DM with that user; the fake names that DM "D" + the id."""
    return "D" + channel[1:] if channel[:1] in ("U", "W") else channel


def _parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if "json" in content_type:
        parsed = json.loads(raw)
        return parsed if isinstance(parsed, dict) else {"_body": parsed}
    params: dict[str, Any] = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    for key in _JSON_FIELDS:
        value = params.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):  # if not JSON, left as sent: validate_blocks reports it
                params[key] = json.loads(value)
    return params


def _handler_for(server: SlackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            self._handle(b"")

        def do_POST(self) -> None:
            self._handle(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

        def _handle(self, raw: bytes) -> None:
            parts = urlsplit(self.path)
            if parts.path.startswith("/api/"):
                method = parts.path.removeprefix("/api/")
            elif parts.path.startswith("/hooks/"):
                method = "hooks/" + parts.path.removeprefix("/hooks/")
            else:
                return self._send(_Reply(404, "not found"))
            params: dict[str, Any] = dict(parse_qsl(parts.query, keep_blank_values=True))
            try:
                params.update(_parse_body(raw, self.headers.get("Content-Type", "")))
            except ValueError:
                return self._send(_Reply(200, _error("invalid_json")))
            token = params.pop("token", None) if not method.startswith("hooks/") else None
            authorization = self.headers.get("Authorization", "")
            if authorization.startswith("Bearer "):
                token = authorization.removeprefix("Bearer ")
            elif authorization.startswith("Basic "):  # oauth.v2.access sends the client credentials this way
                client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
                params.setdefault("client_id", client_id)
                params.setdefault("client_secret", secret)
            call = Call(method, params, token, time.monotonic())
            delay, reply = server._serve(call)
            if delay and server._stopping.wait(delay):
                return None
            return self._send(reply if reply is not None else server._answer(call))

        def _send(self, reply: _Reply) -> None:
            body = reply.body
            data = json.dumps(body).encode() if isinstance(body, dict) else str(body or "").encode()
            kind = "application/json; charset=utf-8" if isinstance(body, dict) else "text/html; charset=utf-8"
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", kind)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                self.close_connection = True

    return Handler
