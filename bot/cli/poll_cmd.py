"""`briefbot poll`: poll due sources once (or every source with --all)."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from typing import Any

import click

from bot.cli.common import context, echo_json, json_option
from bot.cli.params import SOURCE_ID
from bot.ingest.poller import PollReport
from bot.storage.db import session_scope
from bot.storage.sources import count_sources, get_source, next_due
from bot.terminal import due


def register(group: click.Group) -> None:
    @group.command("poll")
    @click.option("--all", "poll_all", is_flag=True, help="Poll every source now, due or not.")
    @click.option("--source", "source_ids", type=SOURCE_ID, multiple=True, help="Only this source (repeatable).")
    @json_option
    def poll(poll_all: bool, source_ids: tuple[int, ...], as_json: bool) -> None:
        """Poll the sources that are due, once."""
        ctx = context()
        with session_scope(ctx.engine) as session:
            total = count_sources(session=session)
            for source_id in source_ids:
                found = get_source(session=session, source_id=source_id)
                if found is None:
                    raise click.ClickException(f"no source {source_id} (briefbot sources list shows them)")
                if found.removed_at is not None or not found.enabled:
                    raise click.ClickException(f"source {source_id} is no longer followed, so it is not polled "
                                               "(briefbot sources add follows it again)")
        show_progress = not as_json and sys.stderr.isatty() and total > 5

        async def run() -> PollReport:
            fetcher = ctx.fetcher()
            bar: Any = click.progressbar(length=total, label="polling", file=sys.stderr) if show_progress else None
            try:
                if bar is not None:
                    bar.__enter__()
                return await ctx.poller(fetcher).poll(
                    due_only=not (poll_all or source_ids), source_ids=list(source_ids) or None,
                    on_progress=bar.update if bar is not None else None)
            finally:
                if bar is not None:
                    bar.__exit__(None, None, None)
                await fetcher.aclose()

        report = asyncio.run(run())
        analysis = ctx.analyse()
        if as_json:
            echo_json({"polled": report.polled, "ok": report.ok, "not_modified": report.not_modified,
                       "unchanged": report.unchanged, "errors": report.errors, "items_new": report.items_new,
                       "items_updated": report.items_updated, "items_linked": report.items_linked,
                       "failures": [{"source_id": i, "kind": k, "error": e} for i, k, e in report.failures],
                       "signals_created": analysis.signals_created, "signals_grown": analysis.signals_grown,
                       "briefs": analysis.briefs})
            return
        if report.polled == 0:
            with session_scope(ctx.engine) as session:
                upcoming = next_due(session=session)
                click.echo(nothing_due(upcoming.id if upcoming else None,
                                       upcoming.next_due_at if upcoming else None, ctx.clock()))
        else:
            click.echo(format_report(report))
        if analysis.signals_created or analysis.briefs:
            click.echo(f"{len(analysis.signals_created)} new hiring signals, {len(analysis.briefs)} new briefs "
                       "(see: briefbot briefs)")


def nothing_due(source_id: int | None, due_at: datetime | None, now: datetime) -> str:
    """What `poll` says when no source is due: when the next one is, and how to poll now anyway."""
    if source_id is None or due_at is None:
        return "no sources to poll yet; add one: briefbot sources add URL"
    return (f"nothing due: the next source (source {source_id}) is due {due(due_at, now)}; "
            "briefbot poll --all polls every source now")


def format_report(report: PollReport) -> str:
    if report.polled == 0:
        return "nothing due (briefbot poll --all polls every source now)"
    sources = "source" if report.polled == 1 else "sources"
    lines = [f"polled {report.polled} {sources}: {report.ok} with news, {report.not_modified} not modified, "
             f"{report.unchanged} unchanged, {report.errors} failed; items: {report.items_new} new, "
             f"{report.items_updated} updated, {report.items_linked} linked to another source's copy"]
    lines += [f"  source {sid} failed ({kind}): {error}" for sid, kind, error in report.failures]
    return "\n".join(lines)
