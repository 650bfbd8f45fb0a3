"""The pure parts of the Slack app: /brief parsing, digest schedules, routing briefs to channels."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.digest import DigestSchedule, ScheduleError, next_digest_at, parse_schedule
from bot.core.routing import (
    DIGEST,
    EVERY,
    STORIES,
    BriefFacts,
    ChannelAudience,
    alert_policy,
    default_alert,
    mentions,
    route,
)
from bot.slack.commands.parse import USAGE, Command, Usage, parse


@pytest.mark.parametrize(("text", "expected"), [
    ("follow https://example.com/feed.xml", Command("follow", "https://example.com/feed.xml")),
    ("follow <https://example.com/feed.xml>", Command("follow", "https://example.com/feed.xml")),
    ("follow <https://example.com/feed.xml|example.com/feed.xml>", Command("follow", "https://example.com/feed.xml")),
    ("FOLLOW greenhouse:acme", Command("follow", "greenhouse:acme")),
    ("watch  Kestrel Commerce ", Command("watch", "Kestrel Commerce")),
    ("list", Command("list")),
    ("mute", Command("mute")),
    ("mute Kestrel", Command("mute", "Kestrel")),
    ("digest daily 09:00", Command("digest", "daily 09:00")),
    ("ask what is Kestrel hiring for?", Command("ask", "what is Kestrel hiring for?")),
    # Slack escapes &, < and > in a command's text, a pasted URL's included: read as typed.
    ("mute AT&amp;T &lt;Labs&gt;", Command("mute", "AT&T <Labs>")),
    ("follow <https://example.com/feed?a=1&amp;b=2>", Command("follow", "https://example.com/feed?a=1&b=2")),
    ("watch &amp;amp;", Command("watch", "&amp;")),
])
def test_subcommands_parse(text: str, expected: Command) -> None:
    assert parse(text) == expected


def test_wrong_usage_gets_that_subcommands_usage_and_unknown_gets_help() -> None:
    assert parse("follow") == Usage("Usage: " + USAGE["follow"])
    assert parse("list everything") == Usage("Usage: " + USAGE["list"])
    unknown = parse("frobnicate now")
    assert isinstance(unknown, Usage) and "don't know `frobnicate`" in unknown.text and USAGE["watch"] in unknown.text
    empty = parse("   ")
    assert isinstance(empty, Usage) and all(line in empty.text for line in USAGE.values())
    hostile = parse("<!channel> hi")
    assert isinstance(hostile, Usage) and "<!channel>" not in hostile.text


def test_digest_schedules_parse_and_say_what_is_wrong() -> None:
    assert parse_schedule("daily 9:05") == (DigestSchedule("daily", 9, 5), None)
    assert parse_schedule("weekly Monday 17:30 Europe/Berlin") == (DigestSchedule("weekly", 17, 30, 0),
                                                                   "Europe/Berlin")
    assert parse_schedule("off") == (DigestSchedule("off"), None)
    for bad, says in [("daily 25:00", "not a time"), ("weekly someday 09:00", "not a day"),
                      ("daily 09:00 Mars/Olympus", "not a time zone"), ("hourly", "say daily")]:
        with pytest.raises(ScheduleError, match=says):
            parse_schedule(bad)


def test_next_digest_is_the_next_wall_clock_time_in_the_workspace_zone() -> None:
    after = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday; 13:00 in Berlin
    assert next_digest_at(DigestSchedule("daily", 9, 0), "Europe/Berlin", after) == datetime(2026, 11, 26, 8, 0,
                                                                                       tzinfo=UTC)
    assert next_digest_at(DigestSchedule("daily", 14, 0), "Europe/Berlin", after) == datetime(2026, 11, 25, 13, 0,
                                                                                        tzinfo=UTC)
    assert next_digest_at(DigestSchedule("weekly", 9, 0, 0), "America/New_York", after) == datetime(
        2026, 11, 30, 14, 0, tzinfo=UTC)
    assert next_digest_at(DigestSchedule("off"), "UTC", after) is None
    # Across the spring-forward night the wall time holds: 09:00 Berlin is 08:00 UTC before, 07:00 after.
    assert next_digest_at(DigestSchedule("daily", 9, 0), "Europe/Berlin", datetime(2026, 3, 29, 0, 0, tzinfo=UTC)) == \
        datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


def test_a_watched_term_matches_whole_words_only() -> None:
    assert mentions("kestrel", "Kestrel Commerce hires in Seattle")
    assert mentions("kestrel commerce", "KESTREL\n  COMMERCE opens a warehouse")
    assert not mentions("kestrel", "kestrels nest")
    assert not mentions("ai", "Airbus")
    assert not mentions("", "anything")
    assert mentions("c++", "hiring C++ engineers")


def test_routing_follows_watches_mutes_and_pauses() -> None:
    facts = BriefFacts(source_ids=frozenset({1, 2}), text="Kestrel Commerce hires 40 in Seattle",
                       companies=frozenset({"kestrel commerce"}), outlets=2)
    audiences = [
        ChannelAudience("C_FOLLOW", frozenset({2})),
        ChannelAudience("C_WATCH", frozenset({9}), watch_terms=("kestrel",)),
        ChannelAudience("C_OTHER", frozenset({9}), watch_terms=("orchard",)),
        ChannelAudience("C_MUTED", frozenset({1}), muted=True),
        ChannelAudience("C_COMPANY", frozenset({1}), muted_companies=frozenset({"kestrel commerce"})),
        ChannelAudience("C_PAUSED", frozenset({1}), paused=True),
    ]
    routes = {r.channel_id: r for r in route(facts, audiences)}
    assert set(routes) == {"C_FOLLOW", "C_WATCH", "C_MUTED", "C_COMPANY", "C_PAUSED"}
    assert (routes["C_FOLLOW"].status, routes["C_FOLLOW"].reason) == ("pending", "follows")
    assert routes["C_WATCH"].reason == "watches kestrel"
    assert (routes["C_MUTED"].status, routes["C_MUTED"].held) == ("held", "muted")
    assert (routes["C_COMPANY"].status, routes["C_COMPANY"].held) == ("held", "company")
    assert routes["C_PAUSED"].status == "paused"


def test_each_follow_has_an_alert_policy_and_watches_keep_the_two_outlet_rule() -> None:
    """One outlet's story: a channel that follows its feed (every) gets an alert, one that chose `stories` gets
    nothing, one that chose `digest` holds it for the digest, a watch gets nothing; once two outlets carry
    it everyone does. A channel that follows it through two sources takes the more eager policy."""
    lone = BriefFacts(source_ids=frozenset({1, 2}), text="Kestrel leases Kent warehouse", companies=frozenset(),
                      outlets=1)
    audiences = [
        ChannelAudience("C_EVERY", frozenset({1}), policies={1: EVERY}),
        ChannelAudience("C_STORIES", frozenset({1}), policies={1: STORIES}),
        ChannelAudience("C_DIGEST", frozenset({1}), policies={1: DIGEST}),
        ChannelAudience("C_BOTH", frozenset({1, 2}), policies={1: STORIES, 2: DIGEST}),
        ChannelAudience("C_WATCH", frozenset({9}), watch_terms=("kestrel",)),
    ]
    routes = {r.channel_id: r for r in route(lone, audiences)}
    assert set(routes) == {"C_EVERY", "C_DIGEST", "C_BOTH"}
    assert (routes["C_EVERY"].status, routes["C_EVERY"].source_id) == ("pending", 1)
    assert (routes["C_DIGEST"].status, routes["C_DIGEST"].held) == ("held", "digest")
    assert (routes["C_BOTH"].held, routes["C_BOTH"].source_id) == ("digest", 2)
    wide = BriefFacts(source_ids=frozenset({1}), text="Kestrel leases Kent warehouse", companies=frozenset(),
                      outlets=2)
    routes = {r.channel_id: r for r in route(wide, audiences)}
    assert set(routes) == {"C_EVERY", "C_STORIES", "C_DIGEST", "C_BOTH", "C_WATCH"}
    assert routes["C_STORIES"].status == routes["C_WATCH"].status == "pending"
    assert [default_alert(k) for k in ("news", "feed", "greenhouse")] == [STORIES, EVERY, EVERY]
    assert alert_policy(None, "news") == STORIES and alert_policy("digest", "news") == DIGEST
    assert alert_policy("bogus", "feed") == EVERY
