"""Reading Slack payloads the same way in every listener: the workspace, the channel, the user, a message's ts,
a button's value. Ids and timestamps are checked here (bot/core/inputs): a malformed one reads as "", which
listeners treat as "not a request briefbot can act on", so nothing over-long or odd reaches a query or a row."""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext

from bot.core.inputs import slack_id, slack_ts


def field(obj: object, *path: str) -> Any:
    """obj[path[0]][path[1]]…, or None where a step is missing or not an object (payloads are outside input)."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def team_of(body: dict[str, Any], context: BoltContext | None = None) -> str:
    """The workspace a request came from: Bolt's context, else the event envelope or the interaction."""
    found = context.team_id if context is not None else None
    return slack_id(found or body.get("team_id") or field(body, "team", "id"))


def channel_of(body: dict[str, Any]) -> str:
    """The channel a button was pressed in (the message's container for ephemeral messages)."""
    return slack_id(field(body, "channel", "id") or field(body, "container", "channel_id"))


def user_of(body: dict[str, Any]) -> str:
    """Who pressed a button or submitted a view."""
    return slack_id(field(body, "user", "id"))


def message_ts_of(body: dict[str, Any]) -> str:
    """The thread of the message a button was pressed on (the message itself when it starts one)."""
    return slack_ts(field(body, "message", "thread_ts") or field(body, "message", "ts")
                    or field(body, "container", "message_ts"))


def action_value(body: dict[str, Any]) -> str:
    """The pressed button's value."""
    actions = body.get("actions")
    first = actions[0] if isinstance(actions, list) and actions else None
    return str(field(first, "value") or "")
