"""One analysis pass after polling: stories and signals from the new items, then briefs for what changed."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from bot.analysis.briefing import write_pending_briefs
from bot.analysis.signal_update import update_signals
from bot.briefs.writers import BriefWriter
from bot.clock import Clock
from bot.settings import Settings

log = logging.getLogger(__name__)


@dataclass(slots=True)
class AnalysisReport:
    signals_created: list[int] = field(default_factory=list)
    signals_grown: list[int] = field(default_factory=list)
    briefs: list[int] = field(default_factory=list)


def analyse(*, engine: Engine, clock: Clock, settings: Settings, writer: BriefWriter,
            team_id: str | None = None) -> AnalysisReport:
    """Idempotent, so it can run after every poll and catch up after a crash."""
    signals = update_signals(engine=engine, clock=clock, params=settings.signal_params(), team_id=team_id)
    briefs = write_pending_briefs(engine=engine, clock=clock, writer=writer, team_id=team_id)
    if signals.created or signals.grown or briefs:
        log.info("analysis: %d new signals, %d grown, %d briefs", len(signals.created), len(signals.grown),
                 len(briefs))
    return AnalysisReport(signals.created, signals.grown, briefs)
