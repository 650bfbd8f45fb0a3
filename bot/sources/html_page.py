"""Reading HTML pages: feed autodiscovery (<link rel="alternate">) and schema.org JSON-LD blocks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from bot.core.normalize import canonical_url

FEED_TYPES = {
    "application/rss+xml": "feed",
    "application/atom+xml": "feed",
    "application/rdf+xml": "feed",
    "application/xml": "feed",
    "text/xml": "feed",
    "application/feed+json": "jsonfeed",
    "application/json": "jsonfeed",
}


def looks_like_html(body: bytes, mime: str) -> bool:
    head = body[:512].lstrip().lower()
    return "html" in mime or head.startswith((b"<!doctype html", b"<html")) or b"<head" in head


def _tree(body: bytes) -> Any | None:
    try:
        return lxml.html.fromstring(body)
    except (etree.ParserError, ValueError):
        return None


def discover_feeds(body: bytes, base_url: str, limit: int = 20) -> list[tuple[str, str]]:
    """(kind, absolute URL) of each feed the page links to, in page order: at most `limit`, each URL once (by its
    canonical form), http(s) only. A page may list thousands; whoever fetches them takes a handful."""
    root = _tree(body)
    if root is None:
        return []
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = FEED_TYPES.get((link.get("type") or "").lower().strip())
        href = (link.get("href") or "").strip()
        if "alternate" not in rel or not kind or not href:
            continue
        try:
            url = urljoin(base_url, href)
            key = canonical_url(url)
        except ValueError:  # an unreadable href such as http://[::1 is no link
            continue
        if urlsplit(url).scheme.lower() in ("http", "https") and key not in seen:
            seen.add(key)
            found.append((kind, url))
            if len(found) >= limit:
                break
    return found


def json_ld_objects(body: bytes) -> Iterator[dict[str, Any]]:
    """Every JSON-LD object on the page, flattened out of lists and @graph."""
    root = _tree(body)
    if root is None:
        return
    for script in root.iter("script"):
        if (script.get("type") or "").lower().strip() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "", strict=False)
        except json.JSONDecodeError:
            continue
        yield from _flatten(data)


def _flatten(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for value in data:
            yield from _flatten(value)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _flatten(data["@graph"])


def has_type(obj: dict[str, Any], name: str) -> bool:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return any(isinstance(k, str) and k.rsplit("/", 1)[-1] == name for k in kinds)
