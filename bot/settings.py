"""The one settings class: read from the environment and `.env`, never from anywhere else."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot import __version__
from bot.core.signals import SignalParams
from bot.core.stories import StoryParams

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_NEWS_SEARCH_URL = "https://news.google.com/rss/search?q={query}&hl=en-US&gl=US&ceid=US:en"


class Settings(BaseSettings):
    """Every knob briefbot has. `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(
        default="sqlite:///data/briefbot.db",
        description="SQLAlchemy URL; postgresql://... for PostgreSQL.",
    )

    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    briefbot_brief_model: str = "gpt-4o-mini"
    briefbot_answer_model: str = "gpt-4o-mini"
    briefbot_embedding_model: str | None = None
    briefbot_llm_timeout: float = Field(default=30.0, gt=0, description="Seconds per LLM call attempt.")
    briefbot_llm_max_retries: int = Field(default=2, ge=0, description="Retries on 429, 5xx and timeouts.")
    briefbot_brief_concurrency: int = Field(
        default=4, ge=1, description="Briefs one worker writes at once with an LLM (the built-in writer: one).")
    briefbot_daily_token_budget: int = Field(
        default=500_000, ge=0, description="LLM tokens per UTC day for each workspace's briefs (the default; "
        "`briefbot workspaces budget` sets a workspace's own).")
    briefbot_llm_single_reports: bool = Field(
        default=False, description="Whether the LLM briefs a story one outlet reports so far (default: the "
        "built-in writer does, and the LLM writes once a second outlet reports it).")
    briefbot_prompts_dir: Path | None = Field(default=None, description="The prompts/ folder; default: found.")

    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    briefbot_slack_timeout: float = Field(default=10.0, gt=0, description="Seconds per Slack Web API call.")
    briefbot_channel_post_interval: float = Field(
        default=1.0, ge=0, description="Least seconds between two posts in one channel (Slack allows about 1/s).")
    briefbot_delivery_tick: int = Field(default=5, ge=1, description="How often the worker posts due deliveries.")
    briefbot_digest_max_briefs: int = Field(default=10, ge=1, le=20, description="Briefs in one digest, at most.")
    briefbot_listener_threads: int = Field(default=10, ge=1, description="Threads for Slack listeners' slow work.")
    port: int = Field(default=3000, ge=1, le=65535, description="`briefbot serve` listens here (hosts set PORT).")
    web_concurrency: int = Field(default=2, ge=1, description="`briefbot serve` worker processes.")

    briefbot_poll_interval: int = Field(default=900, ge=10, description="Seconds between polls of one source.")
    briefbot_retry_base: int = Field(default=60, ge=1, description="First wait after a failed poll, seconds; doubles.")
    briefbot_max_backoff: int = Field(default=6 * 3600, ge=1, description="Longest wait after failures, seconds.")
    briefbot_scheduler_tick: int = Field(default=30, ge=1, description="How often the worker looks for due sources.")
    briefbot_lease_seconds: int = Field(
        default=300, ge=10, description="How long a worker holds claimed work before another may take it over.")
    briefbot_db_lock_timeout: float = Field(
        default=30.0, gt=0, le=3600, description="Seconds a statement waits for a lock another process holds.")
    briefbot_allow_private_urls: bool = False
    briefbot_allowed_networks: str = Field(
        default="", description="Comma-separated CIDRs fetched even when private URLs are refused."
    )
    briefbot_now: datetime | None = None
    briefbot_default_team: str = "T_LOCAL"

    briefbot_signal_window_days: int = Field(default=14, ge=1, description="Rolling window for hiring signals.")
    briefbot_signal_min_novel: int = Field(default=3, ge=1, description="New postings that make a novelty signal.")
    briefbot_signal_min_surge: int = Field(default=5, ge=1, description="New postings that can make a surge.")
    briefbot_signal_surge_ratio: float = Field(default=3.0, ge=1.0, description="Surge: times the usual count.")

    briefbot_story_window_hours: int = Field(default=72, ge=1, description="A story takes reports this long.")
    briefbot_story_min_outlets: int = Field(default=2, ge=1, description="Outlets a story needs for a brief.")
    briefbot_rebrief_minutes: int = Field(
        default=60, ge=0, le=7 * 24 * 60, description="Least minutes between two briefs of one story or signal: "
        "what changes sooner waits and is covered by the next brief (0: no waiting).")
    briefbot_rewrite_growth_percent: int = Field(
        default=100, ge=10, le=1000, description="How much a story must grow (in items, since its brief's "
        "text was written) before the LLM rewrites that text; until then new reports and outlets update the brief's "
        "sources and counts under the text it has (100: when it has doubled).")
    briefbot_alerts_per_source: int = Field(
        default=5, ge=1, le=1000,
        description="New story alerts one followed source may post in a channel per pass; the rest go into "
                    "one 'and N more' message and the digest.")

    briefbot_news_search_url: str = DEFAULT_NEWS_SEARCH_URL
    briefbot_user_agent: str = f"briefbot/{__version__} (+https://github.com/briefbot/briefbot; feed poller)"
    briefbot_max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    briefbot_max_redirects: int = Field(default=5, ge=0)
    briefbot_connect_timeout: float = Field(default=10.0, gt=0)
    briefbot_read_timeout: float = Field(default=20.0, gt=0)
    briefbot_fetch_deadline: float = Field(default=60.0, gt=0, description="Whole-fetch limit, seconds.")
    briefbot_concurrency: int = Field(default=32, ge=1)
    briefbot_per_host_concurrency: int = Field(default=4, ge=1)
    briefbot_max_text_chars: int = Field(default=4000, ge=200)
    briefbot_parse_workers: int = Field(
        default=1, ge=0, le=64, description="Processes that parse and normalise what a poll fetched, beside the "
        "poller's own; 0 parses in the poller's event loop (no process, no BRIEFBOT_PARSE_TIMEOUT).")
    briefbot_parse_timeout: float = Field(
        default=30.0, gt=0, description="Seconds one response may take to parse; the parse worker is then killed "
        "and that source's poll fails (retried later).")
    briefbot_log_level: str = "INFO"

    @field_validator("briefbot_now")
    @classmethod
    def _now_is_aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("BRIEFBOT_NOW needs a time zone, e.g. 2026-03-01T09:00:00Z")
        return value

    @field_validator("briefbot_log_level")
    @classmethod
    def _log_level_known(cls, value: str) -> str:
        # Checked here so a typo is reported as this setting, not as a failure to start whatever came next.
        if value.strip().upper() not in LOG_LEVELS:
            raise ValueError(f"{value!r} is not a log level; use one of {', '.join(LOG_LEVELS)}")
        return value.strip().upper()

    @field_validator("database_url")
    @classmethod
    def _normalise_db_url(cls, value: str) -> str:
        # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants an explicit driver.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix):]
        return value

    @field_validator("briefbot_allowed_networks")
    @classmethod
    def _networks_parse(cls, value: str) -> str:
        import ipaddress

        for part in filter(None, (p.strip() for p in value.split(","))):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError as exc:
                raise ValueError(f"{part!r} is not a network like 10.1.2.0/24") from exc
        return value

    @model_validator(mode="after")
    def _lease_outlasts_a_post(self) -> Settings:
        # A delivery's lease is renewed as its post starts; the post (and one retry without blocks) must end
        # before the lease does, or another worker could take the delivery over mid-post.
        if self.briefbot_lease_seconds < 3 * self.briefbot_slack_timeout:
            raise ValueError(f"BRIEFBOT_LEASE_SECONDS ({self.briefbot_lease_seconds}) must be at least three times "
                             f"BRIEFBOT_SLACK_TIMEOUT ({self.briefbot_slack_timeout:g})")
        return self

    def allowed_networks(self) -> list[Any]:
        import ipaddress

        return [ipaddress.ip_network(p.strip(), strict=False) for p in self.briefbot_allowed_networks.split(",")
                if p.strip()]

    def signal_params(self) -> SignalParams:
        return SignalParams(window=timedelta(days=self.briefbot_signal_window_days),
                            min_novel=self.briefbot_signal_min_novel, min_surge=self.briefbot_signal_min_surge,
                            surge_ratio=self.briefbot_signal_surge_ratio)

    def lease(self) -> timedelta:
        return timedelta(seconds=self.briefbot_lease_seconds)

    def story_params(self) -> StoryParams:
        return StoryParams(window=timedelta(hours=self.briefbot_story_window_hours))

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        path = self.database_url.split("///", 1)[-1]
        return None if path in ("", ":memory:") else Path(path)

    def masked(self) -> dict[str, Any]:
        """The effective settings as printable data: secrets and URL passwords masked."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = mask_secret(value.get_secret_value())
            elif name == "database_url":
                value = mask_url_password(value)
            elif isinstance(value, datetime):
                value = value.isoformat()
            out[name.upper()] = value
        return out


def mask_secret(secret: str) -> str:
    if not secret:
        return ""
    return secret[:4] + "…" if len(secret) > 12 else "****"


def mask_url_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is reported elsewhere; never echo it raw
        return "<unparsable>"
