"""Reading HTML pages: feed autodiscovery (<link rel="alternate">) and schema.org JSON-LD blocks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import lxml.html
from lxml import etree

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


def discover_feeds(body: bytes, base_url: str) -> list[tuple[str, str]]:
    """(kind, absolute URL) of each feed the page links to, in page order."""
    root = _tree(body)
    if root is None:
        return []
    found: list[tuple[str, str]] = []
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = FEED_TYPES.get((link.get("type") or "").lower().strip())
        href = (link.get("href") or "").strip()
        if "alternate" in rel and kind and href:
            url = urljoin(base_url, href)
            if url not in (u for _, u in found):
                found.append((kind, url))
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
