"""Hostile input at the Slack boundary (issue 11, items 3, 4, 8 and 15), against `briefbot serve`'s real ASGI app
on uvicorn with the real Bolt app, its WebClient on the recording fake Web API, and real SQLite and PostgreSQL.

- Requests: a body over the size cap is refused with 413 without being read (memory stays flat, /healthz keeps
  answering while a huge body trickles in); the signature is checked before anything is parsed; malformed
  bodies (a `payload=` that is not JSON, a JSON list, deep nesting, invalid UTF-8) get a 4xx and one log line.
- Concurrent first use: commands, buttons and events racing to create the same workspace, channel, watch, mute
  or event row all succeed, and each row exists once.
- Payload strings: ids and timestamps are checked, text is cleaned of NUL/control/invisible characters and
  measured against its column; `/brief watch` is all or nothing.
- Feed text in Slack: direction and zero-width characters removed, style markers inert, labels undisguisable.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import resource
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from bot.context import Context
from bot.core.inputs import INVISIBLE, clean_line, row_id, slack_id, slack_ts
from bot.demo.server import LocalServer, Route
from bot.settings import Settings
from bot.slack.blocks.alert import ASK_ACTION, alert_message
from bot.slack.escape import QUOTE_LOOKALIKE, STYLE_LOOKALIKES, WORD_JOINER, escape, link, mrkdwn, plain
from bot.slack.model import AlertView, SignalDetails, SourceLink
from bot.slack.web import MAX_BODY_BYTES
from bot.storage.channels import ensure_channel
from bot.storage.db import session_scope
from bot.storage.events import first_time
from bot.storage.models import (
    Brief,
    Channel,
    ConversationTurn,
    Mute,
    SlackEvent,
    Source,
    Subscription,
    Watch,
    Workspace,
)
from tests.conftest import NOW, SLACK_SECRET, context_for, make_settings, serving, wait_for
from tests.db_faults import allow, refuse
from tests.feeds import numbered, rss
from tests.slack_requests import action_body, command_body, event, event_body, sign, sign_bytes
from tests.slack_server import SlackServer

NEWS_SEARCH = "http://127.0.0.1:9/news/search.xml?q={query}"  # stored, never fetched: nothing leaves the machine
QUIET = 0.3
ROUNDS = 5
_hooks = itertools.count(1)


# ---- the app under test ---------------------------------------------------------------------------------------------


@dataclass
class Bot:
    base: str
    slack: SlackServer
    ctx: Context

    @property
    def engine(self) -> Engine:
        return self.ctx.engine

    def post(self, body: str | bytes, headers: dict[str, str]) -> httpx.Response:
        return httpx.post(self.base + "/slack/events", content=body, headers=headers, timeout=10)

    def command(self, text: str, **fields: Any) -> tuple[httpx.Response, str]:
        """A signed `/brief` command; the response and the name of its response_url hook."""
        hook = f"h{next(_hooks)}"
        body = command_body(text, response_url=self.slack.hook_url(hook), **fields)
        return self.post(body, sign(SLACK_SECRET, body)), hook

    def reply(self, hook: str) -> str:
        return str(wait_for(lambda: self.slack.hooks(hook), timeout=15)[-1]["text"])

    def run(self, text: str, **fields: Any) -> str:
        """A command whose answer comes through its response_url (acked "working…" first)."""
        response, hook = self.command(text, **fields)
        assert response.status_code == 200, response.text
        return self.reply(hook)

    def event(self, inner: dict[str, Any], **envelope: Any) -> httpx.Response:
        body = event_body(inner, **envelope)
        return self.post(body, sign(SLACK_SECRET, body))


@pytest.fixture
def bot(db_url: str, slack: SlackServer, clock: Any) -> Iterator[Bot]:
    settings: Settings = make_settings(db_url, slack_bot_token="xoxb-test", slack_signing_secret=SLACK_SECRET,
                                       slack_api_url=slack.api_url, briefbot_channel_post_interval=0.0,
                                       briefbot_slack_timeout=2.0, briefbot_news_search_url=NEWS_SEARCH)
    ctx = context_for(settings, clock)
    with serving(ctx) as base:
        yield Bot(base, slack, ctx)
    ctx.engine.dispose()


def rows(engine: Engine, model: type[SQLModel]) -> list[Any]:
    with Session(engine) as session:
        return list(session.exec(select(model)))


def web_refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bot.slack.web"]


def rss_mib() -> float:
    """This process's resident memory now (the server under test runs in it), from /proc."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


# ---- item 4: size cap, signature first, malformed bodies -------------------------------------------------------------


def _raw_request(port: int, head: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(head.encode())
    return sock


def _read_status(sock: socket.socket) -> int:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1])


def test_a_body_declared_over_the_cap_is_refused_413_before_it_is_read(bot: Bot) -> None:
    port = int(bot.base.rsplit(":", 1)[1])
    size = 80 * 2**20  # the 80 MB
    started = time.monotonic()
    sock = _raw_request(port, f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                              f"Content-Length: {size}\r\n\r\n")
    sock.sendall(b"{" + b" " * 65535)  # a first piece of the body; the rest is never sent
    status = _read_status(sock)
    elapsed = time.monotonic() - started
    sock.close()
    assert status == 413 and elapsed < 2.0, (status, elapsed)
    assert httpx.get(bot.base + "/healthz", timeout=2).text == "ok"


@pytest.mark.slow  # waits on purpose (a deadline, a drip, Retry-After or a quiet period)
def test_a_huge_unsigned_body_is_cut_off_at_the_cap_memory_stays_flat_and_healthz_keeps_answering(
        bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    """Chunked (no Content-Length), so the cap must hold while reading: the issue's 80 MB body, first trickled
    slowly (while /healthz is asked), then sent as fast as the socket takes it."""
    caplog.set_level(logging.INFO)
    port = int(bot.base.rsplit(":", 1)[1])
    chunk = b"x" * 65536
    framed = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    sent = {"bytes": 0, "error": ""}
    status: list[int] = []
    before = rss_mib()
    sock = _raw_request(port, "POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n")

    def send() -> None:
        try:
            for n in range(80 * 16):  # 80 MiB in 64 KiB chunks
                if n < 8:
                    time.sleep(0.25)  # the first 512 KiB in two seconds: a slow client under the cap
                sock.sendall(framed)
                sent["bytes"] += len(chunk)
        except OSError as exc:  # the server closed the connection after its 413
            sent["error"] = type(exc).__name__

    def read() -> None:
        status.append(_read_status(sock))

    sender, reader = threading.Thread(target=send), threading.Thread(target=read)
    sender.start()
    reader.start()
    health = []
    for _ in range(5):  # while the body trickles in
        started = time.monotonic()
        assert httpx.get(bot.base + "/healthz", timeout=2).text == "ok"
        health.append(time.monotonic() - started)
        time.sleep(0.2)
    reader.join(timeout=15)
    sender.join(timeout=15)
    sock.close()
    grown = rss_mib() - before
    assert status == [413]
    assert sent["error"] and sent["bytes"] < 16 * 2**20, sent  # the server stopped taking the body early
    assert max(health) < 2.0, health  # answered while the body trickles in (loose: a loaded 2-CPU runner)
    assert grown < 40, f"resident memory grew {grown:.0f} MiB for an 80 MiB body"
    assert len(web_refusals(caplog)) == 1 and "limit" in web_refusals(caplog)[0].getMessage()


# Signed bodies that Bolt cannot read: each must get a 4xx and one log line, never a 500 and a traceback.
MALFORMED: dict[str, tuple[bytes, str]] = {
    "payload= that is not JSON": (b"payload=%7Bnot+json", "application/x-www-form-urlencoded"),
    "payload= that is a JSON list": (b"payload=" + urlencode({"": "[1, 2]"})[1:].encode(),
                                     "application/x-www-form-urlencoded"),
    "payload= of invalid UTF-8 bytes": (b"payload=%FF%FE%7B%7D", "application/x-www-form-urlencoded"),
    "a JSON list": (b'[{"type": "event_callback"}]', "application/json"),
    "a JSON string": (b'"event_callback"', "application/json"),
    "JSON nested 100,000 deep": (b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "application/json"),
    # Bolt strips ";charset=…" from the media type; the shape check must too, or this reaches Bolt's parser.
    "a JSON list nested 100,000 deep, with a charset": (b" " + b"[" * 100_000 + b"]" * 100_000,
                                                        "application/json; charset=utf-8"),
    "a JSON list nested 100,000 deep, upper case": (b" " + b"[" * 100_000 + b"]" * 100_000,
                                                    "Application/JSON"),
    "JSON nested 500 deep": (b'{"a": ' + b"[" * 500 + b"]" * 500 + b"}", "application/json"),
    "truncated JSON": (b'{"type": "event_callback", "event": {', "application/json"),
    "invalid UTF-8": (b'{"type": "\xff\xfe"}', "application/json"),
    "an integer of 10,000 digits": (b'{"type": "event_callback", "n": ' + b"9" * 10_000 + b"}", "application/json"),
    "fields of the wrong type": (b'{"type": "event_callback", "enterprise": 5, "team": 7, "authorizations": "x"}',
                                 "application/json"),
}


@pytest.mark.slow  # waits on purpose (a deadline, a drip, Retry-After or a quiet period)
@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_signed_body_gets_400_and_one_log_line(
        bot: Bot, caplog: pytest.LogCaptureFixture, case: str) -> None:
    caplog.set_level(logging.INFO)
    body, content_type = MALFORMED[case]
    response = bot.post(body, sign_bytes(SLACK_SECRET, body, content_type))
    assert response.status_code == 400, (response.status_code, response.text)
    refusals = web_refusals(caplog)
    assert len(refusals) == 1 and "invalid Slack signature" not in refusals[0].getMessage()
    assert not any(r.exc_info or r.levelno >= logging.ERROR for r in caplog.records), "a traceback was logged"

    unsigned = bot.post(body, {"Content-Type": content_type, **sign_bytes("not-the-secret", body, content_type)})
    assert unsigned.status_code == 401  # refused on its signature: never parsed
    assert "invalid Slack signature" in web_refusals(caplog)[-1].getMessage()

    # The server is unharmed: a genuine command right after is acked.
    response, _ = bot.command("help")
    assert response.status_code == 200 and "briefbot" in response.json()["text"]


def test_the_largest_request_briefbots_own_messages_cause_fits_under_the_cap() -> None:
    """Why MAX_BODY_BYTES is what it is: a button press sends Slack's copy of the whole message back. An alert
    at its text limits, in a script whose every character costs 9 bytes form-encoded, must still fit."""
    wide = "漢" * 5000
    sources = tuple(SourceLink(title=wide, url="https://news.example/" + "a" * 1900 + f"/{n}", outlet=wide[:300],
                               published_at=NOW) for n in range(10))
    view = AlertView(brief_id=1, subject="signal", subject_id=1, headline=wide, summary=wide, why_it_matters=wide,
                     sources=sources, item_count=99, outlet_count=99, created_at=NOW, writer_note=wide,
                     signal=SignalDetails(company=wide, metro=wide, reason="surge",
                                          roles=tuple((wide[:100] + str(n), n) for n in range(20)), postings=99),
                     mute_company=wide[:300])
    message = alert_message(view)
    form = action_body(ASK_ACTION, "1", response_url="https://hooks.slack.com/x",
                       message={"type": "message", "ts": "1700000000.000100", "text": message.text,
                                "blocks": message.blocks})
    payload = json.loads(parse_qs(form)["payload"][0])
    body = urlencode({"payload": json.dumps(payload, ensure_ascii=False)})  # Slack's JSON is raw UTF-8
    assert body.count("%E6%BC%A2") > 5_000  # the wide text really is in it
    size = len(body.encode())
    assert size < MAX_BODY_BYTES / 3, f"an alert's button press is {size} bytes: raise MAX_BODY_BYTES"


# ---- item 8: concurrent first use ------------------------------------------------------------------------------------


def _all_at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(n: int) -> None:
        barrier.wait()
        try:
            results[n] = calls[n]()
        except Exception as exc:  # reported by the caller's assertion
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_concurrent_first_commands_in_a_new_channel_all_succeed_and_create_each_row_once(bot: Bot) -> None:
    """The issue's race: two `/brief` commands in a new channel at once. Here six, in each of several new
    workspaces: two mutes, two watches of the same term, two mutes of the same company."""
    for n in range(ROUNDS):
        team, channel = f"TR{n}", f"CR{n}"
        texts = ["mute", "mute", "watch Kestrel Commerce", "watch kestrel commerce", "mute Acme", "mute acme"]
        sent = _all_at_once([lambda t=t, team=team, channel=channel: bot.command(t, team_id=team, channel_id=channel)
                             for t in texts])
        assert all(isinstance(r, tuple) and r[0].status_code == 200 for r in sent), sent
        replies = [bot.reply(hook) for _, hook in sent]
        assert not any("failed" in r for r in replies), replies
        watched = sorted(replies[2:4], key=lambda r: r.startswith("This"))  # whichever came first
        assert watched[0].startswith("Watching *") and watched[0].endswith("follows a news search for it.")
        assert watched[1].startswith("This channel already watches *"), watched
        with Session(bot.engine) as session:
            def count(model: type[SQLModel], **where: str) -> int:
                query = select(model)
                for name, value in where.items():
                    query = query.where(getattr(model, name) == value)
                return len(list(session.exec(query)))

            assert count(Workspace, team_id=team) == 1
            assert count(Channel, team_id=team, channel_id=channel) == 1
            assert count(Watch, team_id=team) == 1 and count(Mute, team_id=team) == 1
            assert count(Source, team_id=team) == 1 and count(Subscription, team_id=team) == 1
            assert session.exec(select(Channel).where(Channel.team_id == team)).one().muted is True


@pytest.mark.slow  # waits on purpose (a deadline, a drip, Retry-After or a quiet period)
def test_concurrent_events_for_a_new_channel_and_slacks_retries_are_each_handled_once(
        bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    """Events racing to create one channel (left and archived at once), and one event delivered twice at once
    (Slack's retry while the first is still handled): every request answered 200, no listener failed (Bolt
    logs a failed listener as an error after the 200), one channel, one event row."""
    caplog.set_level(logging.INFO)
    for n in range(ROUNDS):
        team, channel = f"TE{n}", f"CE{n}"
        left = event_body(event("channel_left", channel=channel), team_id=team, event_id=f"EvL{n}")
        archived = event_body(event("channel_archive", channel=channel), team_id=team, event_id=f"EvA{n}")
        bodies = [left, left, archived, archived]
        answers = _all_at_once([lambda b=b: bot.post(b, sign(SLACK_SECRET, b)) for b in bodies])
        assert [a.status_code for a in answers] == [200] * 4, answers
        wait_for(lambda team=team: [c for c in rows(bot.engine, Channel) if c.team_id == team and c.paused_reason])
        time.sleep(QUIET)
        assert len([c for c in rows(bot.engine, Channel) if c.team_id == team]) == 1
        events = sorted(e.event_id for e in rows(bot.engine, SlackEvent) if e.team_id == team)
        assert events == [f"EvA{n}", f"EvL{n}"]
    assert [r.getMessage()[:100] for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_get_or_create_rows_tolerate_many_concurrent_inserts(engine: Engine) -> None:
    """Below the HTTP layer, with more threads than Slack would ever send at once: ensure_channel (and the
    workspace under it) and first_time, each from eight sessions started together, in several rounds."""
    for n in range(ROUNDS):
        team, channel = f"TC{n}", f"CC{n}"

        def create(team: str = team, channel: str = channel) -> int:
            with session_scope(engine) as session:
                return ensure_channel(session=session, team_id=team, channel_id=channel, now=NOW).id or 0

        ids = _all_at_once([create] * 8)
        assert all(isinstance(i, int) for i in ids) and len(set(ids)) == 1, ids
        firsts = _all_at_once([lambda n=n, team=team: first_time(engine=engine, event_id=f"Ev{n}", team_id=team,
                                                          now=NOW)] * 8)
        assert sorted(firsts, key=str) == [False] * 7 + [True], firsts
    assert len(rows(engine, Workspace)) == ROUNDS and len(rows(engine, Channel)) == ROUNDS
    assert len(rows(engine, SlackEvent)) == ROUNDS


# ---- item 3: payload strings checked at the boundary; /brief watch all or nothing ------------------------------------


def test_validators() -> None:
    assert slack_id("T0123ABC") == "T0123ABC" and slack_id("T_LOCAL") == "T_LOCAL"
    for bad in ("", "T" * 33, "T1\x00", "C1; DROP TABLE", "T1 ", 5, None, ["T1"], "Ｔ１"):
        assert slack_id(bad) == ("T1" if bad == "T1 " else ""), bad
    assert slack_ts("1700000000.000100") == "1700000000.000100"
    for bad in ("", "1700000000.000100x", "1" * 40, "²", None, 1700000000.0001):
        assert slack_ts(bad) == "", bad
    assert clean_line("Kes\x00trel\x07\u200b Com\u202emerce\n\tnow\x85") == "Kestrel Commerce now"
    assert row_id("12") == 12 and row_id("²") is None and row_id("9" * 19) is None and row_id("-1") is None


def test_over_long_watch_terms_and_companies_get_one_line_and_store_nothing(bot: Bot) -> None:
    term, company = "Kestrel " + "k" * 193, "Acme " + "a" * 296  # 201 and 301 characters
    reply = bot.run(f"watch {term}")
    assert reply.startswith("A watched term can be at most 200 characters; that one has 201.") and "\n" not in reply
    reply = bot.run(f"mute {company}")
    assert reply.startswith("A company name can be at most 300 characters; that one has 301.") and "\n" not in reply
    response, _ = bot.command("follow https://example.com/" + "f" * 600)
    assert response.json()["text"].startswith("That is longer than 500 characters.")
    time.sleep(QUIET)
    for model in (Watch, Mute, Source, Subscription, Channel, Workspace):
        assert rows(bot.engine, model) == [], model.__name__
    # The longest that fits is kept whole.
    assert bot.run(f"watch {term[:200]}").startswith("Watching *Kestrel")
    assert [len(w.term) for w in rows(bot.engine, Watch)] == [200]


def test_nul_control_and_invisible_characters_never_reach_a_row(bot: Bot) -> None:
    """PostgreSQL refuses NUL in text outright (a DataError before this fix); on both databases the stored
    term, company and question read as they were meant."""
    assert bot.run("watch Kes\x00trel\x07 Com\u200bmerce").startswith("Watching *Kestrel Commerce*")
    assert bot.run("mute Ac\x00me\u202e").startswith("Muted *Acme*")
    assert [w.term for w in rows(bot.engine, Watch)] == ["Kestrel Commerce"]
    assert [(m.company, m.company_key) for m in rows(bot.engine, Mute)] == [("Acme", "acme")]
    assert bot.event(event("message.im", user="U2", text="what is Kes\x00trel\x1b doing?")).status_code == 200
    turn = wait_for(lambda: rows(bot.engine, ConversationTurn), timeout=15)[0]
    assert turn.question == "what is Kestrel doing?"


def test_malformed_ids_and_timestamps_are_refused_with_one_line_and_store_nothing(
        bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    for fields in ({"team_id": "T" * 40}, {"channel_id": "C1\x00"}, {"user_id": "U1'; --"}, {"channel_id": ""}):
        response, _ = bot.command("mute", **fields)
        assert response.status_code == 200
        assert response.json()["text"] == ("briefbot couldn't tell which workspace, channel or user this came from; "
                                           "run the command again.")
    assert bot.event(event("channel_left", channel="C" * 100)).status_code == 200
    assert bot.event(event("channel_archive", channel={"id": 5})).status_code == 200
    assert bot.event(event("app_mention", text="<@UBOT> hi", ts="not-a-ts")).status_code == 200
    assert bot.event(event("message.im", user="U2", text="hello?", channel="D" + "2" * 40)).status_code == 200
    for n, value in enumerate(("²", "9" * 30, "-3")):
        body = action_body("brief_not_useful", value, response_url=bot.slack.hook_url(f"value{n}"))
        assert bot.post(body, sign(SLACK_SECRET, body)).status_code == 200
        assert bot.reply(f"value{n}") == "That alert is no longer known to briefbot."
    time.sleep(QUIET)
    for model in (Channel, Workspace, Mute, ConversationTurn):
        assert rows(bot.engine, model) == [], model.__name__
    assert bot.slack.posts() == []
    assert not any(r.exc_info or r.levelno >= logging.ERROR for r in caplog.records), "a traceback was logged"


def test_terms_and_companies_that_case_fold_longer_are_measured_as_stored(bot: Bot) -> None:
    """"ﬃ" case-folds to "ffi": 70 of them make a 210-character key, over the 200-character column. The key is
    measured too, so the user gets the one-line limit (not "failed on briefbot's side"), and nothing half-fits:
    a key cut to its column would never be found again (a mute that could not be unmuted)."""
    reply = bot.run("watch " + "\ufb03" * 70)
    assert reply.startswith("A watched term can be at most 200 characters; that one has 70, which is 210 once "
                            "case-folded") and "\n" not in reply, reply
    for verb in ("mute", "unmute"):
        reply = bot.run(f"{verb} " + "\ufb03" * 120)
        assert reply.startswith("A company name can be at most 300 characters; that one has 120, which is 360 "
                                "once case-folded") and "\n" not in reply, reply
    time.sleep(QUIET)
    assert rows(bot.engine, Watch) == [] and rows(bot.engine, Mute) == []
    # Keys that fit are stored whole, and found again.
    assert bot.run("watch " + "\ufb03" * 66).startswith("Watching *")
    assert [len(w.term_key) for w in rows(bot.engine, Watch)] == [198]
    assert bot.run("unwatch " + "\ufb03" * 66).startswith("Stopped watching *")
    assert bot.run("mute " + "\u00df" * 150).startswith("Muted *")
    assert [len(m.company_key) for m in rows(bot.engine, Mute)] == [300]
    assert bot.run("unmute " + "\u00df" * 150).endswith("is unmuted here.")
    assert rows(bot.engine, Watch) == [] and rows(bot.engine, Mute) == []


def test_unfollow_of_a_digit_that_is_not_ascii_is_not_a_number(bot: Bot) -> None:
    """"²".isdigit() is True but int("²") raises: the number of a follow is ASCII digits only."""
    for target in ("²", "١", "1²"):
        reply = bot.run(f"unfollow {target}")
        assert reply == f"This channel doesn't follow `{target}`. `/brief list` shows what it follows.", reply


def _story_brief(engine: Engine, entity: str) -> int:
    with session_scope(engine) as session:
        ensure_channel(session=session, team_id="T1", channel_id="C1", now=NOW)
        brief = Brief(team_id="T1", subject="story", subject_id=1, subject_version=1, headline="A headline",
                      summary="A summary.", why_it_matters="It matters.", entities=[entity], event_type="other",
                      writer="builtin", input_hash=f"h-{entity}", created_at=NOW)
        session.add(brief)
        session.flush()
        return brief.id or 0


@pytest.mark.parametrize("company", ["*NSYNC", "_Kestrel_ ~Commerce~", "AT&T <Labs>"])
def test_the_unmute_a_mute_button_suggests_can_be_copied_and_works(bot: Bot, company: str) -> None:
    """The reply to "Mute this company" shows `/brief unmute COMPANY` in a code span, as written: escape()'s
    look-alikes ("∗NSYNC") would make a command that does not match the mute."""
    brief_id = _story_brief(bot.engine, company)
    hook = f"mute{next(_hooks)}"
    body = action_body("brief_mute_company", str(brief_id), response_url=bot.slack.hook_url(hook))
    assert bot.post(body, sign(SLACK_SECRET, body)).status_code == 200
    reply = bot.reply(hook)
    shown = company.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert reply.endswith(f" `/brief unmute {shown}` undoes it."), reply
    assert [m.company for m in rows(bot.engine, Mute)] == [company]
    copied = re.search(r"`/brief (unmute [^`]+)`", reply)
    assert copied is not None
    command = copied.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert bot.run(command).endswith("is unmuted here.")
    assert rows(bot.engine, Mute) == []


def test_a_company_with_a_backtick_is_pointed_to_not_shown_in_a_broken_code_span(bot: Bot) -> None:
    brief_id = _story_brief(bot.engine, "Ac`me")
    hook = f"mute{next(_hooks)}"
    body = action_body("brief_mute_company", str(brief_id), response_url=bot.slack.hook_url(hook))
    assert bot.post(body, sign(SLACK_SECRET, body)).status_code == 200
    reply = bot.reply(hook)
    assert reply.endswith("`/brief unmute` followed by the company's name undoes it; `/brief list` shows it."), reply


def test_a_watch_that_fails_leaves_no_follow_behind(bot: Bot) -> None:
    refuse(bot.engine, "refuse_watches", "watches", message="watches refused by the test", events=("INSERT",))
    reply = bot.run("watch Kestrel Commerce")
    assert reply == "Sorry, `/brief watch` failed on briefbot's side; the error is in its log."
    for model in (Watch, Source, Subscription, Channel):
        assert rows(bot.engine, model) == [], f"a failed watch left a {model.__name__} row"
    allow(bot.engine, "refuse_watches", "watches", events=("INSERT",))
    assert bot.run("watch Kestrel Commerce").startswith("Watching *Kestrel Commerce*")  # the control
    assert len(rows(bot.engine, Watch)) == len(rows(bot.engine, Source)) == len(rows(bot.engine, Subscription)) == 1


# ---- item 15: feed text in Slack -------------------------------------------------------------------------------------

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
# Slack's style spans as its renderer finds them: a marker at a word boundary, text, the same marker at one.
STYLED = re.compile(r"(?<![^\W_])([*_~`])(?=\S)[^\n]*?(?<=\S)\1(?![^\W_])")


def test_direction_and_zero_width_characters_are_removed() -> None:
    hostile = f"{BIDI}Pay{ZERO_WIDTH}Pal \u202egnp.exe\u202c https://evil.example"
    shown = escape(hostile)
    assert shown == f"PayPal gnp.exe https{WORD_JOINER}://evil.example"
    assert not set(map(ord, shown)) & (INVISIBLE - {ord(WORD_JOINER)})
    for out in (plain(hostile, 300), mrkdwn(hostile, 300), link("https://ok.example/", hostile)):
        assert not set(map(ord, out)) & (INVISIBLE - {ord(WORD_JOINER)}), out


def test_style_markers_from_a_feed_style_nothing_and_read_as_written() -> None:
    hostile = "*bold* _lean_ ~strike~ `tick` ```fence``` __init__ (*x*) >quote"
    shown = escape(hostile)
    assert STYLED.search(shown) is None and "`" not in shown, shown
    assert shown == ("∗bold∗ ˍleanˍ ∼strike∼ ˋtickˋ ˋˋˋfenceˋˋˋ ˍˍinitˍˍ (∗x∗) &gt;quote")
    # Inside a word a marker cannot style, and is kept as written.
    assert escape("snake_case f*ck 3*4 a~b") == "snake_case f*ck 3*4 a~b"
    assert set(STYLE_LOOKALIKES) == {"*", "_", "~", "`"}
    # A line that starts with ">" would be a block quote.
    assert mrkdwn("fine\n> Source: trust me", 100) == f"fine\n{QUOTE_LOOKALIKE} Source: trust me"


def test_the_old_escaping_still_holds() -> None:
    assert escape("<!channel> <@U1> AT&T <http://evil|click> www.evil.example") == (
        f"&lt;!channel&gt; &lt;@U1&gt; AT&amp;T &lt;http{WORD_JOINER}://evil|click&gt; www{WORD_JOINER}.evil.example")
    assert link("https://example.com/a|b", "Q3 *up* <!here>") == "<https://example.com/a%7Cb|Q3 ∗up∗ &lt;!here&gt;>"


def test_a_feed_cannot_disguise_a_label_in_an_alert() -> None:
    """A summary that forges the alert's own bold label on a line of its own: the real label is the only styled
    text in the section, and the forged one reads as plain words."""
    forged = "Acme opens a hub.\n\n*Why it matters:* nothing, *Source:* <https://evil.example|Reuters>"
    view = AlertView(brief_id=1, subject="story", subject_id=1, headline="Acme *opens* a hub", summary=forged,
                     why_it_matters="Jobs in Reno.", sources=(SourceLink("Acme", "https://news.example/1", "Wire",
                                                                         NOW),),
                     item_count=2, outlet_count=2, created_at=NOW)
    texts = [json.dumps(block) for block in alert_message(view).blocks]
    body = next(json.loads(t)["text"]["text"] for t in texts if "Acme opens a hub." in t)
    assert [m.group(0) for m in STYLED.finditer(body)] == ["*Why it matters:*"], body
    assert "∗Why it matters:∗ nothing, ∗Source:∗ &lt;https\u2060://evil.example|Reuters&gt;" in body


def test_a_hostile_feed_title_reaches_slack_inert(bot: Bot, server: LocalServer) -> None:
    """End to end: `/brief follow` of a feed whose title carries direction marks, zero-width characters, style
    markers and a forged label; the reply and `/brief list`, as the fake Slack received them."""
    title = f"\u202eKestrel\u202c{ZERO_WIDTH} *BREAKING* _Wire_ `x` *Source:* Reuters"
    server.route("/hostile.xml", Route(body=rss(numbered(2), title=title)))
    reply = bot.run(f"follow {server.url('/hostile.xml')}")
    expected = "Kestrel ∗BREAKING∗ ˍWireˍ ˋxˋ ∗Source:∗ Reuters"
    assert reply.startswith(f"Following *{expected}* here"), reply
    listing = bot.run("list")
    assert expected in listing
    for shown in (reply, listing):
        assert not set(map(ord, shown)) & INVISIBLE, shown
        # Only the bot's own bold: the reply's "*title*" around the escaped title, the list's labels.
        assert [m.group(0) for m in STYLED.finditer(shown)] in ([f"*{expected}*"], ["*Follows*", "*Digest:*"]), shown
