"""Security suite, isolation: two workspaces (T1 and T2) installed through OAuth on one database, each with its own
sources, items, stories, briefs, channels, watches, mutes, digests, alerts and conversations, all made by the real
pipeline. Then T2's people try every way in: each `/brief` subcommand that takes an id, a name or a term (in a
channel whose id is the same as T1's), each button with T1's brief and answer ids, the Ask modal with T1's alert in
its private_metadata, App Home, events about T1's channel, a DM and a mention asking about T1-only content, and
`briefbot ask/items/briefs/sources --team T2`. T2 must see nothing of T1 in any reply, message or view the fake
Slack recorded; T1's rows must be exactly as before; every call for T2 must carry T2's token. Positive controls
(T1 asking about its own content sees it; T2 sees its own) keep the checks honest. On SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.cli import main
from bot.context import Context
from bot.demo.server import LocalServer, Route
from bot.settings import Settings
from bot.slack.blocks.alert import ASK_ACTION, MUTE_COMPANY_ACTION, NOT_USEFUL_ACTION
from bot.slack.blocks.answer import BAD_ACTION, GOOD_ACTION
from bot.slack.clients import SlackClients
from bot.slack.escape import WORD_JOINER
from bot.sources.base import Entry
from bot.sources.item import normalise_entry
from bot.storage.db import session_scope
from bot.storage.items import store_items
from bot.storage.models import AlertMessage, Brief, Channel, ConversationTurn, Delivery, Item, Source
from bot.storage.sources import add_source
from bot.worker.outbox import OutboxLoop
from bot.worker.scheduler import poll_due_once
from tests.conftest import NOW, SLACK_SECRET, context_for, make_settings, serving, wait_for
from tests.history import brief
from tests.slack_requests import BOT_USER_ID, action_body, command_body, event, event_body, sign, view_submission_body
from tests.slack_server import Call, SlackServer
from tests.test_security_injection import FeedItem, rss
from tests.test_slack_oauth import CLIENT_ID, CLIENT_SECRET, install

pytestmark = pytest.mark.slow  # end to end through the served app, across workspaces, waiting for what must not happen

# What only T1 has: words of its feed and briefs, its URLs, its settings. (Where T2's people type one of them, as
# in `/brief unmute Hollowbrook Ltd`, their own words echoed back are not T1's data: `seen_by` drops them.)
T1_SECRETS = ("Tucson", "foundry", "Gazette", "t1.example", "t1.xml", "Hollowbrook", "Pacific/Auckland",
              "Desert Ledger", "Sonoran Post")
T2_OWN = "Fresno"  # in T2's own items: what T2's answers must show, so that their silence about T1 means something
QUESTION = "Who is opening a warehouse?"  # both workspaces' items answer it, each with its own


def day(team: str, n: int) -> list[FeedItem]:
    """A workspace's feed on day n: history on day 1; then one event reported by two outlets (a third on day 3)."""
    if team == "T1":
        company, city, what, outlets = "Quillfeather Robotics", "Tucson", "foundry", ("Desert Ledger", "Sonoran Post")
    else:
        company, city, what, outlets = "Marrowind Foods", "Fresno", "cannery", ("Valley Courier", "Central Star")
    host = f"https://{team.lower()}.example"
    if n == 1:
        return [FeedItem(f"{team}-old", f"{city} council meets on Tuesday", outlets[0], "Nothing to see.",
                         link=f"{host}/old")]
    items = [FeedItem(f"{team}-a", f"{company} opens {city} {what} warehouse", outlets[0],
                      f"{company} opens a {what} warehouse in {city}, hiring 300.", link=f"{host}/a"),
             FeedItem(f"{team}-b", f"{company} to open {city} {what} and warehouse", outlets[1],
                      f"The {city} {what} warehouse of {company} opens in May.", link=f"{host}/b")]
    if n == 3:
        items += [FeedItem(f"{team}-c", f"{company} {city} {what} warehouse hires 300", "Morning Wire",
                           f"{company} is hiring for the {city} {what} warehouse.", link=f"{host}/c"),
                  FeedItem(f"{team}-d", f"{company} {city} {what} warehouse opening date set", "Evening Wire",
                           f"{company} set the opening of its {city} {what} warehouse.", link=f"{host}/d")]
    return items


FEED_TITLES = {"T1": "Quillfeather Gazette", "T2": "Marrowind Courier"}
SETUP = {  # each workspace's own channel set-up, as its people typed it
    "T1": ("C1", ["watch Quillfeather Robotics", "mute Hollowbrook Ltd", "digest daily 08:00 Pacific/Auckland"]),
    "T2": ("C2", ["watch Marrowind Foods", "mute Ferncastle Ltd", "digest daily 07:30 America/Chicago"]),
}
_hooks = itertools.count(1)


@dataclass
class Member:
    """One person of one workspace using the real Bolt app; what they saw in acks is kept."""

    base: str
    slack: SlackServer
    team: str
    user: str
    acks: list[dict[str, Any]] = field(default_factory=list)
    typed: list[str] = field(default_factory=list)  # the arguments they gave `/brief`, the questions they asked

    def post(self, body: str) -> httpx.Response:
        response = httpx.post(self.base + "/slack/events", content=body, headers=sign(SLACK_SECRET, body), timeout=10)
        assert response.status_code == 200, response.text
        if response.headers.get("content-type", "").startswith("application/json"):
            self.acks.append(response.json())
        return response

    def hook(self) -> str:
        return f"{self.team.lower()}-{next(_hooks)}"

    def command(self, text_: str, channel: str, *, reply: bool = True) -> str:
        name = self.hook()
        self.typed.append(text_.partition(" ")[2])
        ack = self.post(command_body(text_, team_id=self.team, channel_id=channel, user_id=self.user,
                                     response_url=self.slack.hook_url(name))).json()
        if not reply:
            return str(ack["text"])
        return str(wait_for(lambda: self.slack.hooks(name), timeout=15)[-1]["text"])

    def button(self, action_id: str, value: str, channel: str, message_ts: str) -> str:
        name = self.hook()
        self.post(action_body(action_id, value, team_id=self.team, user_id=self.user, channel_id=channel,
                              message_ts=message_ts, response_url=self.slack.hook_url(name)))
        return str(wait_for(lambda: self.slack.hooks(name), timeout=15)[-1]["text"])

    def event(self, kind: str, **fields: Any) -> dict[str, Any]:
        inner = event(kind, **fields)
        self.post(event_body(inner, team_id=self.team))
        return inner

    def dm(self, question: str) -> list[dict[str, Any]]:
        """A question in a DM to the bot: the replies in its thread, once answered."""
        self.typed.append(question)
        asked = self.event("message.im", user=self.user, text=question)
        channel = "D" + self.user[1:]
        return list(wait_for(lambda: self.slack.replies(channel, asked["ts"]), timeout=15))


@dataclass
class World:
    ctx: Context
    slack: SlackServer
    server: LocalServer
    clock: Any
    tokens: dict[str, str]
    members: dict[str, Member]

    def feed_url(self, team: str) -> str:
        return self.server.url(f"/{team.lower()}.xml")

    def publish(self, n: int) -> None:
        for team in ("T1", "T2"):
            self.server.route(f"/{team.lower()}.xml", Route(body=rss(FEED_TITLES[team], day(team, n))))

    def grow(self, n: int) -> None:
        self.clock.now += timedelta(hours=1)
        self.publish(n)
        poll_due_once(self.ctx)
        OutboxLoop(self.ctx, clients=SlackClients(self.ctx.settings, self.ctx.engine)).tick()


@pytest.fixture
def oauth_settings(db_url: str, slack: SlackServer, server: LocalServer) -> Settings:
    """Many workspaces through OAuth (tests/test_slack_oauth.py), news searches on the local server."""
    slack.client_id, slack.client_secret = CLIENT_ID, CLIENT_SECRET
    server.route("/news.xml", Route(body=rss("News search", [])))
    return make_settings(db_url, slack_client_id=CLIENT_ID, slack_client_secret=CLIENT_SECRET,
                         slack_signing_secret=SLACK_SECRET, slack_api_url=slack.api_url,
                         briefbot_channel_post_interval=0.0, briefbot_slack_timeout=2.0,
                         briefbot_news_search_url=server.url("/news.xml") + "?q={query}")


@pytest.fixture
def world(oauth_settings: Settings, slack: SlackServer, server: LocalServer, clock: Any) -> Iterator[World]:
    """Both workspaces installed, each following its feed with its watch, mute and digest in its channel; a day
    later each has a story brief posted as an alert and a question answered; T1 has given feedback too."""
    ctx: Context = context_for(oauth_settings, clock)
    with serving(ctx) as base, httpx.Client(base_url=base, timeout=10) as http:
        install(http)
        slack.install_team = ("T2", "Second Team")
        install(http)
        with Session(ctx.engine) as session:
            tokens = {str(team): str(token) for team, token in session.connection().execute(
                text("SELECT team_id, bot_token FROM slack_bots"))}
        members = {"T1": Member(base, slack, "T1", "U1"), "T2": Member(base, slack, "T2", "U9")}
        w = World(ctx, slack, server, clock, tokens, members)
        w.publish(1)
        for team, (channel, commands) in SETUP.items():
            assert members[team].command(f"follow {w.feed_url(team)}", channel).startswith("Following")
            for command in commands:
                members[team].command(command, channel)
        poll_due_once(ctx)
        w.grow(2)
        assert {a.team_id for a in alerts(ctx)} == {"T1", "T2"}, briefs(ctx)
        t1 = members["T1"]
        assert "Tucson" in json.dumps(t1.dm(QUESTION))
        alert = team_alert(ctx, "T1")
        assert t1.button(NOT_USEFUL_ACTION, str(alert.brief_id), "C1", alert.ts).startswith("Thanks")
        assert t1.button(GOOD_ACTION, str(team_turns(ctx, "T1")[0].id), "D1", "1").startswith("Thanks")
        assert T2_OWN in json.dumps(members["T2"].dm(QUESTION))
        yield w
    ctx.engine.dispose()


# ---- reading the database and what reached Slack ------------------------------------------------------------------


def alerts(ctx: Context) -> list[AlertMessage]:
    with Session(ctx.engine) as session:
        return list(session.exec(select(AlertMessage).order_by(col(AlertMessage.id))))


def team_alert(ctx: Context, team: str) -> AlertMessage:
    return next(a for a in alerts(ctx) if a.team_id == team)


def briefs(ctx: Context, team: str | None = None) -> list[Brief]:
    with Session(ctx.engine) as session:
        query = select(Brief).order_by(col(Brief.id))
        return [b for b in session.exec(query) if team in (None, b.team_id)]


def team_turns(ctx: Context, team: str) -> list[ConversationTurn]:
    with Session(ctx.engine) as session:
        query = select(ConversationTurn).where(ConversationTurn.team_id == team)
        return list(session.exec(query.order_by(col(ConversationTurn.id))))


def answered(ctx: Context, team: str, n: int) -> None:
    """Wait until `team` has `n` conversation turns and the last one's reply is posted."""
    wait_for(lambda: len(turns := team_turns(ctx, team)) == n and turns[-1].message_ts, timeout=15)


def installed(engine: Engine, team: str) -> bool:
    with engine.connect() as conn:
        return bool(conn.execute(text("SELECT id FROM slack_bots WHERE team_id = :team"), {"team": team}).all())


def paused_reason(ctx: Context, team: str, channel: str) -> str | None:
    with Session(ctx.engine) as session:
        row = session.exec(select(Channel).where(Channel.team_id == team, Channel.channel_id == channel)).one()
        return row.paused_reason


def snapshot(engine: Engine, team: str, *, installed: bool = True) -> dict[str, list[str]]:
    """Every row of `team` in every table that has a team_id column (briefbot's, and slack_sdk's installation
    tables), as sorted JSON lines."""
    found: dict[str, list[str]] = {}
    inspector = inspect(engine)
    with engine.connect() as conn:
        for table in inspector.get_table_names():
            if "team_id" not in {c["name"] for c in inspector.get_columns(table)}:
                continue
            rows = conn.execute(text(f'SELECT * FROM "{table}" WHERE team_id = :team'), {"team": team}).mappings()
            found[table] = sorted(json.dumps(dict(row), default=str, sort_keys=True) for row in rows)
    assert found["items"] and found["briefs"] and (found["slack_bots"] or not installed), "nothing to compare"
    return found


def shown_to(slack: SlackServer, member: Member, token: str, since: int = 0) -> list[dict[str, Any]]:
    """Everything `member`'s workspace was shown: calls made with its token, posts to its response_urls, acks."""
    calls: list[Call] = slack.calls()[since:]
    hooks = f"hooks/{member.team.lower()}-"
    return [c.params for c in calls if c.token == token or c.method.startswith(hooks)] + member.acks


def seen_by(slack: SlackServer, member: Member, token: str, since: int = 0) -> str:
    """`shown_to` as text, less the echoes of what its people typed: `X`, *X* and _X_ in replies, and a DM's
    title. (Only echoes: a listing that showed T1's "Hollowbrook Ltd" mute would still be caught.)"""
    # Echoed URLs carry a word joiner after their scheme (bot/slack/escape.py defuses bare links); drop it so
    # that the echo is recognised as one.
    text_ = json.dumps(shown_to(slack, member, token, since), ensure_ascii=False).replace(WORD_JOINER, "")
    for typed in sorted(filter(None, member.typed), key=len, reverse=True):
        for echo in (f"`{typed}`", f"*{typed}*", f"_{typed}_", json.dumps({"title": typed})[1:-1]):
            text_ = text_.replace(echo, "")
    return text_


def button_values(payload: Any) -> set[str]:
    if isinstance(payload, dict):
        own = {str(payload["value"])} if "action_id" in payload and "value" in payload else set()
        return own.union(*(button_values(v) for v in payload.values()))
    if isinstance(payload, list):
        return set().union(*(button_values(v) for v in payload))
    return set()


# ---- the tests ----------------------------------------------------------------------------------------------------


def test_a_workspace_can_read_follow_mute_or_ask_nothing_of_another(world: World) -> None:
    ctx, slack, t2 = world.ctx, world.slack, world.members["T2"]
    alert = team_alert(ctx, "T1")
    t1_brief, t1_turn = str(alert.brief_id), str(team_turns(ctx, "T1")[0].id)
    with Session(ctx.engine) as session:
        t1_source_id = session.exec(select(Source).where(Source.team_id == "T1", Source.kind == "feed")).one().id
    before = snapshot(ctx.engine, "T1")
    kinds = ("workspaces", "sources", "subscriptions", "items", "item_links", "stories", "briefs", "channels",
             "watches", "mutes", "deliveries", "alert_messages", "feedback", "conversation_turns", "answer_feedback",
             "slack_installations", "slack_bots")
    assert [k for k in kinds if not before[k] or not snapshot(ctx.engine, "T2")[k]] == ["feedback", "answer_feedback"]
    first_call = len(slack.calls())

    # Every /brief subcommand that names something: in a channel of T2's whose id is that of T1's alert channel
    # (all of them), and in T2's own channel (those that name T1's things).
    naming = (f"unfollow {world.feed_url('T1')}", f"unfollow {FEED_TITLES['T1']}", "unwatch Quillfeather Robotics",
              "unmute Hollowbrook Ltd", "ask What is Quillfeather Robotics building?", f"ask {QUESTION}", "list",
              "status")
    everything = ("unfollow 1", f"unfollow {t1_source_id}", *naming, "unmute", "mute", "unmute",
                  "mute Quillfeather Robotics", "digest daily 07:00 Asia/Tokyo", "watch Quillfeather Robotics",
                  "follow 1")
    replies = {(channel, command): t2.command(command, channel)
               for channel, commands in (("C1", everything), ("C2", naming)) for command in commands}
    for channel in ("C1", "C2"):
        for command in ("items 1", "briefs 1", f"sources remove {t1_source_id}", f"show {t1_brief}", "help"):
            t2.command(command, channel, reply=False)
    assert replies[("C1", "unfollow 1")].startswith("This channel doesn't follow")
    assert replies[("C1", "unwatch Quillfeather Robotics")].startswith("This channel doesn't watch")
    assert replies[("C1", "unmute Hollowbrook Ltd")] == "*Hollowbrook Ltd* wasn't muted here."
    assert "follows nothing yet" in replies[("C1", "list")]
    assert "Marrowind Courier" in replies[("C2", "list")]  # T2's own channel shows T2's own follow
    assert T2_OWN in replies[("C2", f"ask {QUESTION}")]
    assert replies[("C1", "ask What is Quillfeather Robotics building?")].startswith("I found nothing")

    # Every button, carrying T1's brief and answer ids, pressed on T1's alert.
    gone = "That alert is no longer known to briefbot."
    assert t2.button(NOT_USEFUL_ACTION, t1_brief, "C1", alert.ts) == gone
    assert t2.button(MUTE_COMPANY_ACTION, t1_brief, "C1", alert.ts) == gone
    for action in (GOOD_ACTION, BAD_ACTION):
        assert t2.button(action, t1_turn, "D1", "1") == "That answer is no longer known to briefbot."
    # The Ask button opens the modal; submitted with T1's alert (and brief) in its private_metadata, the answer
    # is T2's own, in the thread the metadata names.
    opened, asked = len(slack.opened_views), len(team_turns(ctx, "T2"))
    t2.post(action_body(ASK_ACTION, t1_brief, team_id="T2", user_id="U9", channel_id="C1", message_ts=alert.ts))
    modal = wait_for(lambda: slack.opened_views[opened:])[0]
    assert json.loads(modal["private_metadata"]) == {"brief": int(t1_brief), "channel": "C1", "ts": alert.ts}
    values = {"question": {"text": {"type": "plain_text_input", "value": QUESTION}}}
    t2.post(view_submission_body(modal, values, team_id="T2", user_id="U9"))
    answered(ctx, "T2", asked + 1)
    assert team_turns(ctx, "T2")[-1].brief_id is None  # T1's alert is no alert of T2's

    # App Home, the Messages tab, a DM and a mention in T1's alert thread, events about T1's channel.
    t2.event("app_home_opened", user="U9")
    t2.event("app_home_opened", user="U9", tab="messages")
    home = wait_for(lambda: slack.home("U9"))
    wait_for(lambda: [c for c in slack.calls("assistant.threads.setSuggestedPrompts") if c.token == world.tokens["T2"]])
    assert T2_OWN in json.dumps(home) and "Marrowind Courier" in json.dumps(home)
    dm = t2.dm(QUESTION)
    assert T2_OWN in json.dumps(dm)
    assert t2.dm("Is anything happening in Tucson with the Quillfeather foundry?")[0]["text"].startswith(
        "I found nothing")  # words only T1's feed has
    t1_thread = team_turns(ctx, "T1")[0]  # a follow-up "in" T1's DM thread carries none of its context
    t2.typed.append("And when did that start?")
    t2.event("message.im", user="U9", channel=t1_thread.channel_id, thread_ts=t1_thread.thread_ts,
             text="And when did that start?")
    answered(ctx, "T2", asked + 4)
    assert team_turns(ctx, "T2")[-1].writer == "none" and team_turns(ctx, "T2")[-1].answer.startswith("Ask about")
    t2.event("app_mention", user="U9", channel="C1", thread_ts=alert.ts,
             text=f"<@{BOT_USER_ID}> what is this alert about, and who is opening a warehouse?")
    answered(ctx, "T2", asked + 5)
    assert team_turns(ctx, "T2")[-1].brief_id is None  # asked under T1's alert: still no alert of T2's
    for kind, fields, paused in (("channel_left", {}, "not_in_channel"),
                                 ("member_joined_channel", {"user": BOT_USER_ID, "team": "T2"}, None),
                                 ("channel_archive", {}, "is_archived"), ("channel_unarchive", {}, None)):
        t2.event(kind, channel="C1", **fields)  # each pauses or resumes T2's channel of that id, and only T2's
        wait_for(lambda paused=paused: paused_reason(ctx, "T2", "C1") == paused)  # type: ignore[misc]

    shown = seen_by(slack, t2, world.tokens["T2"], first_call)
    assert [secret for secret in T1_SECRETS if secret in shown] == []
    t2_ids = {str(b.id) for b in briefs(ctx, "T2")} | {str(t.id) for t in team_turns(ctx, "T2")}
    assert button_values(shown_to(slack, t2, world.tokens["T2"], first_call)) <= t2_ids  # no button acts on T1's
    t2_calls = [c for c in slack.calls()[first_call:] if not c.method.startswith("hooks/")]
    assert t2_calls and {c.token for c in t2_calls} == {world.tokens["T2"]}  # each call with T2's own token
    assert snapshot(ctx.engine, "T1") == before
    assert slack.block_errors == []

    # Positive control: T1, asking the same things, sees its own history (and none of T2's).
    t1 = world.members["T1"]
    mark = len(slack.calls())
    answer = json.dumps(t1.dm(QUESTION))
    assert "Tucson" in answer and T2_OWN not in answer
    assert FEED_TITLES["T1"] in t1.command("list", "C1") and "Hollowbrook" in t1.command("list", "C1")
    assert "Tucson" in t1.command(f"ask {QUESTION}", "C1")
    t1.event("message.im", user="U1", channel=t1_thread.channel_id, thread_ts=t1_thread.thread_ts,
             text="And when did that start?")
    follow_up = wait_for(lambda: [t for t in team_turns(ctx, "T1")
                                  if t.question == "And when did that start?" and t.message_ts])
    assert "Tucson" in follow_up[0].answer  # in T1's own thread the earlier question carries the search
    assert t1.button(MUTE_COMPANY_ACTION, t1_brief, "C1", alert.ts).startswith("Muted")
    assert {c.token for c in slack.calls()[mark:] if not c.method.startswith("hooks/")} == {world.tokens["T1"]}
    assert snapshot(ctx.engine, "T1") != before  # the snapshot does see a change when there is one


def test_following_the_same_feed_keeps_a_separate_copy_for_each_workspace(world: World) -> None:
    ctx, t2 = world.ctx, world.members["T2"]
    before = snapshot(ctx.engine, "T1")
    reply = t2.command(f"follow {world.feed_url('T1')}", "C2")
    assert reply.startswith(f"Following *{FEED_TITLES['T1']}*")  # the public feed itself, read anew for T2
    poll_due_once(ctx)  # T1's own sources are not due: only T2's new one is polled
    with Session(ctx.engine) as session:
        t1_source, t2_source = (session.exec(select(Source).where(
            Source.team_id == team, Source.locator == world.feed_url("T1"))).one() for team in ("T1", "T2"))
        copies = list(session.exec(select(Item).where(Item.source_id == t2_source.id)))
    assert t2_source.id != t1_source.id and t2_source.last_success_at is not None
    assert copies and {i.team_id for i in copies} == {"T2"}  # its own items, not links to T1's
    assert snapshot(ctx.engine, "T1") == before
    assert "Marrowind Courier" in t2.command("list", "C2") and FEED_TITLES["T2"] not in world.members["T1"].command(
        "list", "C1")


def test_alerts_go_only_to_their_own_workspace_with_its_own_token(world: World) -> None:
    ctx, slack, t2 = world.ctx, world.slack, world.members["T2"]
    # T2 watches T1's company, in a channel with T1's channel's id; then T1's story grows and is briefed again.
    for channel in ("C1", "C2"):
        assert t2.command("watch Quillfeather Robotics", channel).startswith("Watching")
    t1_briefs = len(briefs(ctx, "T1"))
    world.grow(3)
    assert len(briefs(ctx, "T1")) > t1_briefs and slack.count("chat.update") >= 1  # T1's alert was updated

    with Session(ctx.engine) as session:
        deliveries = list(session.exec(select(Delivery)))
        owner = {b.id: b.team_id for b in session.exec(select(Brief))}
    assert deliveries and all(owner[d.brief_id] == d.team_id for d in deliveries if d.brief_id is not None)
    assert {d.channel_id for d in deliveries if d.team_id == "T2"} == {"C2"}
    by_id = {d.id: d.team_id for d in deliveries}
    posted = [c for c in slack.calls() if c.method in ("chat.postMessage", "chat.update")]
    for call in posted:  # every delivery went out with its own workspace's token
        metadata = call.params.get("metadata") or {}
        delivery_id = (metadata.get("event_payload") or {}).get("delivery_id")
        if delivery_id is not None:
            assert call.token == world.tokens[by_id[delivery_id]], call
    assert {c.token for c in posted if c.params.get("channel") == "C2"} == {world.tokens["T2"]}
    shown = seen_by(slack, t2, world.tokens["T2"])
    assert [secret for secret in T1_SECRETS if secret in shown] == []
    assert T2_OWN in shown  # T2's own alert did reach it
    t1_shown = seen_by(slack, world.members["T1"], world.tokens["T1"])
    assert "Tucson" in t1_shown and T2_OWN not in t1_shown


def test_uninstalling_one_workspace_leaves_the_other_installed_and_untouched(world: World) -> None:
    ctx, slack = world.ctx, world.slack
    before = snapshot(ctx.engine, "T1")
    world.members["T2"].event("app_uninstalled")
    wait_for(lambda: not installed(ctx.engine, "T2"))
    assert snapshot(ctx.engine, "T1") == before
    clients = SlackClients(ctx.settings, ctx.engine)
    t1_client = clients.for_team("T1")
    assert clients.for_team("T2") is None and t1_client is not None and t1_client.token == world.tokens["T1"]
    assert "Tucson" in json.dumps(world.members["T1"].dm(QUESTION))  # T1 still answered, with its token
    assert slack.calls("chat.postMessage")[-1].token == world.tokens["T1"]


# ---- the command line ---------------------------------------------------------------------------------------------


def two_histories(engine: Engine) -> dict[str, int]:
    """Each workspace's own feed, items (stored as the poller stores them) and brief; each feed's source id."""
    at = NOW - timedelta(hours=3)
    ids = {}
    for team, company, city, what, outlet in (("T1", "Quillfeather Robotics", "Tucson", "foundry", "Desert Ledger"),
                                              ("T2", "Marrowind Foods", "Fresno", "cannery", "Valley Courier")):
        url = f"https://{team.lower()}.example/a"
        title = f"{company} opens {city} {what} warehouse"
        entry = Entry(external_id=url, url=url, title=title, text=f"A {what} warehouse in {city}.", outlet=outlet,
                      published_at=at)
        normalised = normalise_entry(entry, kind="news", default_outlet=outlet, max_chars=1000, now=at)
        assert normalised is not None
        with session_scope(engine) as session:
            feed, _ = add_source(session=session, team_id=team, kind="feed", locator=f"https://{team.lower()}.example/feed",
                                 spec=f"https://{team.lower()}.example/feed", title=f"{outlet} feed", now=at)
            store_items(session=session, source=feed, items=[normalised], now=at, backfill=False)
            (stored,) = session.exec(select(Item).where(Item.team_id == team)).all()
            session.add(brief(team, f"{company} opens a {city} {what} warehouse", at=at, entities=[company],
                              summary=f"{company} opens a warehouse in {city}.",
                              sources=[{"item_id": stored.id, "url": url, "outlet": outlet, "title": title}]))
            ids[team] = feed.id or 0
    return ids


def test_the_command_line_for_one_workspace_shows_nothing_of_another(
        db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the checkout's
    ctx = context_for(make_settings(db_url), lambda: NOW)
    ids = two_histories(ctx.engine)
    before = snapshot(ctx.engine, "T1", installed=False)
    env = {"DATABASE_URL": db_url, "BRIEFBOT_NOW": NOW.isoformat(), "BRIEFBOT_DEFAULT_TEAM": "T_NONE",
           "BRIEFBOT_LOG_LEVEL": "WARNING"}

    def run(*args: str) -> str:
        result = CliRunner().invoke(main, list(args), env=env)
        return f"exit {result.exit_code}\n{result.output}"

    t2 = {" ".join(args): run(*args) for args in (
        ("ask", "--team", "T2", QUESTION), ("ask", "--team", "T2", "--json", "What", "is", "Quillfeather", "doing?"),
        ("items", "--team", "T2", "--json"), ("items", "--team", "T2", "--source", str(ids["T1"]), "--json"),
        ("briefs", "--team", "T2", "--json"), ("sources", "list", "--team", "T2", "--json"),
        ("sources", "remove", str(ids["T1"]), "--team", "T2"))}
    assert {k: [s for s in T1_SECRETS if s in out] for k, out in t2.items()} == {k: [] for k in t2}
    assert T2_OWN in t2[f"ask --team T2 {QUESTION}"] and T2_OWN in t2["briefs --team T2 --json"]
    assert t2[f"sources remove {ids['T1']} --team T2"].startswith("exit 1") and "no source with id" in t2[
        f"sources remove {ids['T1']} --team T2"]
    assert snapshot(ctx.engine, "T1", installed=False) == before
    # Positive control: the same commands for T1 show T1's history.
    t1 = run("ask", "--team", "T1", QUESTION)
    assert "Tucson" in t1 and T2_OWN not in t1
    assert "Tucson" in run("items", "--team", "T1", "--source", str(ids["T1"]), "--json")
    ctx.engine.dispose()
