"""Adding a source from a spec: resolve it offline where the spec says enough, otherwise fetch the URL
once to learn what it is (a feed, a JSON Feed, a page that links to its feed, or a careers page)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from bot.clock import Clock
from bot.core.normalize import redact_url
from bot.fetch.http import Fetcher
from bot.settings import Settings
from bot.sources import careers, feed, jsonfeed
from bot.sources.base import SourceError, SpecError
from bot.sources.html_page import discover_feeds, looks_like_html
from bot.sources.registry import resolve_spec
from bot.storage.db import session_scope
from bot.storage.models import Source
from bot.storage.sources import add_source, subscribe


@dataclass(frozen=True, slots=True)
class Added:
    source: Source
    created: bool
    how: str  # how the kind was chosen, for the CLI to say


async def identify_url(url: str, fetcher: Fetcher) -> tuple[str, str, str, str]:
    """(kind, locator, title, how) for a URL whose kind only its content tells."""
    try:
        fetched = await fetcher.fetch(url)
    except SourceError as exc:
        raise SpecError(f"could not fetch {redact_url(url)}: {exc} (pass --kind to add it anyway)") from exc
    doc = fetched.document()
    if jsonfeed.looks_like_json(doc.body):
        parsed = jsonfeed.parse(doc)
        return jsonfeed.NAME, url, parsed.title, "JSON Feed"
    if looks_like_html(doc.body, doc.mime):
        links = discover_feeds(doc.body, fetched.url)
        for _, link in links:
            try:
                kind, locator, title, _ = await identify_url(link, fetcher)
            except SpecError:
                continue
            if kind in (feed.NAME, jsonfeed.NAME):
                return kind, locator, title, f"feed found on the page: {link}"
        if careers.has_job_postings(doc.body):
            return careers.NAME, url, "", "careers page with schema.org JobPosting data"
        raise SpecError(f"{redact_url(url)} is a web page with no feed link and no schema.org JobPosting data")
    try:
        parsed = feed.parse(doc)
    except SourceError as exc:
        raise SpecError(f"{redact_url(url)} is not a feed: {exc}") from exc
    return feed.NAME, url, parsed.title, "RSS/Atom feed"


async def add_by_spec(
    *, spec: str, kind: str | None, team_id: str, channel_id: str | None,
    settings: Settings, engine: Engine, fetcher: Fetcher, clock: Clock,
) -> Added:
    resolved = resolve_spec(spec, settings, kind)
    title, how = "", f"kind {resolved.kind}"
    if resolved.kind is None:
        kind_name, locator, title, how = await identify_url(resolved.locator, fetcher)
    else:
        kind_name, locator = resolved.kind, resolved.locator
    with session_scope(engine) as session:
        source, created = add_source(session=session, team_id=team_id, kind=kind_name, locator=locator,
                                     spec=spec.strip(), title=title, now=clock())
        if channel_id:
            subscribe(session=session, team_id=team_id, channel_id=channel_id, source_id=source.id or 0, now=clock())
    return Added(source=source, created=created, how=how)
