"""The pure Block Kit builders: escaping, safe links, Slack's limits under hostile and huge inputs, and wording."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.slack.blocks.alert import alert_message, growth_reply, short_date
from bot.slack.blocks.digest import digest_message
from bot.slack.blocks.home import EMPTY_TEXT, home_view
from bot.slack.blocks.limits import MESSAGE_BLOCKS, VIEW_BLOCKS, check_message, check_view
from bot.slack.escape import escape, join_within, link, plain, safe_url, truncate_mrkdwn
from bot.slack.model import (
    AlertView,
    ChannelView,
    DigestView,
    FollowView,
    Growth,
    HomeView,
    Message,
    SignalDetails,
    SourceLink,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PUBLISHED = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
HOSTILE = "<!channel> <!here> <@U123> <http://evil.example|click> & <#C999>"
UNSAFE_URLS = (
    "javascript:alert(1)",
    " JavaScript:alert(1)",
    "java\tscript:alert(1)",
    "slack://open",
    "mailto:a@example.com",
    "data:text/html,<b>x</b>",
    "ftp://example.com/file",
    "http://",
    "https:///path-only",
    "http://evil.example|click",
    "http://[::1",
    "https://example.com/" + "a" * 5000,
)
LINK_TARGET = re.compile(r"<([^<>|]*)\|")


def source(n: int, *, url: str | None = None, outlet: str = "Reno Gazette") -> SourceLink:
    return SourceLink(title=f"Story {n}", url=url or f"https://news.example/{n}?a=1&b=2", outlet=outlet,
                      published_at=PUBLISHED)


def story(brief_id: int = 42, **changes: Any) -> AlertView:
    view = AlertView(brief_id=brief_id, subject="story", subject_id=7, headline="Acme opens a Reno warehouse",
                     summary="Acme will open a 400-person warehouse in Reno.", why_it_matters="It competes for staff.",
                     sources=(source(1), source(2, outlet="KOLO 8")), item_count=5, outlet_count=3, created_at=NOW)
    return replace(view, **changes)


def signal(brief_id: int = 43, **changes: Any) -> AlertView:
    details = SignalDetails(company="Acme", metro="Reno, NV", reason="surge",
                            roles=(("Warehouse associate", 4), ("Forklift driver", 2)), postings=6)
    return replace(story(brief_id, subject="signal", signal=details, mute_company="Acme"), **changes)


def payload(message: Message) -> str:
    return json.dumps({"text": message.text, "blocks": message.blocks}, ensure_ascii=False)


def blocks_of(message: Message, block_type: str) -> list[dict[str, Any]]:
    return [block for block in message.blocks if block["type"] == block_type]


# escape.py


@pytest.mark.parametrize(("raw", "escaped"), [
    ("<!channel>", "&lt;!channel&gt;"),
    ("<!here>", "&lt;!here&gt;"),
    ("<@U123>", "&lt;@U123&gt;"),
    ("<http://evil|click>", "&lt;http\u2060://evil|click&gt;"),  # and the bare URL defused (a word joiner)
    ("see https://evil.example or www.evil.example", "see https\u2060://evil.example or www\u2060.evil.example"),
    ("AT&T", "AT&amp;T"),
    ("&amp;", "&amp;amp;"),
    ("*bold* _it_ @channel", "∗bold∗ ˍitˍ @channel"),  # feed text cannot restyle a message (issue 11.15)
])
def test_escape(raw: str, escaped: str) -> None:
    assert escape(raw) == escaped


@pytest.mark.parametrize("url", UNSAFE_URLS)
def test_unsafe_urls_are_refused(url: str) -> None:
    assert safe_url(url) is None
    assert link(url, "label") == "label"


@pytest.mark.parametrize(("url", "expected"), [
    ("https://example.com/a?b=1&c=2", "https://example.com/a?b=1&c=2"),
    ("HTTP://Example.com/x", "HTTP://Example.com/x"),
    ("https://example.com/a|b", "https://example.com/a%7Cb"),
    ("https://example.com/a>b<c", "https://example.com/a%3Eb%3Cc"),
    ("https://example.com/a b\x01", "https://example.com/a%20b%01"),
    ("  https://example.com/  ", "https://example.com/"),
])
def test_safe_url_encodes_what_breaks_link_markup(url: str, expected: str) -> None:
    assert safe_url(url) == expected


def test_link_escapes_the_label_and_keeps_markup_whole() -> None:
    assert link("https://example.com/a|b", "Q3 <!channel> & more") == (
        "<https://example.com/a%7Cb|Q3 &lt;!channel&gt; &amp; more>"
    )
    assert link("https://example.com/", "") == "<https://example.com/>"


def test_plain_collapses_escapes_and_cuts() -> None:
    assert plain("  a \n\t b\x00 ", 10) == "a b"
    assert plain("<!here>", 100) == "&lt;!here&gt;"
    cut = plain("word " * 100, 20)
    assert len(cut) <= 20
    assert cut.endswith("…")


def test_truncate_mrkdwn_never_splits_an_entity_or_a_link() -> None:
    text = escape("a&b<c>d ") + link("https://example.com/x", "label") + escape(" tail & more")
    for limit in range(len(text) + 2):
        cut = truncate_mrkdwn(text, limit)
        assert len(cut) <= limit
        body = cut.removesuffix("…")
        assert cut == text or cut.endswith("…") or limit == 0
        assert re.fullmatch(r"(?:[^&<>]|&(?:amp|lt|gt);|<https://example\.com/x\|label>)*", body), (limit, cut)


def test_join_within_keeps_whole_items_and_counts_the_rest() -> None:
    items = [f"item {n}" for n in range(100)]
    text = join_within(items, 60)
    assert len(text) <= 60
    shown = text.splitlines()[:-1]
    assert shown == items[: len(shown)]
    assert text.endswith(f"…and {100 - len(shown)} more")
    assert join_within(items[:3], 1000) == "item 0\nitem 1\nitem 2"
    assert join_within(items, 1000, max_items=2) == "item 0\nitem 1\n…and 98 more"


# limits.py: the checks themselves must catch what they claim to


def test_check_message_reports_violations() -> None:
    header = {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}
    section = {"type": "section", "block_id": "s", "text": {"type": "mrkdwn", "text": "y" * 3001}}
    too_many = [{"type": "divider"} for _ in range(MESSAGE_BLOCKS + 1)]
    button = {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "z" * 76}, "value": "1"}
    assert any("header text" in p for p in check_message(Message(text="t", blocks=[header])))
    assert any("section text" in p for p in check_message(Message(text="t", blocks=[section])))
    assert any("blocks: 51" in p for p in check_message(Message(text="t", blocks=too_many)))
    assert any("button text" in p for p in check_message(
        Message(text="t", blocks=[{"type": "actions", "elements": [button]}])))
    assert any("text" in p for p in check_message(Message(text="x" * 4001, blocks=[])))
    assert any("repeated" in p for p in check_message(Message(text="t", blocks=[section, section])))
    assert any("slack_sdk" in p for p in check_message(Message(text="t", blocks=[{"type": "nonsense"}])))
    image = {"type": "image", "image_url": "https://example.com/a.png", "alt_text": "a" * 2001}  # only slack_sdk knows
    assert any("alt_text" in p for p in check_message(Message(text="t", blocks=[image])))
    budget = [{"type": "section", "block_id": f"b{n}", "text": {"type": "mrkdwn", "text": "w" * 2500}}
              for n in range(5)]
    assert any("characters of text" in p for p in check_message(Message(text="t", blocks=budget)))
    assert check_view({"type": "home", "blocks": [{"type": "divider"}] * (VIEW_BLOCKS + 1)})


# alert.py


def test_alert_shape_buttons_and_ids() -> None:
    message = alert_message(signal(brief_id=43))
    assert check_message(message) == []
    assert message.blocks[0]["type"] == "header"
    assert message.blocks[0]["text"]["text"] == "Acme opens a Reno warehouse"
    assert "*Why it matters:* It competes for staff." in message.blocks[1]["text"]["text"]
    fields = [field["text"] for field in blocks_of(message, "section")[1]["fields"]]
    assert fields == ["*Company*\nAcme", "*Metro*\nReno, NV", "*Postings*\n6",
                      "*Roles*\nWarehouse associate ×4\nForklift driver ×2"]
    (actions,) = blocks_of(message, "actions")
    assert actions["block_id"] == "brief-43-actions"
    assert [(b["action_id"], b["text"]["text"], b["value"]) for b in actions["elements"]] == [
        ("brief_ask", "Ask a follow-up", "43"),
        ("brief_why", "Why this alert", "43"),
        ("brief_mute_company", "Mute Acme", "43"),
        ("brief_useful", "👍 Useful", "43"), ("brief_not_useful", "👎 Less like this", "43"),
    ]
    assert message.text == "Acme opens a Reno warehouse — Acme will open a 400-person warehouse in Reno."


def test_alert_without_mute_company_has_no_mute_button() -> None:
    message = alert_message(story(mute_company=""))
    (actions,) = blocks_of(message, "actions")
    assert [b["action_id"] for b in actions["elements"]] == ["brief_ask", "brief_useful", "brief_not_useful"]
    assert "brief_mute_company" not in payload(message)


def test_alert_sources_and_counts() -> None:
    sources = tuple(source(n) for n in range(8))
    message = alert_message(story(sources=sources, writer_note="written by the built-in writer"))
    contexts = blocks_of(message, "context")
    links = [element["text"] for element in contexts[0]["elements"]]
    assert links[0] == "<https://news.example/0?a=1&b=2|Reno Gazette · 24 Nov>"
    assert len(links) == 6
    assert links[-1] == "+3 more"
    meta = [element["text"] for element in contexts[1]["elements"]]
    assert meta == ["5 items from 3 outlets", "_written by the built-in writer_"]


def test_blank_feed_fields_never_make_empty_text() -> None:
    blank = SourceLink(title=" ", url="javascript:x", outlet=" \n ", published_at=None)
    message = alert_message(story(headline=" ", summary="", why_it_matters="", sources=(blank,), writer_note=" "))
    assert check_message(message) == []
    assert blocks_of(message, "context")[0]["elements"][0]["text"] == "source"
    assert message.blocks[0]["text"]["text"] == "Untitled brief"
    assert [e["text"] for e in blocks_of(message, "context")[1]["elements"]] == ["5 items from 3 outlets"]


def test_short_date_is_day_and_english_month() -> None:
    assert short_date(PUBLISHED) == "24 Nov"
    assert short_date(datetime(2026, 3, 1, 3, tzinfo=UTC)) == "1 Mar"


def everything_hostile(view: AlertView) -> AlertView:
    details = SignalDetails(company=HOSTILE, metro=HOSTILE, reason="surge", roles=((HOSTILE, 3),), postings=3)
    sources = (SourceLink(title=HOSTILE, url="javascript:alert(1)", outlet=HOSTILE, published_at=None),
               SourceLink(title=HOSTILE, url="https://ok.example/<!channel>|x", outlet=HOSTILE, published_at=PUBLISHED))
    return replace(view, headline=HOSTILE, summary=HOSTILE, why_it_matters=HOSTILE, writer_note=HOSTILE,
                   sources=sources, signal=details, mute_company=HOSTILE)


def assert_inert(text: str) -> None:
    assert "<!" not in text
    assert "<@" not in text
    assert "<http://evil" not in text
    assert "javascript:" not in text
    for target in LINK_TARGET.findall(text):
        assert target.startswith(("http://", "https://")), target
        assert not set(target) & set(" <>|\""), target


def test_hostile_feed_text_is_inert_everywhere() -> None:
    view = everything_hostile(signal())
    for message in (alert_message(view), growth_reply(view, Growth(more_items=2, more_outlets=1)),
                    digest_message(DigestView(channel_id="C1", since=None, until=NOW, briefs=(view, view)))):
        assert_inert(payload(message))
        assert check_message(message) == []
    home = home_view(HomeView(team_id="T1", timezone=HOSTILE, writer=HOSTILE, latest=(view,), channels=(
        ChannelView(channel_id="<!channel>", watches=(HOSTILE,), muted_companies=(HOSTILE,), paused_reason=HOSTILE,
                    digest=HOSTILE, follows=(FollowView(1, HOSTILE, HOSTILE, "failing", last_error=HOSTILE),)),
    )))
    assert_inert(json.dumps(home, ensure_ascii=False))
    assert check_view(home) == []


def test_unsafe_source_urls_are_never_link_targets() -> None:
    sources = tuple(source(n, url=url) for n, url in enumerate(UNSAFE_URLS))
    message = alert_message(story(sources=sources))
    assert LINK_TARGET.findall(payload(message)) == []
    assert "javascript" not in payload(message).lower()


def test_huge_alert_stays_within_every_limit() -> None:
    long_url = "https://news.example/" + "p" * 1950
    roles = tuple((f"Role number {n} " + "x" * 200, n) for n in range(500))
    view = signal(headline="H" * 5000, summary="S & " * 20000, why_it_matters="<W> " * 5000, writer_note="N" * 5000,
                  sources=tuple(source(n, url=long_url, outlet="O" * 500) for n in range(200)),
                  signal=SignalDetails(company="C" * 5000, metro="M" * 5000, reason="surge", roles=roles, postings=9),
                  mute_company="Z" * 500)
    message = alert_message(view)
    assert check_message(message) == []
    assert len(message.text) <= 4000
    assert blocks_of(message, "context")[0]["elements"][-1]["text"] == "+195 more"
    roles_field = blocks_of(message, "section")[1]["fields"][3]["text"]
    assert roles_field.endswith("more")
    reply = growth_reply(view, Growth(more_items=500, more_outlets=200))
    assert check_message(reply) == []


@pytest.mark.parametrize(("view", "growth", "expected"), [
    (story(), Growth(more_items=4, more_outlets=3), "Update: 3 more outlets, 4 more items"),
    (story(), Growth(more_items=1, more_outlets=1), "Update: 1 more outlet, 1 more item"),
    (story(), Growth(more_items=2, more_outlets=0), "Update: 2 more items"),
    (signal(), Growth(more_items=4, more_outlets=0), "Update: 4 more roles"),
    (signal(), Growth(more_items=1, more_outlets=0), "Update: 1 more role"),
])
def test_growth_reply_wording(view: AlertView, growth: Growth, expected: str) -> None:
    reply = growth_reply(replace(view, headline="Acme now hiring 10"), growth)
    assert reply.blocks[0]["text"]["text"] == f"*{expected}*\nAcme now hiring 10"
    assert reply.text == f"{expected} — Acme now hiring 10"
    assert check_message(reply) == []


# digest.py


def test_digest_raises_on_empty() -> None:
    with pytest.raises(ValueError, match="at least one brief"):
        digest_message(DigestView(channel_id="C1", since=None, until=NOW, briefs=()))


def test_digest_shape() -> None:
    since = datetime(2026, 11, 24, 9, tzinfo=UTC)
    message = digest_message(DigestView(channel_id="C1", since=since, until=NOW, briefs=(story(1), signal(2))))
    assert check_message(message) == []
    assert message.blocks[0]["text"]["text"] == "Digest: 2 briefs since 24 Nov"
    first = blocks_of(message, "section")[0]["text"]["text"]
    assert first == ("*<https://news.example/1?a=1&b=2|Acme opens a Reno warehouse>*\n"
                     "Acme will open a 400-person warehouse in Reno.")
    contexts = [block["elements"][0]["text"] for block in blocks_of(message, "context")]
    assert contexts == ["Reno Gazette · 24 Nov · 5 items from 3 outlets", "Reno Gazette · 24 Nov · 6 postings"]
    assert message.text.startswith("Digest: 2 briefs since 24 Nov: ")


def test_digest_dates_follow_its_timezone() -> None:
    late = datetime(2026, 11, 25, 3, tzinfo=UTC)  # still 24 Nov in Los Angeles
    view = DigestView(channel_id="C1", since=late, until=late, briefs=(story(),), timezone="America/Los_Angeles")
    assert digest_message(view).blocks[0]["text"]["text"] == "Digest: 1 brief today"
    bad_zone = replace(view, since=PUBLISHED, timezone="Not/AZone")
    assert digest_message(bad_zone).blocks[0]["text"]["text"] == "Digest: 1 brief since 24 Nov"


def test_huge_digest_stays_within_every_limit() -> None:
    long_url = "https://news.example/" + "q" * 1950
    brief = story(headline="H <b> " * 1000, summary="S & " * 20000,
                  sources=tuple(source(n, url=long_url, outlet="O" * 1000) for n in range(200)))
    message = digest_message(DigestView(channel_id="C1", since=None, until=NOW,
                                        briefs=tuple(replace(brief, brief_id=n) for n in range(200))))
    assert check_message(message) == []
    assert len(message.blocks) <= MESSAGE_BLOCKS
    assert len(blocks_of(message, "section")) == 10
    assert message.blocks[-1]["elements"][0]["text"] == "…and 190 more briefs"


# home.py


def test_empty_home_is_helpful() -> None:
    view = home_view(HomeView(team_id="T1", timezone="UTC", writer="built-in writer (no LLM configured)"))
    assert check_view(view) == []
    texts = json.dumps(view)
    assert EMPTY_TEXT in texts
    assert "failed" not in texts
    assert view["blocks"][1]["elements"][0]["text"] == "Timezone: UTC · Writer: built-in writer (no LLM configured)"


def test_home_channels_follows_and_warnings() -> None:
    follows = tuple(FollowView(n, f"Feed {status}", "feed", status, last_error="HTTP 503" if status != "ok" else None)
                    for n, status in enumerate(("ok", "new", "retrying", "failing", "paused")))
    channel = ChannelView(channel_id="C0123ABC", follows=follows, watches=("Acme", "Kestrel"), digest="daily 09:00",
                          muted_companies=("Globex",), paused_reason="the bot was removed from the channel")
    view = home_view(HomeView(team_id="T1", timezone="Europe/Berlin", writer="LLM gpt-4o-mini", channels=(channel,),
                              latest=(story(),), failed_deliveries=3))
    assert check_view(view) == []
    sections = {block["block_id"]: block["text"]["text"] for block in view["blocks"] if block["type"] == "section"}
    assert sections["home-failed"].startswith("⚠️ *3 failed deliveries*")
    text = sections["home-channel-0"]
    assert text.startswith("*<#C0123ABC>*\n⏸️ *Paused:* the bot was removed from the channel\n")
    for expected in ("*Digest:* daily 09:00", "*Watches:* Acme, Kestrel", "*Muted companies:* Globex",
                     "✅ Feed ok _feed_\n", "🆕 Feed new", "⚠️ Feed retrying _feed_ — last error: HTTP 503",
                     "❌ Feed failing", "⏸️ Feed paused"):
        assert expected in text
    assert sections["home-latest-list"] == "• <https://news.example/1?a=1&b=2|Acme opens a Reno warehouse> · 25 Nov"


@pytest.mark.parametrize("channel_id", ["<!channel>", "c123", "C12 3", "U123ABC", "C123>|x"])
def test_home_never_turns_a_bad_channel_id_into_markup(channel_id: str) -> None:
    view = home_view(HomeView(team_id="T1", timezone="UTC", writer="w", channels=(ChannelView(channel_id),)))
    text = view["blocks"][3]["text"]["text"]
    assert "<#" not in text
    assert text.startswith(f"*{escape(channel_id)}*")


def test_huge_home_stays_within_every_limit() -> None:
    follows = tuple(FollowView(n, "Label " + "l" * 300, "feed", "failing", last_error="E" * 1000,
                               last_success_at=PUBLISHED) for n in range(50))
    channels = tuple(ChannelView(channel_id=f"C{n:08d}", follows=follows, watches=tuple("w" * 200 for _ in range(100)),
                                 muted_companies=tuple("m" * 200 for _ in range(100)), paused_reason="P" * 2000)
                     for n in range(100))
    latest = tuple(story(n, headline="H" * 1000, sources=(source(n, url="https://news.example/" + "z" * 1900),))
                   for n in range(200))
    view = home_view(HomeView(team_id="T1", timezone="UTC", writer="W" * 5000, channels=channels, latest=latest,
                              failed_deliveries=7))
    assert check_view(view) == []
    assert len(view["blocks"]) <= VIEW_BLOCKS
    more = [block for block in view["blocks"] if block.get("block_id") == "home-channels-more"]
    shown = sum(1 for block in view["blocks"] if block.get("block_id", "").startswith("home-channel-"))
    assert more[0]["elements"][0]["text"] == f"…and {100 - shown} more channels"
    one = home_view(HomeView(team_id="T1", timezone="UTC", writer="w", channels=channels[:1]))
    assert check_view(one) == []
    assert "more" in one["blocks"][3]["text"]["text"].splitlines()[-1]


def test_less_like_this_offers_fit_and_escape_whatever_the_names() -> None:
    from bot.slack.blocks.feedback import LessChoices, SourceChoice, less_like_this_message, parse_source_value

    hostile = "<!channel> *Wire* <http://evil.example|click> " + "x" * 500
    choices = LessChoices(brief_id=7, company=hostile, sources=tuple(
        SourceChoice(n, hostile, policy) for n, policy in ((1, "every"), (2, "stories"), (3, "digest"), (4, "every"))))
    message = less_like_this_message(choices)
    assert check_message(message) == []
    (actions,) = blocks_of(message, "actions")
    ids = [b["action_id"] for b in actions["elements"]]
    assert ids == ["brief_mute_company", "less_source_digest:1", "less_source_stories:1", "less_source_digest:2"]
    assert len(set(ids)) == len(ids) and "<!channel>" not in payload(message) and "<http" not in payload(message)
    assert parse_source_value("7:1") == (7, 1) and parse_source_value("7:x") is None and parse_source_value("") is None
    quiet = less_like_this_message(LessChoices(brief_id=7, company="", sources=()))
    assert blocks_of(quiet, "actions") == [] and "wasn't useful" in quiet.text
