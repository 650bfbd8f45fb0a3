"""OPML in and out. In: what an OPML file lists is followed feed by feed through `add_by_spec`, as `sources add`
and `/brief follow` add one, each in its own try: a refused feed is one line of the summary and never stops the
rest. Importing the same file twice adds nothing new.

What is fetched: an outline whose kind is known without looking (briefbot's own `briefbot:kind`, a job-board
URL, or `type="rss"`/`"atom"`, which feed readers write on every subscription) is added as that kind without
fetching it, after the SSRF guard has checked its address (one DNS lookup), so 200 feeds import in seconds
(one after another, numbered as the file lists them) and a private address is refused here, not at the first
poll. An outline with no type is fetched once to learn what it is, as `sources add URL` does. A feed that turns
out unreadable is then said by its first poll, in `sources list` and `/brief list`.

Out: a workspace's sources (or a channel's follows) as outlines for `bot/core/opml.write_opml`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bot.clock import Clock
from bot.core.normalize import first_line, redact_url
from bot.core.opml import Opml, OpmlFeed
from bot.fetch.guard import check_url
from bot.fetch.http import Fetcher
from bot.ingest.add import add_by_spec
from bot.settings import Settings
from bot.sources.base import SourceError, SpecError
from bot.sources.registry import get_kind, resolve_spec
from bot.storage.channels import channel_follows
from bot.storage.db import session_scope
from bot.storage.models import Source
from bot.storage.transactions import Engine

log = logging.getLogger(__name__)

ADDED, ALREADY, REFUSED = "added", "already followed", "refused"
OUTCOMES = (ADDED, ALREADY, REFUSED)


@dataclass(frozen=True, slots=True)
class ImportLine:
    """What became of one outline."""

    outcome: str  # added | already followed | refused
    url: str
    title: str = ""
    reason: str = ""  # why it was refused; how its kind was chosen otherwise
    source_id: int | None = None
    kind: str = ""

    def label(self) -> str:
        return self.title or redact_url(self.url) or "(no URL)"

    def as_dict(self) -> dict[str, object]:
        return {"outcome": self.outcome, "url": self.url, "title": self.title, "reason": self.reason,
                "source_id": self.source_id, "kind": self.kind}


@dataclass(frozen=True, slots=True)
class ImportSummary:
    lines: tuple[ImportLine, ...]

    def of(self, outcome: str) -> list[ImportLine]:
        return [line for line in self.lines if line.outcome == outcome]

    def counts(self) -> str:
        """"2 added, 1 already followed, 1 refused"."""
        return ", ".join(f"{len(self.of(outcome))} {outcome}" for outcome in OUTCOMES)


async def import_opml(
    *, opml: Opml, team_id: str, channel_id: str | None, alert: str | None, settings: Settings, engine: Engine,
    fetcher: Fetcher, clock: Clock,
) -> ImportSummary:
    """Every feed of `opml` followed by the workspace (and by `channel_id`, with `alert`), in file order; the
    outlines the file itself could not give (no xmlUrl, not http(s), repeated) are refused lines too."""
    followed: set[int] = set()
    if channel_id:
        with session_scope(engine) as session:
            followed = {s.id or 0 for _, s in channel_follows(session=session, team_id=team_id, channel_id=channel_id)}
    lines: list[ImportLine] = []
    for feed in opml.feeds:  # one at a time, in file order: sources are numbered as the file lists them
        line = await _import_one(feed, team_id=team_id, channel_id=channel_id, alert=alert, settings=settings,
                                 engine=engine, fetcher=fetcher, clock=clock)
        if line.outcome == ADDED and line.source_id in followed:  # a second outline for one source says so too
            line = ImportLine(ALREADY, line.url, line.title, line.reason, line.source_id, line.kind)
        if line.source_id is not None:
            followed.add(line.source_id)
        lines.append(line)
    lines.extend(ImportLine(REFUSED, s.url, s.where, s.reason) for s in opml.skipped)
    return ImportSummary(tuple(lines))


async def _import_one(
    feed: OpmlFeed, *, team_id: str, channel_id: str | None, alert: str | None, settings: Settings,
    engine: Engine, fetcher: Fetcher, clock: Clock,
) -> ImportLine:
    try:
        kind = kind_for(feed, settings)
        if kind is not None:  # not fetched now: the guard says here what a poll would meet
            await check_url(feed.url, allow_private=settings.briefbot_allow_private_urls, resolver=fetcher.resolver,
                            allowed=fetcher.allowed)
        added = await add_by_spec(spec=feed.url, kind=kind, team_id=team_id, channel_id=channel_id,
                                  settings=settings, engine=engine, fetcher=fetcher, clock=clock, alert=alert,
                                  title=feed.title)
    except (SpecError, SourceError) as exc:
        return ImportLine(REFUSED, feed.url, feed.title, first_line(exc) or type(exc).__name__)
    except Exception as exc:  # even a bug on one outline is that outline's line, never the import's end
        log.exception("importing %s failed", redact_url(feed.url))
        return ImportLine(REFUSED, feed.url, feed.title, f"{type(exc).__name__}: {first_line(exc)}")
    source = added.source
    # With a channel, import_opml tells "already followed" from the channel's follows before the import.
    outcome = ALREADY if channel_id is None and not added.created else ADDED
    return ImportLine(outcome, feed.url, source.title or feed.title, added.how, source.id, source.kind)


def kind_for(feed: OpmlFeed, settings: Settings) -> str | None:
    """The kind an outline is added as without fetching it, or None to fetch it once and see."""
    if feed.kind:
        return get_kind(feed.kind).NAME
    offline = resolve_spec(feed.url, settings).kind  # a job board's URL is known by its shape
    if offline is None and feed.declares_feed:
        return "feed"
    return offline



FOLDERS = {"feed": "Feeds", "jsonfeed": "Feeds", "news": "News searches", "careers": "Careers pages"}
FEED_LIKE = frozenset({"feed", "jsonfeed", "news"})  # what a feed reader can subscribe to: written type="rss"


def as_outlines(sources: Sequence[Source]) -> list[OpmlFeed]:
    """Sources as OPML outlines: one folder per kind of source (feeds, news searches, job boards, careers
    pages), each carrying its kind for briefbot to read back without fetching."""
    return [OpmlFeed(url=s.locator, title=s.title, category=(FOLDERS.get(s.kind, "Job boards"),),
                     declared_type="rss" if s.kind in FEED_LIKE else "", kind=s.kind)
            for s in sources if s.locator.startswith(("http://", "https://"))]
