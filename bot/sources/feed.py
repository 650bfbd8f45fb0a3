"""RSS 0.9x/1.0/2.0 and Atom feeds, read by feedparser. A JSON Feed served at a feed URL is handed to
the JSON Feed parser, since publishers switch formats without telling anyone."""

from __future__ import annotations

import calendar
import hashlib
import re
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser

from bot.settings import Settings
from bot.sources import jsonfeed
from bot.sources.base import Document, Entry, Parsed, SourceError, SpecError, read_entries

NAME = "feed"
ITEM_KIND = "news"
EXAMPLE = "https://example.com/feed.xml"
SUMMARY = "RSS 0.9x/1.0/2.0 or Atom feed (a JSON Feed URL works too)"


_SLASH_DATE = re.compile(r"^\s*(\d{4})/(\d{1,2})/(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*$")


def _slash_date(value: str) -> time.struct_time | None:
    """'2020/1/10 14:33:00', which feedparser misreads as another date; taken as UTC."""
    match = _SLASH_DATE.match(value)
    if not match:
        return None
    y, mo, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
    try:
        return datetime(y, mo, d, h, mi, s, tzinfo=UTC).timetuple()
    except ValueError:
        return None


feedparser.registerDateHandler(_slash_date)


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
    entries, skipped = read_entries(list(parsed.entries), lambda e: entry_from(e, doc.url))
    return Parsed(title=_text(channel.get("title")), entries=entries, warnings=_warnings(parsed) + skipped)


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
    get = dict.get  # feedparser's entries are dicts; its own `get` maps aliases none of these keys has
    link = _first_link(e, base_url)
    content = get(e, "content") or []
    body = get(content[0], "value", "") if content else get(e, "summary", "")
    guid = get(e, "id") or link or _content_id(e, body)
    source = get(e, "source") or {}
    return Entry(
        external_id=str(guid),
        url=link,
        title=_text(get(e, "title")),
        text=body or "",
        published_at=_date(get(e, "published_parsed") or get(e, "updated_parsed") or get(e, "created_parsed")),
        outlet=_text(get(source, "title")) if isinstance(source, dict) else "",
        author=_text(get(e, "author")),
    )


def _first_link(e: Any, base_url: str) -> str:
    """The first of the entry's link and its links' hrefs that is an http(s) URL once resolved against the feed
    (ids such as urn:/tag: are not links). Every candidate is resolved, so one that cannot be still fails the
    entry, but each distinct one only once (feedparser repeats the link among the links)."""
    candidates = [dict.get(e, "link") or ""] + [ln.get("href", "") for ln in dict.get(e, "links", []) if ln.get("href")]
    joined: dict[str, str] = {}
    for c in candidates:
        if c and c.strip() and c not in joined:
            joined[c] = urljoin(base_url, c.strip())
    return next((u for u in joined.values() if u.startswith(("http://", "https://"))), "")


def _content_id(e: Any, body: str) -> str:
    """An id for an entry that has no guid, link or id: its content (RSS 0.9x items may be only a description)."""
    text = f"{_text(e.get('title'))}\n{body}"
    return "content:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


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
