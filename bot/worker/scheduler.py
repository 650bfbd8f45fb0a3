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
    """The scheduled job: poll what is due, then analyse. The first tick analyses every team (whatever a
    crash or an older version left); later ticks analyse the teams whose counters say a poll or a
    clustering left work (storage/wanted), whichever worker polled, so every worker shares the briefs."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.caught_up = False

    def tick(self) -> PollReport:
        report = poll_due(self.ctx)
        self.ctx.analyse(only_wanted=self.caught_up)
        self.caught_up = True
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
