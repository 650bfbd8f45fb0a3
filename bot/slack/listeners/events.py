"""Events: App Home (and the Messages tab's suggested questions), the bot leaving or rejoining channels, and
archived channels. Questions (mentions, direct messages) are the questions module's."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.core.inputs import slack_id
from bot.slack.blocks.home import home_view
from bot.slack.deps import Deps
from bot.slack.listeners.payload import team_of
from bot.slack.listeners.questions import offer_prompts
from bot.slack.views import home_view_data
from bot.storage.channels import pause_channel, resume_channel
from bot.storage.db import session_scope
from bot.storage.deliveries import delivery_counts

log = logging.getLogger(__name__)
PAUSED_BY = {"channel_left": "not_in_channel", "group_left": "not_in_channel",
             "channel_archive": "is_archived", "group_archive": "is_archived"}
RESUMED_BY = ("channel_unarchive", "group_unarchive", "member_joined_channel")


def register(app: App, deps: Deps) -> None:
    app.event("app_home_opened")(partial(handle_app_home_opened, deps=deps))
    for name, reason in PAUSED_BY.items():
        app.event(name)(partial(handle_channel_lost, deps=deps, reason=reason))
    for name in RESUMED_BY:
        app.event(name)(partial(handle_channel_back, deps=deps))


def handle_app_home_opened(event: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient,
                           set_suggested_prompts: Callable[..., object] | None, *, deps: Deps) -> None:
    team, user, channel = team_of(body, context), slack_id(event.get("user")), slack_id(event.get("channel"))
    if not (team and user):
        log.warning("app_home_opened with a malformed team or user id; ignored")
    elif event.get("tab", "home") == "home":
        publish_home(deps, client, team, user)
    elif event.get("tab") == "messages" and channel and set_suggested_prompts is not None:
        offer_prompts(deps, set_suggested_prompts, team_id=team)


def handle_channel_lost(event: dict[str, Any], body: dict[str, Any], context: BoltContext, *, deps: Deps,
                        reason: str) -> None:
    """The bot was removed from a channel, or it was archived: its follows and deliveries wait."""
    channel = event.get("channel")
    channel_id = slack_id(channel.get("id") if isinstance(channel, dict) else channel)
    team = team_of(body, context)
    if channel_id and team:
        with session_scope(deps.engine) as session:
            pause_channel(session=session, team_id=team, channel_id=channel_id, reason=reason, now=deps.clock())
        log.info("paused channel %s: %s", channel_id, reason)


def handle_channel_back(event: dict[str, Any], body: dict[str, Any], context: BoltContext, *, deps: Deps) -> None:
    """The bot was invited back, or the channel unarchived: what waited for it goes out."""
    channel_id, team = slack_id(event.get("channel")), team_of(body, context)
    if event.get("type") == "member_joined_channel" and event.get("user") != context.bot_user_id:
        return
    if channel_id and team:
        with session_scope(deps.engine) as session:
            if resume_channel(session=session, team_id=team, channel_id=channel_id, now=deps.clock()):
                log.info("resumed channel %s", channel_id)


def publish_home(deps: Deps, client: WebClient, team_id: str, user_id: str) -> None:
    budget = deps.llm_budget(team_id)
    with session_scope(deps.engine) as session:
        failed = delivery_counts(session=session, team_id=team_id).get("failed", 0)
        data = home_view_data(session=session, team_id=team_id, writer=deps.writer_label, failed_deliveries=failed,
                              llm_budget=budget)
    client.views_publish(user_id=user_id, view=home_view(data))
