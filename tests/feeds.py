"""Small hand-written feeds for integration tests (the golden tests use the real corpus)."""

from __future__ import annotations

from collections.abc import Sequence


def rss(items: Sequence[tuple[str, str, str]], *, title: str = "Test Wire", dated: bool = True) -> bytes:
    """An RSS 2.0 feed of (guid, link, title) items; descriptions derive from the title."""
    parts = [f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>{title}</title>"
             "<link>https://wire.example/</link>"]
    for n, (guid, link, headline) in enumerate(items):
        date = f"<pubDate>Mon, 23 Nov 2026 {8 + n % 10:02d}:00:00 GMT</pubDate>" if dated else ""
        parts.append(f"<item><guid>{guid}</guid><link>{link}</link><title>{headline}</title>{date}"
                     f"<description>&lt;p&gt;About {headline}.&lt;/p&gt;</description></item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def numbered(n: int, prefix: str = "story", host: str = "https://wire.example") -> list[tuple[str, str, str]]:
    return [(f"{prefix}-{i}", f"{host}/{prefix}/{i}?utm_source=rss", f"{prefix.title()} number {i}") for i in range(n)]
