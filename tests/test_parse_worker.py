"""Parsing in worker processes (`ingest/parse_worker`): a poll through a worker stores what an inline poll
stores; a body that makes the parser fail, run too long or die fails its own source with one line, a new worker
takes the dead one's place, and the other sources are polled; closing stops the processes. Real processes, real
databases, a real local HTTP server."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.context import Context
from bot.demo.server import LocalServer, Route
from bot.fetch.http import build_fetcher
from bot.ingest.parse_worker import ParseWorkers
from bot.ingest.poller import Poller, PollReport
from bot.settings import Settings
from bot.sources.base import SourceError
from bot.storage.models import Item
from tests.conftest import make_settings
from tests.feeds import numbered, rss
from tests.test_poller import add, source

HUGE = 12_000  # entries: seconds of parsing, whatever the machine


@pytest.fixture
def workers() -> Iterator[ParseWorkers]:
    pool = ParseWorkers(size=1, timeout=60)
    yield pool
    pool.close()


def poll(settings: Settings, engine: Engine, clock: Any, parser: ParseWorkers | None, **kwargs: Any) -> PollReport:
    async def run() -> PollReport:
        fetcher = build_fetcher(settings)
        try:
            return await Poller(settings=settings, engine=engine, fetcher=fetcher, clock=clock,
                                parser=parser).poll(**kwargs)
        finally:
            await fetcher.aclose()

    return asyncio.run(run())


def stored(engine: Engine, source_id: int) -> list[tuple[Any, ...]]:
    with Session(engine) as session:
        items = session.exec(select(Item).where(Item.source_id == source_id).order_by(Item.url_key)).all()
        return [(i.kind, i.external_id, i.url, i.url_key, i.title, i.text, i.outlet, i.author, i.published_at,
                 i.content_hash, i.job_title, i.department, i.employment_type, i.remote, i.locations) for i in items]


def postings_page(offset: int, total: int, ids: range) -> bytes:
    """A SmartRecruiters page: postings `ids` of `total`, starting at `offset`."""
    content = [{"id": f"p{i}", "name": f"Engineer {i}", "releasedDate": "2026-11-20T10:00:00Z",
                "company": {"identifier": "acme", "name": "Acme Corp"},
                "location": {"city": "Berlin", "country": "de", "fullLocation": "Berlin, Germany"},
                "department": {"label": "Engineering"}, "typeOfEmployment": {"label": "Full-time"},
                "jobAd": {"sections": {"jobDescription": {"text": f"<p>Build things #{i}</p>"}}}} for i in ids]
    return json.dumps({"offset": offset, "limit": 100, "totalFound": total, "content": content}).encode()


def serve_sources(server: LocalServer) -> dict[str, str]:
    server.route("/feed", Route(body=rss(numbered(8))))
    server.route("/undated", Route(body=rss(numbered(3, prefix="memo"), title="<b>Memo</b> Wire", dated=False)))
    server.route("/sr", Route(body=postings_page(0, 3, range(2)), content_type="application/json"))
    server.route("/sr?offset=2&limit=100", Route(body=postings_page(2, 3, range(2, 3)),
                                                 content_type="application/json"))
    return {"/feed": "feed", "/undated": "feed", "/sr": "smartrecruiters"}


def test_a_poll_through_a_worker_stores_what_an_inline_poll_stores(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any, workers: ParseWorkers) -> None:
    paths = serve_sources(server)
    inline = {p: add(engine, clock, server.url(p), kind) for p, kind in paths.items()}
    pooled = {p: add(engine, clock, server.url(p), kind, team="T2") for p, kind in paths.items()}
    assert poll(settings, engine, clock, None, source_ids=list(inline.values())).ok == 3
    assert workers.pids() == []  # started by the first job, not before
    report = poll(settings, engine, clock, workers, source_ids=list(pooled.values()))
    assert (report.ok, report.errors, report.items_new) == (3, 0, 8 + 3 + 3)
    assert len(workers.pids()) == 1 and workers.pids() != [os.getpid()]
    for path in paths:
        assert stored(engine, pooled[path]) == stored(engine, inline[path]) != []
        a, b = source(engine, inline[path]), source(engine, pooled[path])
        assert (b.title, b.last_notes, b.last_entry_count) == (a.title, a.last_notes, a.last_entry_count)
    assert source(engine, pooled["/undated"]).last_notes == "3 of 3 items have no date; their first-seen time stands in"
    assert source(engine, pooled["/sr"]).title == "Acme Corp"
    assert server.hits["/sr"] == 4  # two pages, twice

    # The same bytes again (no ETag): parsed, not normalised, nothing stored; a changed page 2 is stored.
    server.route("/feed", Route(body=rss(numbered(8)), etag=False))
    server.route("/sr", Route(body=postings_page(0, 3, range(2)), content_type="application/json", etag=False))
    server.route("/sr?offset=2&limit=100", Route(body=postings_page(2, 3, range(3, 4)),
                                                 content_type="application/json"))
    again = poll(settings, engine, clock, workers, source_ids=[pooled["/feed"], pooled["/sr"]], due_only=False)
    assert (again.ok, again.unchanged, again.items_new) == (1, 1, 1)


def test_a_body_the_parser_refuses_fails_its_source_alone(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any, workers: ParseWorkers) -> None:
    server.route("/feed", Route(body=rss(numbered(4))))
    server.route("/broken.json", Route(body=b'{"version": "https://jsonfeed.org/version/1.1", "items": [',
                                       content_type="application/feed+json"))
    good, bad = add(engine, clock, server.url("/feed")), add(engine, clock, server.url("/broken.json"), "jsonfeed")
    report = poll(settings, engine, clock, workers)
    assert (report.ok, report.errors, report.items_new) == (1, 1, 4)
    broken = source(engine, bad)
    assert broken.last_error_kind == "malformed"  # the parser's own SourceError, carried back as data
    assert broken.last_error is not None and "malformed JSON" in broken.last_error and "\n" not in broken.last_error
    assert source(engine, good).last_error is None
    assert len(workers.pids()) == 1


class Raises:
    """A job whose run() raises what no parser should: the pool's answer to any job's bug."""

    def run(self) -> None:
        raise ValueError("no such field\nsecond line")


class Answers:
    def __init__(self, value: int):
        self.value = value

    def run(self) -> tuple[int, int]:
        return self.value, os.getpid()


def test_a_job_that_raises_fails_alone_and_the_worker_stays(workers: ParseWorkers) -> None:
    async def run() -> tuple[Any, ...]:
        return tuple(await asyncio.gather(workers.run(Answers(1)), workers.run(Raises()), workers.run(Answers(2)),
                                          return_exceptions=True))

    first, failed, second = asyncio.run(run())
    assert isinstance(failed, SourceError) and failed.kind == "internal"
    assert str(failed) == "ValueError: no such field"  # its first line
    assert first[0] == 1 and second[0] == 2 and first[1] == second[1] == workers.pids()[0] != os.getpid()


def test_spawned_workers_serve_too() -> None:
    """Where there is no fork server (Windows), the pool spawns its workers; the same jobs run there."""
    pool = ParseWorkers(size=1, timeout=30, start_method="spawn")
    try:
        value, pid = asyncio.run(asyncio.wait_for(pool.run(Answers(7)), 60))
        assert value == 7 and pid == pool.pids()[0] != os.getpid()
    finally:
        pool.close()
    assert pool.pids() == []


def test_when_no_worker_can_start_the_jobs_fail_instead_of_waiting() -> None:
    pool = ParseWorkers(size=1, timeout=5, start_method="no-such-method")
    try:
        with pytest.raises(SourceError) as info:
            asyncio.run(asyncio.wait_for(pool.run(Answers(1)), 30))
        assert info.value.kind == "parser"
        assert str(info.value).startswith("no process could be started to read the response (ValueError: ")
    finally:
        pool.close()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def test_a_worker_killed_while_parsing_fails_that_source_alone_and_is_replaced(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any, workers: ParseWorkers) -> None:
    server.route("/huge", Route(body=rss(numbered(HUGE, prefix="big"))))
    for n in range(3):
        server.route(f"/small{n}", Route(body=rss(numbered(3, prefix=f"s{n}"))))
    huge = add(engine, clock, server.url("/huge"))
    small = [add(engine, clock, server.url(f"/small{n}")) for n in range(3)]
    done: list[PollReport] = []
    polling = threading.Thread(target=lambda: done.append(poll(settings, engine, clock, workers)))
    polling.start()
    deadline = time.monotonic() + 60
    while not workers.pids() or cpu_seconds(workers.pids()[0]) < 0.5:  # the small feeds take milliseconds
        assert time.monotonic() < deadline and polling.is_alive()
        time.sleep(0.02)
    victim = workers.pids()[0]
    os.kill(victim, signal.SIGKILL)
    polling.join(60)
    report = done[0]
    assert (report.ok, report.errors, report.items_new) == (3, 1, 9)
    failed = source(engine, huge)
    assert failed.last_error_kind == "parser"
    assert failed.last_error == "the process reading the response died (killed by SIGKILL); it will be retried"
    assert all(source(engine, s).last_error is None for s in small)
    server.route("/small0", Route(body=rss(numbered(5, prefix="s0"))))
    clock.now += timedelta(seconds=settings.briefbot_poll_interval)
    assert poll(settings, engine, clock, workers, source_ids=[small[0]]).items_new == 2
    # replaced: a new worker parsed that poll (checked after it: under load the replacement may still be
    # starting when the first poll returns)
    assert len(workers.pids()) == 1 and workers.pids() != [victim]


def test_a_parse_past_the_timeout_is_stopped_and_fails_its_source_alone(
        db_url: str, engine: Engine, server: LocalServer, clock: Any, caplog: pytest.LogCaptureFixture) -> None:
    settings = make_settings(db_url, briefbot_parse_timeout=0.5)
    server.route("/huge", Route(body=rss(numbered(HUGE, prefix="big"))))
    server.route("/small", Route(body=rss(numbered(3))))
    huge, small = add(engine, clock, server.url("/huge")), add(engine, clock, server.url("/small"))
    pool = ParseWorkers(size=1, timeout=settings.briefbot_parse_timeout)
    try:
        report = poll(settings, engine, clock, pool)
        assert (report.ok, report.errors, report.items_new) == (1, 1, 3)
        failed = source(engine, huge)
        assert (failed.last_error_kind, failed.last_error) == (
            "parser", "reading the response took over 0.5s (BRIEFBOT_PARSE_TIMEOUT), so it was stopped; it will be "
                      "retried")
        assert source(engine, small).last_error is None
        assert "ran past 0.5s on one response and was stopped" in caplog.text  # killed, not waited for
        # And replaced: by the workers' own thread, which may still be starting it when the run returns.
        deadline = time.monotonic() + 10
        while not pool.pids() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(pool.pids()) == 1
    finally:
        pool.close()


def test_close_stops_the_processes(workers: ParseWorkers) -> None:
    asyncio.run(workers.run(Answers(1)))
    pids = workers.pids()
    assert len(pids) == 1 and Path(f"/proc/{pids[0]}").exists()
    workers.close()
    assert workers.pids() == [] and not Path(f"/proc/{pids[0]}").exists()  # ended and reaped
    with pytest.raises(RuntimeError, match="closed"):
        asyncio.run(workers.run(Answers(2)))
    workers.close()  # twice is fine


def test_the_context_builds_the_workers_lazily_and_closes_them(settings: Settings, engine: Engine) -> None:
    ctx = Context(settings=settings, engine=engine, clock=lambda: datetime.now(UTC))
    pool = ctx.parse_workers()
    assert pool is not None and pool is ctx.parse_workers() and (pool.size, pool.timeout) == (1, 30.0)
    assert pool.pids() == []  # nothing polled, nothing started
    asyncio.run(pool.run(Answers(1)))
    (pid,) = pool.pids()
    ctx.close()
    assert not Path(f"/proc/{pid}").exists()
    inline = Context(settings=make_settings(settings.database_url, briefbot_parse_workers=0), engine=engine,
                     clock=ctx.clock)
    assert inline.parse_workers() is None


def test_starting_the_cli_imports_no_process_machinery() -> None:
    script = ("import sys, bot.cli, bot.context, bot.cli.poll_cmd, bot.ingest.poller; "
              "print(sorted(m for m in ('multiprocessing', 'concurrent.futures.process') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
