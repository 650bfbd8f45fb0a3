"""A follow's alert policy end to end, on real databases and the recording Slack Web API: a feed a channel
follows is heard story by story (one outlet's story too), a `stories` follow and a watch wait for a second
outlet, a `digest` follow holds its stories, an alert grows in its thread as outlets join, and a flood from one
source becomes a few alerts and one "and N more" message."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
from sqlmodel import Session, select

from bot.slack.clients import SlackClients
from bot.sources.base import Entry
from bot.sources.item import normalise_entry
from bot.storage.channels import add_watch
from bot.storage.db import session_scope
from bot.storage.items import store_items
from bot.storage.models import Brief, Delivery, Feedback, Source, Subscription
from bot.storage.sources import subscribe
from bot.worker.outbox import OutboxLoop
from tests.conftest import SLACK_SECRET, wait_for
from tests.history import source
from tests.slack_requests import action_body, sign

KENT = "Kestrel Commerce leases 600,000-square-foot fulfillment center in Kent"


def follow(ctx: Any, source_id: int, channel: str, alert: str | None = None) -> None:
    with session_scope(ctx.engine) as session:
        subscribe(session=session, team_id="T1", channel_id=channel, source_id=source_id, now=ctx.clock(),
                  alert=alert)


def report(ctx: Any, source_id: int, title: str, outlet: str, n: int) -> None:
    """One new (not backfill) item, stored as a poll stores it."""
    entry = Entry(external_id=f"{outlet}-{n}", url=f"https://{outlet.lower().replace(' ', '')}.example/{n}",
                  title=title, outlet=outlet, text=f"{title}. Details.",
                  published_at=ctx.clock() - timedelta(minutes=30))
    normalised = normalise_entry(entry, kind="news", default_outlet="", max_chars=1000, now=ctx.clock())
    assert normalised is not None
    with session_scope(ctx.engine) as session:
        row = session.get(Source, source_id)
        assert row is not None
        store_items(session=session, source=row, items=[normalised], now=ctx.clock(), backfill=False)


def deliver(ctx: Any) -> None:
    ctx.analyse()
    OutboxLoop(ctx, clients=SlackClients(ctx.settings, ctx.engine)).tick()


def held(ctx: Any) -> dict[str, str | None]:
    with Session(ctx.engine) as session:
        return {d.channel_id: d.payload.get("held") for d in session.exec(select(Delivery)) if d.status == "held"}


def test_a_followed_feeds_own_story_reaches_its_channel_once(slack_ctx: Any, slack: Any, clock: Any) -> None:
    ledger = source(slack_ctx.engine, "T1", "https://ledger.example/feed", clock())
    wire = source(slack_ctx.engine, "T1", "https://wire.example/feed", clock())
    follow(slack_ctx, ledger, "C_EVERY")  # a feed followed on purpose: every story, by default
    follow(slack_ctx, ledger, "C_STORIES", "stories")
    follow(slack_ctx, ledger, "C_DIGEST", "digest")
    with session_scope(slack_ctx.engine) as session:
        add_watch(session=session, team_id="T1", channel_id="C_WATCH", term="Kestrel", source_id=None, now=clock())
    report(slack_ctx, ledger, KENT, "The Harbor Ledger", 1)
    deliver(slack_ctx)
    [alert] = slack.messages("C_EVERY")
    assert "Kestrel Commerce leases" in alert["text"]
    assert slack.messages("C_STORIES") == slack.messages("C_WATCH") == slack.messages("C_DIGEST") == []
    assert held(slack_ctx) == {"C_DIGEST": "digest"}
    deliver(slack_ctx)
    assert len(slack.messages("C_EVERY")) == 1 and slack.replies("C_EVERY", alert["ts"]) == []  # never twice

    clock.now += timedelta(hours=1)  # a second outlet reports it: the alert grows in its thread
    report(slack_ctx, wire, KENT, "Metro Wire", 2)
    deliver(slack_ctx)
    assert len(slack.messages("C_EVERY")) == 1 and len(slack.replies("C_EVERY", alert["ts"])) == 1
    assert len(slack.messages("C_STORIES")) == len(slack.messages("C_WATCH")) == 1  # now news enough for them
    assert slack.messages("C_DIGEST") == []


def test_a_flood_from_one_source_is_a_few_alerts_and_one_more_message(
        slack_ctx: Any, slack: Any, clock: Any) -> None:
    feed = source(slack_ctx.engine, "T1", "https://busy.example/feed", clock())
    follow(slack_ctx, feed, "C1")
    topics = ["Port of Tacoma adds crane", "Snow closes Stevens Pass", "Ferry fares rise in spring",
              "Boeing opens Everett lab", "Seattle council passes budget", "Spokane airport expands parking",
              "Olympia bakery wins award", "Yakima hops harvest record"]
    for n, title in enumerate(topics):
        report(slack_ctx, feed, title, "Busy Wire", n)
    deliver(slack_ctx)
    messages = slack.messages("C1")
    alerts = [m for m in messages if "more stories from" not in m["text"]]
    [more] = [m for m in messages if "more stories from" in m["text"]]
    assert len(alerts) == slack_ctx.settings.briefbot_alerts_per_source == 5
    assert more["text"].startswith("…and 3 more stories from")
    assert sum(topic in json.dumps(more["blocks"]) for topic in topics) == 3
    with Session(slack_ctx.engine) as session:  # and they wait in the digest
        assert [d.payload.get("held") for d in session.exec(select(Delivery)) if d.status == "held"] == ["flood"] * 3
    deliver(slack_ctx)
    assert len(slack.messages("C1")) == 6  # nothing twice
    assert slack.block_errors == []


def press(web: str, slack: Any, action_id: str, value: str, name: str, **fields: Any) -> dict[str, Any]:
    """A button pressed in Slack; the ephemeral reply posted to its response_url."""
    body = action_body(action_id, value, response_url=slack.hook_url(name), **fields)
    response = httpx.post(web + "/slack/events", content=body, headers=sign(SLACK_SECRET, body), timeout=10)
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = wait_for(lambda: slack.hooks(name), timeout=10)[-1]
    return reply


def test_less_like_this_offers_a_channels_own_choices_and_sticks(
        slack_ctx: Any, slack: Any, web: str, clock: Any) -> None:
    """👎 on a followed feed's alert records the feedback and offers: mute the company, hear the feed in the
    digest only, or only for wider stories. A choice changes this channel's follow (shown by /brief list); a
    press from another workspace changes nothing; 👍 is recorded too."""
    ledger = source(slack_ctx.engine, "T1", "https://ledger.example/feed", clock())
    follow(slack_ctx, ledger, "C1")
    report(slack_ctx, ledger, KENT, "The Harbor Ledger", 1)
    slack_ctx.analyse()
    with Session(slack_ctx.engine) as session:
        brief = session.exec(select(Brief)).one()
    offer = press(web, slack, "brief_not_useful", str(brief.id), "less")
    assert offer["text"] == "Thanks: noted that this alert wasn't useful."
    buttons = [b for block in offer["blocks"] if block["type"] == "actions" for b in block["elements"]]
    assert [b["action_id"] for b in buttons] == ["brief_mute_company", f"less_source_digest:{ledger}",
                                                 f"less_source_stories:{ledger}"]
    assert buttons[1]["value"] == f"{brief.id}:{ledger}"
    elsewhere = press(web, slack, f"less_source_digest:{ledger}", f"{brief.id}:{ledger}", "t2", team_id="T2")
    assert elsewhere["text"] == "This channel doesn't follow that source any more; `/brief list` shows what it follows."
    chosen = press(web, slack, f"less_source_digest:{ledger}", f"{brief.id}:{ledger}", "digest")
    assert chosen["text"].startswith("From now on this channel hears *") and "* in the digest only." in chosen["text"]
    with Session(slack_ctx.engine) as session:
        assert session.exec(select(Subscription.alert)).one() == "digest"
    assert press(web, slack, "brief_useful", str(brief.id), "up")["text"] == "Thanks: noted that this alert was useful."
    with Session(slack_ctx.engine) as session:
        assert sorted(f.value for f in session.exec(select(Feedback))) == ["not_useful", "useful"]
