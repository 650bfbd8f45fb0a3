"""Requests the way Slack sends them to an app: signed slash commands, Events API envelopes and block_actions
payloads, plus small constructors for the events briefbot subscribes to.

    body = command_body("follow hn", response_url=slack.hook_url("cmd"))
    client.post("/slack/events", content=body, headers=sign(SECRET, body))
    body = event_body(event("app_mention", text="<@UBOT> status"))

The shapes are written out here, so the tests do not need the shared corpus; each says which corpus file
(/work/shared/corpus/slack/…) it follows.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

BOT_USER_ID = "UBOT"  # the bot user tests/slack_server.py's auth.test reports
TRIGGER_ID = "13345224609.738474920.8088930838d88f008e0"
_seq = itertools.count(1)


def _next_ts() -> str:
    """Event timestamps that only go up (user messages, event_ts)."""
    return f"1700000000.{500_000 + next(_seq):06d}"


def sign(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack sends with `body`: X-Slack-Request-Timestamp, X-Slack-Signature (v0, HMAC-SHA256 of
    "v0:{timestamp}:{body}" keyed by the signing secret) and the Content-Type that matches the body (JSON for
    events, form-encoded for commands and interactivity)."""
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    content_type = "application/json" if body.lstrip().startswith("{") else "application/x-www-form-urlencoded"
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}", "Content-Type": content_type}


def sign_bytes(secret: str, body: bytes, content_type: str, timestamp: int | None = None) -> dict[str, str]:
    """`sign` for a body that need not be text (invalid UTF-8, say) and a Content-Type of the test's choosing."""
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), b"v0:%d:" % ts + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}", "Content-Type": content_type}


def _channel_name(channel_id: str) -> str:
    if channel_id.startswith("D"):
        return "directmessage"
    return "privategroup" if channel_id.startswith("G") else f"channel-{channel_id.lower()}"


def command_body(text: str, *, team_id: str = "T1", channel_id: str = "C1", user_id: str = "U1",
                 response_url: str, command: str = "/brief", trigger_id: str = TRIGGER_ID,
                 api_app_id: str = "A1") -> str:
    """A slash command as Slack POSTs it (form-encoded). Follows payloads/app-backend/slash-commands/
    SlashCommandPayload.json; enterprise fields are left out, as Slack does outside Enterprise Grid."""
    return urlencode({
        "token": "verification-token", "team_id": team_id, "team_domain": team_id.lower(),
        "channel_id": channel_id, "channel_name": _channel_name(channel_id), "user_id": user_id,
        "user_name": user_id.lower(), "command": command, "text": text, "api_app_id": api_app_id,
        "is_enterprise_install": "false", "response_url": response_url, "trigger_id": trigger_id,
    })


def event_body(event: dict[str, Any], *, team_id: str = "T1", event_id: str | None = None, api_app_id: str = "A1",
               event_time: int | None = None) -> str:
    """An Events API `event_callback` envelope around `event` (JSON). Follows events-api/
    slack_common_event_wrapper_schema.json (required: token, team_id, api_app_id, event, type, event_id,
    event_time, authed_users) and the envelopes in payloads/events/*Payload.json (authorizations, event_context).
    Each call gets a fresh event_id unless one is given (give the same one to simulate Slack's retries)."""
    n = next(_seq)
    return json.dumps({
        "token": "verification-token",
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": {"event_ts": event.get("ts") or _next_ts(), **event},
        "type": "event_callback",
        "event_id": event_id or f"Ev{n:08d}",
        "event_time": int(time.time()) if event_time is None else event_time,
        "authed_users": [BOT_USER_ID],
        "authorizations": [{"enterprise_id": None, "team_id": team_id, "user_id": BOT_USER_ID, "is_bot": True,
                            "is_enterprise_install": False}],
        "is_ext_shared_channel": False,
        "event_context": f"4-eyJldCI6ImV2ZW50In0-{n}",
    })


def action_body(action_id: str, value: str, *, team_id: str = "T1", channel_id: str = "C1", user_id: str = "U1",
                response_url: str | None = None, message_ts: str = "1700000000.000100", container: str = "message",
                view_id: str = "V00000001", block_id: str = "actions", action_type: str = "button",
                message: dict[str, Any] | None = None, is_ephemeral: bool = False,
                trigger_id: str = TRIGGER_ID, api_app_id: str = "A1") -> str:
    """A block_actions interactivity payload, form-encoded as payload=<json>. Follows payloads/app-backend/
    interactive-components/BlockActionPayload.json.

    container="message": a button in a message at `message_ts` in `channel_id` (with `response_url`; the
    clicked `message` is included unless ephemeral, as Slack does). container="view": a button on the Home tab
    (`view_id`), which carries no channel, message or response_url. action_type="static_select" sends `value`
    as the selected option."""
    action: dict[str, Any] = {"action_id": action_id, "block_id": block_id, "type": action_type,
                              "action_ts": _next_ts()}
    if action_type == "button":
        action.update(value=value, text={"type": "plain_text", "text": value, "emoji": True})
    else:
        action["selected_option"] = {"text": {"type": "plain_text", "text": value, "emoji": True}, "value": value}
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id},
        "api_app_id": api_app_id,
        "token": "verification-token",
        "trigger_id": trigger_id,
        "team": {"id": team_id, "domain": team_id.lower()},
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": [action],
        "state": {"values": {}},
    }
    if container == "view":
        payload["container"] = {"type": "view", "view_id": view_id}
        payload["view"] = {"id": view_id, "type": "home", "team_id": team_id, "app_id": api_app_id,
                           "blocks": [], "private_metadata": "", "callback_id": "", "hash": "1700000000.abc",
                           "state": {"values": {}}}
    else:
        payload["container"] = {"type": "message", "message_ts": message_ts, "channel_id": channel_id,
                                "is_ephemeral": is_ephemeral}
        payload["channel"] = {"id": channel_id, "name": _channel_name(channel_id)}
        if not is_ephemeral:
            payload["message"] = message or {"type": "message", "ts": message_ts, "user": BOT_USER_ID,
                                             "bot_id": "BBOT", "text": "", "blocks": []}
        if response_url is not None:
            payload["response_url"] = response_url
    return urlencode({"payload": json.dumps(payload)})


# The inner `event` objects, after payloads/events/<Name>Payload.json. Fields passed to `event()` override these.
_EVENTS: dict[str, dict[str, Any]] = {
    "app_home_opened": {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"},  # AppHomeOpened
    "channel_left": {"type": "channel_left", "channel": "C1", "actor_id": "U1"},  # ChannelLeft
    "group_left": {"type": "group_left", "channel": "G1", "actor_id": "U1"},  # GroupLeft
    "member_joined_channel": {"type": "member_joined_channel", "user": BOT_USER_ID, "channel": "C1",  # MemberJoined…
                              "channel_type": "C", "team": "T1", "inviter": "U1"},
    "channel_archive": {"type": "channel_archive", "channel": "C1", "user": "U1"},  # ChannelArchive
    "group_archive": {"type": "group_archive", "channel": "G1", "user": "U1"},  # GroupArchive
    "channel_unarchive": {"type": "channel_unarchive", "channel": "C1", "user": "U1"},  # ChannelUnarchive
    "group_unarchive": {"type": "group_unarchive", "channel": "G1", "user": "U1"},  # GroupUnarchive
    "app_mention": {"type": "app_mention", "user": "U1", "text": f"<@{BOT_USER_ID}> help",  # AppMention
                    "channel": "C1", "team": "T1"},
    "message.im": {"type": "message", "channel_type": "im", "user": "U1", "text": "hello",  # Message
                   "channel": "D1", "team": "T1"},
    "app_uninstalled": {"type": "app_uninstalled"},  # AppUninstalled
    "tokens_revoked": {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [BOT_USER_ID]}},  # TokensRevoked
}
_USER_MESSAGES = ("app_mention", "message.im")


def view_submission_body(view: dict[str, Any], values: dict[str, dict[str, dict[str, Any]]], *, team_id: str = "T1",
                         user_id: str = "U1", api_app_id: str = "A1", view_id: str = "V00000002") -> str:
    """A view_submission payload (payloads/app-backend/views/ViewSubmissionPayload.json) for the modal `view`
    that briefbot opened, with the user's input as `values` (block_id -> action_id -> {type, value})."""
    payload = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": team_id.lower()},
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": team_id},
        "api_app_id": api_app_id, "token": "verification-token", "trigger_id": TRIGGER_ID, "enterprise": None,
        "is_enterprise_install": False,
        "view": {**view, "id": view_id, "team_id": team_id, "app_id": api_app_id, "state": {"values": values},
                 "hash": "1700000000.def", "root_view_id": view_id, "previous_view_id": None, "external_id": "",
                 "app_installed_team_id": team_id, "bot_id": "BBOT"},
    }
    return urlencode({"payload": json.dumps(payload)})


def event(kind: str, **fields: Any) -> dict[str, Any]:
    """The inner event for `kind` (one of the keys above; "message.im" is a DM to the bot), with `fields`
    overriding the defaults. User messages get a fresh ts (and event_ts) and a client_msg_id; a
    message.im's channel defaults to "D" + the user's id, matching tests/slack_server.py's DMs."""
    if kind not in _EVENTS:
        raise ValueError(f"no constructor for {kind!r}; known: {', '.join(_EVENTS)}")
    built = dict(_EVENTS[kind])
    if kind in ("app_home_opened", "message.im") and "user" in fields and "channel" not in fields:
        built["channel"] = "D" + str(fields["user"])[1:]
    if kind in _USER_MESSAGES:
        ts = _next_ts()
        built.update(ts=ts, client_msg_id=f"00000000-0000-4000-8000-{next(_seq):012d}")
        built["blocks"] = [{"type": "rich_text", "block_id": "b1", "elements": [
            {"type": "rich_text_section", "elements": [{"type": "text", "text": fields.get("text", built["text"])}]}]}]
    built.update(fields)
    built.setdefault("event_ts", built.get("ts") or _next_ts())
    return built
