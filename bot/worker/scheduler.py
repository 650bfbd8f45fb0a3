"""APScheduler (3.x) only triggers "poll what is due": due-ness is a column on each source, so a restart
neither skips nor repeats work, and several workers can share one PostgreSQL database."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from apscheduler.schedulers.blocking import BlockingScheduler

from bot.context import Context
from bot.ingest.poller import PollReport

log = logging.getLogger(__name__)


def poll_due_once(ctx: Context) -> PollReport:
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
    ctx.analyse()
    return report


def build_scheduler(ctx: Context) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(
        poll_due_once, "interval", args=[ctx], id="poll-due",
        seconds=ctx.settings.briefbot_scheduler_tick,
        next_run_time=ctx.clock() + timedelta(seconds=1),
        coalesce=True, max_instances=1, misfire_grace_time=ctx.settings.briefbot_scheduler_tick,
    )
    return scheduler
