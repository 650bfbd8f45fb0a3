"""Ingest benchmark: N synthetic RSS 2.0 feeds of M items on a local HTTP server, polled end to end.
`.venv/bin/python bench/ingest.py [--sources 1000] [--items 50] [--db sqlite|postgresql] [--pg-url URL]
[--parse-workers N]`

Prints figures, asserts nothing; every request goes to 127.0.0.1. The server runs in a forked child so its
CPU is not charged to the pipeline; the parse workers' CPU is (read from /proc). Phases: plain feedparser over
the same bodies (the reference), pickling what crosses to and from a parse worker, a full first poll (which starts
the parse workers, as `briefbot poll` does), a full second poll answered 304, a traced first poll of one claim
batch for the heap peak (the tracing sees the poller's process only). `--parse-workers 0` parses inline and passes
no parser to the Poller, so the script also runs against trees older than the parse workers."""

from __future__ import annotations

import argparse
import asyncio
import csv
import functools
import html
import logging
import multiprocessing
import os
import pickle
import platform
import random
import re
import resource
import sqlite3
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import feedparser
from common import PG_URL, code_version, fresh_db, print_rows
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.clock import utc_now
from bot.demo.server import LocalServer, Route
from bot.fetch.http import build_fetcher
from bot.ingest.poller import CLAIM_BATCH, Poller, PollReport
from bot.settings import Settings
from bot.storage.db import build_engine, session_scope, upgrade
from bot.storage.sources import add_source

if TYPE_CHECKING:  # a tree older than the parse workers has no such module
    from bot.ingest.parse_worker import ParseWorkers

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "news" / "uci-news-aggregator-dev.csv"
TEAM = "T_BENCH"
BASE_DATE = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def vocabulary() -> list[str]:
    """Words of the real UCI headlines, read in place; generated words if the corpus is absent."""
    if CORPUS.exists():
        with CORPUS.open(newline="", encoding="utf-8") as fh:
            words = [w for row in csv.DictReader(fh) for w in row["TITLE"].split()
                     if re.search(r"\w", w.strip("()[]\"'"))]
        if words:
            return words
    print(f"note: {CORPUS} not found; headlines use generated words")
    rng = random.Random(7)
    return ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10))) for _ in range(4000)]


def build_feeds(n_sources: int, n_items: int, words: list[str]) -> list[bytes]:
    rng, feeds = random.Random(2026), []
    esc = functools.partial(html.escape, quote=False)
    for s in range(n_sources):
        host = f"www.outlet{s}.example"
        outlet = " ".join(rng.sample(words, 2)).title()
        parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>',
                 f"<title>{esc(outlet)} News</title><link>https://{host}/</link>",
                 f"<description>Latest from {esc(outlet)}</description><language>en-us</language>",
                 f"<lastBuildDate>{format_datetime(BASE_DATE, usegmt=True)}</lastBuildDate>"]
        for i in range(n_items):
            title = " ".join(rng.choices(words, k=rng.randint(6, 12)))
            slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]
            link = f"https://{host}/2026/11/{slug}-{s}-{i}.html?utm_source=rss&utm_medium=feed&utm_campaign=s{s}"
            sentences: list[str] = []
            while sum(len(x) for x in sentences) < 190:
                sentences.append(" ".join(rng.choices(words, k=rng.randint(8, 14))) + ".")
            desc = (f"<p>{esc(sentences[0])}</p><p><b>{esc(' '.join(sentences[1:]))}</b> "
                    f'<a href="https://{host}/s/{s}-{i}">Read more</a></p>')
            pub = format_datetime(BASE_DATE - timedelta(minutes=17 * i + s % 60), usegmt=True)
            parts.append(f"<item><title>{esc(title)}</title><link>{esc(link)}</link>"
                         f'<guid isPermaLink="false">{host}-{s}-{i}</guid><pubDate>{pub}</pubDate>'
                         f"<description>{esc(desc)}</description></item>")
        parts.append("</channel></rss>")
        feeds.append("".join(parts).encode("utf-8"))
    return feeds


def _serve(bodies: list[bytes], conn: Any) -> None:
    with LocalServer(host="127.0.0.1") as server:
        for i, body in enumerate(bodies):
            server.route(f"/feed/{i}.xml", Route(body=body, content_type="application/rss+xml; charset=utf-8"))
        conn.send(server.port)
        conn.recv()  # until the parent says stop


@contextmanager
def serving(bodies: list[bytes]) -> Iterator[int]:
    ctx = multiprocessing.get_context("fork")  # the child inherits the bodies; nothing is pickled
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(bodies, child), daemon=True)
    proc.start()
    SERVER_PIDS.add(proc.pid or 0)
    try:
        if not parent.poll(60):
            raise RuntimeError("the local server did not start")
        yield int(parent.recv())
    finally:
        parent.send("stop")
        proc.join(10)
        if proc.is_alive():
            proc.terminate()


def prepare(url: str, urls: list[str]) -> tuple[Settings, Engine, float]:
    """Migrate, add the sources; returns the seconds adding them took."""
    settings = Settings(database_url=url, briefbot_allow_private_urls=True, _env_file=None)  # type: ignore[call-arg]
    engine = build_engine(settings)
    upgrade(engine)
    started = time.perf_counter()
    with session_scope(engine) as session:
        for u in urls:
            add_source(session=session, team_id=TEAM, kind="feed", locator=u, spec=u, title="", now=utc_now())
    return settings, engine, time.perf_counter() - started


def run_poll(settings: Settings, engine: Engine,
             parser: ParseWorkers | None = None) -> tuple[PollReport, float, float, float]:
    """One full poll (due or not); returns the report, wall seconds, this process's CPU seconds and the CPU
    seconds of its other processes but the server's (the parse workers and the fork server they come from)."""
    async def go() -> PollReport:  # as the CLI does it: one fetcher per event loop
        fetcher = build_fetcher(settings)
        extra: dict[str, Any] = {"parser": parser} if parser is not None else {}
        try:
            return await Poller(settings=settings, engine=engine, fetcher=fetcher, clock=utc_now,
                                **extra).poll(due_only=False)
        finally:
            await fetcher.aclose()

    wall, cpu, others = time.perf_counter(), time.process_time(), descendants_cpu()
    report = asyncio.run(go())
    return report, time.perf_counter() - wall, time.process_time() - cpu, descendants_cpu() - others


SERVER_PIDS: set[int] = set()  # the local server's process: its CPU is not the pipeline's


def descendants_cpu() -> float:
    """CPU seconds (user + system) of this process's descendants now alive, the server's excluded."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid], ticks[pid] = int(fields[1]), int(fields[11]) + int(fields[12])
    total, me = 0, os.getpid()
    for pid, tick in ticks.items():
        ancestor = pid
        while ancestor in parents and ancestor not in (me, 0, 1) and ancestor not in SERVER_PIDS:
            ancestor = parents[ancestor]
        if ancestor == me and pid not in SERVER_PIDS and pid != me:
            total += tick
    return total / os.sysconf("SC_CLK_TCK")


def pickling(bodies: list[bytes], settings: Settings) -> str:
    """µs per entry to pickle a page job (body in), and to pickle and unpickle its normalised result (items
    out), over the first 50 feeds: what crossing to a parse worker costs each side."""
    from bot.ingest.pages import Normalising, PageJob  # not in trees older than the parse workers
    from bot.sources.base import Document

    normalising = Normalising(outlet=None, host="bench.example", max_chars=settings.briefbot_max_text_chars,
                              now=utc_now(), source_url="http://bench.example/feed")
    jobs = [PageJob("feed", Document(url="http://bench.example/feed", body=b,
                                     content_type="application/rss+xml"), normalising) for b in bodies[:50]]
    reads = [job.run() for job in jobs]
    entries = sum(r.entries_count for r in reads)
    best: dict[str, float] = {}
    for _ in range(5):
        t0 = time.perf_counter()
        for job in jobs:
            pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        t1 = time.perf_counter()
        out = [pickle.dumps(r, protocol=pickle.HIGHEST_PROTOCOL) for r in reads]
        t2 = time.perf_counter()
        for data in out:
            pickle.loads(data)
        t3 = time.perf_counter()
        for name, took in (("job", t1 - t0), ("dumps", t2 - t1), ("loads", t3 - t2)):
            best[name] = min(best.get(name, took), took)
    us = {k: 1e6 * v / entries for k, v in best.items()}
    size = sum(map(len, out)) / entries
    return (f"job (body) {us['job']:.1f} µs/entry; result: dumps {us['dumps']:.1f} µs/entry (worker), "
            f"loads {us['loads']:.1f} µs/entry (poller); {size:.0f} bytes/entry")


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", type=int, default=1000)
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--pg-url", default=PG_URL)
    ap.add_argument("--parse-workers", type=int, default=None,
                    help="parse worker processes (default: BRIEFBOT_PARSE_WORKERS's default); 0: inline")
    args = ap.parse_args()
    workers = Settings.model_fields["briefbot_parse_workers"].default if args.parse_workers is None \
        else args.parse_workers
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    n, m, load0 = args.sources, args.items, os.getloadavg()[0]

    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}, feedparser {feedparser.__version__}")
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; code: {code_version()}; db: {args.db}; "
          f"{n} sources x {m} items; parse workers: {workers}")
    t0 = time.perf_counter()
    bodies = build_feeds(n, m, vocabulary())
    print(f"built {n} feeds, {sum(map(len, bodies)) / 1e6:.1f} MB, in {time.perf_counter() - t0:.1f} s")
    rows: list[tuple[str, str]] = []

    # Reference: plain feedparser, single-threaded, same bodies.
    t0, c0, entries = time.perf_counter(), time.process_time(), 0
    for body in bodies:
        entries += len(feedparser.parse(body).entries)
    fp_s, fp_cpu = time.perf_counter() - t0, time.process_time() - c0
    fp_rate = entries / fp_s
    rows += [("feedparser.parse alone", f"{entries} entries in {fp_s:.1f} s (CPU {fp_cpu:.1f} s) = "
              f"{fp_rate:.0f} entries/s"),
             ("  ru_maxrss after", f"{maxrss_mb():.0f} MB")]
    if workers:
        rows.append(("pickling, first 50 feeds", pickling(bodies, Settings(_env_file=None))))  # type: ignore[call-arg]
    parser = None
    if workers:
        from bot.ingest.parse_worker import ParseWorkers

        parser = ParseWorkers(size=workers, timeout=Settings.model_fields["briefbot_parse_timeout"].default)

    with serving(bodies) as port, tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        urls = [f"http://127.0.0.1:{port}/feed/{i}.xml" for i in range(n)]
        with fresh_db(args.db, args.pg_url, tmp) as url:
            settings, engine, add_s = prepare(url, urls)
            with engine.connect() as c:
                version = c.execute(text("SELECT sqlite_version()" if args.db == "sqlite" else "SHOW server_version"))
                print(f"{args.db} {version.scalar_one()}; concurrency {settings.briefbot_concurrency}, per host "
                      f"{settings.briefbot_per_host_concurrency}, claim batch {CLAIM_BATCH}")
            rows.append(("add sources", f"{n} in {add_s:.1f} s"))

            first, wall, own_cpu, worker_cpu = run_poll(settings, engine, parser)
            cpu = own_cpu + worker_cpu
            with engine.connect() as c:
                stored = int(c.execute(text("SELECT count(*) FROM items")).scalar_one())
            rate = max(stored, 1) / wall  # never 0, so the ratio below is defined
            rows += [("first poll (full)", f"{first.polled} sources ({first.ok} ok, {first.errors} errors), "
                      f"{stored} items stored in {wall:.1f} s (CPU {cpu:.1f} s: poller {own_cpu:.1f}, "
                      f"parse workers and their start {worker_cpu:.1f}) = {rate:.0f} items/s"),
                     ("  vs feedparser alone", f"{rate / fp_rate:.2f} of its rate: the pipeline is "
                      f"{fp_rate / rate:.1f}x slower per entry"),
                     # On a loaded machine CPU seconds are steadier than wall time; on PostgreSQL they leave out
                     # the server's own work (another process), so that ratio flatters it.
                     ("  per CPU second", f"{stored / cpu:.0f} items/s vs feedparser's {entries / fp_cpu:.0f}: "
                      f"{stored / cpu / (entries / fp_cpu):.2f}"),
                     # With parse workers the work runs in two processes at once; on two free CPUs the busier one
                     # sets the pace, so this is what the wall ratio tends to on a quiet machine (an upper bound).
                     ("  per CPU second of the busiest process", f"{stored / max(own_cpu, worker_cpu):.0f} items/s: "
                      f"{stored / max(own_cpu, worker_cpu) / (entries / fp_cpu):.2f}"),
                     ("  ru_maxrss after", f"{maxrss_mb():.0f} MB")]
            for sid, kind, msg in first.failures[:3]:
                print(f"failure: source {sid} {kind}: {msg}")

            second, wall, cpu, worker_cpu = run_poll(settings, engine, parser)
            rows.append(("second poll (all 304)", f"{second.polled} sources ({second.not_modified} not modified) "
                         f"in {wall:.2f} s (CPU {cpu + worker_cpu:.2f} s, parse workers {worker_cpu:.2f}) = "
                         f"{1000 * wall / max(1, second.polled):.2f} ms/source"))
            engine.dispose()

        # Heap peak: the poller holds one claim batch in flight, so one batch shows the peak.
        k = min(n, CLAIM_BATCH)
        with fresh_db(args.db, args.pg_url, tmp) as url:
            settings, engine, _ = prepare(url, urls[:k])
            tracemalloc.start()
            report, wall, _, _ = run_poll(settings, engine, parser)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            engine.dispose()
        rows += [("tracemalloc peak", f"{peak / 1e6:.1f} MB during a first poll of {k} sources "
                  f"({report.items_new} items; traced, {wall:.1f} s)"),
                 ("ru_maxrss (process)", f"{maxrss_mb():.0f} MB"),
                 ("load average (1 min)", f"{load0:.2f} at start, {os.getloadavg()[0]:.2f} at end")]
    if parser is not None:
        parser.close()

    print()
    print_rows(rows)


if __name__ == "__main__":
    main()
