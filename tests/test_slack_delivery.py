"""Alerts end to end on real databases and a recording Slack Web API: routing, paced delivery, growing
alerts updated in place, exactly once through 429 storms, 5xx, timeouts and crashes, paused channels,
digests, and feed text that arrives inert."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.core.digest import DigestSchedule
from bot.slack.clients import SlackClients
from bot.storage.channels import ensure_channel, pause_channel, resume_channel
from bot.storage.db import session_scope
from bot.storage.digests import set_schedule
from bot.storage.models import Channel, Delivery, Source, Subscription
from bot.storage.sources import subscribe
from bot.worker.outbox import OutboxLoop, route_and_schedule
from tests.test_signal_update import post, seed_seattle_hiring


def follow(ctx: Any, source: Source, *channels: str) -> None:
    with session_scope(ctx.engine) as session:
        for channel in channels:
            subscribe(session=session, team_id=source.team_id, channel_id=channel, source_id=source.id or 0,
                      now=ctx.clock())


def hiring_alert(ctx: Any, *channels: str) -> Source:
    """Kestrel's Seattle warehouse hiring, followed in `channels` and briefed (one signal brief)."""
    source = seed_seattle_hiring(ctx.engine, ctx.clock)
    follow(ctx, source, *channels)
    report = ctx.analyse()
    assert len(report.briefs) == 1, report
    return source


def outbox(ctx: Any) -> OutboxLoop:
    return OutboxLoop(ctx, clients=SlackClients(ctx.settings, ctx.engine))


def statuses(ctx: Any) -> list[tuple[str, str, str]]:
    with Session(ctx.engine) as session:
        rows = session.exec(select(Delivery).order_by(Delivery.id)).all()  # type: ignore[arg-type]
        return [(d.channel_id, d.kind, d.status) for d in rows]


def alerts_per_subject(slack: Any, channel: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for message in slack.messages(channel):
        key = message["blocks"][0]["block_id"] if message.get("blocks") else message["text"]
        counts[key] = counts.get(key, 0) + 1
    return counts


def test_a_followed_source_alerts_its_channels_once_each(slack_ctx: Any, slack: Any) -> None:
    hiring_alert(slack_ctx, "C1", "C2")
    report = outbox(slack_ctx).tick()
    assert (report.sent, report.failed) == (2, 0)
    for channel in ("C1", "C2"):
        [message] = slack.messages(channel)
        assert "Kestrel" in message["text"] and "Seattle" in json.dumps(message["blocks"])
        assert message["metadata"]["event_type"] == "briefbot_delivery"
    posted = slack.calls("chat.postMessage")
    assert all(c.params["unfurl_links"] is False and c.params["unfurl_media"] is False for c in posted)
    assert slack.block_errors == []
    assert outbox(slack_ctx).tick().sent == 0  # nothing twice
    assert len(slack.posts()) == 2


def test_a_growing_signal_updates_its_alert_and_replies_in_the_thread(slack_ctx: Any, slack: Any,
                                                                      clock: Any) -> None:
    source = hiring_alert(slack_ctx, "C1")
    loop = outbox(slack_ctx)
    loop.tick()
    [alert] = slack.messages("C1")
    clock.now += timedelta(hours=2)
    post(slack_ctx.engine, clock, source, ["Dock Lead", "Inventory Clerk", "Shipping Clerk"], "Tacoma")
    assert len(slack_ctx.analyse().briefs) == 1
    assert loop.tick().sent == 1
    assert len(slack.messages("C1")) == 1  # no new alert
    [update] = slack.calls("chat.update")
    assert update.params["ts"] == alert["ts"] and update.params["channel"] == "C1"
    [reply] = slack.replies("C1", alert["ts"])
    assert "3 more roles" in reply["text"]
    assert slack.block_errors == []


def test_a_429_storm_delivers_each_alert_exactly_once(slack_ctx: Any, slack: Any, clock: Any) -> None:
    hiring_alert(slack_ctx, "C1", "C2", "C3")
    slack.fail("chat.postMessage", status=429, retry_after=3, times=7)
    loop = outbox(slack_ctx)
    for _ in range(20):
        loop.tick()
        clock.now += timedelta(seconds=4)
        if all(slack.messages(c) for c in ("C1", "C2", "C3")):
            break
    assert [len(slack.messages(c)) for c in ("C1", "C2", "C3")] == [1, 1, 1]
    assert len(slack.calls("chat.postMessage")) == 10  # 7 refused, 3 posted
    assert {s for _, _, s in statuses(slack_ctx)} == {"sent"}


def test_retry_after_is_honoured(slack_ctx: Any, slack: Any, clock: Any) -> None:
    hiring_alert(slack_ctx, "C1")
    slack.fail("chat.postMessage", status=429, retry_after=30)
    loop = outbox(slack_ctx)
    assert loop.tick().retried == 1
    clock.now += timedelta(seconds=20)
    loop.tick()
    assert slack.messages("C1") == []  # too early
    clock.now += timedelta(seconds=11)
    assert loop.tick().sent == 1


def test_a_post_slack_made_but_answered_with_500_is_not_posted_again(slack_ctx: Any, slack: Any,
                                                                     clock: Any) -> None:
    hiring_alert(slack_ctx, "C1")
    slack.fail("chat.postMessage", status=500, commit=True)
    loop = outbox(slack_ctx)
    first = loop.tick()
    assert (first.sent, first.retried) == (0, 1)
    assert statuses(slack_ctx) == [("C1", "alert", "sending")]
    clock.now += timedelta(seconds=30)
    second = loop.tick()
    assert (second.sent, second.reconciled) == (1, 1)
    assert len(slack.messages("C1")) == 1 and len(slack.posts()) == 1


@pytest.mark.slow  # waits on purpose (a deadline, a drip, Retry-After or a quiet period)
def test_a_post_that_timed_out_is_checked_before_it_is_retried(slack_ctx: Any, slack: Any, clock: Any) -> None:
    hiring_alert(slack_ctx, "C1")
    slack.fail("chat.postMessage", delay=2.5, commit=True)  # past BRIEFBOT_SLACK_TIMEOUT (2 s in tests)
    loop = outbox(slack_ctx)
    assert loop.tick().retried == 1
    clock.now += timedelta(seconds=30)
    assert loop.tick().reconciled == 1
    assert len(slack.messages("C1")) == 1


def test_a_500_that_did_not_post_is_posted_after_the_check(slack_ctx: Any, slack: Any, clock: Any) -> None:
    hiring_alert(slack_ctx, "C1")
    slack.fail("chat.postMessage", status=503)
    loop = outbox(slack_ctx)
    loop.tick()
    clock.now += timedelta(seconds=30)
    report = loop.tick()
    assert (report.sent, report.reconciled) == (1, 0)
    assert len(slack.messages("C1")) == 1
    assert slack.count("conversations.history") == 1


def test_a_worker_killed_after_posting_leaves_a_lease_that_expires_and_no_duplicate(slack_ctx: Any, slack: Any,
                                                                                   clock: Any) -> None:
    hiring_alert(slack_ctx, "C1")
    route_and_schedule(slack_ctx)
    with session_scope(slack_ctx.engine) as session:
        delivery = session.exec(select(Delivery)).one()
        # What a worker killed between chat.postMessage and recording the ts leaves behind:
        delivery.status, delivery.lease_owner = "sending", "dead-worker"
        delivery.lease_until, delivery.attempt_started_at = clock() + timedelta(minutes=5), clock()
        delivery_id = delivery.id
    slack.add_message("C1", "the alert", user="UBOT",
                      metadata={"event_type": "briefbot_delivery", "event_payload": {"delivery_id": delivery_id}})
    loop = outbox(slack_ctx)
    assert loop.tick().sent == 0  # still leased to the dead worker
    clock.now += timedelta(minutes=6)
    report = loop.tick()
    assert (report.sent, report.reconciled) == (1, 1)
    assert len(slack.messages("C1")) == 1 and slack.posts() == []


def test_a_channel_the_bot_was_removed_from_is_paused_and_resumes_without_loss(slack_ctx: Any, slack: Any,
                                                                               clock: Any) -> None:
    slack.removed_channels.add("C1")
    source = hiring_alert(slack_ctx, "C1", "C2")
    loop = outbox(slack_ctx)
    report = loop.tick()
    assert (report.sent, report.paused) == (1, 1)
    with session_scope(slack_ctx.engine) as session:
        channel = session.exec(select(Channel).where(Channel.channel_id == "C1")).one()
        assert channel.paused_reason == "not_in_channel"
        subs = session.exec(select(Subscription).where(Subscription.channel_id == "C1")).all()
        assert [s.paused for s in subs] == [True]
    assert ("C1", "alert", "paused") in statuses(slack_ctx)
    # A brief while paused waits too, as the newest version of the same alert.
    clock.now += timedelta(hours=2)
    post(slack_ctx.engine, clock, source, ["Dock Lead", "Inventory Clerk", "Shipping Clerk"], "Tacoma")
    slack_ctx.analyse()
    loop.tick()
    assert slack.messages("C1") == []
    slack.removed_channels.discard("C1")
    with session_scope(slack_ctx.engine) as session:
        assert resume_channel(session=session, team_id="T1", channel_id="C1", now=clock())
    loop.tick()
    [alert] = slack.messages("C1")
    assert "6" in json.dumps(alert["blocks"]) or "six" in alert["text"].lower()  # the newest brief, once
    assert slack.replies("C1", alert["ts"]) == []


def test_feed_text_full_of_mentions_and_fake_links_arrives_inert(slack_ctx: Any, slack: Any, clock: Any) -> None:
    source = seed_seattle_hiring(slack_ctx.engine, clock)
    follow(slack_ctx, source, "C1")
    post(slack_ctx.engine, clock, source, ["<!channel> Warehouse Lead <http://evil.example|click here>",
                                           "Picker <@U0ADMIN> <!here>", "Forklift Driver &lt;b&gt;"], "Kent")
    slack_ctx.analyse()
    outbox(slack_ctx).tick()
    [message] = slack.messages("C1")
    everything = json.dumps({"text": message["text"], "blocks": message["blocks"]})
    for forbidden in ("<!channel>", "<!here>", "<@U0ADMIN>", "<http://evil.example", "|click here>"):
        assert forbidden not in everything
    assert "evil.example" in everything  # shown as text, not as a link
    assert slack.block_errors == []


def test_a_muted_channel_holds_alerts_for_its_digest(slack_ctx: Any, slack: Any, clock: Any) -> None:
    with session_scope(slack_ctx.engine) as session:
        ensure_channel(session=session, team_id="T1", channel_id="C1", now=clock()).muted = True
    hiring_alert(slack_ctx, "C1")
    loop = outbox(slack_ctx)
    loop.tick()
    assert slack.messages("C1") == [] and statuses(slack_ctx) == [("C1", "alert", "held")]
    with session_scope(slack_ctx.engine) as session:
        channel = ensure_channel(session=session, team_id="T1", channel_id="C1", now=clock())
        due = set_schedule(session=session, channel=channel, schedule=DigestSchedule("daily", 9, 0),
                           timezone="UTC", now=clock())
    assert due is not None
    clock.now = due + timedelta(minutes=1)
    loop.tick()
    [digest] = slack.messages("C1")
    assert "Digest" in digest["text"] or "Digest" in json.dumps(digest["blocks"])
    assert "Kestrel" in json.dumps(digest["blocks"])
    clock.now += timedelta(days=1)  # nothing new since: no empty digest
    loop.tick()
    assert len(slack.messages("C1")) == 1
    assert slack.block_errors == []


def test_a_digest_slot_is_enqueued_once(slack_ctx: Any, slack: Any, clock: Any) -> None:
    hiring_alert(slack_ctx, "C1")
    loop = outbox(slack_ctx)
    loop.tick()
    with session_scope(slack_ctx.engine) as session:
        channel = ensure_channel(session=session, team_id="T1", channel_id="C1", now=clock())
        due = set_schedule(session=session, channel=channel, schedule=DigestSchedule("daily", 9, 0),
                           timezone="UTC", now=clock())
    assert due is not None
    clock.now = due + timedelta(minutes=1)
    OutboxLoop(slack_ctx, clients=SlackClients(slack_ctx.settings, slack_ctx.engine)).tick()
    loop.tick()
    kinds = [k for _, k, _ in statuses(slack_ctx)]
    assert kinds.count("digest") == 1


def test_nothing_is_delivered_to_a_workspace_without_a_token(slack_ctx: Any, slack: Any, clock: Any) -> None:
    slack.tokens.clear()  # auth.test refuses the configured token
    hiring_alert(slack_ctx, "C1")
    report = outbox(slack_ctx).tick()
    assert (report.sent, report.retried) == (0, 1)
    assert statuses(slack_ctx) == [("C1", "alert", "pending")]


def test_pause_keeps_unconfirmed_posts_for_checking(slack_ctx: Any, clock: Any) -> None:
    hiring_alert(slack_ctx, "C1")
    route_and_schedule(slack_ctx)
    with session_scope(slack_ctx.engine) as session:
        session.exec(select(Delivery)).one().status = "sending"
    with session_scope(slack_ctx.engine) as session:
        pause_channel(session=session, team_id="T1", channel_id="C1", reason="not_in_channel", now=clock())
    assert statuses(slack_ctx) == [("C1", "alert", "sending")]


def test_a_newer_brief_never_rewrites_an_alert_a_worker_is_posting(slack_ctx: Any, slack: Any, clock: Any) -> None:
    """Worker A claimed the alert (brief 1) and is about to post it when worker B routes brief 2 of the same
    signal: the claimed alert keeps brief 1, and brief 2 follows as an update of the posted alert."""
    from bot.storage.deliveries import claim_deliveries

    # Brief 2 a minute after brief 1: no re-brief interval (BRIEFBOT_REBRIEF_MINUTES has its own tests).
    slack_ctx.settings = slack_ctx.settings.model_copy(update={"briefbot_rebrief_minutes": 0})
    source = hiring_alert(slack_ctx, "C1")
    route_and_schedule(slack_ctx)
    with Session(slack_ctx.engine, expire_on_commit=False) as session:
        [claimed] = claim_deliveries(session=session, owner="worker-a", now=clock(), lease=timedelta(minutes=5),
                                     limit=10)
    clock.now += timedelta(minutes=1)
    post(slack_ctx.engine, clock, source, ["Dock Lead", "Inventory Clerk", "Shipping Clerk"], "Tacoma")
    assert len(slack_ctx.analyse().briefs) == 1
    route_and_schedule(slack_ctx)  # worker B routes brief 2
    with Session(slack_ctx.engine) as session:
        rows = session.exec(select(Delivery).order_by(Delivery.id)).all()  # type: ignore[arg-type]
    assert [(d.kind, d.brief_id, d.lease_owner) for d in rows] == [
        ("alert", claimed.brief_id, "worker-a"), ("update", rows[1].brief_id, None)]
    assert rows[1].brief_id != claimed.brief_id
    # Worker A died; when its lease runs out the alert goes out, then its update edits it and replies.
    clock.now += timedelta(minutes=6)
    loop = outbox(slack_ctx)
    loop.tick()
    clock.now += timedelta(seconds=15)
    loop.tick()
    [alert] = slack.messages("C1")
    assert slack.calls("chat.update") and "3 more roles" in slack.replies("C1", alert["ts"])[0]["text"]
    assert statuses(slack_ctx) == [("C1", "alert", "sent"), ("C1", "update", "sent")]


def test_a_delivery_that_cannot_be_built_is_retried_then_failed_and_never_stalls_the_others(
        slack_ctx: Any, slack: Any, clock: Any) -> None:
    """A digest whose payload lacks its `until` (building its message raises KeyError), claimed first in a
    channel that also has an alert, and another channel's alert: both alerts are posted in the same tick; the
    broken one records its error, is retried with backoff, and after CRASH_ATTEMPTS attempts is failed, which
    `/brief status` counts."""
    from bot.slack.commands.handlers import Request, status
    from bot.slack.delivery import CRASH_ATTEMPTS
    from bot.slack.deps import deps_for
    from bot.storage.deliveries import delivery_counts

    hiring_alert(slack_ctx, "C1", "C2")
    with session_scope(slack_ctx.engine) as session:
        ensure_channel(session=session, team_id="T1", channel_id="C1", now=clock())
        session.add(Delivery(team_id="T1", channel_id="C1", kind="digest", payload={"brief_ids": []},
                             dedupe_key="digest:C1:broken", next_attempt_at=clock(), created_at=clock()))
    loop = outbox(slack_ctx)
    report = loop.tick()
    assert (report.sent, report.retried, report.failed) == (2, 1, 0)
    assert [len(slack.messages(c)) for c in ("C1", "C2")] == [1, 1]
    with Session(slack_ctx.engine) as session:
        rows = session.exec(select(Delivery).order_by(Delivery.id)).all()  # type: ignore[arg-type]
    broken = rows[0]
    assert broken.kind == "digest", "the broken delivery must be the first claimed"
    assert (broken.status, broken.attempts, broken.lease_owner) == ("pending", 1, None)
    assert broken.last_error == "KeyError: 'until'" and broken.next_attempt_at > clock()
    assert [(d.channel_id, d.status) for d in rows[1:]] == [("C1", "sent"), ("C2", "sent")]

    for attempt in range(2, CRASH_ATTEMPTS + 1):
        clock.now += timedelta(hours=1)
        report = loop.tick()
        assert (report.retried, report.failed) == ((1, 0) if attempt < CRASH_ATTEMPTS else (0, 1)), attempt
    assert statuses(slack_ctx)[0] == ("C1", "digest", "failed")
    clock.now += timedelta(hours=1)
    assert loop.tick().retried == 0  # failed for good: not claimed again
    with Session(slack_ctx.engine) as session:
        assert delivery_counts(session=session, team_id="T1")["failed"] == 1
    assert "1 failed" in status(deps_for(slack_ctx), Request(team_id="T1", channel_id="C1", user_id="U1"))
    assert [len(slack.messages(c)) for c in ("C1", "C2")] == [1, 1]


def test_a_database_error_recording_a_post_leaves_it_unconfirmed_and_the_tick_goes_on(
        slack_ctx: Any, slack: Any, clock: Any) -> None:
    """The database refuses to mark C1's alert sent (a trigger) after Slack posted it: C2's alert is still
    posted in that tick, C1's stays unconfirmed with the error recorded, and once the database is well again
    it is found in the channel and marked sent, not posted twice."""
    from tests.db_faults import allow, refuse

    hiring_alert(slack_ctx, "C1", "C2")
    engine = slack_ctx.engine
    refuse(engine, "refuse_sent", "deliveries", "NEW.status = 'sent' AND NEW.channel_id = 'C1'", events=("UPDATE",))
    loop = outbox(slack_ctx)
    report = loop.tick()
    assert (report.sent, report.retried) == (1, 1)
    assert [len(slack.messages(c)) for c in ("C1", "C2")] == [1, 1]
    with Session(engine) as session:
        c1 = session.exec(select(Delivery).where(Delivery.channel_id == "C1")).one()
    assert (c1.status, c1.lease_owner) == ("sending", None) and "refused by the test" in (c1.last_error or "")
    allow(engine, "refuse_sent", "deliveries", events=("UPDATE",))
    clock.now += timedelta(minutes=2)
    assert loop.tick().reconciled == 1
    assert [len(slack.messages(c)) for c in ("C1", "C2")] == [1, 1]
    assert {s for _, _, s in statuses(slack_ctx)} == {"sent"}
