"""`/brief import URL [every|stories|digest]`: this channel follows every feed the OPML file at URL lists (a feed
reader's export, or `briefbot sources export`). The file is fetched through the guarded fetcher (the SSRF guard,
the body cap) and read by bot/core/opml; each feed is added as `/brief follow` adds one (bot/ingest/opml), and
the reply says what was added, already followed, or refused and why."""

from __future__ import annotations

import asyncio

from bot.core.normalize import redact_url
from bot.core.opml import OpmlError, parse_opml, url_problem
from bot.ingest.opml import ADDED, ALREADY, REFUSED, ImportLine, ImportSummary, import_opml
from bot.slack.commands.handlers import Request, split_alert
from bot.slack.commands.parse import USAGE
from bot.slack.deps import Deps
from bot.slack.escape import escape, join_within
from bot.sources.base import SourceError
from bot.storage.channels import ensure_channel
from bot.storage.db import session_scope

SECTION_TEXT = 1_200  # characters per outcome's list, escaped: the whole reply stays well within a message
SECTION_ITEMS = 25
HEADINGS = {ADDED: "Now following here", ALREADY: "Already followed here", REFUSED: "Refused"}


def import_file(deps: Deps, req: Request) -> str:
    url, alert = split_alert(req.arg)
    problem = url_problem(url)
    if problem:
        return f"Couldn't import `{escape(redact_url(url) or url[:100])}`: {escape(_url_words(problem))}.\n" \
               f"Usage: {USAGE['import']}"

    async def run() -> ImportSummary:
        fetcher = deps.fetcher()
        try:
            fetched = await fetcher.fetch(url)
            opml = parse_opml(fetched.body)
            return await import_opml(opml=opml, team_id=req.team_id, channel_id=req.channel_id, alert=alert,
                                     settings=deps.settings, engine=deps.engine, fetcher=fetcher, clock=deps.clock)
        finally:
            await fetcher.aclose()

    shown = escape(redact_url(url))
    try:
        summary = asyncio.run(run())
    except SourceError as exc:
        return f"Couldn't fetch `{shown}`: {escape(str(exc))}"
    except OpmlError as exc:
        return f"Couldn't read `{shown}` as OPML: {escape(str(exc))}."
    with session_scope(deps.engine) as session:
        ensure_channel(session=session, team_id=req.team_id, channel_id=req.channel_id, now=deps.clock())
    return describe(summary, shown, alert)


def describe(summary: ImportSummary, shown: str, alert: str | None) -> str:
    if not summary.lines:
        return f"The OPML file at `{shown}` lists no feeds."
    lines = [f"Imported the OPML file at `{shown}` into this channel: {summary.counts()}."]
    if alert is not None and summary.of(ADDED):
        lines[0] += f" Alerts for the feeds added: {alert}."
    for outcome in (ADDED, ALREADY, REFUSED):
        group = summary.of(outcome)
        if group:
            items = [f"• {_line(line)}" for line in group]
            lines.append(f"*{HEADINGS[outcome]}* ({len(group)})")
            lines.append(join_within(items, SECTION_TEXT, max_items=SECTION_ITEMS,
                                     more=lambda hidden: f"…and {hidden} more (`/brief list` shows what is followed)"))
    return "\n".join(lines)


def _line(line: ImportLine) -> str:
    name = escape(line.label()[:150])
    if line.outcome == REFUSED:
        return f"{name}: {escape(line.reason[:200])}"
    return f"{name} · {escape(line.kind)}" if line.kind else name


def _url_words(problem: str) -> str:
    return problem.replace("its xmlUrl", "the URL").replace("only http and https feeds are followed",
                                                               "only http and https URLs are fetched")
