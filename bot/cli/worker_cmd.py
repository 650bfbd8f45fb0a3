"""`briefbot worker`: the scheduler loop (polling now; briefing and delivery as they land)."""

from __future__ import annotations

import click

from bot.cli.common import context, sole_scheduler


def register(group: click.Group) -> None:
    @group.command("worker")
    def worker() -> None:
        """Run the scheduler: poll due sources every BRIEFBOT_SCHEDULER_TICK seconds until stopped."""
        from bot.worker.scheduler import build_scheduler

        ctx = context()
        with sole_scheduler(ctx.settings):
            click.echo(f"briefbot worker: checking for due sources every {ctx.settings.briefbot_scheduler_tick}s "
                       "(Ctrl-C stops)")
            scheduler = build_scheduler(ctx)
            try:
                scheduler.start()
            except (KeyboardInterrupt, SystemExit):
                click.echo("stopped")
