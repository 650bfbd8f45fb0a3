"""The composition root: the one place that builds settings, database engine, clock and HTTP client.
Everything else receives what it needs from here."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from bot.analysis.run import AnalysisReport, analyse
from bot.briefs.builtin import WRITER_NOTE
from bot.briefs.writers import BriefWriter, BuiltinWriter
from bot.clock import Clock, fixed_clock, utc_now
from bot.fetch.http import Fetcher, build_fetcher
from bot.ingest.poller import Poller
from bot.settings import Settings
from bot.storage.db import build_engine, upgrade


@dataclass(slots=True)
class Context:
    settings: Settings
    engine: Engine
    clock: Clock

    def fetcher(self) -> Fetcher:
        """A new HTTP client; build it inside the event loop that uses it, and close it there."""
        return build_fetcher(self.settings)

    def poller(self, fetcher: Fetcher) -> Poller:
        return Poller(settings=self.settings, engine=self.engine, fetcher=fetcher, clock=self.clock)

    def brief_writer(self) -> BriefWriter:
        """The LLM writer when an endpoint is configured, with the built-in writer behind it; otherwise the
        built-in writer, which says so in every brief."""
        return BuiltinWriter(WRITER_NOTE)

    def analyse(self, team_id: str | None = None) -> AnalysisReport:
        return analyse(engine=self.engine, clock=self.clock, settings=self.settings, writer=self.brief_writer(),
                       team_id=team_id)


def build_context(settings: Settings | None = None, *, migrate: bool = True) -> Context:
    settings = settings or Settings()
    configure_logging(settings)
    engine = build_engine(settings)
    if migrate:
        upgrade(engine)
    clock = fixed_clock(settings.briefbot_now) if settings.briefbot_now else utc_now
    return Context(settings=settings, engine=engine, clock=clock)


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.briefbot_log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL at INFO; feed URLs can carry tokens, so keep them out of the logs.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
