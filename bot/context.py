"""The composition root: the one place that builds settings, database engine, clock and HTTP client.
Everything else receives what it needs from here."""

from __future__ import annotations

import logging
import sys
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from bot.clock import Clock, fixed_clock, utc_now
from bot.core.llm_budget import LLMBudget
from bot.core.types import Embed
from bot.llm.client import llm_configured
from bot.llm.prompts import Prompt, PromptError, default_directory, load_all
from bot.settings import Settings, mask_url_password
from bot.storage.db import build_engine, session_scope, upgrade

# What only some commands use is imported where it is built: every `briefbot` command goes through here, and
# the OpenAI client, the HTTP client, analysis and asking would cost each one a second before it starts.
if TYPE_CHECKING:
    from bot.analysis.run import AnalysisReport
    from bot.ask.service import Asker
    from bot.briefs.writers import BriefWriter
    from bot.fetch.http import Fetcher
    from bot.ingest.parse_worker import ParseWorkers
    from bot.ingest.poller import Poller

log = logging.getLogger(__name__)


@dataclass(slots=True, weakref_slot=True)
class Context:
    settings: Settings
    engine: Engine
    clock: Clock
    prompts: dict[str, Prompt] = field(default_factory=dict)
    # Built once, on first use: an LLM client holds a connection pool that must not be rebuilt every pass.
    _writer: BriefWriter | None = field(default=None, init=False, repr=False)
    _asker: Asker | None = field(default=None, init=False, repr=False)
    _embed: Embed | None = field(default=None, init=False, repr=False)
    _embed_built: bool = field(default=False, init=False, repr=False)
    _parse_workers: ParseWorkers | None = field(default=None, init=False, repr=False)

    def fetcher(self) -> Fetcher:
        """A new HTTP client; build it inside the event loop that uses it, and close it there."""
        from bot.fetch.http import build_fetcher

        return build_fetcher(self.settings)

    def poller(self, fetcher: Fetcher) -> Poller:
        from bot.ingest.poller import Poller

        return Poller(settings=self.settings, engine=self.engine, fetcher=fetcher, clock=self.clock,
                      parser=self.parse_workers())

    def parse_workers(self) -> ParseWorkers | None:
        """The processes polls parse in (BRIEFBOT_PARSE_WORKERS; None for 0: inline). Built once, and started
        by the first poll that reads a body, so commands that poll nothing never start them; closed with
        `close()`, or when this context is collected or the interpreter exits."""
        if self.settings.briefbot_parse_workers == 0:
            return None
        if self._parse_workers is None:
            from bot.ingest.parse_worker import ParseWorkers

            workers = ParseWorkers(size=self.settings.briefbot_parse_workers,
                                   timeout=self.settings.briefbot_parse_timeout)
            weakref.finalize(self, workers.close)
            self._parse_workers = workers
        return self._parse_workers

    def close(self) -> None:
        """Stop what this context started that outlives a command's work: the parse workers."""
        if self._parse_workers is not None:
            self._parse_workers.close()

    def brief_writer(self) -> BriefWriter:
        """The LLM writer when an endpoint is configured, with the built-in writer behind it; otherwise the
        built-in writer, which says so in every brief."""
        if self._writer is None:
            if not llm_configured(self.settings):
                from bot.briefs.builtin import WRITER_NOTE
                from bot.briefs.writers import BuiltinWriter

                self._writer = BuiltinWriter(WRITER_NOTE)
            else:
                from bot.llm.brief_writer import LLMBriefWriter
                from bot.llm.client import build_client
                from bot.llm.fallback import LLMWithFallback

                client = build_client(self.settings, timeout=self.settings.briefbot_llm_timeout,
                                      max_retries=self.settings.briefbot_llm_max_retries)
                llm = LLMBriefWriter(client, self.settings.briefbot_brief_model, self.prompts)
                self._writer = LLMWithFallback(llm, budget=self._budget_of)
        return self._writer

    def asker(self) -> Asker:
        """Answers questions: the LLM answer writer when an endpoint is configured, extractive otherwise."""
        if self._asker is None:
            from bot.ask.service import Asker

            writer = None
            if llm_configured(self.settings):
                from bot.llm.answer_writer import LLMAnswerWriter
                from bot.llm.client import build_client

                client = build_client(self.settings, timeout=self.settings.briefbot_llm_timeout,
                                      max_retries=self.settings.briefbot_llm_max_retries)
                writer = LLMAnswerWriter(client, self.settings.briefbot_answer_model, self.prompts)
            self._asker = Asker(engine=self.engine, clock=self.clock, writer=writer, embed=self.embed(),
                                budget=self._budget_of if writer is not None else None)
        return self._asker

    def writer_label(self) -> str:
        """How briefs are written, for people: shown in `/brief status` and App Home."""
        if not llm_configured(self.settings):
            return "the built-in writer (no LLM is configured: set OPENAI_BASE_URL or OPENAI_API_KEY)"
        singles = ("" if self.settings.briefbot_llm_single_reports
                   else " and for a story one outlet has reported so far (BRIEFBOT_LLM_SINGLE_REPORTS)")
        return f"LLM {self.settings.briefbot_brief_model}, with the built-in writer when it fails{singles}"

    def llm_budget(self, team_id: str) -> LLMBudget | None:
        """The workspace's LLM budget today, for `/brief status`, App Home and `briefbot status`; None when no LLM
        is configured (every brief is the built-in writer's, whatever the budget)."""
        return self._budget_of(team_id) if llm_configured(self.settings) else None

    def _budget_of(self, team_id: str) -> LLMBudget:
        """Its own budget (workspaces.llm_daily_tokens) or BRIEFBOT_DAILY_TOKEN_BUDGET, and its briefs' tokens
        since 00:00 UTC: read before each LLM brief, so a workspace stops at its own budget."""
        from bot.storage.llm_budgets import workspace_budget

        with session_scope(self.engine) as session:
            return workspace_budget(session=session, team_id=team_id,
                                    default_limit=self.settings.briefbot_daily_token_budget, now=self.clock())

    def embed(self) -> Embed | None:
        """Embeddings for story clustering when BRIEFBOT_EMBEDDING_MODEL and an endpoint are set. A failing
        endpoint costs one batch its embeddings (clustered on terms alone), never the batch."""
        if not self._embed_built:
            self._embed, self._embed_built = self._build_embed(), True
        return self._embed

    def _build_embed(self) -> Embed | None:
        from bot.llm.client import LLMError, embeddings_configured

        if not embeddings_configured(self.settings):
            return None  # the usual case: no embeddings, and no import of the OpenAI library for them
        from bot.llm.embeddings import embedder_for

        embedder = embedder_for(self.settings)
        if embedder is None:
            return None

        def embed(texts: list[str]) -> list[tuple[float, ...]] | None:
            try:
                return embedder.embed(texts)
            except LLMError as exc:
                log.warning("clustering %d items without embeddings: %s", len(texts), exc)
                return None

        return embed

    def analyse(self, team_id: str | None = None, *, only_wanted: bool = False) -> AnalysisReport:
        from bot.analysis.run import analyse

        return analyse(engine=self.engine, clock=self.clock, settings=self.settings, writer=self.brief_writer(),
                       team_id=team_id, embed=self.embed(), only_wanted=only_wanted,
                       brief_seconds=self.brief_seconds(), brief_concurrency=self.brief_concurrency())

    def brief_concurrency(self) -> int:
        """Briefs written at once: an LLM call mostly waits, so several; the built-in writer, one at a time."""
        return self.settings.briefbot_brief_concurrency if llm_configured(self.settings) else 1

    def brief_seconds(self) -> float:
        """The longest an LLM brief may take, its repair included (the writer's own deadline); 0 without one."""
        if not llm_configured(self.settings):
            return 0.0
        from bot.llm.deadline import request_bound

        return 2 * request_bound(self.settings.briefbot_llm_timeout, self.settings.briefbot_llm_max_retries)


class StartupError(Exception):
    """A setting briefbot cannot start with, said in one line that names it and what to do."""


def build_context(settings: Settings | None = None, *, migrate: bool = True) -> Context:
    settings = settings or Settings()
    configure_logging(settings)
    check_database_url(settings)
    # Every prompt is validated at start-up, LLM or not: a broken prompt file stops the bot here, before the
    # database is touched, so its error is not mistaken for the database's.
    prompts = load_prompts(settings)
    engine = build_engine(settings)
    if migrate:
        upgrade(engine)
    clock = fixed_clock(settings.briefbot_now) if settings.briefbot_now else utc_now
    return Context(settings=settings, engine=engine, clock=clock, prompts=prompts)


def check_database_url(settings: Settings) -> None:
    """StartupError for a DATABASE_URL that cannot hold briefbot's history: unparsable, another kind of
    database, or SQLite in memory (every command would start from an empty database and forget what it did)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    shown = mask_url_password(settings.database_url)
    try:
        url = make_url(settings.database_url)
    except ArgumentError:
        raise StartupError(f"DATABASE_URL={shown} is not a database URL; use sqlite:///data/briefbot.db or "
                           "postgresql://user:password@host/database") from None
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise StartupError(f"DATABASE_URL: {backend} is not supported; use sqlite:///path/to/file.db or "
                           "postgresql://user:password@host/database")
    try:
        url.get_dialect()
    except Exception as exc:  # NoSuchModuleError, ImportError: the driver named after + is not installed
        raise StartupError(f"DATABASE_URL: cannot load the {url.drivername} driver ({type(exc).__name__}); use "
                           "sqlite:///… or postgresql://…") from None
    if backend == "sqlite" and (url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"):
        raise StartupError(f"DATABASE_URL={shown} is an in-memory SQLite database, which is gone when the command "
                           "ends; give a file, e.g. sqlite:///data/briefbot.db")


def load_prompts(settings: Settings) -> dict[str, Prompt]:
    folder = prompts_directory(settings)
    try:
        return load_all(folder)
    except (PromptError, OSError) as exc:
        problem = str(exc) if isinstance(exc, PromptError) else f"{folder}: {exc.strerror or type(exc).__name__}"
        setting = "BRIEFBOT_PROMPTS_DIR: " if settings.briefbot_prompts_dir is not None else "prompts: "
        raise StartupError(setting + problem) from exc


def prompts_directory(settings: Settings) -> Path:
    """BRIEFBOT_PROMPTS_DIR, else the checkout's prompts/, else the copy a wheel installs under share/."""
    if settings.briefbot_prompts_dir is not None:
        return settings.briefbot_prompts_dir
    installed = Path(sys.prefix) / "share" / "briefbot" / "prompts"
    checkout = default_directory()
    return checkout if checkout.is_dir() or not installed.is_dir() else installed


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.briefbot_log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL at INFO; feed URLs can carry tokens, so keep them out of the logs.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
