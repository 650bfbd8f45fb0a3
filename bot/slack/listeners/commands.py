"""`/brief`: ack within Slack's 3 seconds with an ephemeral line, then do the work and replace that line
with the answer through the command's response_url."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.core.inputs import slack_id
from bot.core.normalize import redact_url
from bot.slack.commands import company, handlers, opml
from bot.slack.commands.handlers import Request
from bot.slack.commands.parse import Command, Usage, help_text, parse
from bot.slack.deps import Deps
from bot.slack.escape import escape
from bot.slack.listeners import questions

log = logging.getLogger(__name__)

UNREADABLE = "briefbot couldn't tell which workspace, channel or user this came from; run the command again."
WORKING = {
    "follow": "Looking at `{arg}`…", "unfollow": "Unfollowing `{arg}`…", "watch": "Setting up a watch on `{arg}`…",
    "unwatch": "Removing the watch on `{arg}`…", "list": "Gathering this channel's follows…",
    "status": "Checking…", "digest": "Setting the digest…", "mute": "Muting…", "unmute": "Unmuting…",
    "alias": "Looking at company aliases…", "unalias": "Removing the alias `{arg}`…",
    "company": "Looking up `{arg}`…", "import": "Reading the OPML file at `{arg}`…",
}


def register(app: App, deps: Deps) -> None:
    app.command("/brief")(partial(handle_brief_command, deps=deps))


def run(deps: Deps, command: Command, req: Request, client: WebClient | None) -> str:
    """The reply to one parsed subcommand."""
    table: dict[str, Callable[[], str]] = {
        "help": help_text,
        "follow": lambda: handlers.follow(deps, req),
        "import": lambda: opml.import_file(deps, req),
        "unfollow": lambda: handlers.unfollow(deps, req),
        "watch": lambda: handlers.watch(deps, req),
        "unwatch": lambda: handlers.unwatch(deps, req),
        "list": lambda: handlers.list_channel(deps, req),
        "status": lambda: handlers.status(deps, req),
        "digest": lambda: handlers.digest(deps, req, client),
        "mute": lambda: handlers.mute(deps, req, muted=True),
        "unmute": lambda: handlers.mute(deps, req, muted=False),
        "alias": lambda: handlers.alias(deps, req),
        "unalias": lambda: handlers.unalias(deps, req),
        "company": lambda: company.company(deps, req),
    }
    return table[command.name]()


def handle_brief_command(ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient, *, deps: Deps) -> None:
    """Ack at once: a usage line, the answer itself when it is instant, or "working on it"; slow answers and
    `/brief ask` then run on the background threads and replace that line."""
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
        deps.background.run("/brief ask", lambda: questions.answer_command(
            deps, team_id=req.team_id, channel_id=req.channel_id, user_id=req.user_id, question=parsed.arg,
            respond=respond))
        return
    if parsed.name not in WORKING:  # instant answers
        ack(text=run(deps, parsed, req, client), response_type="ephemeral")
        return
    ack(text=WORKING[parsed.name].format(arg=escape(redact_url(parsed.arg)[:100])), response_type="ephemeral")

    def answer() -> None:
        try:
            text = run(deps, parsed, req, client)
        except Exception:
            log.exception("/brief %s failed", parsed.name)
            text = f"Sorry, `/brief {parsed.name}` failed on briefbot's side; the error is in its log."
        respond(text=text, response_type="ephemeral", replace_original=True)
    deps.background.run(f"/brief {parsed.name}", answer)
