"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1): plain JSON with a documented schema."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from bot.settings import Settings
from bot.sources.base import Document, Entry, Parsed, SourceError, SpecError, expect, load_json, parse_iso, read_entries

NAME = "jsonfeed"
ITEM_KIND = "news"
EXAMPLE = "https://example.com/feed.json"
SUMMARY = "JSON Feed 1.0/1.1"


def locator(identifier: str, settings: Settings) -> str:
    if not identifier.startswith(("http://", "https://")):
        raise SpecError(f"jsonfeed: expects a URL, got {identifier!r}")
    return identifier


def recognise(url: str) -> str | None:
    return None


def looks_like_json(body: bytes) -> bool:
    return body[:64].lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def parse(doc: Document) -> Parsed:
    data = expect(load_json(doc), dict, "the JSON Feed")
    version = str(data.get("version", ""))
    if "jsonfeed.org" not in version:
        raise SourceError("not_a_feed", "JSON document is not a JSON Feed (no jsonfeed.org version)")
    items = expect(data.get("items", []), list, "items")
    feed_author = _author(data)
    entries, warnings = read_entries(items, lambda item: _entry(item, feed_author, doc.url))
    return Parsed(title=str(data.get("title") or ""), entries=entries, warnings=warnings)


def _entry(item: dict[str, Any], feed_author: str, base_url: str) -> Entry:
    url = urljoin(base_url, str(item.get("url") or item.get("external_url") or "")) if (
        item.get("url") or item.get("external_url")) else ""
    body = item.get("content_html") or item.get("content_text") or item.get("summary") or ""
    return Entry(
        external_id=str(item.get("id") or url),
        url=url,
        title=str(item.get("title") or ""),
        text=str(body),
        published_at=parse_iso(item.get("date_published") or item.get("date_modified")),
        author=_author(item) or feed_author,
    )


def _author(obj: dict[str, Any]) -> str:
    authors = obj.get("authors") or ([obj["author"]] if isinstance(obj.get("author"), dict) else [])
    names = [str(a.get("name")) for a in authors if isinstance(a, dict) and a.get("name")]
    return ", ".join(names)
