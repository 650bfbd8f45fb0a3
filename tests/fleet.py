"""A fleet: real `briefbot worker` processes sharing one database, polling a world of job boards served on
127.0.0.1, posting to the recording Slack Web API, and writing briefs with a local LLM endpoint (or the
built-in writer). The scale test, the fault-injection suite and bench/scale.py drive it.

The world is made so that its outcome doesn't depend on timing: every board is one company's; its first
poll (the backfill) holds two office roles, and after `World.news()` it also holds three warehouse roles
in Kent, WA: one hiring signal, one brief and one alert in each channel that follows the board. So a run
with faults must end with exactly the counts of a run without."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.demo.server import LocalServer, Route
from bot.storage.db import session_scope
from bot.storage.models import Brief, Delivery, Item, Signal, Source
from bot.storage.sources import add_source, ensure_workspace, subscribe

TEAM = "T1"
BACKFILL = [("Software Engineer", "Boston, MA"), ("Account Executive", "Boston, MA")]
NEWS = [("Warehouse Associate", "Kent, WA"), ("Forklift Operator", "Kent, WA"), ("Picker Packer", "Kent, WA")]


@dataclass(frozen=True)
class Counts:
    items: int
    signals: int
    briefs: int
    alerts: int  # deliveries posted
    posts: int = 0  # messages Slack stored


@dataclass
class World:
    """`sources` job boards followed across `channels` channels; every `twice`-th board in two of them."""

    sources: int
    channels: int = 8
    twice: int = 5

    def path(self, n: int) -> str:
        return f"/boards/{n}"

    def company(self, n: int) -> str:
        return f"Fleetco {n:04d} Logistics"

    def channels_of(self, n: int) -> list[str]:
        first = f"C{n % self.channels:03d}"
        if self.twice and n % self.twice == 0 and self.channels > 1:
            return [first, f"C{(n + 1) % self.channels:03d}"]
        return [first]

    def board(self, n: int, *, news: bool) -> bytes:
        roles = BACKFILL + (NEWS if news else [])
        jobs = [{"id": n * 100 + i, "title": title, "location": {"name": city},
                 "absolute_url": f"https://jobs.example/{n}/{n * 100 + i}", "company_name": self.company(n),
                 "departments": [], "content": f"{title} at {self.company(n)} in {city}."}
                for i, (title, city) in enumerate(roles)]
        return json.dumps({"jobs": jobs, "meta": {"total": len(jobs)}}).encode()

    def serve(self, server: LocalServer, *, news: bool) -> None:
        for n in range(self.sources):
            server.route(self.path(n), Route(body=self.board(n, news=news), content_type="application/json"))

    def seed(self, engine: Engine, server: LocalServer) -> None:
        now = datetime.now(UTC)
        with session_scope(engine) as session:
            ensure_workspace(session=session, team_id=TEAM, now=now)
            for n in range(self.sources):
                source, _ = add_source(session=session, team_id=TEAM, kind="greenhouse",
                                       locator=server.url(self.path(n)), spec=f"greenhouse:fleet{n}", title="",
                                       now=now)
                for channel in self.channels_of(n):
                    subscribe(session=session, team_id=TEAM, channel_id=channel, source_id=source.id or 0, now=now)

    def expected(self) -> Counts:
        alerts = sum(len(self.channels_of(n)) for n in range(self.sources))
        # Each following channel also gets one first look at its board (what it has open), posted once.
        return Counts(items=self.sources * (len(BACKFILL) + len(NEWS)), signals=self.sources,
                      briefs=self.sources, alerts=alerts, posts=2 * alerts)


def make_all_due(engine: Engine) -> None:
    """What the poll interval passing would do: every source is due now."""
    with session_scope(engine) as session:
        session.execute(update(Source).values(next_due_at=datetime.now(UTC)))


def counts(engine: Engine, slack: Any = None) -> Counts:
    with Session(engine) as session:
        def n(model: Any, *where: Any) -> int:
            return int(session.exec(select(func.count()).select_from(model).where(*where)).one())

        return Counts(items=n(Item), signals=n(Signal), briefs=n(Brief),
                      alerts=n(Delivery, col(Delivery.status) == "sent", Delivery.kind == "alert"),
                      posts=len(slack.posts()) if slack is not None else 0)


def backfilled(engine: Engine, world: World) -> bool:
    with Session(engine) as session:
        polled = session.exec(select(func.count()).select_from(Source)
                              .where(col(Source.last_success_at).is_not(None))).one()
        return int(polled) == world.sources and counts(engine).items == world.sources * len(BACKFILL)


def posted_delivery_ids(slack: Any) -> Counter[int]:
    """How many times Slack stored a message for each delivery (from the metadata every alert carries)."""
    seen: Counter[int] = Counter()
    for call in slack.posts():
        metadata = call.params.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        delivery_id = ((metadata or {}).get("event_payload") or {}).get("delivery_id")
        if delivery_id is not None:
            seen[int(delivery_id)] += 1
    return seen


def wait_until(done: Callable[[], bool], *, timeout: float, what: str | Callable[[], str], every: float = 0.25,
               fleet: Fleet | None = None) -> None:
    """Wait for `done()` to hold; past `timeout`, fail with `what` (a callable is read then, so it can say
    how far things got) and the workers' last log lines."""
    started = time.monotonic()
    while not done():
        if time.monotonic() - started > timeout:
            tail = fleet.tail() if fleet is not None else ""
            raise AssertionError(f"not done after {timeout:.0f} s: {what() if callable(what) else what}\n{tail}")
        time.sleep(every)


def worker_env(database_url: str, slack_api_url: str, *, llm_url: str | None = None,
               **overrides: str) -> dict[str, str]:
    """A worker's environment: the inherited one without briefbot's or Slack's or OpenAI's settings, and
    short ticks, leases and timeouts so that a fault is noticed and recovered from within seconds."""
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("BRIEFBOT_", "SLACK_", "OPENAI_", "DATABASE_URL"))}
    env = {
        **keep, "DATABASE_URL": database_url, "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": slack_api_url,
        "BRIEFBOT_ALLOW_PRIVATE_URLS": "true", "BRIEFBOT_SCHEDULER_TICK": "1", "BRIEFBOT_DELIVERY_TICK": "1",
        "BRIEFBOT_CHANNEL_POST_INTERVAL": "0.02", "BRIEFBOT_LEASE_SECONDS": "10", "BRIEFBOT_SLACK_TIMEOUT": "2",
        "BRIEFBOT_RETRY_BASE": "1", "BRIEFBOT_MAX_BACKOFF": "4", "BRIEFBOT_POLL_INTERVAL": "3600",
        "BRIEFBOT_CONNECT_TIMEOUT": "2", "BRIEFBOT_READ_TIMEOUT": "2", "BRIEFBOT_FETCH_DEADLINE": "4",
        "BRIEFBOT_MAX_BODY_BYTES": "1000000", "BRIEFBOT_LLM_TIMEOUT": "2", "BRIEFBOT_LLM_MAX_RETRIES": "1",
        "BRIEFBOT_LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1",
    }
    if llm_url:
        env.update(OPENAI_BASE_URL=llm_url, OPENAI_API_KEY="sk-fleet-test")
    env.update(overrides)
    return env


@dataclass
class Fleet:
    """`briefbot worker` processes, each logging to its own file under `logs`."""

    env: dict[str, str]
    logs: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, count: int) -> Fleet:
        for _ in range(count):
            self.spawn()
        return self

    def spawn(self) -> int:
        self.logs.mkdir(parents=True, exist_ok=True)
        n = len(self.processes)
        briefbot = Path(sys.executable).with_name("briefbot")
        with open(self.logs / f"worker-{n}.log", "ab") as log:
            self.processes.append(subprocess.Popen([str(briefbot), "worker"], cwd=self.logs, env=self.env,
                                                   stdout=log, stderr=subprocess.STDOUT))
        return n

    def kill(self, n: int) -> None:
        """kill -9: no cleanup, no lease given back."""
        self.processes[n].send_signal(signal.SIGKILL)
        self.processes[n].wait(timeout=10)

    def alive(self) -> int:
        return sum(p.poll() is None for p in self.processes)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    def tail(self, lines: int = 15) -> str:
        out = []
        for log in sorted(self.logs.glob("worker-*.log")):
            text = log.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {log.name}\n" + "\n".join(text))
        return "\n".join(out)

    def log_text(self) -> str:
        return "\n".join(log.read_text(errors="replace") for log in sorted(self.logs.glob("worker-*.log")))

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def brief_reply(body: dict[str, Any]) -> Any:
    """The local LLM's answer to a brief request: a valid brief naming the company in the request."""
    from tests.llm_server import completion

    text = json.dumps(body.get("messages", []))
    start = text.find("Fleetco ")
    company = text[start:start + len("Fleetco 0000 Logistics")] if start >= 0 else "A company"
    return completion(json.dumps({
        "headline": f"{company} starts hiring warehouse staff in Kent",
        "summary": f"{company} posted three warehouse roles in Kent, WA, its first there.",
        "why_it_matters": "It suggests a new fulfillment site near Seattle.",
        "entities": [company], "places": ["Kent"], "event_type": "hiring_new_metro"}))


@dataclass
class Run:
    """One scenario's outcome: the counts, the deliveries Slack stored more than once, how long it took."""

    counts: Counts
    duplicates: dict[int, int]
    seconds: float


def run_world(*, world: World, engine: Engine, server: LocalServer, slack: Any, fleet: Fleet, workers: int,
              at_news: Callable[[], None] | None = None, during: Callable[[], None] | None = None,
              timeout: float = 120.0) -> Run:
    """Seed the world, start `workers`, let them backfill, publish the news (calling `at_news()` before any
    worker can poll it), call `during()` (a fault that needs the fleet at work), and wait until every alert
    is delivered; then stop the fleet."""
    world.serve(server, news=False)
    world.seed(engine, server)
    started = time.monotonic()
    fleet.start(workers)
    expected = world.expected()
    wait_until(lambda: backfilled(engine, world), timeout=timeout, what="the backfill", fleet=fleet)
    world.serve(server, news=True)
    if at_news is not None:
        at_news()
    make_all_due(engine)
    if during is not None:
        during()
    wait_until(lambda: counts(engine, slack) == expected, timeout=timeout, fleet=fleet,
               what=lambda: f"expected {expected}, have {counts(engine, slack)}")
    seconds = time.monotonic() - started
    time.sleep(1.5)  # a little longer: a duplicate post would show up now
    fleet.stop()
    duplicates = {d: n for d, n in posted_delivery_ids(slack).items() if n > 1}
    return Run(counts(engine, slack), duplicates, seconds)
