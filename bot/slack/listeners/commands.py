"""`/brief`: ack within Slack's 3 seconds with an ephemeral line, then do the work and replace that line
with the answer through the command's response_url."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.context import Context
from bot.core.inputs import slack_id
from bot.core.normalize import redact_url
from bot.slack.commands import handlers
from bot.slack.commands.handlers import Request
from bot.slack.commands.parse import Command, Usage, help_text, parse
from bot.slack.escape import escape
from bot.slack.listeners import questions
from bot.slack.listeners.background import Background

log = logging.getLogger(__name__)

UNREADABLE = "briefbot couldn't tell which workspace, channel or user this came from; run the command again."
WORKING = {
    "follow": "Looking at `{arg}`…", "unfollow": "Unfollowing `{arg}`…", "watch": "Setting up a watch on `{arg}`…",
    "unwatch": "Removing the watch on `{arg}`…", "list": "Gathering this channel's follows…",
    "status": "Checking…", "digest": "Setting the digest…", "mute": "Muting…", "unmute": "Unmuting…",
}


def run(ctx: Context, command: Command, req: Request, client: WebClient | None) -> str:
    """The reply to one parsed subcommand."""
    table: dict[str, Callable[[], str]] = {
        "help": help_text,
        "follow": lambda: handlers.follow(ctx, req),
        "unfollow": lambda: handlers.unfollow(ctx, req),
        "watch": lambda: handlers.watch(ctx, req),
        "unwatch": lambda: handlers.unwatch(ctx, req),
        "list": lambda: handlers.list_channel(ctx, req),
        "status": lambda: handlers.status(ctx, req),
        "digest": lambda: handlers.digest(ctx, req, client),
        "mute": lambda: handlers.mute(ctx, req, muted=True),
        "unmute": lambda: handlers.mute(ctx, req, muted=False),
    }
    return table[command.name]()


def register(app: App, ctx: Context, background: Background) -> None:
    @app.command("/brief")
    def brief(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        parsed = parse(str(body.get("text") or ""))
        if isinstance(parsed, Usage):
            ack(text=parsed.text, response_type="ephemeral")
            return
        req = Request(team_id=slack_id(body.get("team_id")), channel_id=slack_id(body.get("channel_id")),
                      user_id=slack_id(body.get("user_id")), arg=parsed.arg)
        if not (req.team_id and req.channel_id and req.user_id):
            log.warning("/brief %s with a malformed team, channel or user id; not run", parsed.name)
            ack(text=UNREADABLE, response_type="ephemeral")
            return
        if parsed.name == "ask":
            ack(text=f"Looking through the stored history for: _{escape(parsed.arg[:200])}_", response_type="ephemeral")
            background.run("/brief ask", lambda: questions.answer_command(
                ctx, team_id=req.team_id, channel_id=req.channel_id, user_id=req.user_id, question=parsed.arg,
                respond=respond))
            return
        if parsed.name not in WORKING:  # instant answers
            ack(text=run(ctx, parsed, req, client), response_type="ephemeral")
            return
        ack(text=WORKING[parsed.name].format(arg=escape(redact_url(parsed.arg)[:100])), response_type="ephemeral")

        def answer() -> None:
            try:
                text = run(ctx, parsed, req, client)
            except Exception:
                log.exception("/brief %s failed", parsed.name)
                text = f"Sorry, `/brief {parsed.name}` failed on briefbot's side; the error is in its log."
            respond(text=text, response_type="ephemeral", replace_original=True)
        background.run(f"/brief {parsed.name}", answer)
