"""One analysis pass after polling: stories and signals from the new items, then briefs for what changed."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.engine import Engine

from bot.analysis.briefing import write_pending_briefs
from bot.analysis.signal_update import SignalReport, update_signals
from bot.analysis.story_update import Embed, StoryReport, update_stories
from bot.briefs.writers import BriefWriter
from bot.clock import Clock
from bot.llm.client import llm_configured
from bot.settings import Settings
from bot.storage.db import session_scope
from bot.storage.leases import holding, new_owner
from bot.storage.sources import teams_to_process
from bot.storage.wanted import done, mark, teams_wanting_analysis

log = logging.getLogger(__name__)


@dataclass(slots=True)
class AnalysisReport:
    stories_created: list[int] = field(default_factory=list)
    stories_grown: list[int] = field(default_factory=list)
    signals_created: list[int] = field(default_factory=list)
    signals_grown: list[int] = field(default_factory=list)
    briefs: list[int] = field(default_factory=list)
    items: int = 0  # items put into stories
    busy: int = 0  # pieces of work skipped because another worker held them

    def add(self, stories: StoryReport, signals: SignalReport) -> None:
        self.items += stories.items
        self.stories_created = sorted({*self.stories_created, *stories.created})
        self.stories_grown = sorted({*self.stories_grown, *stories.grown})
        self.signals_created += signals.created
        self.signals_grown += signals.grown


def analyse(*, engine: Engine, clock: Clock, settings: Settings, writer: BriefWriter,
            team_id: str | None = None, embed: Embed | None = None, only_wanted: bool = False) -> AnalysisReport:
    """Idempotent, so it can run after every poll and catch up after a crash. Several workers can run it at
    once: a team's clustering (stories, then signals) is leased to one of them, since it reads and writes one
    team's state in order; briefs are leased one subject at a time, so the workers share their writing.
    `only_wanted`: just the teams whose counters (storage/wanted) say a poll or a clustering left work."""
    owner, lease = new_owner("analyse"), settings.lease()
    # An LLM call mostly waits, so a worker writes several briefs at once; the built-in writer, one at a time.
    concurrency = settings.briefbot_brief_concurrency if llm_configured(settings) else 1
    report = AnalysisReport()
    with session_scope(engine) as session:
        teams = (teams_wanting_analysis(session=session) if only_wanted
                 else teams_to_process(session=session, team_id=team_id))
    for team in teams:
        _cluster_team(engine, clock, settings, team, embed, owner, lease, report, only_wanted=only_wanted)
        with session_scope(engine) as session:
            briefs_mark = mark(session=session, team_id=team, kind="briefs")
        if only_wanted and not briefs_mark.waiting:
            continue
        briefs = write_pending_briefs(engine=engine, clock=clock, writer=writer, team_id=team,
                                      story_min_outlets=settings.briefbot_story_min_outlets, owner=owner,
                                      lease=lease, concurrency=concurrency)
        report.briefs += briefs.written
        report.busy += briefs.busy
        if not briefs.busy:  # every subject was seen to: nothing is left for other workers
            with session_scope(engine) as session:
                done(session=session, team_id=team, kind="briefs", seq=briefs_mark.seq)
    if report.items or report.signals_created or report.signals_grown or report.briefs:
        log.info("analysis: %d items into stories (%d new), %d new signals, %d grown, %d briefs", report.items,
                 len(report.stories_created), len(report.signals_created), len(report.signals_grown),
                 len(report.briefs))
    return report


def _cluster_team(engine: Engine, clock: Clock, settings: Settings, team: str, embed: Embed | None, owner: str,
                  lease: timedelta, report: AnalysisReport, *, only_wanted: bool) -> None:
    """Stories, then signals, for one team under its clustering lease; another worker holding it is busy.
    `only_wanted`: only when a poll stored something since the last pass."""
    with session_scope(engine) as session:
        cluster_mark = mark(session=session, team_id=team, kind="cluster")
    if only_wanted and not cluster_mark.waiting:
        return
    with holding(engine=engine, name=f"cluster:{team}", owner=owner, clock=clock, lease=lease) as held:
        if held is None:
            report.busy += 1
            return
        stories = update_stories(engine=engine, clock=clock, params=settings.story_params(), team_id=team,
                                 embed=embed, held=held)
        signals = update_signals(engine=engine, clock=clock, params=settings.signal_params(), team_id=team,
                                 held=held)
        report.add(stories, signals)
        # Each batch raised `briefs_wanted` as it committed. A pass that lost its lease leaves the clustering
        # wanted, for its successor.
        with session_scope(engine) as session:
            if held.fence(session, clock()):
                done(session=session, team_id=team, kind="cluster", seq=cluster_mark.seq)
