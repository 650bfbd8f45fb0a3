"""Several real `briefbot worker` processes on one database: the work spreads across them and every alert
is posted exactly once. PostgreSQL takes two workers on a few hundred boards; SQLite takes one."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.demo.server import LocalServer
from tests.fleet import Fleet, World, posted_delivery_ids, run_world, worker_env
from tests.slack_server import SlackServer

pytestmark = pytest.mark.slow  # starts worker processes


def test_two_workers_share_a_few_hundred_boards_and_post_each_alert_once(
        db_url: str, engine: Engine, server: LocalServer, real_slack: SlackServer, tmp_path: Path) -> None:
    postgres = db_url.startswith("postgresql")
    world = World(sources=300 if postgres else 60, channels=12)
    workers = 2 if postgres else 1  # SQLite takes one worker (a second one stops at once, tests/test_worker.py)
    with Fleet(worker_env(db_url, real_slack.api_url), tmp_path / "logs") as fleet:
        run = run_world(world=world, engine=engine, server=server, slack=real_slack, fleet=fleet, workers=workers,
                        timeout=150)
    assert run.counts == world.expected()
    assert run.duplicates == {}
    assert sorted(posted_delivery_ids(real_slack)) == sorted(set(posted_delivery_ids(real_slack)))
    assert "Traceback" not in fleet.log_text(), fleet.tail()
    if workers > 1:  # the work was shared: every worker polled boards and posted alerts
        for log in sorted((tmp_path / "logs").glob("worker-*.log")):
            text = log.read_text()
            assert "polled " in text and " sent" in text, log.name
