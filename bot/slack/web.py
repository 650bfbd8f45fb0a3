"""`briefbot serve`: the Bolt app over HTTP as an ASGI application (Starlette, served by uvicorn):
POST /slack/events for events, commands and buttons; GET /slack/install and /slack/oauth_redirect for OAuth
installs; GET /healthz. Web processes are stateless: the scheduler never runs here.

Anyone can reach /slack/events, so a request is checked before Bolt sees it, cheapest check first: its size
while it is read (a body over MAX_BODY_BYTES is refused with 413 without reading the rest), then Slack's
signature over the raw bytes (401), and only then its shape (UTF-8, a JSON object of bounded depth, a
`payload=` field that is one; else 400). Each refusal is one log line, never a traceback; nothing unsigned is
ever parsed.

Acks come first: while a request to /slack/events is being answered (from its arrival at the app to the last
byte of its response), the work that follows earlier acks waits (`AckGate`, see bot.slack.listeners.background).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import App, BoltRequest
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.context import Context, build_context
from bot.slack.app import build_app
from bot.slack.listeners.background import AckGate, Background

log = logging.getLogger(__name__)

# Slack's requests are small: a slash command is under 2 KB; the largest briefbot can cause is a button pressed
# on an alert, which sends Slack's copy of the whole message back: at the alert's text limits, in a script
# whose every character costs 9 bytes form-encoded (UTF-8, then %XX), about 86 KB (tests/test_hostile_slack.py
# builds it). 256 KiB is three times that, and bounds what each hostile connection makes the server hold. (The
# Home tab has no buttons; one with buttons would send its whole view, up to ~330 KB: raise the cap then.)
MAX_BODY_BYTES = 256 * 1024
SIGNATURE_MAX_AGE = 5 * 60  # seconds, Slack's rule (and Bolt's)
MAX_JSON_DEPTH = 64  # Slack's payloads nest about 10 deep (a view's blocks' elements' text)


class Refused(Exception):  # noqa: N818 - a refusal with its status, not a bug
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, read as it arrives and given up on as soon as it passes `limit` (the rest is never read:
    uvicorn stops reading the socket and closes the connection after the 413)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Refused(413, f"body of {declared} bytes declared, over the {limit}-byte limit")
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise Refused(413, f"body over the {limit}-byte limit")
    except ClientDisconnect:
        raise Refused(400, "the client went away mid-body") from None
    return bytes(body)


def check_signature(secret: bytes, body: bytes, request: Request) -> None:
    """Slack's v0 signature: HMAC-SHA256 of "v0:{timestamp}:{body}" over the raw bytes (so a body that is not
    even UTF-8 is judged on its signature first), and a timestamp within five minutes of now."""
    stamp = request.headers.get("x-slack-request-timestamp", "")
    signature = request.headers.get("x-slack-signature", "")
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        raise Refused(401, "missing or malformed X-Slack-Request-Timestamp")
    if abs(time.time() - int(stamp)) > SIGNATURE_MAX_AGE:
        raise Refused(401, "invalid Slack signature (timestamp more than five minutes away)")
    expected = "v0=" + hmac.new(secret, b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise Refused(401, "invalid Slack signature")


def check_shape(body: bytes, content_type: str | None) -> str:
    """The body as text, once it is known that Bolt can read it: UTF-8, and a JSON object (the whole body, or
    its `payload=` form field) no deeper than MAX_JSON_DEPTH. Follows Bolt's own choice of parser."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused(400, f"body is not UTF-8 (byte {exc.start})") from None
    if not text:
        return text
    # Bolt reads the media type without its parameters ("application/json; charset=utf-8" is JSON to it), and
    # so must this check, or such a body would reach Bolt's parser unchecked.
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == "application/json" or text.startswith("{"):
        _json_object(text, "body")
    elif "payload" in text:
        payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
        if payload is not None:
            _json_object(payload, "payload field")
    return text


def _json_object(text: str, what: str) -> None:
    try:
        value = json.loads(text)
    except RecursionError:
        raise Refused(400, f"{what} is JSON nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise Refused(400, f"{what} is not JSON ({exc.msg} at {exc.pos})") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise Refused(400, f"{what} is not readable JSON ({str(exc)[:100]})") from None
    if not isinstance(value, dict):
        raise Refused(400, f"{what} is a JSON {type(value).__name__}, not an object")
    if _depth_over(value, MAX_JSON_DEPTH):
        raise Refused(400, f"{what} is JSON nested over {MAX_JSON_DEPTH} levels")


def _depth_over(value: Any, limit: int) -> bool:
    """True when `value` nests deeper than `limit` (iterative: no recursion on hostile input)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children: Iterable[Any] = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _refused(request: Request, refusal: Refused) -> Response:
    client = request.client.host if request.client else "?"
    log.warning("refused a request to %s from %s: %s (%d)", request.url.path, client, refusal.reason, refusal.status)
    return PlainTextResponse(refusal.reason, refusal.status, headers={"Connection": "close"}
                             if refusal.status == 413 else None)


def create_asgi(ctx: Context | None = None, app: App | None = None) -> Starlette:
    ctx = ctx or build_context()
    background = Background(ctx.settings.briefbot_listener_threads)
    bolt = app or build_app(ctx, background=background)
    secret = ctx.settings.slack_signing_secret
    signing_key = secret.get_secret_value().encode() if secret else None

    async def events(request: Request) -> Response:
        try:
            body = await read_body(request)
            if signing_key is None:  # build_app refuses to serve without a signing secret; never run unsigned
                raise Refused(401, "no signing secret is configured")
            check_signature(signing_key, body, request)
            text = check_shape(body, request.headers.get("content-type"))
            bolt_request = _bolt_request(request, text)
        except Refused as refusal:
            return _refused(request, refusal)
        # Bolt's dispatch is synchronous (signature check, middleware, ack): keep it off the event loop.
        return to_starlette_response(await run_in_threadpool(bolt.dispatch, bolt_request))

    async def oauth(request: Request) -> Response:
        flow = bolt.oauth_flow
        if flow is None:
            return PlainTextResponse("This briefbot is installed with a bot token; OAuth installs are off.", 404)
        try:
            bolt_request = to_bolt_request(request, await read_body(request, limit=0))  # GETs carry no body
        except Refused as refusal:
            return _refused(request, refusal)
        handle = flow.handle_installation if request.url.path == flow.install_path else flow.handle_callback
        return to_starlette_response(await run_in_threadpool(handle, bolt_request))

    async def health(_: Request) -> Response:
        return PlainTextResponse("ok")

    asgi = Starlette(routes=[
        Route("/slack/events", events, methods=["POST"]),
        Route("/slack/install", oauth, methods=["GET"]),
        Route("/slack/oauth_redirect", oauth, methods=["GET"]),
        Route("/healthz", health, methods=["GET"]),
    ], middleware=[Middleware(AcksFirst, gate=background.gate)])
    asgi.state.ack_gate = background.gate  # what the work after acks waits on (when `app` was built here)
    return asgi


class AcksFirst:
    """ASGI middleware: marks `gate` busy from a request to /slack/events reaching the app until its response's
    last byte is handed to the server (or the request fails)."""

    def __init__(self, app: ASGIApp, gate: AckGate) -> None:
        self.app, self.gate = app, gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") != "/slack/events":
            await self.app(scope, receive, send)
            return
        self.gate.enter()
        done = False

        async def sending(message: Message) -> None:
            nonlocal done
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False) and not done:
                done = True
                self.gate.leave()

        try:
            await self.app(scope, receive, sending)
        finally:
            if not done:
                done = True
                self.gate.leave()


def _bolt_request(request: Request, text: str) -> BoltRequest:
    """Bolt reads a signed, well-formed body's fields as it builds its request; a field of an unexpected type
    (say `"enterprise": 5`) fails there, and is a malformed request, not a server error. Any other failure
    while Bolt parses (a RecursionError on a body check_shape did not foresee) is one too: a 400 and one log
    line, never a 500 with a traceback."""
    try:
        return BoltRequest(body=text, query=request.query_params, headers=request.headers)  # type: ignore[arg-type]
    except (AttributeError, KeyError, IndexError, TypeError, ValueError) as exc:
        raise Refused(400, f"payload fields of unexpected types ({type(exc).__name__})") from None
    except RecursionError:
        raise Refused(400, "body nested too deeply for Bolt to read") from None
    except Exception as exc:  # whatever Bolt's parser raises, it is the request that is malformed
        raise Refused(400, f"body Bolt could not read ({type(exc).__name__})") from None
