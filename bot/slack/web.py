"""`briefbot serve`: the Bolt app over HTTP as an ASGI application (Starlette, served by uvicorn):
POST /slack/events for events, commands and buttons; GET /slack/install and /slack/oauth_redirect for OAuth
installs; GET /healthz. Web processes are stateless: the scheduler never runs here."""

from __future__ import annotations

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.context import Context, build_context
from bot.slack.app import build_app


def create_asgi(ctx: Context | None = None, app: App | None = None) -> Starlette:
    ctx = ctx or build_context()
    bolt = app or build_app(ctx)

    async def events(request: Request) -> Response:
        body = await request.body()
        stamp = request.headers.get("x-slack-request-timestamp", "0")
        if not (stamp.isascii() and stamp.isdigit()):
            # slack_sdk's verifier would raise on it (a 500 with a traceback): refuse it as Bolt refuses forgeries
            return PlainTextResponse("invalid request timestamp", 401)
        # Bolt's dispatch is synchronous (signature check, middleware, ack): keep it off the event loop.
        response = await run_in_threadpool(bolt.dispatch, to_bolt_request(request, body))
        return to_starlette_response(response)

    async def oauth(request: Request) -> Response:
        flow = bolt.oauth_flow
        if flow is None:
            return PlainTextResponse("This briefbot is installed with a bot token; OAuth installs are off.", 404)
        bolt_request = to_bolt_request(request, await request.body())
        handle = flow.handle_installation if request.url.path == flow.install_path else flow.handle_callback
        return to_starlette_response(await run_in_threadpool(handle, bolt_request))

    async def health(_: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(routes=[
        Route("/slack/events", events, methods=["POST"]),
        Route("/slack/install", oauth, methods=["GET"]),
        Route("/slack/oauth_redirect", oauth, methods=["GET"]),
        Route("/healthz", health, methods=["GET"]),
    ])
