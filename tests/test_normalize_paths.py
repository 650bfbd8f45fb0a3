"""The short cuts in strip_html and in reading feed entries give what the long way gives (issue 15 item 4)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from bot.core.normalize import content_hash, strip_html
from bot.sources import feed
from bot.sources.base import Document


def test_plain_text_without_entities_is_tidied_as_before() -> None:
    # No "<" and no "&": no unescaping, but the same scrubbing and spacing as text with entities.
    assert strip_html("  a\u00a0\u200b b\t\x00c \r\n\n\n\n d  ") == "a b c\n\nd"
    assert strip_html("one\x85 line\x07") == "one line"
    assert strip_html("Fish &amp; chips&#x8d;") == "Fish & chips"  # an entity that decodes to a control goes too


def test_markup_without_dropped_elements_and_with_them() -> None:
    assert strip_html("<p>a <b>b</b></p><p>c\u200bd</p>") == "a b\nc d"
    assert strip_html("<P>x</P><SCRIPT>alert(1)</SCRIPT><Svg><style>s</style>t</Svg>y") == "x\ny"
    assert strip_html("<p>&lt;script&gt;x&lt;/script&gt;</p>") == "<script>x</script>"  # text, not an element


def test_content_hash_is_the_same_json_as_before() -> None:
    # keys sorted, no ASCII escaping, a datetime as its str()
    fields = {"c": [1], "b": datetime(2026, 1, 1), "a": "é"}
    blob = '{"a": "é", "b": "2026-01-01 00:00:00", "c": [1]}'
    assert content_hash(fields) == "v1:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()


RSS = b"""<rss version="2.0"><channel><title>t</title>
<item><title>one</title><link>/rel/1</link></item>
<item><title>two</title><link>urn:x:2</link><guid isPermaLink="false">g2</guid></item>
<item><title>three</title><guid>tag:x,2026:3</guid></item>
</channel></rss>"""

ATOM = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><title>a</title><id>a</id><link href="tag:x"/><link rel="related" href="/p/1"/></entry>
<entry><title>b</title><id>b</id><link href="https://ok.example/b"/><link rel="related" href="http://[::1"/></entry>
</feed>"""


def test_links_resolve_against_the_feed_and_only_http_counts() -> None:
    parsed = feed.parse(Document(url="https://ex.example/feed/", body=RSS))
    assert [(e.url, e.external_id) for e in parsed.entries] == [
        ("https://ex.example/rel/1", "https://ex.example/rel/1"),
        ("", "g2"),
        ("", "tag:x,2026:3"),
    ]


def test_a_later_link_that_cannot_be_read_still_skips_its_entry() -> None:
    parsed = feed.parse(Document(url="https://ex.example/feed/", body=ATOM))
    assert [e.url for e in parsed.entries] == ["https://ex.example/p/1"]
    assert len(parsed.warnings) == 1 and "skipped 1 of 2" in parsed.warnings[0]


def test_every_dropped_element_goes_nested_or_repeated() -> None:
    from bot.core.normalize import strip_html

    assert strip_html("a<object><object>b</object></object>c<object>d</object>e") == "ace"
    assert strip_html("x<script>1</script>y<style>2</style>z<script>3</script>w<svg><svg>4</svg></svg>v") == "xyzwv"
