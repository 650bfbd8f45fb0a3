"""Building the Bolt app: one workspace with SLACK_BOT_TOKEN, or many through OAuth with slack_sdk's
SQLAlchemy installation and state stores on briefbot's own database. Socket Mode and HTTP share it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot.context import Context
from bot.slack.clients import installation_store, oauth_enabled, web_client
from bot.slack.deps import deps_for
from bot.slack.listeners import actions, commands, events, questions
from bot.slack.listeners.background import Background
from bot.storage.events import first_time

log = logging.getLogger(__name__)

# Keep in step with manifest.json (tests/test_manifest.py checks).
BOT_SCOPES = ("app_mentions:read", "assistant:write", "channels:history", "channels:read", "chat:write", "commands",
              "groups:history", "groups:read", "im:history", "im:read", "users:read")


class SlackNotConfigured(Exception):  # noqa: N818 - a message for people, not a bug
    """Which settings are missing, and where to find them."""


def missing_settings(ctx: Context, *, socket_mode: bool) -> list[str]:
    s = ctx.settings
    missing = []
    if socket_mode and s.slack_app_token is None:
        missing.append("SLACK_APP_TOKEN (xapp-…): Basic Information → App-Level Tokens, with connections:write")
    if not oauth_enabled(s) and s.slack_bot_token is None:
        missing.append("SLACK_BOT_TOKEN (xoxb-…): OAuth & Permissions → Bot User OAuth Token, after installing "
                       "the app to your workspace")
    if not socket_mode and s.slack_signing_secret is None:
        missing.append("SLACK_SIGNING_SECRET: Basic Information → App Credentials → Signing Secret")
    return missing


def build_app(ctx: Context, *, socket_mode: bool = False, background: Background | None = None) -> App:
    """The Bolt app; `background` runs the work after acks (the web server hands in one whose gate it marks)."""
    missing = missing_settings(ctx, socket_mode=socket_mode)
    if missing:
        raise SlackNotConfigured("Slack settings are missing (create the app from manifest.json at "
                                 "https://api.slack.com/apps, then set them in .env):\n  " + "\n  ".join(missing))
    s = ctx.settings
    kwargs: dict[str, Any] = {
        "signing_secret": s.slack_signing_secret.get_secret_value() if s.slack_signing_secret else None,
        "listener_executor": ThreadPoolExecutor(max_workers=s.briefbot_listener_threads,
                                                thread_name_prefix="slack-listener"),
        "ignoring_self_events_enabled": True,
    }
    if oauth_enabled(s):
        kwargs.update(
            installation_store=installation_store(s, ctx.engine),
            installation_store_bot_only=True,
            client=web_client(s, None, retries=True),
            oauth_settings=OAuthSettings(
                client_id=s.slack_client_id, client_secret=s.slack_client_secret.get_secret_value()
                if s.slack_client_secret else None,
                scopes=list(BOT_SCOPES), install_path="/slack/install", redirect_uri_path="/slack/oauth_redirect",
                state_store=SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=ctx.engine),
                token_rotation_expiration_minutes=120,
            ),
        )
    else:
        token = s.slack_bot_token.get_secret_value() if s.slack_bot_token else None
        kwargs.update(client=web_client(s, token, retries=True))  # Bolt takes the token from its client
    app = App(logger=_bolt_logger(), **kwargs)
    if oauth_enabled(s):
        app.enable_token_revocation_listeners()
    app.middleware(_once_per_event(ctx))
    deps = deps_for(ctx, background)
    for listeners in (commands, actions, questions, events):
        listeners.register(app, deps)
    return app


def _bolt_logger() -> logging.Logger:
    """Bolt's logger, without the warning it gives whenever SLACK_BOT_TOKEN is in the environment: Bolt reads
    that variable itself, and briefbot's client already carries the same token."""
    logger = logging.getLogger("slack_bolt.App")
    skipped = warning_client_prioritized_and_token_skipped()
    if not any(getattr(f, "briefbot", False) for f in logger.filters):
        def drop(record: logging.LogRecord) -> bool:
            return record.getMessage() != skipped
        drop.briefbot = True  # type: ignore[attr-defined]
        logger.addFilter(drop)
    return logger


def _once_per_event(ctx: Context) -> Callable[..., Any]:
    """Slack retries an event it thinks we missed (X-Slack-Retry-Num) and Socket Mode may redeliver one:
    each event id is handled once, whichever process sees it first."""
    def middleware(body: dict[str, Any], next: Callable[[], Any]) -> Any:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not first_time(engine=ctx.engine, event_id=str(event_id), team_id=str(body.get("team_id")),
                                       now=ctx.clock()):
            log.info("event %s already handled; skipping the repeat", event_id)
            return BoltResponse(status=200, body="")
        return next()
    return middleware
