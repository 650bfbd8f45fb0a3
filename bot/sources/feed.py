"""RSS 0.9x/1.0/2.0 and Atom feeds, read by feedparser. A JSON Feed served at a feed URL is handed to
the JSON Feed parser, since publishers switch formats without telling anyone."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import Any

import feedparser

from bot.settings import Settings
from bot.sources import jsonfeed
from bot.sources.base import Document, Entry, Parsed, SourceError, SpecError

NAME = "feed"
ITEM_KIND = "news"
EXAMPLE = "https://example.com/feed.xml"
SUMMARY = "RSS 0.9x/1.0/2.0 or Atom feed (a JSON Feed URL works too)"


def locator(identifier: str, settings: Settings) -> str:
    if not identifier.startswith(("http://", "https://")):
        raise SpecError(f"feed: expects a URL, got {identifier!r}")
    return identifier


def recognise(url: str) -> str | None:
    return None  # any URL may be a feed; that is found by fetching it


def parse(doc: Document) -> Parsed:
    if jsonfeed.looks_like_json(doc.body):
        return jsonfeed.parse(doc)
    parsed = parse_feed_bytes(doc)
    channel = parsed.get("feed", {})
    return Parsed(title=_text(channel.get("title")), entries=[entry_from(e, doc.url) for e in parsed.entries],
                  warnings=_warnings(parsed))


def parse_feed_bytes(doc: Document) -> Any:
    """feedparser's result, or a SourceError when the body is not a feed at all."""
    headers = {"content-type": doc.content_type} if doc.content_type else None
    parsed = feedparser.parse(doc.body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False)
    version = parsed.get("version", "")
    # A broken document with nothing readable in it is an error; a well-formed empty feed is not.
    if not parsed.entries and (not version or parsed.get("bozo")):
        exc = parsed.get("bozo_exception")
        head = doc.body[:200].lstrip().lower()
        if head.startswith((b"<!doctype html", b"<html")) or "html" in doc.mime:
            raise SourceError("not_a_feed", "this URL serves an HTML page, not a feed (no feed link found on it)")
        reason = f": {exc}" if exc else ""
        if exc is not None and "encoding" in type(exc).__name__.lower():
            raise SourceError("encoding", f"the feed's character encoding could not be read{reason}")
        raise SourceError("malformed", f"not a readable RSS or Atom feed{reason}")
    return parsed


def entry_from(e: Any, base_url: str) -> Entry:
    link = e.get("link") or ""
    if not link:
        link = next((ln.get("href", "") for ln in e.get("links", []) if ln.get("href")), "")
    guid = e.get("id") or link or _text(e.get("title"))
    content = e.get("content") or []
    body = content[0].get("value", "") if content else e.get("summary", "")
    source = e.get("source") or {}
    return Entry(
        external_id=str(guid),
        url=link or base_url,
        title=_text(e.get("title")),
        text=body or "",
        published_at=_date(e.get("published_parsed") or e.get("updated_parsed") or e.get("created_parsed")),
        outlet=_text(source.get("title")) if isinstance(source, dict) else "",
        author=_text(e.get("author")),
    )


def _date(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (OverflowError, ValueError, TypeError):
        return None


def _text(value: Any) -> str:
    return str(value or "").strip()


def _warnings(parsed: Any) -> list[str]:
    exc = parsed.get("bozo_exception")
    return [f"feed is not well-formed, read leniently: {exc}"] if parsed.get("bozo") and exc else []
