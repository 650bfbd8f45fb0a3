"""News search: `news:"query words"` becomes a news search feed (Google News RSS by default; the base
URL is the BRIEFBOT_NEWS_SEARCH_URL setting). Titles there end in " - Outlet"; the outlet is kept apart."""

from __future__ import annotations

from urllib.parse import quote_plus

from bot.core.normalize import strip_html
from bot.settings import Settings
from bot.sources import feed
from bot.sources.base import Document, Parsed, SpecError

NAME = "news"
ITEM_KIND = "news"
EXAMPLE = 'news:"tiktok fulfillment"'
SUMMARY = "a news search for the given words"


def locator(identifier: str, settings: Settings) -> str:
    if identifier.startswith(("http://", "https://")):
        return identifier  # a search feed URL at any host (`--kind news URL`)
    query = " ".join(identifier.strip().strip("\"'“”").split())
    if not query:
        raise SpecError('news: needs search words, e.g. news:"tiktok fulfillment"')
    template = settings.briefbot_news_search_url
    if "{query}" not in template:
        raise SpecError("BRIEFBOT_NEWS_SEARCH_URL must contain {query}")
    return template.replace("{query}", quote_plus(query))


def recognise(url: str) -> str | None:
    return None


def parse(doc: Document) -> Parsed:
    parsed = feed.parse(doc)
    for entry in parsed.entries:
        if entry.outlet and entry.title.endswith(" - " + entry.outlet):
            entry.title = entry.title[: -len(entry.outlet) - 3]
        # A search result's description is its own title and outlet again: no text of its own.
        if " ".join(strip_html(entry.text).split()).startswith(" ".join(entry.title.split())):
            entry.text = ""
    return parsed
