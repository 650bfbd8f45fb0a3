"""Leases: two pollers never hold the same source, expired leases are taken over, late results dropped."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.storage.db import session_scope
from bot.storage.models import Source
from bot.storage.sources import PollOutcome, add_source, claim_sources, finish_poll

LEASE = timedelta(minutes=5)


def seed(engine: Engine, clock: Any, n: int) -> list[int]:
    with session_scope(engine) as session:
        return [add_source(session=session, team_id="T1", kind="feed", locator=f"https://x.example/{i}",
                           spec=f"https://x.example/{i}", title="", now=clock())[0].id or 0 for i in range(n)]


def claim(engine: Engine, owner: str, now: Any, limit: int = 1000, **kw: Any) -> list[int]:
    with Session(engine) as session:
        return [s.id or 0 for s in claim_sources(session=session, owner=owner, now=now, lease=LEASE, limit=limit, **kw)]


def test_concurrent_claims_never_overlap(engine: Engine, clock: Any) -> None:
    ids = seed(engine, clock, 60)
    results: dict[str, list[int]] = {}
    barrier = threading.Barrier(4)

    def worker(name: str) -> None:
        barrier.wait()
        got: list[int] = []
        while batch := claim(engine, name, clock(), limit=7):
            got += batch
        results[name] = got

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [sid for got in results.values() for sid in got]
    assert sorted(claimed) == sorted(ids)  # every source once, none twice


def test_only_due_sources_are_claimed_unless_asked(engine: Engine, clock: Any) -> None:
    ids = seed(engine, clock, 3)
    with session_scope(engine) as session:
        later = session.get(Source, ids[0])
        assert later is not None
        later.next_due_at = clock() + timedelta(hours=1)
    assert sorted(claim(engine, "a", clock())) == ids[1:]
    assert claim(engine, "b", clock(), due_only=False) == [ids[0]]  # the others are leased to "a"


def test_an_expired_lease_is_taken_over_and_the_late_result_discarded(engine: Engine, clock: Any) -> None:
    (sid,) = seed(engine, clock, 1)
    assert claim(engine, "dead", clock()) == [sid]
    assert claim(engine, "other", clock() + LEASE / 2) == []
    assert claim(engine, "other", clock() + LEASE + timedelta(seconds=1)) == [sid]
    late = PollOutcome(outcome="ok", started_at=clock(), finished_at=clock(), next_due_at=clock() + timedelta(days=9))
    with session_scope(engine) as session:
        source = session.get(Source, sid)
        assert source is not None
        assert finish_poll(session=session, source=source, owner="dead", result=late) is None
    with Session(engine) as session:
        current = session.get(Source, sid)
        assert current is not None and current.lease_owner == "other" and current.next_due_at == clock()
