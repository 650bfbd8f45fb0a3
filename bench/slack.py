"""Slack benchmark: slash-command ack latency over HTTP, and outbox delivery throughput, against the fake Slack.
`.venv/bin/python bench/slack.py [--quick] [--pg | --no-pg] [--pg-url URL] [--rounds R] [--burst B] [--briefs N]
[--channels C] [--web-workers W]`

Prints figures, asserts nothing; everything runs on 127.0.0.1. `briefbot serve` (the real Bolt app on uvicorn, W web
processes) runs as its own processes, as in production; the fake Slack Web API from tests/slack_server.py, the
commands' client and the deliverer share this process and its GIL (so the delivery rate is a floor). Runs on a
SQLite file in a temp dir, then on a fresh schema in PostgreSQL when it is reachable (`--pg` insists on it,
`--no-pg` skips it).

Commands: R rounds of B concurrent signed `/brief list` and `/brief status` POSTs (httpx.AsyncClient); the ack
is the HTTP answer, the reply is the post to the command's response_url as the fake Slack received it.
Deliveries: N briefs on N stories, each story's item carried by one of C sources, each source followed by its own
channel; `route_and_schedule` puts them in the outbox (real routing), then `Deliverer.run_once` posts them with
BRIEFBOT_CHANNEL_POST_INTERVAL=0 (the raw rate)."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import os
import platform
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from common import PG_URL, code_version, databases, fresh_db, pct, print_rows
from sqlalchemy import text
from sqlmodel import Session, col, select

from bot.context import Context, build_context
from bot.settings import Settings
from bot.slack.clients import SlackClients
from bot.slack.delivery import Deliverer
from bot.storage.db import session_scope
from bot.storage.models import Brief, Delivery, Item, ItemLink, Source, Story, Subscription, Workspace
from bot.worker.outbox import route_and_schedule

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # tests/ is not installed: the Slack fakes are imported from the checkout
    sys.path.insert(0, str(ROOT))

from tests.slack_requests import command_body, sign  # noqa: E402
from tests.slack_server import SlackServer  # noqa: E402

SECRET, TEAM, TOKEN = "bench-signing-secret", "T1", "xoxb-test"  # the fake maps xoxb-test to T1
ACK_DEADLINE = 3.0  # Slack shows the user an error when a command is not acked within 3 s


# ---- setup ----------------------------------------------------------------------------------------------------------


@contextmanager
def serving(settings: Settings, workers: int, tmp: str) -> Iterator[str]:
    """`briefbot serve` as production runs it: its own processes (uvicorn with `workers` web workers) on
    127.0.0.1, configured through the environment, so the bench's client and fake Slack don't share its GIL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # uvicorn binds it again below; a race with another program is possible but unlikely here
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BRIEFBOT_", "DATABASE_URL"))}
    env.update(DATABASE_URL=settings.database_url, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET,
               SLACK_API_URL=settings.slack_api_url, BRIEFBOT_LOG_LEVEL="WARNING",
               BRIEFBOT_SLACK_TIMEOUT=str(settings.briefbot_slack_timeout))
    briefbot = Path(sys.executable).with_name("briefbot")
    log_path = Path(tmp) / "serve.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen([str(briefbot), "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--workers", str(workers)], cwd=tmp, env=env, stdout=log_file,
                                stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"briefbot serve did not start (exit code {proc.poll()}):\n"
                                 f"{log_path.read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)
        time.sleep(1.0)  # every web worker up, not just the first to answer
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        problems = [line for line in log_path.read_text(errors="replace").splitlines()
                    if any(word in line for word in ("ERROR", "WARNING", "Traceback", "Error"))]
        if problems:
            print(f"briefbot serve logged {len(problems)} problem lines; the first:\n  " + "\n  ".join(problems[:8]))


def seed(ctx: Context, n_briefs: int, n_channels: int) -> None:
    """One workspace; channel c follows source c; brief i is about story i, whose one item source i % C carried."""
    now = ctx.clock()
    with session_scope(ctx.engine) as session:
        session.add(Workspace(team_id=TEAM, name="Bench", created_at=now))
        session.flush()
        sources = [Source(team_id=TEAM, kind="feed", spec=f"https://outlet{c}.example/feed.xml",
                          locator=f"https://outlet{c}.example/feed.xml", title=f"Outlet {c}", created_at=now,
                          next_due_at=now + timedelta(hours=1)) for c in range(n_channels)]
        session.add_all(sources)
        session.flush()
        session.add_all(Subscription(team_id=TEAM, channel_id=channel(c), source_id=s.id or 0, created_at=now)
                        for c, s in enumerate(sources))
        stories = [Story(team_id=TEAM, headline=f"Kestrel Commerce opens site {i}", item_count=1,
                         outlets=[f"Outlet {i % n_channels}"], first_at=now, last_at=now, created_at=now,
                         updated_at=now) for i in range(n_briefs)]
        session.add_all(stories)
        session.flush()
        items = []
        for i, story in enumerate(stories):
            url = f"https://outlet{i % n_channels}.example/2026/11/kestrel-site-{i}.html"
            items.append(Item(team_id=TEAM, source_id=sources[i % n_channels].id or 0, kind="news",
                              external_id=url, url=url, url_key=hashlib.sha256(url.encode()).hexdigest(),
                              title=story.headline, text="Kestrel Commerce said on Tuesday it would open a site.",
                              outlet=f"Outlet {i % n_channels}", published_at=now, first_seen_at=now,
                              updated_at=now, content_hash=f"h{i}", story_id=story.id))
        session.add_all(items)
        session.flush()
        session.add_all(ItemLink(team_id=TEAM, item_id=item.id or 0, source_id=item.source_id,
                                 external_id=item.external_id, content_hash=item.content_hash, first_seen_at=now)
                        for item in items)
        session.add_all(Brief(
            team_id=TEAM, subject="story", subject_id=story.id or 0, subject_version=1, item_count=1, outlet_count=1,
            headline=story.headline, summary="Kestrel Commerce will open a fulfillment site; hiring starts in May.",
            why_it_matters="A new site means local hiring and competition for warehouse staff.",
            entities=["Kestrel Commerce"], places=["Kent, WA"], event_type="expansion",
            sources=[{"title": item.title, "url": item.url, "outlet": item.outlet, "published_at": now.isoformat()}],
            writer="llm", model="bench-model", input_hash=f"bench-{i}", created_at=now)
            for i, (story, item) in enumerate(zip(stories, items, strict=True)))


def channel(c: int) -> str:
    return f"C{c + 1:03d}"


# ---- the two measurements -------------------------------------------------------------------------------------------


async def command_rounds(base: str, slack: SlackServer, rounds: int, burst: int) -> dict[str, Any]:
    """`rounds` bursts of `burst` concurrent commands; each burst's replies are awaited before the next."""
    sent: dict[str, float] = {}
    acks: list[float] = []
    statuses: Counter[str] = Counter()
    limits = httpx.Limits(max_connections=burst, max_keepalive_connections=burst)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        async def one(hook: str, text_: str) -> None:
            body = command_body(text_, team_id=TEAM, channel_id=channel(len(sent) % 3),
                                response_url=slack.hook_url(hook))
            headers = sign(SECRET, body)
            started = time.monotonic()
            sent[hook] = started
            try:
                response = await client.post("/slack/events", content=body, headers=headers)
                statuses[str(response.status_code)] += 1
            except httpx.HTTPError as exc:
                statuses[type(exc).__name__] += 1
                return
            acks.append(time.monotonic() - started)

        for r in range(rounds):
            hooks = [f"r{r}-{i}" for i in range(burst)]
            await asyncio.gather(*(one(h, "list" if i % 2 == 0 else "status") for i, h in enumerate(hooks)))
            deadline = time.monotonic() + 30
            while len({c.method for c in slack.calls() if c.method.startswith(f"hooks/r{r}-")}) < burst:
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.01)
    first_reply: dict[str, float] = {}
    failed = 0  # replies that say the command failed on briefbot's side
    for call in slack.calls():
        hook = call.method.removeprefix("hooks/")
        if call.method.startswith("hooks/") and hook in sent and hook not in first_reply:
            first_reply[hook] = call.at - sent[hook]
            failed += str(call.params.get("text", "")).startswith("Sorry")
    return {"acks": acks, "replies": list(first_reply.values()), "statuses": statuses, "sent": len(sent),
            "failed": failed}


def deliver_all(ctx: Context, slack: SlackServer) -> dict[str, Any]:
    """Route every brief into the outbox, then post until nothing is due; time both."""
    started, routed = time.perf_counter(), 0
    while True:
        n, _ = route_and_schedule(ctx)
        routed += n
        if n == 0:
            break
    route_s = time.perf_counter() - started
    deliverer = Deliverer(engine=ctx.engine, clock=ctx.clock, settings=ctx.settings,
                          clients=SlackClients(ctx.settings, ctx.engine))
    posts_before = len(slack.posts())
    started, runs, sent = time.perf_counter(), 0, 0
    while True:
        report = deliverer.run_once()
        runs += 1
        sent += report.sent
        if report.sent == 0 and report.retried == 0:
            break
    deliver_s = time.perf_counter() - started
    with Session(ctx.engine) as session:
        statuses = Counter(str(s) for s in session.exec(select(Delivery.status)))
        ids = [int(i) for i in session.exec(select(Delivery.id).where(col(Delivery.kind) == "alert")) if i]
    posted = Counter(int(((p.params.get("metadata") or {}).get("event_payload") or {}).get("delivery_id", -1))
                     for p in slack.posts()[posts_before:])
    return {"routed": routed, "route_s": route_s, "deliver_s": deliver_s, "runs": runs, "sent": sent,
            "statuses": statuses, "ids": ids, "posted": posted}


# ---- one database ---------------------------------------------------------------------------------------------------


def run(db: str, url: str, args: argparse.Namespace, tmp: str) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    with SlackServer() as slack:
        settings = Settings(
            database_url=url, slack_bot_token=TOKEN, slack_signing_secret=SECRET, slack_api_url=slack.api_url,
            briefbot_channel_post_interval=0.0, briefbot_slack_timeout=10.0, briefbot_log_level="WARNING",
            _env_file=None)  # type: ignore[call-arg]
        ctx = build_context(settings)  # migrates
        try:
            with ctx.engine.connect() as conn:
                version = conn.execute(text("SELECT sqlite_version()" if db == "sqlite" else "SHOW server_version"))
                rows.append(("database", f"{db} {version.scalar_one()}"))
            started = time.perf_counter()
            seed(ctx, args.briefs, args.channels)
            rows.append(("seed", f"{args.briefs} stories, items, item links and briefs on {args.channels} "
                                 f"sources/channels in {time.perf_counter() - started:.1f} s"))

            with serving(settings, args.web_workers, tmp) as base:
                started = time.perf_counter()
                cmd = asyncio.run(command_rounds(base, slack, args.rounds, args.burst))
                cmd_s = time.perf_counter() - started
            acks_ms, replies_ms = [a * 1000 for a in cmd["acks"]], [r * 1000 for r in cmd["replies"]]
            rows += [
                ("commands", f"{args.rounds} rounds x {args.burst} concurrent = {cmd['sent']} signed /brief list and "
                             f"/brief status in {cmd_s:.1f} s; HTTP {dict(cmd['statuses'])}; "
                             f"briefbot serve --workers {args.web_workers}"),
                ("  ack latency", f"p50 {pct(acks_ms, 50):.0f} ms, p99 {pct(acks_ms, 99):.0f} ms, max "
                                  f"{max(acks_ms, default=0):.0f} ms; over {ACK_DEADLINE:.0f} s: "
                                  f"{sum(a > ACK_DEADLINE * 1000 for a in acks_ms)}"),
                ("  response_url reply", f"{len(replies_ms)}/{cmd['sent']} completed ({cmd['failed']} saying the "
                                         f"command failed); after sending: p50 "
                                         f"{pct(replies_ms, 50):.0f} ms, p99 {pct(replies_ms, 99):.0f} ms, max "
                                         f"{max(replies_ms, default=0):.0f} ms"),
            ]

            out = deliver_all(ctx, slack)
            ids, posted = out["ids"], out["posted"]
            twice = sum(1 for n in posted.values() if n > 1)
            missing = len(set(ids) - set(posted))
            per_channel = out["routed"] / max(1, args.channels)
            paced = Settings.model_fields["briefbot_channel_post_interval"].default
            rows += [
                ("routing (real)", f"{args.briefs} briefs -> {out['routed']} alert deliveries via route_and_schedule "
                                   f"in {out['route_s']:.1f} s = {args.briefs / out['route_s']:.0f} briefs/s"),
                ("delivery, raw rate", f"{out['sent']} posted in {out['deliver_s']:.1f} s = "
                                       f"{out['sent'] / out['deliver_s']:.0f} messages/s ({out['runs']} run_once "
                                       f"calls, channel post interval 0)"),
                ("delivery, paced", f"{out['routed']} deliveries / {args.channels} channels x {paced:.0f} s = "
                                    f"{per_channel * paced:.0f} s at the default {paced:.0f} s per channel "
                                    f"(~{args.channels / paced:.0f} messages/s across {args.channels} channels)"),
                ("exactly once", f"{sum(1 for n in posted.values() if n == 1)}/{len(ids)} deliveries posted exactly "
                                 f"once (by metadata delivery_id); twice or more {twice}, never {missing}; "
                                 f"statuses {dict(out['statuses'])}"),
                ("fake Slack", f"{len(slack.calls())} calls; block errors {len(slack.block_errors)}"),
            ]
        finally:
            ctx.engine.dispose()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 rounds x 20 commands, 300 briefs on 10 channels")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--burst", type=int)
    ap.add_argument("--briefs", type=int)
    ap.add_argument("--channels", type=int)
    pg = ap.add_mutually_exclusive_group()
    pg.add_argument("--pg", action="store_true", help="run on PostgreSQL too, and fail if it is not reachable")
    pg.add_argument("--no-pg", action="store_true", help="SQLite only")
    ap.add_argument("--pg-url", default=PG_URL)
    ap.add_argument("--web-workers", type=int, default=2, help="briefbot serve --workers (its default is 2)")
    args = ap.parse_args()
    defaults = (3, 20, 300, 10) if args.quick else (10, 50, 2000, 20)
    for name, value in zip(("rounds", "burst", "briefs", "channels"), defaults, strict=True):
        if getattr(args, name) is None:
            setattr(args, name, value)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    load0 = os.getloadavg()[0]

    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}; briefbot serve runs in its own processes, the fake Slack, the "
          f"commands' client and the deliverer share this one")
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; code: {code_version()}; "
          f"{'--quick; ' if args.quick else ''}{args.rounds} rounds x {args.burst} commands, {args.briefs} briefs "
          f"on {args.channels} channels")
    dbs = databases(args.pg_url, insist=args.pg, skip=args.no_pg)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-slack-") as tmp:
        for db in dbs:
            with fresh_db(db, args.pg_url, tmp, "bench-slack") as url:
                rows = run(db, url, args, tmp)
            print()
            print_rows(rows)
    print(f"\nload average (1 min) {load0:.2f} at start, {os.getloadavg()[0]:.2f} at end; "
          f"run {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
