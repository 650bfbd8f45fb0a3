"""Reading Slack payloads the same way in every listener: the workspace, the channel, a button's value."""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext


def team_of(body: dict[str, Any], context: BoltContext | None = None) -> str:
    """The workspace a request came from: Bolt's context, else the event envelope or the interaction."""
    found = context.team_id if context is not None else None
    return str(found or body.get("team_id") or (body.get("team") or {}).get("id") or "")


def channel_of(body: dict[str, Any]) -> str:
    """The channel a button was pressed in (the message's container for ephemeral messages)."""
    return str((body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or "")


def action_value(body: dict[str, Any]) -> str:
    """The pressed button's value."""
    return str((body.get("actions") or [{}])[0].get("value") or "")
