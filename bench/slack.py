"""Slack benchmark: slash-command ack latency over HTTP, and outbox delivery throughput, against the fake Slack.
`.venv/bin/python bench/slack.py [--quick] [--pg | --no-pg] [--pg-url URL] [--rounds R] [--burst B] [--briefs N]
[--channels C] [--web-workers W] [--baseline DIR] [--commands-only] [--httpx]`

Prints figures, asserts nothing; everything runs on 127.0.0.1. `briefbot serve` (the real Bolt app on uvicorn, W web
processes) runs as its own processes, as in production; the fake Slack Web API from tests/slack_server.py, the
commands' client and the deliverer share this process and its GIL (so the delivery rate is a floor). Runs on a
SQLite file in a temp dir, then on a fresh schema in PostgreSQL when it is reachable (`--pg` insists on it,
`--no-pg` skips it).

Commands: R rounds of B concurrent signed `/brief list` and `/brief status` POSTs, one per keep-alive connection
(written by hand, so the client's own CPU stays out of the figures; `--httpx` sends them with httpx.AsyncClient as
before 2026-12-06, whose own time under 50 at once was most of each measured ack); the ack is the HTTP answer, the
reply is the post to the command's response_url as the fake Slack received it.
Deliveries: N briefs on N stories, each story's item carried by one of C sources, each source followed by its own
channel; `route_and_schedule` puts them in the outbox (real routing), then `Deliverer.run_once` posts them with
BRIEFBOT_CHANNEL_POST_INTERVAL=0 (the raw rate).

Side by side: `--baseline DIR` serves a second `briefbot serve` from another checkout of bot/ (PYTHONPATH=DIR, e.g.
a `git worktree` of an earlier commit) beside the current one, on the same database; the rounds alternate between
the two (baseline first in even rounds, current first in odd ones) so both see the same machine load.
`--commands-only` skips the delivery measurement."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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


@contextlib.contextmanager
def serving(settings: Settings, workers: int, tmp: str, code: str | None = None) -> Iterator[str]:
    """`briefbot serve` as production runs it: its own processes (uvicorn with `workers` web workers) on
    127.0.0.1, configured through the environment, so the bench's client and fake Slack don't share its GIL.
    `code`: serve the bot/ package of that checkout instead of this one (it goes first on PYTHONPATH)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # uvicorn binds it again below; a race with another program is possible but unlikely here
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BRIEFBOT_", "DATABASE_URL"))}
    env.update(DATABASE_URL=settings.database_url, SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET,
               SLACK_API_URL=settings.slack_api_url, BRIEFBOT_LOG_LEVEL="WARNING",
               BRIEFBOT_SLACK_TIMEOUT=str(settings.briefbot_slack_timeout))
    if code is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (code, env.get("PYTHONPATH")) if p)
    briefbot = Path(sys.executable).with_name("briefbot")
    log_path = Path(tmp) / f"serve-{port}.log"
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
            print(f"briefbot serve ({code or 'this checkout'}) logged {len(problems)} problem lines; the first:\n  "
                  + "\n  ".join(problems[:8]))


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


class Connection:
    """One keep-alive HTTP/1.1 connection, requests written and answers read by hand: a small fraction of a
    millisecond of this process's CPU per request (httpx took a few, and under 50 at once that time was counted
    in every ack)."""

    def __init__(self, reader: asyncio.StreamReader | None, writer: asyncio.StreamWriter | None, host: str,
                 client: httpx.AsyncClient | None = None) -> None:
        self.reader, self.writer, self.host, self.client = reader, writer, host, client

    @classmethod
    async def open(cls, base: str, client: httpx.AsyncClient | None = None) -> Connection:
        url = httpx.URL(base)
        if client is not None:
            return cls(None, None, f"{url.host}:{url.port}", client)
        reader, writer = await asyncio.open_connection(url.host, url.port)
        return cls(reader, writer, f"{url.host}:{url.port}")

    def request(self, path: str, body: str, headers: dict[str, str]) -> bytes:
        """The bytes of a POST (built before the clock starts)."""
        raw = body.encode()
        lines = [f"POST {path} HTTP/1.1", f"Host: {self.host}", f"Content-Length: {len(raw)}",
                 *(f"{k}: {v}" for k, v in headers.items())]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + raw

    async def send(self, request: bytes) -> tuple[int, float]:
        if self.client is not None:  # --httpx
            head, _, body = request.partition(b"\r\n\r\n")
            headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[3:])
            started = time.monotonic()
            response = await self.client.post("/slack/events", content=body, headers=headers)
            return response.status_code, time.monotonic() - started
        """The status and the seconds from writing `request` to the answer's last byte."""
        assert self.reader is not None and self.writer is not None
        if self.reader.at_eof():  # uvicorn closes a connection idle for 5 s; open it again, off the clock
            self.writer.close()
            self.reader, self.writer = await asyncio.open_connection(*self.host.rsplit(":", 1))
        started = time.monotonic()
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return status, time.monotonic() - started

    async def close(self) -> None:
        if self.writer is None:
            return
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


async def command_rounds(bases: dict[str, str], slack: SlackServer, rounds: int, burst: int,
                         use_httpx: bool = False) -> dict[str, Any]:
    """`rounds` bursts of `burst` concurrent commands (one per keep-alive connection) to each server in `bases`
    (label -> URL), the servers taking turns (in odd rounds in the reverse order); each burst's replies are awaited
    before the next."""
    sent: dict[str, float] = {}
    acks: dict[str, list[float]] = {label: [] for label in bases}
    statuses: dict[str, Counter[str]] = {label: Counter() for label in bases}
    limits = httpx.Limits(max_connections=burst, max_keepalive_connections=burst)
    clients = {label: httpx.AsyncClient(base_url=base, timeout=30, limits=limits) if use_httpx else None
               for label, base in bases.items()}
    conns = {label: [await Connection.open(base, clients[label]) for _ in range(burst)]
             for label, base in bases.items()}
    try:
        async def one(label: str, conn: Connection, hook: str, request: bytes) -> None:
            sent[hook] = time.monotonic()
            try:
                status, seconds = await asyncio.wait_for(conn.send(request), 30)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, httpx.HTTPError) as exc:
                statuses[label][type(exc).__name__] += 1
                return
            statuses[label][str(status)] += 1
            acks[label].append(seconds)

        for r in range(rounds):
            for label in (list(bases) if r % 2 == 0 else list(reversed(bases))):
                hooks = [f"{label}-r{r}-{i}" for i in range(burst)]
                requests = []
                for i, (conn, hook) in enumerate(zip(conns[label], hooks, strict=True)):
                    body = command_body("list" if i % 2 == 0 else "status", team_id=TEAM,
                                        channel_id=channel(i % 3), response_url=slack.hook_url(hook))
                    requests.append(conn.request("/slack/events", body, sign(SECRET, body)))
                await asyncio.gather(*(one(label, conn, hook, request) for conn, hook, request
                                       in zip(conns[label], hooks, requests, strict=True)))
                deadline = time.monotonic() + 30
                while len({c.method for c in slack.calls() if c.method.startswith(f"hooks/{label}-r{r}-")}) < burst:
                    if time.monotonic() > deadline:
                        break
                    await asyncio.sleep(0.01)
    finally:
        for label_conns in conns.values():
            for conn in label_conns:
                await conn.close()
        for client in clients.values():
            if client is not None:
                await client.aclose()
    out: dict[str, Any] = {}
    for label in bases:
        first_reply: dict[str, float] = {}
        failed = 0  # replies that say the command failed on briefbot's side
        for call in slack.calls():
            hook = call.method.removeprefix("hooks/")
            if call.method.startswith(f"hooks/{label}-") and hook in sent and hook not in first_reply:
                first_reply[hook] = call.at - sent[hook]
                failed += str(call.params.get("text", "")).startswith("Sorry")
        out[label] = {"acks": acks[label], "replies": list(first_reply.values()), "statuses": statuses[label],
                      "sent": sum(1 for h in sent if h.startswith(f"{label}-")), "failed": failed}
    return out


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

            codes = {"current": None} if args.baseline is None else {"baseline": args.baseline, "current": None}
            with contextlib.ExitStack() as servers:
                bases = {label: servers.enter_context(serving(settings, args.web_workers, tmp, code))
                         for label, code in codes.items()}
                started = time.perf_counter()
                results = asyncio.run(command_rounds(bases, slack, args.rounds, args.burst, args.httpx))
                cmd_s = time.perf_counter() - started
            rows.append(("commands", f"{args.rounds} rounds x {args.burst} concurrent signed /brief list and /brief "
                                     f"status to each of {', '.join(codes)} in {cmd_s:.1f} s"
                                     f"{' (httpx client)' if args.httpx else ''}; "
                                     f"briefbot serve --workers {args.web_workers}"))
            for label, cmd in results.items():
                acks_ms, replies_ms = [a * 1000 for a in cmd["acks"]], [r * 1000 for r in cmd["replies"]]
                name = "" if len(results) == 1 else f"{label} ({codes[label] or 'this checkout'}): "
                rows += [
                    (f"  {name}ack latency", f"p50 {pct(acks_ms, 50):.0f} ms, p99 {pct(acks_ms, 99):.0f} ms, max "
                                             f"{max(acks_ms, default=0):.0f} ms; over {ACK_DEADLINE:.0f} s: "
                                             f"{sum(a > ACK_DEADLINE * 1000 for a in acks_ms)}; HTTP "
                                             f"{dict(cmd['statuses'])}"),
                    (f"  {name}response_url reply", f"{len(replies_ms)}/{cmd['sent']} completed ({cmd['failed']} "
                                                    f"saying the command failed); after sending: p50 "
                                                    f"{pct(replies_ms, 50):.0f} ms, p99 {pct(replies_ms, 99):.0f} "
                                                    f"ms, max {max(replies_ms, default=0):.0f} ms"),
                ]
            if args.commands_only:
                return rows

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
    ap.add_argument("--baseline", metavar="DIR", help="also serve DIR's bot/ (a checkout of an earlier commit), rounds "
                                                     "alternating with this checkout's")
    ap.add_argument("--commands-only", action="store_true", help="skip the delivery measurement")
    ap.add_argument("--httpx", action="store_true", help="send the commands with httpx.AsyncClient (the client "
                                                          "before 2026-12-06; its own CPU time counts in the acks)")
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
