"""Events: App Home (and the Messages tab's suggested questions), the bot leaving or rejoining channels, and
archived channels. Questions (mentions, direct messages) are the questions module's."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.context import Context
from bot.core.inputs import slack_id
from bot.slack.blocks.home import home_view
from bot.slack.listeners.payload import team_of
from bot.slack.listeners.questions import offer_prompts
from bot.slack.views import home_view_data
from bot.storage.channels import pause_channel, resume_channel
from bot.storage.db import session_scope
from bot.storage.deliveries import delivery_counts

log = logging.getLogger(__name__)


def publish_home(ctx: Context, client: WebClient, team_id: str, user_id: str) -> None:
    with session_scope(ctx.engine) as session:
        failed = delivery_counts(session=session, team_id=team_id).get("failed", 0)
        data = home_view_data(session=session, team_id=team_id, writer=ctx.writer_label(), failed_deliveries=failed)
    client.views_publish(user_id=user_id, view=home_view(data))


def register(app: App, ctx: Context) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        team, user, channel = team_of(body, context), slack_id(event.get("user")), slack_id(event.get("channel"))
        if not (team and user):
            log.warning("app_home_opened with a malformed team or user id; ignored")
        elif event.get("tab", "home") == "home":
            publish_home(ctx, client, team, user)
        elif event.get("tab") == "messages" and channel:
            offer_prompts(ctx, client, team_id=team, channel_id=channel)

    def paused(reason: str) -> Any:
        def handler(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
            channel = event.get("channel")
            channel_id = slack_id(channel.get("id") if isinstance(channel, dict) else channel)
            team = team_of(body, context)
            if channel_id and team:
                with session_scope(ctx.engine) as session:
                    pause_channel(session=session, team_id=team, channel_id=channel_id, reason=reason,
                                  now=ctx.clock())
                log.info("paused channel %s: %s", channel_id, reason)
        return handler

    def resumed(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
        channel_id, team = slack_id(event.get("channel")), team_of(body, context)
        if event.get("type") == "member_joined_channel" and event.get("user") != context.bot_user_id:
            return
        if channel_id and team:
            with session_scope(ctx.engine) as session:
                if resume_channel(session=session, team_id=team, channel_id=channel_id, now=ctx.clock()):
                    log.info("resumed channel %s", channel_id)

    for name in ("channel_left", "group_left"):
        app.event(name)(paused("not_in_channel"))
    for name in ("channel_archive", "group_archive"):
        app.event(name)(paused("is_archived"))
    for name in ("channel_unarchive", "group_unarchive", "member_joined_channel"):
        app.event(name)(resumed)
