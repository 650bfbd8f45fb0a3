"""Fault injection: real `briefbot worker` processes (tests/fleet.py) against boards, Slack and an LLM
endpoint on 127.0.0.1 that misbehave for a while, workers killed with SIGKILL mid-poll and mid-delivery,
PostgreSQL connections dropped, a SQLite file locked. Every run must end by itself (bounded) with exactly
the counts of a run without faults (`World.expected()`: items stored, signals, briefs written, alerts
delivered), and no alert posted twice.

PostgreSQL runs two workers; SQLite runs one (its single-worker lock is tested in tests/test_worker.py).
Restarting the machine's shared PostgreSQL server is not done here: its connections are dropped instead."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.clock import utc_now
from bot.demo.server import LocalServer, Route
from bot.storage.models import Brief, Channel, Poll
from tests.conftest import SLACK_SECRET, context_for, make_settings, serving, with_param
from tests.fleet import Fleet, Run, World, run_world, wait_until, worker_env
from tests.llm_server import FakeLLM, completion, error
from tests.slack_requests import BOT_USER_ID, event, event_body, sign
from tests.slack_server import SlackServer

pytestmark = pytest.mark.slow  # starts worker processes

WORLD = World(sources=24, channels=6)
TIMEOUT = 120.0


def workers_for(db_url: str) -> int:
    return 2 if db_url.startswith("postgresql") else 1


def run(db_url: str, engine: Engine, server: LocalServer, slack: SlackServer, tmp_path: Path, *,
        env: dict[str, str] | None = None, at_news: Callable[[], None] | None = None,
        during: Callable[[Fleet], None] | None = None, world: World = WORLD) -> tuple[Run, Fleet]:
    with Fleet(env or worker_env(db_url, slack.api_url), tmp_path / "logs") as fleet:
        outcome = run_world(world=world, engine=engine, server=server, slack=slack, fleet=fleet,
                            workers=workers_for(db_url), at_news=at_news,
                            during=(lambda: during(fleet)) if during else None, timeout=TIMEOUT)
    assert outcome.counts == world.expected(), fleet.tail()
    assert outcome.duplicates == {}, outcome.duplicates
    return outcome, fleet


def reconciled(fleet: Fleet) -> int:
    """Deliveries the workers found already posted (an earlier attempt's answer was lost), from their logs."""
    return sum(int(n) for n in re.findall(r"\((\d+) found already posted\)", fleet.log_text()))


# Sources -----------------------------------------------------------------------------------------------

JSON = "application/json"
SOURCE_FAULTS: dict[str, tuple[Route, int, str]] = {  # name: (answer, how many times, the error kind recorded)
    "hang": (Route(hang=True), 1, "timeout"),
    "reset": (Route(reset=True), 2, "connection"),
    "drip": (Route(body=b"{" + b" " * 4000 + b"}", drip=0.2, content_type=JSON), 1, "timeout"),
    "500": (Route(status=500, body=b"<h1>Internal Server Error</h1>", content_type="text/html"), 2, "http_5xx"),
    "429": (Route(status=429, body=b"slow down", headers={"Retry-After": "1"}, content_type="text/plain"), 2,
            "http_4xx"),
    "garbage": (Route(body=b"<html>Service temporarily unavailable</html>", content_type=JSON), 2, "malformed"),
    "endless": (Route(endless=True, content_type=JSON), 1, "too_large"),
}


def test_sources_that_hang_reset_drip_fail_or_never_end(db_url: str, engine: Engine, server: LocalServer,
                                                        real_slack: SlackServer, tmp_path: Path) -> None:
    faulty = dict(zip(SOURCE_FAULTS, range(len(SOURCE_FAULTS)), strict=True))  # fault name -> board number

    def inject() -> None:  # the news polls meet the faults first
        for name, n in faulty.items():
            route, times, _ = SOURCE_FAULTS[name]
            server.fault(WORLD.path(n), route, times=times)

    outcome, _ = run(db_url, engine, server, real_slack, tmp_path, at_news=inject)
    with Session(engine) as session:
        errors = {(p.source_id, p.error_kind) for p in session.exec(select(Poll).where(Poll.outcome == "error"))}
        ids = {int(p.source_id) for p in session.exec(select(Poll))}
    first = min(ids)
    for name, n in faulty.items():
        assert (first + n, SOURCE_FAULTS[name][2]) in errors, (name, sorted(errors))
    assert outcome.seconds < TIMEOUT


# Slack ------------------------------------------------------------------------------------------------

def test_slack_rate_limits_fails_times_out_and_removes_the_bot(db_url: str, engine: Engine, server: LocalServer,
                                                               real_slack: SlackServer, tmp_path: Path) -> None:
    removed = "C003"
    real_slack.fail("chat.postMessage", status=429, retry_after=1, times=4)
    real_slack.fail("chat.postMessage", status=500, times=2, commit=True)  # posted, but answered 500
    real_slack.fail("chat.postMessage", status=503, body="", times=2)  # not posted
    real_slack.fail("chat.postMessage", delay=3.0, times=2)  # the worker gives up after 2 s; Slack posts anyway
    real_slack.removed_channels.add(removed)
    web = context_for(make_settings(db_url, slack_bot_token="xoxb-test", slack_signing_secret=SLACK_SECRET,
                                    slack_api_url=real_slack.api_url), utc_now)

    def invite_back(fleet: Fleet) -> None:
        def paused() -> bool:
            with Session(engine) as session:
                channel = session.exec(select(Channel).where(Channel.channel_id == removed)).first()
                return channel is not None and channel.paused_reason == "not_in_channel"

        wait_until(paused, timeout=60, what=f"{removed} paused", fleet=fleet)
        real_slack.removed_channels.discard(removed)
        body = event_body(event("member_joined_channel", user=BOT_USER_ID, channel=removed))
        with serving(web) as base:  # someone invites the bot back: Slack sends the event to `briefbot serve`
            assert httpx.post(base + "/slack/events", content=body, headers=sign(SLACK_SECRET, body),
                              timeout=10).status_code == 200

            def resumed() -> bool:
                with Session(engine) as session:
                    channel = session.exec(select(Channel).where(Channel.channel_id == removed)).one()
                    return channel.paused_reason is None

            wait_until(resumed, timeout=10, what=f"{removed} resumed")

    try:
        outcome, fleet = run(db_url, engine, server, real_slack, tmp_path, during=invite_back)
    finally:
        web.engine.dispose()
    assert real_slack.count("chat.postMessage") > outcome.counts.posts  # the faults were met
    assert reconciled(fleet) >= 2  # the posts answered with 500 or too late were found in the channel


# LLM --------------------------------------------------------------------------------------------------

@pytest.fixture
def fleet_llm() -> Iterator[FakeLLM]:
    from tests.fleet import brief_reply

    with FakeLLM(respond=brief_reply) as llm:
        yield llm


def test_the_llm_rate_limits_fails_times_out_and_talks_nonsense(db_url: str, engine: Engine, server: LocalServer,
                                                                 real_slack: SlackServer, fleet_llm: FakeLLM,
                                                                 tmp_path: Path) -> None:
    fleet_llm.enqueue(error(429, "slow down", headers={"Retry-After": "1"}), error(500, "boom"),
                      error(500, "slow", delay=3.0), completion("not json at all"), completion('{"headline": '),
                      error(503, "overloaded"), error(500, "boom"), completion("[]"))
    env = worker_env(db_url, real_slack.api_url, llm_url=fleet_llm.base_url)
    run(db_url, engine, server, real_slack, tmp_path, env=env)
    with Session(engine) as session:
        writers = {b.writer for b in session.exec(select(Brief))}
    assert "llm" in writers, writers  # the LLM wrote briefs once it answered; the built-in writer covered the rest
    assert len(fleet_llm.requests) > WORLD.sources


# Killed workers -----------------------------------------------------------------------------------------

def kill_all_and_restart(fleet: Fleet) -> None:
    alive = [n for n, p in enumerate(fleet.processes) if p.poll() is None]
    for n in alive:
        fleet.kill(n)
    for _ in alive:
        fleet.spawn()


def test_workers_killed_mid_poll_are_replaced_and_lose_nothing(db_url: str, engine: Engine, server: LocalServer,
                                                              real_slack: SlackServer, tmp_path: Path) -> None:
    def slow_news() -> None:  # every news poll takes a second
        for n in range(WORLD.sources):
            server.fault(WORLD.path(n), Route(body=WORLD.board(n, news=True), content_type=JSON, delay=1.0))

    def kill_mid_poll(fleet: Fleet) -> None:
        wait_until(lambda: server.active > 0, timeout=30, what="a poll in flight", every=0.02, fleet=fleet)
        kill_all_and_restart(fleet)

    run(db_url, engine, server, real_slack, tmp_path, at_news=slow_news, during=kill_mid_poll)


def test_workers_killed_mid_delivery_never_post_twice(db_url: str, engine: Engine, server: LocalServer,
                                                     real_slack: SlackServer, tmp_path: Path) -> None:
    real_slack.fail("chat.postMessage", delay=1.0, times=6)  # posts that take a second: killed while in flight

    def kill_while_posting(fleet: Fleet) -> None:
        wait_until(lambda: real_slack.count("chat.postMessage") > 0, timeout=60, what="a post in flight",
                   every=0.02, fleet=fleet)
        kill_all_and_restart(fleet)

    outcome, fleet = run(db_url, engine, server, real_slack, tmp_path, during=kill_while_posting)
    assert outcome.counts.posts == 2 * outcome.counts.alerts  # each alert, and each first look, once
    assert reconciled(fleet) > 0  # a post Slack made while its worker died was found, not posted again


# Databases ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgresql_connections_dropped_under_load(db_url: str, engine: Engine, server: LocalServer,
                                                   real_slack: SlackServer, tmp_path: Path) -> None:
    name = f"briefbot_fleet_{uuid.uuid4().hex[:8]}"
    env = worker_env(with_param(db_url, "application_name", name), real_slack.api_url)
    admin = create_engine(db_url.split("?", 1)[0])
    dropped: list[int] = []

    def drop_connections(fleet: Fleet) -> None:
        def drop() -> None:
            deadline = time.monotonic() + 6
            while time.monotonic() < deadline:
                with admin.begin() as conn:
                    dropped.extend(conn.execute(text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
                        {"name": name}).scalars())
                time.sleep(0.3)

        threading.Thread(target=drop, daemon=True).start()

    try:
        run(db_url, engine, server, real_slack, tmp_path, env=env, during=drop_connections)
    finally:
        admin.dispose()
    assert dropped, "no worker connection was dropped"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sqlite_locked_for_seconds(db_url: str, engine: Engine, server: LocalServer, real_slack: SlackServer,
                                   tmp_path: Path) -> None:
    path = db_url.split("///", 1)[1]
    held: list[float] = []

    def lock_the_file(fleet: Fleet) -> None:
        def lock() -> None:
            conn = sqlite3.connect(path, timeout=30)
            conn.execute("BEGIN EXCLUSIVE")
            started = time.monotonic()
            time.sleep(4)
            conn.commit()
            conn.close()
            held.append(time.monotonic() - started)

        threading.Thread(target=lock, daemon=True).start()

    run(db_url, engine, server, real_slack, tmp_path, during=lock_the_file)
    assert held and held[0] >= 4
