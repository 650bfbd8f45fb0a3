"""Scale-out benchmark: throughput of 1, 2 and 4 `briefbot worker` processes sharing one PostgreSQL database.
`.venv/bin/python bench/scale.py [--quick] [--workers 1,2,4] [--sources N] [--channels C] [--llm-latency S]
[--post-interval S] [--sqlite] [--pg-url URL]`

Prints figures, asserts nothing; everything runs on 127.0.0.1. The world is tests/fleet.py's: N job boards, each
one company's; the first poll (backfill) holds two office roles per board, then the news adds three warehouse
roles in Kent: one hiring signal, one brief and one alert per following channel per board. The workers are real
processes (`briefbot worker`); the boards, the fake Slack Web API and the fake LLM endpoint share this process
(and its GIL), so the figures are a floor. The LLM answers every brief after `--llm-latency` seconds (a real
model takes about that), which is where more workers help most; `--llm-latency 0` uses the built-in writer.

Phases, timed from the moment the workers start (backfill) and from the moment the news is published:
- backfill: every board polled once and its items stored;
- news → items: every board polled again and the news stored; → briefs: every signal briefed;
  → alerts: every alert posted (paced per channel at `--post-interval` seconds)."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import PG_URL, code_version, fresh_db, pg_problem, print_rows

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # tests/ is not installed: the local servers are imported from the checkout
    sys.path.insert(0, str(ROOT))

from bot.demo.server import LocalServer  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.storage.db import build_engine, upgrade  # noqa: E402
from tests.fleet import (  # noqa: E402
    Counts,
    Fleet,
    World,
    backfilled,
    brief_reply,
    counts,
    make_all_due,
    wait_until,
    worker_env,
)
from tests.llm_server import FakeLLM  # noqa: E402
from tests.slack_server import SlackServer  # noqa: E402


def measure(db_url: str, workers: int, world: World, *, llm_latency: float, post_interval: float,
            logs: Path, timeout: float) -> dict[str, float]:
    engine = build_engine(Settings(database_url=db_url, _env_file=None))  # type: ignore[call-arg]
    upgrade(engine)

    def answer(body: dict[str, Any]) -> Any:
        reply = brief_reply(body)
        reply.delay = llm_latency
        return reply

    with LocalServer() as server, SlackServer(clock=time.time) as slack, FakeLLM(respond=answer) as llm:
        env = worker_env(db_url, slack.api_url, llm_url=llm.base_url if llm_latency > 0 else None,
                         BRIEFBOT_CHANNEL_POST_INTERVAL=str(post_interval), BRIEFBOT_LLM_TIMEOUT="30",
                         BRIEFBOT_LOG_LEVEL="WARNING")
        world.serve(server, news=False)
        world.seed(engine, server)
        expected = world.expected()
        with Fleet(env, logs) as fleet:
            started = time.monotonic()
            fleet.start(workers)
            wait_until(lambda: backfilled(engine, world), timeout=timeout, what="the backfill", every=0.1,
                       fleet=fleet)
            backfill = time.monotonic() - started
            world.serve(server, news=True)
            published = time.monotonic()
            make_all_due(engine)
            marks: dict[str, float] = {}
            goals = {"items": lambda c: c.items >= expected.items, "briefs": lambda c: c.briefs >= expected.briefs,
                     "alerts": lambda c: c.alerts >= expected.alerts and c.posts >= expected.posts}
            while len(marks) < len(goals):
                now: Counts = counts(engine, slack)
                for name, reached in goals.items():
                    if name not in marks and reached(now):
                        marks[name] = time.monotonic() - published
                if time.monotonic() - published > timeout:
                    raise SystemExit(f"{workers} workers: not done after {timeout:.0f} s: {now} of {expected}\n"
                                     + fleet.tail())
                time.sleep(0.1)
            final = counts(engine, slack)
    engine.dispose()
    if final != expected:
        raise SystemExit(f"{workers} workers ended with {final}, expected {expected}")
    return {"backfill": backfill, **marks, "alerts_n": expected.alerts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 boards, 1 and 2 workers")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--llm-latency", type=float, default=0.5)
    parser.add_argument("--post-interval", type=float, default=0.02)
    parser.add_argument("--sqlite", action="store_true", help="also one worker on SQLite, for reference")
    parser.add_argument("--pg-url", default=PG_URL)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    if args.quick:
        args.sources, args.workers = 200, "1,2"
    problem = pg_problem(args.pg_url)
    if problem:
        raise SystemExit(f"PostgreSQL not reachable at {args.pg_url}: {problem}")
    world = World(sources=args.sources, channels=args.channels)
    runs = [("postgresql", int(n)) for n in args.workers.split(",")]
    if args.sqlite:
        runs.insert(0, ("sqlite", 1))
    print(f"# scale: {args.sources} boards, {args.channels} channels, {world.expected().alerts} alerts, "
          f"LLM latency {args.llm_latency:g} s, post interval {args.post_interval:g} s")
    print(f"# code {code_version()}, {platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d')}")
    with tempfile.TemporaryDirectory() as tmp:
        for db, workers in runs:
            with fresh_db(db, args.pg_url, tmp, prefix="scale") as url:
                got = measure(url, workers, world, llm_latency=args.llm_latency, post_interval=args.post_interval,
                              logs=Path(tmp) / f"{db}-{workers}", timeout=args.timeout)
            n = args.sources
            print(f"\n## {db}, {workers} worker{'s' if workers > 1 else ''}")
            print_rows([
                ("backfill (every board polled once)", f"{got['backfill']:.1f} s, {n / got['backfill']:.0f} boards/s"),
                ("news → every item stored", f"{got['items']:.1f} s, {n / got['items']:.0f} boards/s"),
                ("news → every signal briefed", f"{got['briefs']:.1f} s, {n / got['briefs']:.1f} briefs/s"),
                ("news → every alert posted", f"{got['alerts']:.1f} s, {got['alerts_n'] / got['alerts']:.1f} alerts/s"),
            ])


if __name__ == "__main__":
    main()
