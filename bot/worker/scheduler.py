"""APScheduler (3.x) only triggers "poll what is due": due-ness is a column on each source, so a restart
neither skips nor repeats work, and several workers can share one PostgreSQL database."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from bot.context import Context
from bot.ingest.poller import PollReport
from bot.worker.outbox import OutboxLoop

log = logging.getLogger(__name__)


def poll_due(ctx: Context) -> PollReport:
    """Poll the sources that are due (leased, so several workers share them)."""
    async def run() -> PollReport:
        fetcher = ctx.fetcher()
        try:
            return await ctx.poller(fetcher).poll(due_only=True)
        finally:
            await fetcher.aclose()

    report = asyncio.run(run())
    if report.polled:
        log.info("polled %d sources: %d new items, %d updated, %d failed", report.polled, report.items_new,
                 report.items_updated, report.errors)
    return report


def stored_something(report: PollReport) -> bool:
    return bool(report.items_new or report.items_updated or report.items_linked)


def poll_due_once(ctx: Context, *, analyse_when_idle: bool = True) -> PollReport:
    """Poll what is due, then analyse (stories, signals, briefs) if anything was stored, or when asked to."""
    report = poll_due(ctx)
    if analyse_when_idle or stored_something(report):
        ctx.analyse()
    return report


class WorkerLoop:
    """The scheduled job: the first tick analyses whatever a crash left unanalysed; later ticks analyse only
    when a poll stored something (an idle analysis pass costs tens of queries, bench/briefs.py), or when
    another worker held part of the last analysis: it may have started before this poll's items were
    stored, so this worker looks again on its next tick."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.caught_up = False

    def tick(self) -> PollReport:
        report = poll_due(self.ctx)
        if not self.caught_up or stored_something(report):
            self.caught_up = self.ctx.analyse().busy == 0
        return report


def build_scheduler(ctx: Context, *, background: bool = False) -> BaseScheduler:
    """Two jobs: poll-and-analyse every BRIEFBOT_SCHEDULER_TICK seconds, and the Slack outbox every
    BRIEFBOT_DELIVERY_TICK seconds. `background` runs them in threads beside Socket Mode (`briefbot run`)."""
    scheduler: BaseScheduler = BackgroundScheduler(timezone="UTC") if background else BlockingScheduler(timezone="UTC")
    start = ctx.clock() + timedelta(seconds=1)
    scheduler.add_job(
        WorkerLoop(ctx).tick, "interval", id="poll-due",
        seconds=ctx.settings.briefbot_scheduler_tick, next_run_time=start,
        coalesce=True, max_instances=1, misfire_grace_time=ctx.settings.briefbot_scheduler_tick,
    )
    scheduler.add_job(
        OutboxLoop(ctx).tick, "interval", id="deliver",
        seconds=ctx.settings.briefbot_delivery_tick, next_run_time=start + timedelta(seconds=2),
        coalesce=True, max_instances=1, misfire_grace_time=ctx.settings.briefbot_delivery_tick,
    )
    return scheduler
