"""Hostile-input benchmark (issue 11): what each attack the hostile suites cover costs now, measured.
`.venv/bin/python bench/hostile.py [--only NAME ...]`

Prints figures, asserts nothing; every request goes to 127.0.0.1, to servers this script starts. Each
measurement runs in its own forked process with a time limit, so one that fails or hangs prints its error and
the others still run, and memory figures (ru_maxrss, tracemalloc) are that measurement's own. SQLite only: the
attacks are on the fetcher, the web app and the LLM client, not on the database.

- bomb: the real Fetcher (`build_fetcher`, default BRIEFBOT_MAX_BODY_BYTES) against a gzip bomb of 1 GiB of
  zeros, compressed as it is sent (tests/test_hostile_fetch.py's BombServer); one fetch, then four at once.
- discovery: `sources add` on a page whose feed link is itself, and on a page with 2,000 feed links (404s):
  fetches counted by LocalServer.hits, through `add_by_spec` in-process and `briefbot sources add` as a command.
- slack: `briefbot serve`'s ASGI app (`create_asgi`, the real Bolt app) on uvicorn in this process, as
  tests/conftest.py `serving()` runs it, sent an unsigned 80 MiB body (declared, then chunked) from a raw
  socket, while /healthz is asked every 50 ms.
- llm: `briefbot ask --json` as a command, BRIEFBOT_LLM_TIMEOUT=5 and no retries, against tests/llm_server.py's
  FakeLLM dripping a streamed answer one byte every 2 s (after the headers, then from the status line on).
- guard: `bot.storage.fit.fit_row` (the flush guard) on 20,000 typical items (bench/ingest.py's feeds, read by
  the real feed parser and normaliser), per item, next to the first-poll cost per item in bench/RESULTS.md."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import os
import platform
import resource
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from common import PG_URL, code_version, pg_problem, print_rows

from bot.fetch.http import build_fetcher
from bot.settings import Settings
from bot.sources.base import SourceError, SpecError

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # tests/ is not installed: its local servers are imported from the checkout
    sys.path.insert(0, str(ROOT))

MiB = 1 << 20
BRIEFBOT = Path(sys.executable).with_name("briefbot")
LOCAL_ONLY = "127.0.0.1/32"  # what the README tells people testing locally to allow; nothing else is fetched
Rows = list[tuple[str, str]]

# bench/RESULTS.md, "Ingest", current figures (code 9634d8e, 2026-11-25): a first full poll of 1000 feeds x 50
# items. Quoted, not rerun: that poll takes 30 to 40 s and its own machine state.
FIRST_POLL = {"SQLite": (28.3, 50_000), "PostgreSQL": (38.0, 50_000)}  # wall seconds, items stored


# ---- running each measurement alone ----------------------------------------------------------------------------------


def _child(measure: Callable[[], Rows], conn: Any) -> None:
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    try:
        conn.send(("ok", measure()))
    except BaseException as exc:  # any failure is this measurement's, reported in the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}".splitlines()[0][:300] + "\n"
                   + "".join(traceback.format_exception(exc)[-3:])))


def isolated(name: str, measure: Callable[[], Rows], limit: float) -> Rows:
    """`measure()` in a forked child, given `limit` seconds; its rows, or one row saying why there are none."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(measure, child), name=f"bench-{name}", daemon=True)
    started = time.monotonic()
    proc.start()
    child.close()
    try:
        if not parent.poll(limit):
            return [(name, f"NOT MEASURED: still running after {limit:.0f} s; stopped")]
        status, value = parent.recv()
    except EOFError:
        return [(name, f"NOT MEASURED: the process ended without a result (exit code {proc.exitcode})")]
    finally:
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join(5)
    if status == "error":
        first, _, rest = str(value).partition("\n")
        print(f"{name} failed:\n{rest}", file=sys.stderr)
        return [(name, f"NOT MEASURED: {first}")]
    return [*value, (f"  ({name}: {time.monotonic() - started:.1f} s in all)", "")]


def rss_mib() -> float:
    """Resident memory of this process now, from /proc."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / MiB


def maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def fetch_settings(**overrides: Any) -> Settings:
    """The defaults a deployment has (no test timeouts), with only 127.0.0.1 allowed as a private address."""
    return Settings(database_url="sqlite://", briefbot_allowed_networks=LOCAL_ONLY, _env_file=None, **overrides)


def command_env(**values: str) -> dict[str, str]:
    """This environment without any briefbot, Slack, OpenAI or database setting, plus `values`."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "BRIEFBOT_", "OPENAI_", "DATABASE_URL"))}
    env.update(values)
    return env


# ---- 1. decompression bomb -------------------------------------------------------------------------------------------


def measure_bomb() -> Rows:
    from tests.test_hostile_fetch import BOMBS, BombServer

    settings = fetch_settings()
    rows: Rows = []

    async def fetch_all(urls: list[str]) -> list[BaseException | Any]:
        fetcher = build_fetcher(settings)  # one fetcher for all, as a poll shares one
        try:
            return await asyncio.gather(*(fetcher.fetch(u) for u in urls), return_exceptions=True)
        finally:
            await fetcher.aclose()

    def said(outcome: BaseException | Any) -> str:
        if isinstance(outcome, SourceError):
            return f"SourceError {outcome.kind}: {outcome}"
        if isinstance(outcome, BaseException):
            return f"{type(outcome).__name__}: {outcome}"
        return f"ACCEPTED: {len(outcome.body):,} bytes"

    whole = sum(len(chunk) for chunk in BOMBS["/gzip"][1]())  # what the server would send if read to the end
    with BombServer() as bombs:
        url = bombs.url("/gzip")
        rss0, max0 = rss_mib(), maxrss_mib()
        started = time.perf_counter()
        (outcome,) = asyncio.run(fetch_all([url]))
        wall = time.perf_counter() - started
        sent_one = bombs.sent["/gzip"]
        rows += [("bomb: 1 GiB of zeros, gzip, no Content-Length", f"cap {settings.briefbot_max_body_bytes:,} bytes "
                  "(the default BRIEFBOT_MAX_BODY_BYTES)"),
                 ("  what the fetch says", said(outcome)),
                 ("  wall time", f"{wall * 1000:.0f} ms"),
                 ("  compressed bytes the server sent", f"{sent_one:,} of the bomb's {whole:,} "
                  f"({sent_one / whole * 100:.1f}%)"),
                 ("  resident memory", f"{rss0:.0f} MiB before, ru_maxrss {maxrss_mib():.0f} MiB after "
                  f"(was {max0:.0f} at the start)")]

        started = time.perf_counter()
        outcomes = asyncio.run(fetch_all([url] * 4))
        wall = time.perf_counter() - started
        kinds = sorted({o.kind if isinstance(o, SourceError) else type(o).__name__ for o in outcomes})
        rows += [("  four bombs at once (one fetcher)", f"{sum(isinstance(o, SourceError) for o in outcomes)}/4 "
                  f"refused ({', '.join(kinds)}) in {wall * 1000:.0f} ms; server sent "
                  f"{(bombs.sent['/gzip'] - sent_one) / 4 / MiB:.2f} MiB each"),
                 ("    resident memory", f"{rss0:.0f} MiB before -> ru_maxrss {maxrss_mib():.0f} MiB")]

        tracemalloc.start()
        try:
            asyncio.run(fetch_all([url]))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        rows.append(("  tracemalloc peak, one bomb", f"{peak / MiB:.1f} MiB"))
    return rows


# ---- 2. feed autodiscovery -------------------------------------------------------------------------------------------


def measure_discovery() -> Rows:
    from bot.demo.server import LocalServer
    from bot.ingest.add import MAX_FEED_CANDIDATES, add_by_spec
    from bot.storage.db import build_engine, upgrade
    from tests.test_hostile_fetch import page

    rows: Rows = [("autodiscovery", f"MAX_FEED_CANDIDATES = {MAX_FEED_CANDIDATES}; SQLite; the page's links are "
                                    "<link rel=alternate type=application/rss+xml>")]
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp, LocalServer() as server:
        db_url = f"sqlite:///{Path(tmp) / 'discovery.db'}"
        settings = Settings(database_url=db_url, briefbot_allowed_networks=LOCAL_ONLY, _env_file=None)
        engine = build_engine(settings)
        upgrade(engine)
        server.route("/self", page(server.url("/self")))
        server.route("/many", page(*(f"/gone/{n}" for n in range(2000))))  # each answers 404
        cases = [("page whose feed link is itself", "/self"), ("page with 2,000 feed links", "/many")]

        async def add(url: str) -> str:
            fetcher = build_fetcher(settings)
            try:
                added = await add_by_spec(spec=url, kind=None, team_id="T_BENCH", channel_id=None, settings=settings,
                                          engine=engine, fetcher=fetcher, clock=lambda: datetime.now(UTC))
                return f"ADDED source {added.source.id} ({added.how})"
            except SpecError as exc:
                return f"SpecError: {exc}"
            finally:
                await fetcher.aclose()

        for label, path in cases:
            before = len(server.requests)
            started = time.perf_counter()
            outcome = asyncio.run(add(server.url(path)))
            wall = time.perf_counter() - started
            rows += [(f"  {label}: add_by_spec", f"{len(server.requests) - before} fetches "
                      f"({server.hits[path]} of the page) in {wall * 1000:.0f} ms"),
                     ("    outcome", outcome)]
        engine.dispose()

        env = command_env(DATABASE_URL=db_url, BRIEFBOT_ALLOWED_NETWORKS=LOCAL_ONLY,
                          BRIEFBOT_DEFAULT_TEAM="T_BENCH", BRIEFBOT_LOG_LEVEL="WARNING")
        for label, path in cases:
            before = len(server.requests)
            started = time.perf_counter()
            done = subprocess.run([str(BRIEFBOT), "sources", "add", server.url(path)], env=env, cwd=tmp,
                                  capture_output=True, text=True, timeout=60)
            wall = time.perf_counter() - started
            lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
            rows += [(f"  {label}: `briefbot sources add`", f"exit {done.returncode}, {len(lines)} line(s) of "
                      f"output, {len(server.requests) - before} fetches, {wall:.2f} s with the command's start-up"),
                     ("    the line", lines[0] if len(lines) == 1 else " | ".join(lines)[:400])]
    return rows


# ---- 3. an unsigned 80 MiB body at the Slack endpoint ----------------------------------------------------------------


def _status_of(sock: socket.socket) -> int | None:
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                return None
            data += chunk
    except OSError:
        return None
    return int(data.split(b" ", 2)[1])


def _attack(port: int, head: bytes, pieces: Iterator[bytes]) -> dict[str, Any]:
    """Send `head` then `pieces` as fast as the socket takes them, while another thread waits for the status
    line; returns the status, when it came, and how much of the body the socket accepted before it closed."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=15)
    out: dict[str, Any] = {"sent": 0, "stopped_by": "", "status": None, "answered_after": None}
    started = time.monotonic()

    def send() -> None:
        try:
            sock.sendall(head)
            for piece in pieces:
                sock.sendall(piece)
                out["sent"] += len(piece)
        except OSError as exc:  # the server closed the connection
            out["stopped_by"] = type(exc).__name__
        out["send_ended_after"] = time.monotonic() - started

    def read() -> None:
        out["status"] = _status_of(sock)
        out["answered_after"] = time.monotonic() - started

    threads = [threading.Thread(target=send, daemon=True), threading.Thread(target=read, daemon=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    sock.close()
    return out


@contextmanager
def polling_health(base: str, every: float = 0.05) -> Iterator[list[float]]:
    """GET /healthz every `every` seconds while the block runs; yields the latencies (a timeout counts as 5 s)."""
    latencies: list[float] = []
    stop = threading.Event()

    def poll() -> None:
        with httpx.Client(timeout=5) as client:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    client.get(base + "/healthz")
                    latencies.append(time.monotonic() - started)
                except httpx.HTTPError:
                    latencies.append(5.0)
                stop.wait(every)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield latencies
    finally:
        stop.set()
        thread.join(timeout=10)


def measure_slack() -> Rows:
    from bot.context import build_context
    from bot.slack.web import MAX_BODY_BYTES
    from tests.conftest import SLACK_SECRET, make_settings, serving
    from tests.slack_server import SlackServer

    size, piece = 80 * MiB, b"x" * 65536
    framed = b"%x\r\n" % len(piece) + piece + b"\r\n"
    chunked = (b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n")

    def trickled(framed: bytes, count: int) -> Iterator[bytes]:
        """A slow client first (one chunk every 0.25 s, under the cap, while /healthz is asked), then a fast one."""
        for n in range(count):
            if n < 8:
                time.sleep(0.25)
            yield framed

    rows: Rows = [("slack: unsigned 80 MiB POST /slack/events", f"MAX_BODY_BYTES = {MAX_BODY_BYTES:,}; uvicorn and "
                   "the Bolt app in this process; the body sent as fast as the socket takes it")]
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp, SlackServer() as slack:
        settings = make_settings(f"sqlite:///{Path(tmp) / 'slack.db'}", slack_bot_token="xoxb-test",
                                 slack_signing_secret=SLACK_SECRET, slack_api_url=slack.api_url,
                                 briefbot_slack_timeout=2.0, briefbot_log_level="WARNING")
        ctx = build_context(settings)  # migrates
        declared = (b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n" % size)
        attacks: list[tuple[str, bytes, Callable[[], Iterator[bytes]]]] = [
            ("declared (Content-Length: 80 MiB)", declared, lambda: (piece for _ in range(size // len(piece)))),
            ("chunked (no length)", chunked, lambda: (framed for _ in range(size // len(piece)))),
            ("chunked, the first 512 KiB trickled over 2 s", chunked, lambda: trickled(framed, size // len(piece))),
        ]
        with serving(ctx) as base:
            port = int(base.rsplit(":", 1)[1])
            httpx.get(base + "/healthz", timeout=5)  # warm: the first request's one-time costs are not the attack's
            for label, head, pieces in attacks:
                rss0, max0 = rss_mib(), maxrss_mib()
                with polling_health(base) as health:
                    time.sleep(0.3)  # a few answers before the attack, for the quiet latency
                    quiet = list(health)
                    out = _attack(port, head, pieces())
                    time.sleep(0.3)
                rss1, max1 = rss_mib(), maxrss_mib()
                during = health[len(quiet):]
                answered = "no status line" if out["status"] is None else f"HTTP {out['status']}"
                when = out["answered_after"]
                rows += [(f"  {label}", f"{answered} after {when * 1000:.0f} ms" if when is not None else answered),
                         ("    body the socket took", f"{out['sent'] / MiB:.1f} MiB of 80, then "
                          f"{out['stopped_by'] or 'all of it was taken'}"
                          + (f" after {out['send_ended_after'] * 1000:.0f} ms" if "send_ended_after" in out else "")),
                         ("    resident memory", f"{rss0:.0f} -> {rss1:.0f} MiB ({rss1 - rss0:+.0f}); ru_maxrss "
                          f"{max0:.0f} -> {max1:.0f} MiB ({max1 - max0:+.0f})"),
                         ("    /healthz during the attack", f"{len(during)} answers, slowest "
                          f"{max(during, default=0) * 1000:.0f} ms, median "
                          f"{statistics.median(during) * 1000 if during else 0:.1f} ms (before it: slowest "
                          f"{max(quiet, default=0) * 1000:.0f} ms)")]
            httpx.get(base + "/healthz", timeout=5).raise_for_status()  # still serving afterwards
        ctx.engine.dispose()
    return rows


# ---- 4. an LLM that drips a byte every 2 s ---------------------------------------------------------------------------


def measure_llm() -> Rows:
    from bot.storage.db import build_engine, upgrade
    from tests.conftest import make_settings
    from tests.llm_server import FakeLLM, dripped, streamed
    from tests.test_ask_answers import NOW, history, make_ctx

    rows: Rows = [("llm: `briefbot ask --json who is hiring in Kent?`", "BRIEFBOT_LLM_TIMEOUT=5, "
                   "BRIEFBOT_LLM_MAX_RETRIES=0; a streamed answer dripped one byte every 2 s; SQLite history of "
                   "3 items and a brief (tests/test_ask_answers.py)")]
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp, FakeLLM() as llm:
        db_url = f"sqlite:///{Path(tmp) / 'ask.db'}"
        upgrade(build_engine(make_settings(db_url)))
        seeded = make_ctx(db_url)
        history(seeded.engine)
        seeded.engine.dispose()
        env = command_env(DATABASE_URL=db_url, BRIEFBOT_DEFAULT_TEAM="T1", BRIEFBOT_NOW=NOW.isoformat(),
                          OPENAI_BASE_URL=llm.base_url, OPENAI_API_KEY="bench", BRIEFBOT_LLM_TIMEOUT="5",
                          BRIEFBOT_LLM_MAX_RETRIES="0", BRIEFBOT_LOG_LEVEL="WARNING")
        answers = {  # the control first: the same command against an endpoint that answers at once
            "control: streamed at once": lambda body: streamed("Kestrel is hiring [1]."),
            "dripped after the headers": lambda body: dripped(streamed("Kestrel is hiring [1]."), every=2.0),
            "dripped from the status line on": lambda body: dripped(streamed("Kestrel is hiring [1]."), every=2.0,
                                                                    headers=True),
        }
        for label, respond in answers.items():
            llm.respond = respond
            asked = len(llm.requests)
            started = time.perf_counter()
            done = subprocess.run([str(BRIEFBOT), "ask", "--json", "who", "is", "hiring", "in", "Kent?"], env=env,
                                  cwd=tmp, capture_output=True, text=True, timeout=90)
            wall = time.perf_counter() - started
            try:
                answer = json.loads(done.stdout)
                said = f"writer {answer.get('writer')!r}, note {answer.get('note')!r}"
            except ValueError:
                said = f"no JSON answer: {(done.stderr or done.stdout).strip()[:300]!r}"
            rows += [(f"  {label}", f"exit {done.returncode} after {wall:.2f} s (the command's start-up included), "
                                    f"{len(llm.requests) - asked} LLM request(s)"),
                     ("    answered by", said)]
    return rows


# ---- 5. the flush guard's cost per item ------------------------------------------------------------------------------


def measure_guard() -> Rows:
    from ingest import build_feeds, vocabulary  # bench/ingest.py: the same synthetic feeds as the ingest figures

    from bot.sources import feed
    from bot.sources.base import Document
    from bot.sources.item import normalise_entry
    from bot.storage.fit import fit_row
    from bot.storage.items import _new_item
    from bot.storage.models import ItemLink, Source

    n_sources, n_items = 400, 50
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    source = Source(id=1, team_id="T_BENCH", kind="feed", spec="bench", locator="bench", title="", created_at=now,
                    next_due_at=now)
    items, links = [], []
    started = time.perf_counter()
    for i, body in enumerate(build_feeds(n_sources, n_items, vocabulary())):
        url = f"https://www.outlet{i}.example/feed.xml"
        for entry in feed.parse(Document(url=url, body=body, content_type="application/rss+xml")).entries:
            normalised = normalise_entry(entry, kind="news", default_outlet=f"Outlet {i}", max_chars=4000, now=now,
                                         source_url=url)
            if normalised is None:
                continue
            items.append(_new_item(source, normalised, now))
            links.append(ItemLink(team_id="T_BENCH", item_id=len(items), source_id=1,
                                  external_id=normalised.external_id, content_hash=normalised.content_hash,
                                  first_seen_at=now))
    built = time.perf_counter() - started
    non_ascii = sum(not (it.title.isascii() and it.text.isascii()) for it in items)
    mean_chars = statistics.mean(len(it.title) + len(it.text) + len(it.url) for it in items)

    def per_item(objs: list[Any], rounds: int = 7) -> tuple[float, float, int]:
        """Best and median of `rounds` passes over `objs`, microseconds per object; and how many it fixed."""
        times, fixed = [], 0
        for _ in range(rounds):
            started = time.perf_counter()
            fixed = sum(len(fit_row(o)) for o in objs)
            times.append((time.perf_counter() - started) / len(objs) * 1e6)
        return min(times), statistics.median(times), fixed

    best, median, fixed = per_item(items)
    link_best, link_median, _ = per_item(links)
    rows: Rows = [("guard: fit_row per object", f"{len(items):,} items from {n_sources} feeds x {n_items} (built "
                   f"by feed.parse + normalise_entry + _new_item in {built:.1f} s); {non_ascii:,} with non-ASCII "
                   f"text; title+text+url {mean_chars:.0f} characters on average; {fixed} values needed fitting"),
                  ("  Item", f"{best:.2f} us best, {median:.2f} us median of 7 passes"),
                  ("  Item + its ItemLink (what one stored item flushes)",
                   f"{best + link_best:.2f} us best, {median + link_median:.2f} us median")]
    for db, (seconds, stored) in FIRST_POLL.items():
        cost = seconds / stored * 1e6
        rows.append((f"  vs a first poll on {db} (RESULTS.md: {stored:,} items in {seconds} s)",
                     f"{cost:.0f} us per item; the guard is {(median + link_median) / cost * 100:.2f}% of it"))
    return rows


# ---- main ------------------------------------------------------------------------------------------------------------


MEASURES: dict[str, tuple[Callable[[], Rows], float]] = {  # name: (measure, seconds allowed)
    "bomb": (measure_bomb, 60),
    "discovery": (measure_discovery, 60),
    "slack": (measure_slack, 60),
    "llm": (measure_llm, 60),
    "guard": (measure_guard, 90),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", choices=list(MEASURES), help="run only these measurements")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    load0 = os.getloadavg()[0]
    pg = pg_problem(PG_URL)
    pg_version = "not reachable" if pg else ""
    if not pg:
        from sqlalchemy import create_engine, text
        engine = create_engine(PG_URL)
        with engine.connect() as conn:
            pg_version = str(conn.execute(text("SHOW server_version")).scalar_one())
        engine.dispose()
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}, PostgreSQL {pg_version} (not used here)")
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; code: {code_version()}")
    started = time.perf_counter()
    for name in args.only or list(MEASURES):
        measure, limit = MEASURES[name]
        print()
        print_rows(isolated(name, measure, limit))
        sys.stdout.flush()
    print(f"\nload average (1 min) {load0:.2f} at start, {os.getloadavg()[0]:.2f} at end; "
          f"run {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
