"""Slack Web API clients for the work no Slack request starts (alerts, digests, App Home refreshes): one bot
token from SLACK_BOT_TOKEN, or each workspace's installation from the OAuth installation store, with
rotating tokens refreshed before they expire (Bolt only rotates tokens on incoming requests)."""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackTokenRotationError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy.engine import Engine

from bot.settings import Settings

log = logging.getLogger(__name__)
ROTATE_MINUTES_BEFORE_EXPIRY = 120


def web_client(settings: Settings, token: str | None, *, retries: bool = False) -> WebClient:
    """A WebClient on SLACK_API_URL. Without `retries`, no request is ever sent twice by the client itself:
    a resent chat.postMessage after a dropped connection could post a message twice, so the outbox decides.
    With them (the app's replies to people), connection errors are retried and a 429 waits out Retry-After."""
    client = WebClient(token=token, base_url=settings.slack_api_url, timeout=int(settings.briefbot_slack_timeout))
    if retries:
        client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    else:
        client.retry_handlers.clear()
    return client


def oauth_enabled(settings: Settings) -> bool:
    return bool(settings.slack_client_id and settings.slack_client_secret)


def installation_store(settings: Settings, engine: Engine) -> SQLAlchemyInstallationStore:
    return SQLAlchemyInstallationStore(client_id=settings.slack_client_id or "", engine=engine)


class SlackClients:
    """`for_team(team_id)`: a WebClient holding that workspace's bot token, or None when briefbot has no
    token for it (never another workspace's)."""

    def __init__(self, settings: Settings, engine: Engine):
        self.settings = settings
        self.engine = engine
        self._lock = threading.Lock()
        self._single_team: str | None = None
        self._clients: dict[str, WebClient] = {}

    def for_team(self, team_id: str) -> WebClient | None:
        if oauth_enabled(self.settings):
            return self._installed(team_id)
        token = self.settings.slack_bot_token
        if token is None:
            return None
        with self._lock:
            client = self._clients.get("")
            if client is None:
                client = self._clients[""] = web_client(self.settings, token.get_secret_value())
            if self._single_team is None:
                try:
                    self._single_team = str(client.auth_test()["team_id"])
                except SlackApiError as exc:
                    log.warning("SLACK_BOT_TOKEN was refused by auth.test: %s", exc.response.get("error"))
                    return None
        return client if team_id == self._single_team else None

    def _installed(self, team_id: str) -> WebClient | None:
        store = installation_store(self.settings, self.engine)
        bot = store.find_bot(enterprise_id=None, team_id=team_id)
        if bot is None or not bot.bot_token:
            return None
        if bot.bot_refresh_token:
            bot = self._rotated(store, bot)
            if bot is None:
                return None
        token = bot.bot_token or ""
        with self._lock:
            client = self._clients.get(token)
            if client is None:
                client = self._clients[token] = web_client(self.settings, token)
        return client

    def _rotated(self, store: SQLAlchemyInstallationStore, bot: Bot) -> Bot | None:
        """The bot with a token that is good for a while yet: refreshed when it expires within
        ROTATE_MINUTES_BEFORE_EXPIRY. A refused or failed refresh keeps the old token while it lasts, and
        gives None once it has expired, so one workspace's revoked refresh token stops only its own work."""
        secret = self.settings.slack_client_secret
        rotator = TokenRotator(client_id=self.settings.slack_client_id or "",
                               client_secret=secret.get_secret_value() if secret else "",
                               client=web_client(self.settings, None, retries=True))
        try:
            rotated = rotator.perform_bot_token_rotation(
                bot=bot, minutes_before_expiration=ROTATE_MINUTES_BEFORE_EXPIRY)
        except (SlackTokenRotationError, SlackApiError, OSError) as exc:
            still_good = (bot.bot_token_expires_at or 0) > time.time() + 60
            log.warning("Refreshing workspace %s's bot token failed (%s); %s", bot.team_id, error_code(exc),
                        "using the current token until it expires" if still_good else "its token has expired")
            return bot if still_good else None
        if rotated is not None:
            store.save_bot(rotated)
            return rotated
        return bot


def error_code(exc: Exception) -> str:
    """Slack's error code for a failed call ("not_in_channel", or "http_503" when the body had none), or the
    exception's type for a failure with no response. Never the request: it holds tokens and secrets."""
    api_error = getattr(exc, "api_error", None) or exc  # SlackTokenRotationError wraps the API error
    response = getattr(api_error, "response", None)
    if response is None:
        return type(exc).__name__
    try:
        return str(response.get("error") or f"http_{response.status_code}")
    except AttributeError:
        return "unknown_error"
