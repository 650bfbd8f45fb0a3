"""The real Bolt app (briefbot serve's ASGI app on uvicorn) receiving signed requests the way Slack sends them,
with its WebClient on the recording fake Web API (tests/slack_server.py): /brief subcommands, events and buttons,
checked through the ack, the replies posted to response_urls, what reached the fake Slack, and the database.

Bolt acks a command at once and runs the rest on a listener thread, so replies and database changes are awaited
with `wait_for`. Each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import itertools
import re
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from bot.demo.server import LocalServer, Route
from bot.settings import Settings
from bot.slack.commands.parse import USAGE
from bot.storage.models import Brief, Channel, Feedback, Mute, Signal, Source, Subscription, Watch, Workspace
from bot.storage.sources import ensure_workspace
from tests.conftest import NOW, SLACK_SECRET, make_settings, wait_for
from tests.feeds import numbered, rss
from tests.slack_requests import BOT_USER_ID, action_body, command_body, event, event_body, sign
from tests.slack_server import SlackServer

ACK_LIMIT = 3.0  # Slack shows the user an error when a command or button is not acked within 3 s
QUIET = 0.3  # how long to let listener threads run before asserting that something did *not* happen
ACK_SECONDS: list[float] = []  # every command ack timed in this module
FEED_TITLE = "Kestrel Wire"
NEWS_SEARCH = "http://127.0.0.1:9/news/search.xml?q={query}"
_hook_names = itertools.count(1)

PostCommand = Callable[..., tuple[dict[str, Any], str | None]]
PostEvent = Callable[..., httpx.Response]
PostAction = Callable[..., str]


# ---- helpers ------------------------------------------------------------------------------------------------------


@pytest.fixture
def slack_settings(db_url: str, slack: SlackServer) -> Settings:
    """conftest's Slack settings, with news searches on a local address (`watch` stores the search without
    fetching it): nothing touches the internet."""
    return make_settings(db_url, slack_bot_token="xoxb-test", slack_signing_secret=SLACK_SECRET,
                         slack_api_url=slack.api_url, briefbot_channel_post_interval=0.0, briefbot_slack_timeout=2.0,
                         briefbot_news_search_url=NEWS_SEARCH)


@pytest.fixture
def feed_url(server: LocalServer) -> str:
    server.route("/feed.xml", Route(body=rss(numbered(3), title=FEED_TITLE)))
    return server.url("/feed.xml")


def defused(url: str) -> str:
    """A URL as feed-facing text shows it: a word joiner after the scheme, so Slack doesn't link it."""
    return url.replace("://", "\u2060://", 1)


def post(web: str, body: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(web + "/slack/events", content=body, headers=headers, timeout=10)


@pytest.fixture
def post_command(web: str, slack: SlackServer) -> PostCommand:
    """`ack, reply = post_command("list", team_id="T2")`: the ack's JSON (checked to come within ACK_LIMIT) and,
    unless `reply=False` (answers given in the ack itself), the text the listener posted to the response_url."""

    def run(text: str, *, reply: bool = True, **fields: Any) -> tuple[dict[str, Any], str | None]:
        name = f"cmd{next(_hook_names)}"
        body = command_body(text, response_url=slack.hook_url(name), **fields)
        started = time.monotonic()
        response = post(web, body, sign(SLACK_SECRET, body))
        elapsed = time.monotonic() - started
        ACK_SECONDS.append(elapsed)
        assert response.status_code == 200, response.text
        assert elapsed < ACK_LIMIT, f"/brief {text}: acked after {elapsed:.2f}s"
        ack = response.json()
        assert ack["response_type"] == "ephemeral"
        if not reply:
            return ack, None
        hook = wait_for(lambda: slack.hooks(name), timeout=10)[-1]
        assert hook["replace_original"] is True  # the reply replaces the "working" line
        return ack, hook["text"]

    return run


@pytest.fixture
def post_event(web: str) -> PostEvent:
    """`post_event(event("channel_left"), team_id="T1", headers={...})`: the HTTP response (200 once signed)."""

    def run(inner: dict[str, Any], *, headers: dict[str, str] | None = None, body: str | None = None,
            **envelope: Any) -> httpx.Response:
        body = body or event_body(inner, **envelope)
        response = post(web, body, {**sign(SLACK_SECRET, body), **(headers or {})})
        assert response.status_code == 200, response.text
        return response

    return run


@pytest.fixture
def post_action(web: str, slack: SlackServer) -> PostAction:
    """`post_action("brief_not_useful", "12", team_id="T2")`: the ephemeral reply posted to the response_url."""

    def run(action_id: str, value: str, **fields: Any) -> str:
        name = f"act{next(_hook_names)}"
        body = action_body(action_id, value, response_url=slack.hook_url(name), **fields)
        started = time.monotonic()
        response = post(web, body, sign(SLACK_SECRET, body))
        assert response.status_code == 200, response.text
        assert time.monotonic() - started < ACK_LIMIT
        return str(wait_for(lambda: slack.hooks(name), timeout=10)[-1]["text"])

    return run


def rows(engine: Engine, model: type[SQLModel]) -> list[Any]:
    with Session(engine) as session:
        return list(session.exec(select(model)))


def one(engine: Engine, model: type[SQLModel]) -> Any:
    found = rows(engine, model)
    assert len(found) == 1, f"{len(found)} {model.__name__} rows"
    return found[0]


def make_brief(*, team_id: str, subject_id: int, subject: str = "story", entities: list[str] | None = None) -> Brief:
    return Brief(team_id=team_id, subject=subject, subject_id=subject_id, subject_version=1, item_count=2,
                 outlet_count=2, headline="Kestrel Commerce opens a Reno warehouse", summary="It opens in May.",
                 why_it_matters="A new fulfilment hub.", entities=entities or [], event_type="expansion",
                 sources=[], writer="builtin", input_hash=f"h{team_id}{subject}{subject_id}", created_at=NOW)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---- signatures and the 3-second ack ------------------------------------------------------------------------------


def test_unsigned_forged_and_stale_requests_are_refused_and_run_nothing(
        web: str, slack: SlackServer, slack_ctx: Any, post_command: PostCommand) -> None:
    refused = {}
    for case in ("bad signature", "no signature", "10 minutes old"):
        body = command_body("mute", response_url=slack.hook_url(case.replace(" ", "-")))
        headers = sign(SLACK_SECRET, body)
        if case == "bad signature":
            headers = sign("not-the-signing-secret", body)
        elif case == "no signature":
            del headers["X-Slack-Signature"]
        else:
            headers = sign(SLACK_SECRET, body, timestamp=int(time.time()) - 600)
        refused[case] = post(web, body, headers).status_code
    assert refused == {"bad signature": 401, "no signature": 401, "10 minutes old": 401}
    time.sleep(QUIET)
    assert slack.hooks() == []
    assert rows(slack_ctx.engine, Channel) == [] and rows(slack_ctx.engine, Workspace) == []

    ack, reply = post_command("mute")  # the same command, signed: runs
    assert ack["text"] == "Muting…"
    assert reply is not None and reply.startswith("Alerts are muted in this channel")
    assert one(slack_ctx.engine, Channel).muted is True
    assert len(slack.hooks()) == 1 and not any(slack.hooks(case.replace(" ", "-")) for case in refused)


@pytest.mark.slow  # waits on purpose (a deadline, a drip, Retry-After or a quiet period)
def test_every_subcommand_is_acked_within_three_seconds_even_when_its_work_is_slow(
        slack: SlackServer, server: LocalServer, post_command: PostCommand) -> None:
    server.route("/slow.xml", Route(body=rss(numbered(2), title="Slow Wire"), delay=1.0))
    timed: dict[str, float] = {}
    texts = ["help", "", "follow " + server.url("/slow.xml"), "list", "status", "watch Kestrel Commerce",
             "unwatch Kestrel Commerce", "digest daily 09:00", "mute", "unmute", "mute Kestrel", "unmute Kestrel",
             "unfollow 1", "ask what is new?", "frobnicate"]
    for text in texts:
        instant = text.split(" ")[0] in ("help", "", "ask", "frobnicate")
        before = len(ACK_SECONDS)
        ack, reply = post_command(text, reply=not instant)
        timed[text or "(empty)"] = ACK_SECONDS[before]
        assert ack["text"]
        if text.startswith("follow"):
            assert ack["text"].startswith("Looking at")
            assert reply is not None and reply.startswith("Following *Slow Wire*")
    assert max(timed.values()) < ACK_LIMIT, timed
    # The slow feed answered after 1 s, yet its command was acked long before: the ack never waits for the work.
    assert timed["follow " + server.url("/slow.xml")] < 1.0, timed


# ---- /brief subcommands -------------------------------------------------------------------------------------------


def test_help_empty_unknown_and_wrong_usage_are_answered_in_the_ack(
        slack: SlackServer, post_command: PostCommand) -> None:
    for text in ("help", "", "frobnicate now"):
        ack, _ = post_command(text, reply=False)
        assert all(line in ack["text"] for line in USAGE.values()), text
    assert post_command("frobnicate now", reply=False)[0]["text"].startswith("I don't know `frobnicate`")
    assert post_command("follow", reply=False)[0]["text"] == "Usage: " + USAGE["follow"]
    assert post_command("list extra", reply=False)[0]["text"] == "Usage: " + USAGE["list"]
    assert post_command("digest", reply=False)[0]["text"] == "Usage: " + USAGE["digest"]
    time.sleep(QUIET)
    assert slack.hooks() == []  # nothing ran after the ack


def test_follow_list_and_unfollow(slack_ctx: Any, feed_url: str, post_command: PostCommand) -> None:
    engine = slack_ctx.engine
    ack, reply = post_command(f"follow <{feed_url}>")  # Slack wraps a pasted URL in <…>
    assert ack["text"] == f"Looking at `{defused(feed_url)}`…"
    assert reply is not None and reply.startswith(f"Following *{FEED_TITLE}* here (RSS/Atom feed)")
    source = one(engine, Source)
    assert (source.team_id, source.kind, source.locator, source.removed_at) == ("T1", "feed", feed_url, None)
    sub = one(engine, Subscription)
    assert (sub.team_id, sub.channel_id, sub.source_id, sub.paused) == ("T1", "C1", source.id, False)

    assert post_command(f"follow {feed_url}")[1] == (f"This channel already follows *{FEED_TITLE}* (it hears about "
                                                     "each new story from it).")
    assert len(rows(engine, Subscription)) == 1
    assert post_command(f"follow <{feed_url}> DIGEST")[1] == (
        f"This channel already follows *{FEED_TITLE}*; from now on it hears about its stories in the digest only.")
    assert (len(rows(engine, Subscription)), one(engine, Subscription).alert) == (1, "digest")

    _, listing = post_command("list")
    assert listing is not None
    assert re.search(rf"^\*Follows\*\n1\. 🆕 {FEED_TITLE} · feed · new · alerts: digest$", listing, re.M), listing
    assert "*Digest:* off" in listing

    assert post_command("unfollow 2")[1] == "This channel doesn't follow `2`. `/brief list` shows what it follows."
    _, reply = post_command("unfollow 1")
    assert reply is not None and reply.startswith(f"Stopped following *{FEED_TITLE}* here.")
    assert rows(engine, Subscription) == []
    assert one(engine, Source).removed_at == NOW  # nobody follows it any more: no longer polled
    assert "follows nothing yet" in str(post_command("list")[1])


def test_follow_of_a_bad_url_says_why_and_stores_nothing(
        slack_ctx: Any, server: LocalServer, post_command: PostCommand) -> None:
    server.route("/page.html", Route(body=b"<html><body>No feed here</body></html>", content_type="text/html"))
    for spec, why in [(server.url("/missing.xml"), "could not fetch"),
                      (f"http://127.0.0.1:{closed_port()}/feed.xml", "could not fetch"),
                      (server.url("/page.html"), "no feed link"),
                      ("just some words", "neither a URL nor kind:identifier")]:
        _, reply = post_command(f"follow {spec}")
        assert reply is not None and reply.startswith(f"Couldn't follow `{defused(spec)}`: "), reply
        assert why in reply and reply.endswith("Usage: " + USAGE["follow"]), reply
    assert rows(slack_ctx.engine, Source) == [] and rows(slack_ctx.engine, Subscription) == []


def test_unfollow_keeps_polling_a_source_another_channel_follows(
        slack_ctx: Any, feed_url: str, post_command: PostCommand) -> None:
    engine = slack_ctx.engine
    post_command(f"follow {feed_url}", channel_id="C1")
    _, reply = post_command(f"follow {feed_url}", channel_id="C2")
    assert reply is not None and reply.startswith(f"Following *{FEED_TITLE}*")  # new to C2
    assert len(rows(engine, Source)) == 1 and len(rows(engine, Subscription)) == 2

    post_command("unfollow 1", channel_id="C1")
    assert one(engine, Source).removed_at is None  # C2 still follows it
    assert [s.channel_id for s in rows(engine, Subscription)] == ["C2"]

    _, reply = post_command(f"unfollow {FEED_TITLE}", channel_id="C2")  # by title this time
    assert reply is not None and reply.startswith("Stopped following")
    assert one(engine, Source).removed_at == NOW and rows(engine, Subscription) == []


def test_watch_adds_a_news_search_and_unwatch_removes_both(slack_ctx: Any, post_command: PostCommand) -> None:
    engine = slack_ctx.engine
    ack, reply = post_command("watch Kestrel Commerce")
    assert ack["text"] == "Setting up a watch on `Kestrel Commerce`…"
    assert reply == ("Watching *Kestrel Commerce*: any brief that mentions it comes to this channel and follows a "
                     "news search for it.")
    source = one(engine, Source)
    assert source.kind == "news" and source.spec == 'news:"Kestrel Commerce"'
    assert source.locator == NEWS_SEARCH.replace("{query}", "Kestrel+Commerce")
    watch = one(engine, Watch)
    assert (watch.team_id, watch.channel_id, watch.term, watch.source_id) == ("T1", "C1", "Kestrel Commerce",
                                                                              source.id)
    sub = one(engine, Subscription)
    assert (sub.team_id, sub.channel_id, sub.source_id) == ("T1", "C1", source.id)
    assert "*Watches:* Kestrel Commerce" in str(post_command("list")[1])
    assert post_command("watch Kestrel Commerce")[1] == "This channel already watches *Kestrel Commerce*."
    assert len(rows(engine, Source)) == 1 and len(rows(engine, Subscription)) == 1

    assert post_command("unwatch kestrel commerce")[1] == "Stopped watching *Kestrel Commerce* here."
    assert rows(engine, Watch) == [] and rows(engine, Subscription) == []
    assert one(engine, Source).removed_at == NOW
    assert str(post_command("unwatch kestrel commerce")[1]).startswith("This channel doesn't watch")


def test_watching_a_term_again_in_other_words_adds_no_second_news_search(
        slack_ctx: Any, post_command: PostCommand) -> None:
    """Watches match case-insensitively, so `watch kestrel commerce` after `watch Kestrel Commerce` is the same
    watch: it must not leave the channel following a second search that `unwatch` can never remove."""
    engine = slack_ctx.engine
    post_command("watch Kestrel Commerce")
    assert post_command("watch kestrel  commerce")[1] == "This channel already watches *kestrel commerce*."
    post_command("unwatch kestrel commerce")
    assert rows(engine, Watch) == []
    assert rows(engine, Subscription) == [], "the channel still follows a news search nobody watches"


def test_digest_schedules_in_the_workspace_time_zone(
        slack: SlackServer, slack_ctx: Any, post_command: PostCommand) -> None:
    engine = slack_ctx.engine
    la = ZoneInfo(slack.default_tz)  # what users.info says for U1: America/Los_Angeles
    local_day = NOW.astimezone(la).date()
    nine = datetime(local_day.year, local_day.month, local_day.day, 9, 0, tzinfo=la)
    if nine <= NOW:
        nine += timedelta(days=1)
    expected = nine.astimezone(UTC)
    assert expected.hour in (16, 17)  # 09:00 in Los Angeles, PDT or PST

    ack, reply = post_command("digest daily 09:00")
    assert ack["text"] == "Setting the digest…"
    assert reply is not None and reply.startswith("Digest daily at 09:00 (America/Los_Angeles); the first is due "
                                                  f"{nine:%a %d %b %H:%M}.")
    assert [call.params.get("user") for call in slack.calls("users.info")] == ["U1"]
    assert one(engine, Workspace).timezone == "America/Los_Angeles"
    channel = one(engine, Channel)
    assert (channel.team_id, channel.channel_id, channel.digest, channel.digest_time) == ("T1", "C1", "daily", "09:00")
    assert channel.next_digest_at == expected

    _, reply = post_command("digest weekly fri 08:30 Europe/Berlin")
    berlin = datetime(2026, 11, 27, 8, 30, tzinfo=ZoneInfo("Europe/Berlin"))  # the Friday after Wed 25 Nov
    assert reply is not None and reply.startswith("Digest weekly on Fri at 08:30 (Europe/Berlin); the first is due "
                                                  "Fri 27 Nov 08:30.")
    assert one(engine, Workspace).timezone == "Europe/Berlin"
    channel = one(engine, Channel)
    assert (channel.digest, channel.digest_day, channel.digest_time) == ("weekly", 4, "08:30")
    assert channel.next_digest_at == berlin.astimezone(UTC)
    assert "*Digest:* weekly on Fri at 08:30" in str(post_command("list")[1])

    _, reply = post_command("digest sometimes")
    assert reply == "say daily HH:MM, weekly DAY HH:MM or off.\nUsage: " + USAGE["digest"]
    assert one(engine, Channel).digest == "weekly"  # unchanged

    assert post_command("digest off")[1] == "Digests are off for this channel."
    channel = one(engine, Channel)
    assert (channel.digest, channel.digest_time, channel.next_digest_at) == ("off", None, None)


def test_mute_unmute_status_and_ask(slack_ctx: Any, feed_url: str, post_command: PostCommand) -> None:
    engine = slack_ctx.engine
    assert str(post_command("mute")[1]).startswith("Alerts are muted in this channel")
    assert one(engine, Channel).muted is True
    assert "*Muted:* alerts are held" in str(post_command("list")[1])
    assert post_command("unmute")[1] == "Alerts are on again in this channel."
    assert one(engine, Channel).muted is False

    assert post_command("mute Kestrel")[1] == "Muted *Kestrel* here."
    assert post_command("mute kestrel")[1] == "*kestrel* was already muted here."
    mute = one(engine, Mute)
    assert (mute.team_id, mute.channel_id, mute.company, mute.company_key, mute.user_id) == (
        "T1", "C1", "Kestrel", "kestrel", "U1")
    assert one(engine, Channel).muted is False  # a company mute leaves the channel's alerts on

    post_command(f"follow {feed_url}")
    post_command("digest daily 09:00")
    _, status = post_command("status")
    assert status is not None
    assert "*Sources:* 1 followed, 0 with errors · *Items stored:* 0" in status
    assert "*Briefs in the last 24 h:* 0 · *Digests scheduled:* 1 (time zone America/Los_Angeles)" in status
    assert "*Alerts:* 0 delivered, 0 waiting, 0 paused, 0 failed" in status
    assert status.endswith(f"*Writer:* {slack_ctx.writer_label()}")

    ack, answer = post_command("ask what is new with Osprey Airlines?")
    assert ack["text"] == "Looking through the stored history for: _what is new with Osprey Airlines?_"
    assert answer is not None and answer.startswith("I found nothing about that in the stored history")


def test_another_workspace_never_sees_or_changes_these_follows(
        slack_ctx: Any, feed_url: str, post_command: PostCommand) -> None:
    engine = slack_ctx.engine
    post_command(f"follow {feed_url}")
    with Session(engine) as session:
        ensure_workspace(session=session, team_id="T2", now=NOW)
        session.add(make_brief(team_id="T1", subject_id=1))
        session.commit()

    _, listing = post_command("list", team_id="T2")
    assert listing is not None and "follows nothing yet" in listing and FEED_TITLE not in listing
    _, status = post_command("status", team_id="T2")
    assert status is not None and "*Sources:* 0 followed" in status and "*Briefs in the last 24 h:* 0" in status
    assert "*Briefs in the last 24 h:* 1" in str(post_command("status")[1])  # T1's own brief counts for T1

    assert post_command("unfollow 1", team_id="T2")[1] == (
        "This channel doesn't follow `1`. `/brief list` shows what it follows.")
    assert str(post_command(f"unfollow {feed_url}", team_id="T2")[1]).startswith("This channel doesn't follow")
    sub = one(engine, Subscription)
    assert (sub.team_id, sub.channel_id) == ("T1", "C1")
    assert one(engine, Source).removed_at is None


# ---- events -------------------------------------------------------------------------------------------------------


def test_app_home_lists_the_channels_follows(
        slack: SlackServer, feed_url: str, post_command: PostCommand, post_event: PostEvent) -> None:
    post_command(f"follow {feed_url}")
    post_event(event("app_home_opened", user="U7"))
    view = wait_for(lambda: slack.home("U7"))
    assert view["type"] == "home"
    text = str(view["blocks"])
    assert "<#C1>" in text and FEED_TITLE in text
    assert slack.block_errors == []

    post_event(event("app_home_opened", user="U8", tab="messages"))  # the Messages tab: no Home view
    time.sleep(QUIET)
    assert slack.home("U8") is None and slack.count("views.publish") == 1


def test_a_workspace_whose_analysis_failed_in_part_says_why(
        slack_ctx: Any, slack: SlackServer, feed_url: str, post_command: PostCommand, post_event: PostEvent) -> None:
    """Issue 11: what one workspace's analysis could not do is shown to it, in /brief status and App Home."""
    from bot.storage.db import session_scope
    from bot.storage.health import record_analysis

    post_command(f"follow {feed_url}")
    with session_scope(slack_ctx.engine) as session:
        record_analysis(session=session, team_id="T1", now=NOW,
                        problems=["hiring signals for '<!channel> Co' failed: DataError: value too long"])
    _, status = post_command("status")
    assert status is not None and ("⚠️ *Analysis:* hiring signals for '&lt;!channel&gt; Co' failed: DataError: "
                                   "value too long (retried on every pass)") in status
    post_event(event("app_home_opened", user="U7"))
    view = wait_for(lambda: slack.home("U7"))
    assert "⚠️ *Analysis:* hiring signals for '&lt;!channel&gt; Co' failed" in str(view["blocks"])
    with session_scope(slack_ctx.engine) as session:
        record_analysis(session=session, team_id="T1", now=NOW, problems=[])
    assert "Analysis" not in str(post_command("status")[1])


def test_items_a_source_could_not_keep_are_shown_in_list_and_home(
        slack_ctx: Any, slack: SlackServer, feed_url: str, post_command: PostCommand, post_event: PostEvent) -> None:
    """Issue 11.7: a skipped or refused item is counted in its source's health, where the channel sees it."""
    from bot.storage.db import session_scope

    post_command(f"follow {feed_url}")
    with session_scope(slack_ctx.engine) as session:
        source = session.exec(select(Source)).one()
        source.last_notes = ("3 of 5 items have no date; their first-seen time stands in; skipped 1 of 5 items that "
                             "could not be read (#4: TypeError: a str, not an object)")
    listing = str(post_command("list")[1])
    assert "— skipped 1 of 5 items that could not be read (#4: TypeError: a str, not an object)" in listing
    assert "no date" not in listing  # the rest of the notes is for `briefbot sources list`
    post_event(event("app_home_opened", user="U7"))
    assert "skipped 1 of 5 items that could not be read" in str(wait_for(lambda: slack.home("U7"))["blocks"])


def test_leaving_and_archiving_pause_the_channel_and_rejoining_resumes_it(
        slack_ctx: Any, feed_url: str, post_command: PostCommand, post_event: PostEvent) -> None:
    engine = slack_ctx.engine
    post_command(f"follow {feed_url}")

    def state() -> tuple[str | None, bool]:
        return one(engine, Channel).paused_reason, one(engine, Subscription).paused

    post_event(event("channel_left"))
    wait_for(lambda: state() == ("not_in_channel", True))
    assert "*Paused:* the bot was removed" in str(post_command("list")[1])
    assert "1. ⏸️ Kestrel Wire · feed · paused" in str(post_command("list")[1])

    post_event(event("member_joined_channel", user="U2"))  # someone else joining changes nothing
    time.sleep(QUIET)
    assert state() == ("not_in_channel", True)

    post_event(event("member_joined_channel", user=BOT_USER_ID))
    wait_for(lambda: state() == (None, False))

    post_event(event("channel_archive"))
    wait_for(lambda: state() == ("is_archived", True))
    post_event(event("channel_unarchive"))
    wait_for(lambda: state() == (None, False))


def test_a_mention_is_answered_once_even_when_slack_retries_it(
        slack: SlackServer, post_event: PostEvent) -> None:
    mention = event("app_mention", text=f"<@{BOT_USER_ID}> what's new with Kestrel?")
    body = event_body(mention, event_id="Ev0RETRIED01")
    post_event(mention, body=body)
    replies = wait_for(lambda: slack.replies("C1", mention["ts"]))
    post_event(mention, body=body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    time.sleep(QUIET)
    texts = [r["text"] for r in slack.replies("C1", mention["ts"])]
    assert texts == [r["text"] for r in replies] and len(texts) == 1 and texts[0].startswith("I found nothing")
    assert slack.count("chat.postMessage") == 1


def test_a_direct_message_gets_one_reply_and_bot_posts_and_edits_none(
        slack: SlackServer, post_event: PostEvent) -> None:
    post_event(event("message.im", user="U2", bot_id="B0OTHER", text="from another bot"))
    post_event(event("message.im", user="U2", subtype="message_changed", text="an edit"))
    post_event(event("message.im", user="U2", channel_type="channel", channel="C1", text="channel chatter"))
    question = event("message.im", user="U2", text="hello briefbot")
    post_event(question)
    wait_for(lambda: slack.replies("D2", question["ts"]))
    time.sleep(QUIET)
    texts = [m["text"] for m in slack.replies("D2", question["ts"])]  # answered in the question's thread
    assert len(texts) == 1 and texts[0].startswith("I found nothing")
    assert slack.count("chat.postMessage") == 1


# ---- buttons ------------------------------------------------------------------------------------------------------


@pytest.fixture
def briefs(slack_ctx: Any) -> dict[str, int]:
    """A story brief and a signal brief in T1 (and an empty T2): their ids."""
    with Session(slack_ctx.engine) as session:
        for team in ("T1", "T2"):
            ensure_workspace(session=session, team_id=team, now=NOW)
        signal = Signal(team_id="T1", company="Acme Robotics", family="engineering", metro="Reno", reason="burst",
                        first_at=NOW, last_at=NOW, created_at=NOW, updated_at=NOW)
        session.add(signal)
        session.flush()
        story = make_brief(team_id="T1", subject_id=1, entities=["Kestrel Commerce", "Reno"])
        hiring = make_brief(team_id="T1", subject="signal", subject_id=signal.id or 0)
        session.add_all([story, hiring])
        session.commit()
        return {"story": story.id or 0, "signal": hiring.id or 0}


def test_not_useful_is_stored_once_however_often_it_is_pressed(
        slack_ctx: Any, briefs: dict[str, int], post_action: PostAction) -> None:
    for _ in range(2):
        assert post_action("brief_not_useful", str(briefs["story"])) == "Thanks: noted that this alert wasn't useful."
    feedback = one(slack_ctx.engine, Feedback)
    assert (feedback.team_id, feedback.channel_id, feedback.user_id, feedback.brief_id, feedback.value) == (
        "T1", "C1", "U1", briefs["story"], "not_useful")


def test_mute_company_mutes_the_briefs_company_in_the_clicked_channel(
        slack_ctx: Any, briefs: dict[str, int], post_action: PostAction) -> None:
    reply = post_action("brief_mute_company", str(briefs["story"]), channel_id="C3")
    assert reply == "Muted *Kestrel Commerce* in this channel. `/brief unmute Kestrel Commerce` undoes it."
    assert post_action("brief_mute_company", str(briefs["signal"]), channel_id="C3").startswith(
        "Muted *Acme Robotics*")
    mutes = rows(slack_ctx.engine, Mute)
    assert sorted((m.team_id, m.channel_id, m.company_key) for m in mutes) == [
        ("T1", "C3", "acme robotics"), ("T1", "C3", "kestrel commerce")]


def test_a_button_from_another_workspace_cannot_touch_a_brief(
        slack_ctx: Any, briefs: dict[str, int], post_action: PostAction) -> None:
    for action_id in ("brief_not_useful", "brief_mute_company"):
        reply = post_action(action_id, str(briefs["story"]), team_id="T2", user_id="U9")
        assert reply == "That alert is no longer known to briefbot."
    assert post_action("brief_not_useful", "999999") == "That alert is no longer known to briefbot."
    assert rows(slack_ctx.engine, Feedback) == [] and rows(slack_ctx.engine, Mute) == []
