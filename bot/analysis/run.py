"""One analysis pass after polling: stories and signals from the new items, then briefs for what changed."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from bot.analysis.briefing import write_pending_briefs
from bot.analysis.signal_update import update_signals
from bot.analysis.story_update import Embed, update_stories
from bot.briefs.writers import BriefWriter
from bot.clock import Clock
from bot.settings import Settings

log = logging.getLogger(__name__)


@dataclass(slots=True)
class AnalysisReport:
    stories_created: list[int] = field(default_factory=list)
    stories_grown: list[int] = field(default_factory=list)
    signals_created: list[int] = field(default_factory=list)
    signals_grown: list[int] = field(default_factory=list)
    briefs: list[int] = field(default_factory=list)


def analyse(*, engine: Engine, clock: Clock, settings: Settings, writer: BriefWriter,
            team_id: str | None = None, embed: Embed | None = None) -> AnalysisReport:
    """Idempotent, so it can run after every poll and catch up after a crash."""
    stories = update_stories(engine=engine, clock=clock, params=settings.story_params(), team_id=team_id,
                             embed=embed)
    signals = update_signals(engine=engine, clock=clock, params=settings.signal_params(), team_id=team_id)
    briefs = write_pending_briefs(engine=engine, clock=clock, writer=writer, team_id=team_id,
                                  story_min_outlets=settings.briefbot_story_min_outlets)
    if stories.items or signals.created or signals.grown or briefs:
        log.info("analysis: %d items into stories (%d new), %d new signals, %d grown, %d briefs", stories.items,
                 len(stories.created), len(signals.created), len(signals.grown), len(briefs))
    return AnalysisReport(sorted(stories.created), sorted(stories.grown), signals.created, signals.grown, briefs)
