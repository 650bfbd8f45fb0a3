"""`briefbot demo`: bundled sample sources served from 127.0.0.1, followed in a fresh SQLite file, polled
on "day 1" and again on "day 2" (when Kestrel Commerce starts posting fulfillment roles around Seattle),
then a summary of what was stored."""

from __future__ import annotations

import asyncio
import json
import shlex
import shutil
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from bot.ask.service import Conversation
from bot.context import Context, build_context
from bot.core.jobs import family_labels
from bot.core.normalize import source_label
from bot.demo.server import LocalServer, Route
from bot.ingest.add import add_by_spec
from bot.ingest.poller import PollReport
from bot.settings import Settings
from bot.storage.briefs import brief_as_dict, list_briefs
from bot.storage.db import session_scope
from bot.storage.items import list_items
from bot.storage.signals import list_signals
from bot.storage.sources import list_sources
from bot.storage.stories import list_stories
from bot.terminal import due, format_answer, format_brief, short, table

DAY1 = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
TEAM, CHANNEL = "T_DEMO", "C_DEMO"
DEMO_QUESTION = "What else has Kestrel posted in logistics?"
REASONS = {"new_metro": "the company's first roles in this metro", "new_function": "its first roles in this function",
           "new_function_in_metro": "its first roles of this kind here", "surge": "well above its usual pace"}
Echo = Callable[[str], None]


class DemoClock:
    """The demo's own clock, moved from day 1 to day 2 by hand."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def samples_dir() -> Any:
    return resources.files("bot.demo").joinpath("samples")


def routes_for(day: str, manifest: dict[str, Any]) -> dict[str, Route]:
    base = samples_dir().joinpath(day)
    return {s["path"]: Route(body=base.joinpath(s["path"].lstrip("/")).read_bytes(), content_type=s["content_type"])
            for s in manifest["sources"]}


def run_demo(*, db_path: str, echo: Echo) -> None:
    manifest = json.loads(samples_dir().joinpath("manifest.json").read_text("utf-8"))
    db = Path(db_path)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    with LocalServer(routes_for("day1", manifest)) as server:
        search = next(s for s in manifest["sources"] if s.get("news_search_url"))
        settings = Settings(database_url=f"sqlite:///{db}", briefbot_allow_private_urls=True,
                            briefbot_news_search_url=server.url(search["news_search_url"]),
                            briefbot_default_team=TEAM, briefbot_log_level="WARNING",
                            briefbot_parse_workers=0)  # a dozen small sources: a worker's start costs more
        ctx = build_context(settings)
        clock = DemoClock(DAY1)
        ctx.clock = clock
        llm = "configured" if settings.openai_api_key or settings.openai_base_url else "not configured"
        echo(f"Sample sources served at {server.url('/')}; fresh SQLite database {db}.")
        echo(f"LLM {llm}: without one, the built-in writer writes briefs and answers list what they stand on.\n")
        asyncio.run(_follow_and_poll(ctx, clock, server, manifest, echo))
        _what_day_two_brought(ctx, echo)
        _ask(ctx, echo)
    cmd = command_name(sys.argv[0], shutil.which("briefbot"))
    echo(f"\nTry: DATABASE_URL=sqlite:///{db} BRIEFBOT_DEFAULT_TEAM={TEAM} {cmd} ask \"who is hiring in Seattle?\"")
    echo(f"     DATABASE_URL=sqlite:///{db} {cmd} items --since 2026-11-24   (or sources list, briefs, --json)")


def command_name(argv0: str, on_path: str | None) -> str:
    """How to run briefbot again, as the demo suggests: `briefbot` when a shell finds it, else the path it was run
    by (`.venv/bin/briefbot` straight after the quick start, with the virtualenv not activated)."""
    if on_path or Path(argv0).name != "briefbot" or "/" not in argv0.replace("\\", "/"):
        return "briefbot"
    return shlex.quote(argv0)


async def _follow_and_poll(ctx: Context, clock: DemoClock, server: LocalServer, manifest: dict[str, Any],
                           echo: Echo) -> None:
    fetcher = ctx.fetcher()
    try:
        echo("1. Following the sample sources in channel C_DEMO")
        for sample in manifest["sources"]:
            if sample.get("added_via"):
                continue  # reached through the page that links to it
            spec = sample.get("spec") or server.url(sample["path"])
            kind = None if sample.get("spec") else sample["kind"]
            added = await add_by_spec(spec=spec, kind=kind, team_id=TEAM, channel_id=CHANNEL, settings=ctx.settings,
                                      engine=ctx.engine, fetcher=fetcher, clock=ctx.clock)
            echo(f"   + source {added.source.id:>2} {added.source.kind:<16} {short(spec, 58):<58} [{added.how}]")
        poller = ctx.poller(fetcher)
        echo(f"\n2. Day 1, {clock.now:%Y-%m-%d %H:%M} UTC: first poll")
        _report(await poller.poll(due_only=True), echo)
        _sources_table(ctx, echo)

        for path, route in routes_for("day2", manifest).items():
            server.route(path, route)
        clock.now = DAY2
        echo(f"\n3. Day 2, {clock.now:%Y-%m-%d %H:%M} UTC: every source is due again")
        _report(await poller.poll(due_only=True), echo)
        _sources_table(ctx, echo)

        clock.now += timedelta(seconds=ctx.settings.briefbot_poll_interval)
        echo(f"\n   {clock.now:%H:%M} UTC, the next round: nothing changed upstream, so conditional GETs answer 304")
        _report(await poller.poll(due_only=True), echo)
    finally:
        await fetcher.aclose()


def _ask(ctx: Context, echo: Echo) -> None:
    echo(f"\n8. A follow-up question, answered from the stored history: \"{DEMO_QUESTION}\"")
    answer = ctx.asker().ask(Conversation(team_id=TEAM, channel_id="cli", thread_ts="demo", surface="cli"),
                             DEMO_QUESTION)
    echo("   " + format_answer(answer).replace("\n", "\n   "))


def _report(report: PollReport, echo: Echo) -> None:
    echo(f"   polled {report.polled}: {report.ok} with news, {report.not_modified} unchanged (304), "
         f"{report.errors} failed; items {report.items_new} new, {report.items_updated} updated, "
         f"{report.items_linked} linked to a copy from another source")


def _sources_table(ctx: Context, echo: Echo) -> None:
    with session_scope(ctx.engine) as session:
        health = list_sources(session=session, team_id=TEAM)
    rows = [[h.source.id, h.source.kind, short(source_label(h.source.title, h.source.spec), 30), h.as_dict()["status"],
             h.item_count, due(h.source.next_due_at, ctx.clock()),
             short(f"{h.source.last_error_kind}: {h.source.last_error}" if h.source.failures else "", 60)]
            for h in health]
    echo("   " + table(rows, ["id", "kind", "source", "status", "items", "next poll", "problem"]).replace(
        "\n", "\n   "))


def _what_day_two_brought(ctx: Context, echo: Echo) -> None:
    with session_scope(ctx.engine) as session:
        fresh = list_items(session=session, team_id=TEAM, since=DAY2, limit=1000)
        total = len(list_items(session=session, team_id=TEAM, limit=100_000))
    news = [i for i in fresh if i.kind == "news"]
    jobs = [i for i in fresh if i.kind == "job"]
    echo(f"\n4. Stored: {total} items. New on day 2: {len(news)} news items, {len(jobs)} job postings")
    for item in sorted(news, key=lambda i: i.published_at or i.first_seen_at, reverse=True)[:8]:
        echo(f"   • {short(item.outlet, 22):<22} {short(item.title, 86)}")
    analysis = ctx.analyse(team_id=TEAM)
    with session_scope(ctx.engine) as session:
        found = list_signals(session=session, team_id=TEAM)
        briefs = list_briefs(session=session, team_id=TEAM)
        stories = list_stories(session=session, team_id=TEAM, min_items=2)
    multi = [s for s in stories if len(s.outlets) > 1]
    echo(f"\n5. Stories: {len(multi)} reported by more than one outlet (the same event across feeds joins one "
         "story)")
    for story in multi:
        echo(f"   • {short(story.headline, 80)} — {len(story.outlets)} outlets: {short(', '.join(story.outlets), 60)}")
    echo(f"\n6. Hiring signals: {len(analysis.signals_created)} found in the new postings (a lone posting or a "
         "steady trickle is not one; day 1 was the boards' backfill)")
    labels = family_labels()
    for signal in found:
        echo(f"   • {signal.company}: {signal.item_count} new {labels.get(signal.family, signal.family)} roles in "
             f"{signal.metro} ({REASONS.get(signal.reason, signal.reason)})")
    echo(f"\n7. Briefs: {len(briefs)} (on each of day 2's stories from the feeds the channel follows, one outlet's "
         "or several; on stories a news search found only when several outlets carry them; and on signals)")
    for brief in briefs:
        echo("   " + format_brief(brief_as_dict(brief)).rstrip().replace("\n", "\n   "))
