"""The worker: APScheduler only triggers "poll what is due"; the schedule itself is data."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.context import Context
from bot.demo.server import LocalServer, Route
from bot.settings import Settings
from bot.storage.db import build_engine, session_scope
from bot.storage.items import list_items
from bot.storage.sources import add_source
from bot.worker.scheduler import build_scheduler, poll_due_once
from tests.conftest import make_settings
from tests.feeds import numbered, rss


def test_poll_due_once_polls_what_is_due_and_survives_a_restart(settings: Settings, server: LocalServer,
                                                                clock: Any) -> None:
    server.route("/feed", Route(body=rss(numbered(2))))
    ctx = Context(settings=settings, engine=build_engine(settings), clock=clock)
    with session_scope(ctx.engine) as session:
        add_source(session=session, team_id="T1", kind="feed", locator=server.url("/feed"), spec="x", title="",
                   now=clock())
    assert poll_due_once(ctx).items_new == 2
    assert poll_due_once(ctx).polled == 0  # not due again yet

    # A "restart": a new context on the same database; the schedule carries over.
    restarted = Context(settings=settings, engine=build_engine(settings), clock=clock)
    assert poll_due_once(restarted).polled == 0
    clock.now += timedelta(seconds=settings.briefbot_poll_interval)
    assert poll_due_once(restarted).not_modified == 1
    with session_scope(restarted.engine) as session:
        assert len(list_items(session=session)) == 2


def test_scheduler_has_two_coalescing_jobs(settings: Settings, clock: Any) -> None:
    ctx = Context(settings=settings, engine=build_engine(settings), clock=clock)
    jobs = build_scheduler(ctx).get_jobs()
    assert [j.id for j in jobs] == ["poll-due", "deliver"]
    assert all(j.coalesce is True and j.max_instances == 1 for j in jobs)
    assert jobs[0].trigger.interval == timedelta(seconds=settings.briefbot_scheduler_tick)
    assert jobs[1].trigger.interval == timedelta(seconds=settings.briefbot_delivery_tick)


def test_the_worker_analyses_once_to_catch_up_then_only_after_news(settings: Settings, server: LocalServer,
                                                                   clock: Any) -> None:
    from bot.storage.models import Item
    from bot.storage.wanted import teams_wanting_analysis
    from bot.worker.scheduler import WorkerLoop, poll_due

    ctx = Context(settings=settings, engine=build_engine(settings), clock=clock)
    server.route("/feed", Route(body=rss(numbered(2))))
    with session_scope(ctx.engine) as session:
        add_source(session=session, team_id="T1", kind="feed", locator=server.url("/feed"), spec="x", title="",
                   now=clock())
    loop = WorkerLoop(ctx)
    assert loop.tick().items_new == 2
    with session_scope(ctx.engine) as session:
        assert all(i.story_id for i in session.exec(select(Item)))  # analysed after news: items are in stories
    assert loop.tick().polled == 0 and loop.caught_up

    # News polled by one worker is analysed by whichever worker looks next: the poll leaves it wanted.
    server.route("/feed", Route(body=rss(numbered(3))))
    clock.now += timedelta(seconds=settings.briefbot_poll_interval)
    assert poll_due(ctx).items_new == 1
    with session_scope(ctx.engine) as session:
        assert teams_wanting_analysis(session=session) == ["T1"]
    other = WorkerLoop(ctx)
    other.caught_up = True
    other.tick()
    with session_scope(ctx.engine) as session:
        assert all(i.story_id for i in session.exec(select(Item)))
        assert teams_wanting_analysis(session=session) == []


@pytest.mark.slow
def test_one_worker_per_sqlite_database_and_any_number_on_postgresql(tmp_path: Path) -> None:
    from bot.worker.single import AnotherWorkerRunning, sole_worker

    sqlite = make_settings(f"sqlite:///{tmp_path / 'one.db'}")
    with sole_worker(sqlite):
        with pytest.raises(AnotherWorkerRunning, match=rf"pid {os.getpid()}\) is already running on .*one\.db.*"
                                                       "PostgreSQL to run several"), sole_worker(sqlite):
            pass
        # A real second process: `briefbot worker` stops at once with the reason, instead of polling twice.
        briefbot = Path(sys.executable).with_name("briefbot")
        env = {**os.environ, "DATABASE_URL": sqlite.database_url}
        second = subprocess.run([str(briefbot), "worker"], cwd=tmp_path, env=env, capture_output=True, text=True,
                                timeout=60)
        assert second.returncode == 1 and "already running" in second.stderr, second.stderr
    with sole_worker(sqlite):  # released when the first one ended
        pass
    postgres = make_settings("postgresql+psycopg://postgres@127.0.0.1:5432/test")
    with sole_worker(postgres), sole_worker(postgres):  # no lock: workers share the work through leases
        pass
