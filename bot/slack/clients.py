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

from bot.settings import Settings
from bot.storage.transactions import Engine

log = logging.getLogger(__name__)
ROTATE_MINUTES_BEFORE_EXPIRY = 120


def web_client(settings: Settings, token: str | None, *, retries: bool = False,
               logger: logging.Logger | None = None) -> WebClient:
    """A WebClient on SLACK_API_URL. Without `retries`, no request is ever sent twice by the client itself:
    a resent chat.postMessage after a dropped connection could post a message twice, so the outbox decides.
    With them (the app's replies to people), connection errors are retried and a 429 waits out Retry-After."""
    client = WebClient(token=token, base_url=settings.slack_api_url, timeout=int(settings.briefbot_slack_timeout),
                       logger=logger)
    if retries:
        client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    else:
        client.retry_handlers.clear()
    return client


def oauth_enabled(settings: Settings) -> bool:
    return bool(settings.slack_client_id and settings.slack_client_secret)


def installation_store(settings: Settings, engine: Engine) -> SQLAlchemyInstallationStore:
    return SQLAlchemyInstallationStore(client_id=settings.slack_client_id or "", engine=engine)


class SlackSetupError(Exception):
    """A Slack setting that cannot work, said in one line that names it and what to do."""


class SlackTokenRefused(SlackSetupError):  # noqa: N818 - a message for people
    """Slack answered, and said no to the token."""


class SlackUnreachable(SlackSetupError):  # noqa: N818 - a message for people
    """Slack did not answer (no network, a wrong SLACK_API_URL, a timeout): try again later."""


TOKEN_CHECK_TIMEOUT = 5.0  # seconds for the one auth.test that tells a token's workspace
# slack_sdk logs a failed request at ERROR; the token check says so itself, in one line.
_TOKEN_CHECK_LOG = logging.getLogger(f"{__name__}.token_check")
_TOKEN_CHECK_LOG.setLevel(logging.CRITICAL)


def token_team(settings: Settings, token: str, *, setting: str = "SLACK_BOT_TOKEN") -> str:
    """The workspace (team id) `token` belongs to, from one auth.test with a short timeout and no retries."""
    client = web_client(settings, token, logger=_TOKEN_CHECK_LOG)
    client.timeout = int(max(1.0, min(TOKEN_CHECK_TIMEOUT, settings.briefbot_slack_timeout)))
    try:
        team = client.auth_test().get("team_id")
    except SlackApiError as exc:
        raise SlackTokenRefused(f"Slack refused {setting} ({error_code(exc)}); copy the Bot User OAuth Token "
                                "(xoxb-…) again from the app's OAuth & Permissions page") from exc
    except OSError as exc:  # URLError (refused, no DNS), socket timeout
        reason = getattr(exc, "reason", None) or exc
        raise SlackUnreachable(f"cannot reach Slack at {settings.slack_api_url} to check {setting} "
                               f"({_said(reason)}); check the network or SLACK_API_URL") from exc
    if not team:
        raise SlackUnreachable(f"Slack's auth.test answer at {settings.slack_api_url} named no workspace; "
                               "check SLACK_API_URL")
    return str(team)


def check_tokens(settings: Settings, *, socket_mode: bool) -> str | None:
    """Before `run` or `serve` starts: the bot token's workspace, or SlackSetupError saying which token is the
    wrong kind (an app-level xapp- token where the bot token goes, or the other way round), refused, or
    unverifiable because Slack cannot be reached. None with OAuth (each workspace brings its own token)."""
    bot = settings.slack_bot_token.get_secret_value().strip() if settings.slack_bot_token else ""
    app = settings.slack_app_token.get_secret_value().strip() if settings.slack_app_token else ""
    if socket_mode and app and not app.startswith("xapp-"):
        swapped = " (the two tokens look swapped)" if bot.startswith("xapp-") else ""
        raise SlackSetupError(f"SLACK_APP_TOKEN must be the app-level token (xapp-…, Basic Information → "
                              f"App-Level Tokens){swapped}")
    if oauth_enabled(settings) or not bot:
        return None
    kind = _wrong_bot_token_kind(bot)
    if kind:
        raise SlackSetupError(f"SLACK_BOT_TOKEN holds {kind}; it must be the Bot User OAuth Token (xoxb-…) from "
                              "the app's OAuth & Permissions page")
    return token_team(settings, bot)


def _wrong_bot_token_kind(token: str) -> str | None:
    for prefix, kind in (("xapp-", "an app-level token (xapp-…)"), ("xoxp-", "a user token (xoxp-…)"),
                         ("xoxe.xoxp-", "a user token (xoxe.xoxp-…)"), ("xoxe-", "a refresh token (xoxe-…)")):
        if token.startswith(prefix):
            return kind
    return None


def _said(reason: object) -> str:
    if isinstance(reason, OSError) and reason.strerror:
        return str(reason.strerror)
    return str(reason) or type(reason).__name__


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
        """None when briefbot has no token for `team_id`; SlackUnreachable when that can't be known now."""
        if oauth_enabled(self.settings):
            return self._installed(team_id)
        token = self.settings.slack_bot_token
        if token is None:
            return None
        try:
            single_team = self.single_team()
        except SlackTokenRefused as exc:
            log.warning("%s", exc)
            return None
        if team_id != single_team:
            return None
        with self._lock:
            client = self._clients.get("")
            if client is None:
                client = self._clients[""] = web_client(self.settings, token.get_secret_value())
        return client

    def single_team(self) -> str:
        """SLACK_BOT_TOKEN's workspace, asked of Slack once per process (a refusal or no answer is asked again
        next time: the token may be fixed, or the network back)."""
        with self._lock:
            if self._single_team is None:
                token = self.settings.slack_bot_token
                if token is None:
                    raise SlackTokenRefused("SLACK_BOT_TOKEN is not set")
                self._single_team = token_team(self.settings, token.get_secret_value())
            return self._single_team

    def unpostable_reason(self, team_id: str) -> str | None:
        """Why nothing can be posted to `team_id`'s channels, with what to do; None when it can be. Slack not
        answering is a reason too (said as such): nothing is posted while it lasts."""
        s = self.settings
        if oauth_enabled(s):
            bot = installation_store(s, self.engine).find_bot(enterprise_id=None, team_id=team_id)
            if bot is None or not bot.bot_token:
                return f"briefbot is not installed in workspace {team_id} (install it through /slack/install)"
            return None
        if s.slack_bot_token is None:
            return "no Slack token is set (SLACK_BOT_TOKEN, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for OAuth)"
        try:
            single_team = self.single_team()
        except SlackSetupError as exc:
            return str(exc)
        if single_team != team_id:
            return (f"SLACK_BOT_TOKEN belongs to workspace {single_team}, not {team_id}; follow with "
                    f"--team {single_team} instead")
        return None

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
