"""One analysis pass after polling: stories and signals from the new items, then briefs for what changed."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from bot.analysis.briefing import write_pending_briefs
from bot.analysis.signal_update import SignalReport, update_signals
from bot.analysis.story_update import StoryReport, update_stories
from bot.briefs.writers import BriefWriter
from bot.clock import Clock
from bot.core.normalize import first_line
from bot.core.rebrief import RebriefRule
from bot.core.types import Embed
from bot.settings import Settings
from bot.storage.db import session_scope
from bot.storage.health import record_analysis
from bot.storage.leases import holding, new_owner
from bot.storage.sources import teams_to_process
from bot.storage.transactions import Engine
from bot.storage.wanted import finish_work, pending_work, teams_wanting_analysis

log = logging.getLogger(__name__)


@dataclass(slots=True)
class AnalysisReport:
    stories_created: list[int] = field(default_factory=list)
    stories_grown: list[int] = field(default_factory=list)
    signals_created: list[int] = field(default_factory=list)
    signals_grown: list[int] = field(default_factory=list)
    briefs: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "team: what failed", one line each
    items: int = 0  # items put into stories
    busy: int = 0  # pieces of work skipped because another worker held them

    def add(self, stories: StoryReport, signals: SignalReport) -> None:
        self.items += stories.items
        self.stories_created = sorted({*self.stories_created, *stories.created})
        self.stories_grown = sorted({*self.stories_grown, *stories.grown})
        self.signals_created += signals.created
        self.signals_grown += signals.grown


@dataclass(frozen=True, slots=True)
class _Pass:
    """What one analysis pass works with, for every team it visits."""

    engine: Engine
    clock: Clock
    settings: Settings
    writer: BriefWriter
    embed: Embed | None
    owner: str
    lease: timedelta
    brief_lease: timedelta
    concurrency: int
    only_wanted: bool


def analyse(*, engine: Engine, clock: Clock, settings: Settings, writer: BriefWriter,
            team_id: str | None = None, embed: Embed | None = None, only_wanted: bool = False,
            brief_seconds: float = 0.0, brief_concurrency: int = 1) -> AnalysisReport:
    """Idempotent, so it can run after every poll and catch up after a crash. Several workers can run it at
    once: a team's clustering (stories, then signals) is leased to one of them, since it reads and writes one
    team's state in order; briefs are leased one subject at a time, so the workers share their writing.
    `only_wanted`: just the teams whose counters (storage/wanted) say a poll or a clustering left work.
    Each workspace fails alone: what failed is recorded on it (`storage/health`) and the next one goes on.
    `brief_seconds`: the longest the writer may take over one brief; a brief's lease outlasts it by a minute, so
    a slow but live LLM call is never taken over mid-way. `brief_concurrency`: how many briefs are written at
    once (the composition root's choice: several for an LLM, whose calls mostly wait; one for the built-in
    writer)."""
    run = _Pass(engine=engine, clock=clock, settings=settings, writer=writer, embed=embed,
                owner=new_owner("analyse"), lease=settings.lease(), only_wanted=only_wanted,
                brief_lease=max(settings.lease(), timedelta(seconds=brief_seconds + 60)),
                concurrency=brief_concurrency)
    report = AnalysisReport()
    with session_scope(engine) as session:
        teams = (teams_wanting_analysis(session=session) if only_wanted
                 else teams_to_process(session=session, team_id=team_id))
    for team in teams:
        problems: list[str] = []
        ran = True
        try:
            ran = _analyse_team(run, team, report, problems)
        except Exception as exc:
            log.warning("analysis of %s failed: %s: %s", team, type(exc).__name__, first_line(exc))
            problems.append(f"analysis failed: {type(exc).__name__}: {first_line(exc)[:200]}")
        report.problems += [f"{team}: {p}" for p in problems]
        if not ran and not problems:  # nothing was tried (another worker held it, nothing wanted): nothing to say
            continue
        try:
            with session_scope(engine) as session:
                record_analysis(session=session, team_id=team, problems=problems, now=clock())
        except Exception as exc:  # the database itself is in trouble: the next pass tries again
            log.warning("could not record the analysis of %s: %s: %s", team, type(exc).__name__, first_line(exc))
    if report.items or report.signals_created or report.signals_grown or report.briefs:
        log.info("analysis: %d items into stories (%d new), %d new signals, %d grown, %d briefs", report.items,
                 len(report.stories_created), len(report.signals_created), len(report.signals_grown),
                 len(report.briefs))
    return report


def _analyse_team(run: _Pass, team: str, report: AnalysisReport, problems: list[str]) -> bool:
    """One workspace's pass: clustering, then its briefs (written even when clustering failed: briefs already due
    do not wait for it). What failed in part is added to `problems`. Whether any of it ran here."""
    try:
        clustered = _cluster_team(run, team, report, problems)
    except Exception as exc:
        log.warning("clustering %s failed: %s: %s", team, type(exc).__name__, first_line(exc))
        problems.append(f"grouping stories and signals failed: {type(exc).__name__}: {first_line(exc)[:200]}")
        clustered = True
    with session_scope(run.engine) as session:
        briefs_mark = pending_work(session=session, team_id=team, kind="briefs")
    if run.only_wanted and not briefs_mark.waiting:
        return clustered
    briefs = write_pending_briefs(engine=run.engine, clock=run.clock, writer=run.writer, team_id=team,
                                  story_min_outlets=run.settings.briefbot_story_min_outlets, owner=run.owner,
                                  lease=run.brief_lease, concurrency=run.concurrency,
                                  llm_single_reports=run.settings.briefbot_llm_single_reports,
                                  rebrief=RebriefRule(
                                      interval=timedelta(minutes=run.settings.briefbot_rebrief_minutes),
                                      growth=run.settings.briefbot_rewrite_growth_percent / 100))
    report.briefs += briefs.written
    report.busy += briefs.busy
    problems += briefs.problems
    # Every subject was seen to, and none waits for its re-brief interval: nothing is left for the next pass.
    if not briefs.busy and not briefs.problems and not briefs.waiting:
        with session_scope(run.engine) as session:
            finish_work(session=session, team_id=team, kind="briefs", up_to=briefs_mark.seq)
    return True


def _cluster_team(run: _Pass, team: str, report: AnalysisReport, problems: list[str]) -> bool:
    """Stories, then signals, for one team under its clustering lease; another worker holding it is busy.
    `only_wanted`: only when a poll stored something since the last pass. Whether it ran here."""
    engine, clock = run.engine, run.clock
    with session_scope(engine) as session:
        cluster_mark = pending_work(session=session, team_id=team, kind="cluster")
    if run.only_wanted and not cluster_mark.waiting:
        return False
    with holding(engine=engine, name=f"cluster:{team}", owner=run.owner, clock=clock, lease=run.lease) as held:
        if held is None:
            report.busy += 1
            return False
        stories = update_stories(engine=engine, clock=clock, params=run.settings.story_params(), team_id=team,
                                 embed=run.embed, held=held)
        signals = update_signals(engine=engine, clock=clock, params=run.settings.signal_params(), team_id=team,
                                 held=held)
        report.add(stories, signals)
        problems += signals.problems
        # Each batch raised `briefs_wanted` as it committed. A pass that lost its lease, or could not save a
        # company's signals, leaves the clustering wanted, for its successor.
        if not signals.problems:
            with session_scope(engine) as session:
                if held.fence(session, clock()):
                    finish_work(session=session, team_id=team, kind="cluster", up_to=cluster_mark.seq)
    return True
