"""A first look on follow, end to end on real databases: boards served by a local HTTP server, polled by the real
poller, the outbox posting to the recording Slack Web API. One message per following channel after the first
poll and none after later polls, none for news feeds, a later follower gets its own, muted and paused channels
as alerts are, hostile board text inert, one failing post alone; and `briefbot signals --first-look`."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlmodel import Session, col, select

from bot.cli import main
from bot.core.open_roles import open_roles
from bot.core.signals import Posting
from bot.demo.server import LocalServer, Route
from bot.ingest.add import add_by_spec
from bot.slack.blocks.first_look import first_look_message, first_look_view
from bot.slack.blocks.limits import check_message
from bot.slack.clients import SlackClients
from bot.storage.channels import pause_channel, set_channel_muted
from bot.storage.db import session_scope
from bot.storage.first_look import FIRST_LOOK_WINDOW, MAX_GROUPS, enqueue_first_looks
from bot.storage.models import Delivery, Source, Subscription
from bot.storage.sources import subscribe
from bot.worker.outbox import OutboxLoop
from bot.worker.scheduler import poll_due_once
from tests.conftest import NOW
from tests.slack_server import SlackServer

HOSTILE = "<!channel> <http://evil.example|x> *bold* @here"


def board_json(company: str, jobs: list[tuple[int, str, str, int]]) -> bytes:
    """A Greenhouse board of (id, title, "City, ST", days before NOW the board dates it) postings."""
    return json.dumps({"name": company, "jobs": [
        {"id": job_id, "title": title, "absolute_url": f"https://boards.example/k/{job_id}",
         "location": {"name": place}, "company_name": company,
         "first_published": (NOW - timedelta(days=days)).isoformat().replace("+00:00", "Z")}
        for job_id, title, place, days in jobs]}).encode()


KESTREL_JOBS = [
    (1, "Warehouse Associate", "Kent, WA", 1), (2, "Warehouse Associate", "Seattle, WA", 3),
    (3, "Forklift Operator", "Auburn, WA", 10), (4, "Picker", "Kent, WA", 20),
    (5, "Software Engineer", "Austin, TX", 5), (6, "Account Executive", "Austin, TX", 40),
    (7, f"Warehouse Lead {HOSTILE}", "Kent, WA", 2),
]


def rss(items: int = 2) -> bytes:
    entries = "".join(f"<item><title>Port news {n}</title><link>https://news.example/{n}</link>"
                      f"<guid>n{n}</guid></item>" for n in range(items))
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>Wire</title>{entries}</channel></rss>".encode()


def add(ctx: Any, url: str, channel: str, kind: str | None = None) -> Source:
    async def run() -> Source:
        fetcher = ctx.fetcher()
        try:
            added = await add_by_spec(spec=url, kind=kind, team_id="T1", channel_id=channel, settings=ctx.settings,
                                      engine=ctx.engine, fetcher=fetcher, clock=ctx.clock)
            return added.source
        finally:
            await fetcher.aclose()

    return asyncio.run(run())


def follow(ctx: Any, source: Source, channel: str) -> None:
    with session_scope(ctx.engine) as session:
        subscribe(session=session, team_id="T1", channel_id=channel, source_id=source.id or 0, now=ctx.clock())


def outbox(ctx: Any) -> OutboxLoop:
    return OutboxLoop(ctx, clients=SlackClients(ctx.settings, ctx.engine))


def looks(slack: SlackServer, channel: str) -> list[dict[str, Any]]:
    return [m for m in slack.messages(channel) if m.get("blocks") and m["blocks"][0]["block_id"] == "look-header"]


def look_deliveries(ctx: Any) -> list[tuple[str, str, int | None]]:
    with Session(ctx.engine) as session:
        rows = session.exec(select(Delivery).where(Delivery.kind == "look").order_by(col(Delivery.id))).all()
        return [(d.channel_id, d.status, d.subject_id) for d in rows]


@pytest.fixture
def boards(server: LocalServer) -> LocalServer:
    server.route("/kestrel.json", Route(body=board_json("Kestrel Commerce", KESTREL_JOBS),
                                        content_type="application/json"))
    server.route("/empty.json", Route(body=board_json("Quiet Co", []), content_type="application/json"))
    server.route("/wire.xml", Route(body=rss(), content_type="application/rss+xml"))
    return server


def test_each_following_channel_gets_one_first_look_and_news_feeds_none(
        slack_ctx: Any, slack: SlackServer, boards: LocalServer, clock: Any) -> None:
    kestrel = add(slack_ctx, boards.url("/kestrel.json"), "C1", kind="greenhouse")
    follow(slack_ctx, kestrel, "C2")
    add(slack_ctx, boards.url("/wire.xml"), "C3")
    follow(slack_ctx, kestrel, "C3")  # C3 follows both: one first look, for the board
    poll_due_once(slack_ctx)
    report = outbox(slack_ctx).tick()
    assert report.failed == 0 and slack.block_errors == []
    for channel in ("C1", "C2", "C3"):
        [message] = slack.messages(channel)  # one message, never one per posting
        assert message["text"].startswith("What Kestrel Commerce has open now: 7 open roles in 3 functions and 2 "
                                          "metros"), message["text"]
        blocks = json.dumps(message["blocks"], ensure_ascii=False)
        assert "fulfillment and logistics · Seattle*: 5 open" in blocks, blocks
        assert "Warehouse Associate (2)" in blocks and "Austin" in blocks
        assert "alerts this channel when something changes" in blocks
        assert message["metadata"]["event_payload"]["delivery_id"] > 0
    # The trend: Seattle's warehouse roles by the board's dates (1, 2, 3 days; 10; 20 days before NOW).
    assert "▁▁▁▁▁▃▃█ (0 0 0 0 0 1 1 3 a week)" in json.dumps(slack.messages("C1")[0]["blocks"], ensure_ascii=False)

    clock.now += timedelta(hours=2)
    boards.route("/kestrel.json", Route(body=board_json("Kestrel Commerce", [*KESTREL_JOBS, (8, "Picker", "Kent, WA",
                                                                                              0)]),
                                        content_type="application/json"))
    poll_due_once(slack_ctx)
    outbox(slack_ctx).tick()
    assert [len(slack.messages(c)) for c in ("C1", "C2", "C3")] == [1, 1, 1]  # the second poll: no first look
    assert sorted(c for c, _, _ in look_deliveries(slack_ctx)) == ["C1", "C2", "C3"]


def test_hostile_board_text_is_inert(slack_ctx: Any, slack: SlackServer, boards: LocalServer) -> None:
    boards.route("/evil.json", Route(body=board_json(f"Evil {HOSTILE}", [(1, HOSTILE, "Kent, WA", 1)]),
                                     content_type="application/json"))
    add(slack_ctx, boards.url("/evil.json"), "C1", kind="greenhouse")
    poll_due_once(slack_ctx)
    outbox(slack_ctx).tick()
    [message] = slack.messages("C1")
    everything = json.dumps(message, ensure_ascii=False)
    for raw in ("<!channel>", "<http://evil.example|x>", "*bold*"):
        assert raw not in everything
    assert "&lt;!channel&gt;" in everything and "&lt;http\u2060:" in everything
    assert slack.block_errors == []


def test_a_later_follower_gets_its_own_and_muted_and_paused_channels_are_as_for_alerts(
        slack_ctx: Any, slack: SlackServer, boards: LocalServer, clock: Any) -> None:
    kestrel = add(slack_ctx, boards.url("/kestrel.json"), "C1", kind="greenhouse")
    follow(slack_ctx, kestrel, "C_MUTED")
    follow(slack_ctx, kestrel, "C_GONE")
    with session_scope(slack_ctx.engine) as session:
        set_channel_muted(session=session, team_id="T1", channel_id="C_MUTED", muted=True, now=clock())
        pause_channel(session=session, team_id="T1", channel_id="C_GONE", reason="not_in_channel", now=clock())
    outbox(slack_ctx).tick()
    assert look_deliveries(slack_ctx) == []  # not polled yet: nothing to look at
    poll_due_once(slack_ctx)
    outbox(slack_ctx).tick()
    assert sorted(look_deliveries(slack_ctx)) == [("C1", "sent", kestrel.id), ("C_GONE", "paused", kestrel.id),
                                                  ("C_MUTED", "held", kestrel.id)]
    assert slack.messages("C_MUTED") == [] and slack.messages("C_GONE") == []

    clock.now += FIRST_LOOK_WINDOW * 3  # long after the first poll, the board no longer lists one posting…
    boards.route("/kestrel.json", Route(body=board_json("Kestrel Commerce", KESTREL_JOBS[:-1]),
                                        content_type="application/json"))
    poll_due_once(slack_ctx)
    follow(slack_ctx, kestrel, "C9")  # …and a new channel follows it: what is open now, the closed one left out
    outbox(slack_ctx).tick()
    [late] = slack.messages("C9")
    assert late["text"].startswith("What Kestrel Commerce has open now: 6 open roles"), late["text"]
    assert len(slack.messages("C1")) == 1


def test_an_old_follow_gets_no_first_look_after_an_upgrade(slack_ctx: Any, boards: LocalServer, clock: Any) -> None:
    add(slack_ctx, boards.url("/kestrel.json"), "C1", kind="greenhouse")
    poll_due_once(slack_ctx)
    clock.now += FIRST_LOOK_WINDOW + timedelta(minutes=1)  # as if first looks arrived with this upgrade
    with session_scope(slack_ctx.engine) as session:
        assert enqueue_first_looks(session=session, team_id="T1", now=clock()) == 0
    with session_scope(slack_ctx.engine) as session:  # control: within the window it was owed
        assert enqueue_first_looks(session=session, team_id="T1", now=clock() - timedelta(minutes=2)) == 1


def test_an_empty_board_gets_a_short_honest_first_look(slack_ctx: Any, slack: SlackServer,
                                                       boards: LocalServer) -> None:
    add(slack_ctx, boards.url("/empty.json"), "C1", kind="greenhouse")
    poll_due_once(slack_ctx)
    outbox(slack_ctx).tick()
    [message] = slack.messages("C1")
    assert message["text"] == "What Quiet Co has open now: no open roles listed right now"
    assert "alerts this channel when postings appear" in json.dumps(message["blocks"])


def test_one_refused_first_look_does_not_stop_the_others(slack_ctx: Any, slack: SlackServer,
                                                         boards: LocalServer) -> None:
    kestrel = add(slack_ctx, boards.url("/kestrel.json"), "C1", kind="greenhouse")
    follow(slack_ctx, kestrel, "C2")
    poll_due_once(slack_ctx)
    slack.fail("chat.postMessage", error="restricted_action", channel="C1")
    report = outbox(slack_ctx).tick()
    assert (report.sent, report.failed) == (1, 1)
    assert slack.messages("C1") == [] and len(looks(slack, "C2")) == 1
    assert sorted(look_deliveries(slack_ctx)) == [("C1", "failed", kestrel.id), ("C2", "sent", kestrel.id)]


def test_an_unreadable_payload_fails_alone(slack_ctx: Any, slack: SlackServer, boards: LocalServer) -> None:
    kestrel = add(slack_ctx, boards.url("/kestrel.json"), "C1", kind="greenhouse")
    follow(slack_ctx, kestrel, "C2")
    poll_due_once(slack_ctx)
    with session_scope(slack_ctx.engine) as session:
        enqueue_first_looks(session=session, team_id="T1", now=slack_ctx.clock())
        row = session.exec(select(Delivery).where(Delivery.channel_id == "C1")).one()
        row.payload = {"spec": "x", "roles": {"total": "\x00many"}}
    report = outbox(slack_ctx).tick()
    assert (report.sent, report.failed) == (1, 1)
    with Session(slack_ctx.engine) as session:
        failed = session.exec(select(Delivery).where(Delivery.channel_id == "C1")).one()
    assert failed.status == "failed" and (failed.last_error or "").startswith("first look unreadable")


# ---- briefbot signals --first-look ----------------------------------------------------------------------------------


def cli(db_url: str, *args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(main, list(args), env={"DATABASE_URL": db_url, "BRIEFBOT_NOW": NOW.isoformat()},
                                catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def test_cli_first_look_prints_the_same_summary(slack_ctx: Any, boards: LocalServer, db_url: str,
                                                 tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    kestrel = add(slack_ctx, boards.url("/kestrel.json"), "C1", kind="greenhouse")
    news = add(slack_ctx, boards.url("/wire.xml"), "C1")
    poll_due_once(slack_ctx)
    text = cli(db_url, "signals", "--first-look").output
    assert f"source {kestrel.id} ({kestrel.spec}, T1):" in text
    assert "Kestrel Commerce: 7 open roles in 3 functions and 2 metros" in text
    assert "fulfillment and logistics · Seattle: 5 open, ▁▁▁▁▁▃▃█ (0 0 0 0 0 1 1 3 a week)" in text
    assert "Wire" not in text
    [one] = json.loads(cli(db_url, "signals", "--first-look", str(kestrel.id), "--json").output)
    assert (one["source_id"], one["roles"]["total"], one["roles"]["functions"], one["roles"]["metros"]) == (
        kestrel.id, 7, 3, 2)
    assert one["roles"]["groups"][0] | {"titles": []} == {
        "family": "fulfillment_logistics", "label": "fulfillment and logistics", "metro": "Seattle", "count": 5,
        "weekly": [0, 0, 0, 0, 0, 1, 1, 3], "sparkline": "▁▁▁▁▁▃▃█", "titles": []}
    assert json.loads(cli(db_url, "signals", "--first-look", "--team", "T2", "--json").output) == []
    refused = cli(db_url, "signals", "--first-look", str(news.id), code=1).output
    assert refused.startswith(f"briefbot: no polled job source {news.id}") and refused.count("\n") == 1
    assert cli(db_url, "signals", "--first-look", "nope", code=2).output.count("not a source id") == 1


def test_subscriptions_table_unchanged_by_first_looks(slack_ctx: Any, boards: LocalServer) -> None:
    """A first look reads follows; it never changes them (a paused follow stays paused, none are added)."""
    kestrel = add(slack_ctx, boards.url("/kestrel.json"), "C1", kind="greenhouse")
    poll_due_once(slack_ctx)
    with Session(slack_ctx.engine) as session:
        before = [(s.channel_id, s.paused) for s in session.exec(select(Subscription))]
    outbox(slack_ctx).tick()
    with Session(slack_ctx.engine) as session:
        assert [(s.channel_id, s.paused) for s in session.exec(select(Subscription))] == before == [("C1", False)]
    assert kestrel.id is not None


def test_the_message_fits_block_kit_however_large_the_board() -> None:
    postings = [Posting(item_id=n, company=f"Huge {HOSTILE} " + "Co " * 200, title=f"{HOSTILE} " + "t" * 400 + str(n),
                        function="other", metros=(f"City {n} " + "x" * 180,), first_seen_at=NOW)
                for n in range(300)]
    roles = open_roles(postings, now=NOW)
    view = first_look_view({"spec": "greenhouse:" + "k" * 3000, "roles": roles.as_dict(max_groups=MAX_GROUPS)})
    message = first_look_message(view)
    assert check_message(message) == [], check_message(message)
    groups = next(b for b in message.blocks if b["block_id"] == "look-groups")["text"]["text"]
    assert groups.count("\n• ") == 5 and groups.splitlines()[-1] == "…and 294 smaller groups"
    assert "<!channel>" not in json.dumps(message.blocks) and "<!channel>" not in message.text
