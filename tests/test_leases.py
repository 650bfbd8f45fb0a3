"""Work leases across workers, on both databases: named leases (a team's clustering, one subject's brief)
are held by one owner, run out and are taken over; a fenced transaction of a worker that lost its lease
commits nothing; delivery claims keep a channel with one worker; a delivery's post renews its lease."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.analysis.briefing import write_pending_briefs
from bot.analysis.signal_update import update_signals
from bot.briefs.builtin import WRITER_NOTE
from bot.briefs.model import BriefInput, WrittenBrief
from bot.briefs.writers import BuiltinWriter
from bot.core.signals import SignalParams
from bot.sources.base import Entry, PlaceHint
from bot.sources.item import normalise_entry
from bot.storage.db import session_scope
from bot.storage.deliveries import claim_deliveries, mark_sending
from bot.storage.items import store_items
from bot.storage.leases import acquire, fence, holding, release
from bot.storage.models import Brief, Delivery, WorkLease
from bot.storage.sources import add_source, ensure_workspace
from bot.storage.wanted import finish_work, pending_work, request_work, teams_wanting_analysis
from tests.test_signal_update import seed_seattle_hiring

LEASE = timedelta(minutes=5)


def test_a_lease_has_one_owner_until_it_runs_out(engine: Engine, clock: Any) -> None:
    now = clock()
    assert acquire(engine=engine, name="cluster:T1", owner="a", now=now, lease=LEASE)
    assert not acquire(engine=engine, name="cluster:T1", owner="b", now=now + LEASE / 2, lease=LEASE)
    assert acquire(engine=engine, name="cluster:T1", owner="a", now=now + LEASE / 2, lease=LEASE)  # renewed
    assert not acquire(engine=engine, name="cluster:T1", owner="b", now=now + LEASE, lease=LEASE)
    assert acquire(engine=engine, name="cluster:T2", owner="b", now=now, lease=LEASE)  # another name is free
    # "a" died: its lease runs out and "b" takes over.
    assert acquire(engine=engine, name="cluster:T1", owner="b", now=now + LEASE * 2, lease=LEASE)
    release(engine=engine, name="cluster:T1", owner="a")  # not a's any more: nothing happens
    assert not acquire(engine=engine, name="cluster:T1", owner="c", now=now + LEASE * 2, lease=LEASE)
    release(engine=engine, name="cluster:T1", owner="b")
    assert acquire(engine=engine, name="cluster:T1", owner="c", now=now + LEASE * 2, lease=LEASE)


def test_concurrent_acquirers_get_one_lease(engine: Engine, clock: Any) -> None:
    winners: list[str] = []
    barrier = threading.Barrier(6)

    def contend(owner: str) -> None:
        barrier.wait()
        if acquire(engine=engine, name="brief:T1:story:1", owner=owner, now=clock(), lease=LEASE):
            winners.append(owner)

    threads = [threading.Thread(target=contend, args=(f"w{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1


def test_a_worker_that_lost_its_lease_commits_nothing(engine: Engine, clock: Any) -> None:
    with holding(engine=engine, name="cluster:T1", owner="slow", clock=clock, lease=LEASE) as held:
        assert held is not None
        with session_scope(engine) as session:
            assert held.fence(session, clock())  # still ours: the work commits
        # The slow worker stalls past its lease; another takes over.
        later = clock() + LEASE * 2
        assert acquire(engine=engine, name="cluster:T1", owner="fast", now=later, lease=LEASE)
        with session_scope(engine) as session:
            assert not fence(session=session, name="cluster:T1", owner="slow", now=later, lease=LEASE)
    with Session(engine) as session:  # leaving the block released nothing of "fast"'s
        assert session.get(WorkLease, "cluster:T1").owner == "fast"  # type: ignore[union-attr]


def test_signals_are_not_saved_under_a_lost_lease(engine: Engine, clock: Any) -> None:
    seed_seattle_hiring(engine, clock)
    with holding(engine=engine, name="cluster:T1", owner="slow", clock=clock, lease=LEASE) as held:
        assert held is not None
        acquire(engine=engine, name="cluster:T1", owner="fast", now=clock() + LEASE * 2, lease=LEASE)
        lost = update_signals(engine=engine, clock=lambda: clock() + LEASE * 2, params=SignalParams(), held=held)
    assert lost.created == []
    assert update_signals(engine=engine, clock=clock, params=SignalParams()).created != []


class SlowWriter(BuiltinWriter):
    """The built-in writer, with another worker taking the subject's lease over while it writes."""

    def __init__(self, engine: Engine, clock: Any):
        super().__init__(WRITER_NOTE)
        self.engine, self.clock, self.calls = engine, clock, 0

    def write(self, inp: BriefInput) -> WrittenBrief:
        self.calls += 1
        name = f"brief:T1:{inp.subject}:{inp.subject_id}"
        assert acquire(engine=self.engine, name=name, owner="other", now=self.clock() + LEASE * 2, lease=LEASE)
        return super().write(inp)


def test_a_brief_written_after_its_lease_was_lost_is_discarded(engine: Engine, clock: Any) -> None:
    seed_seattle_hiring(engine, clock)
    update_signals(engine=engine, clock=clock, params=SignalParams())
    writer = SlowWriter(engine, clock)
    lost = write_pending_briefs(engine=engine, clock=clock, writer=writer)
    assert (lost.written, lost.busy) == ([], 1)  # not done here: the briefs stay wanted for the new holder
    assert writer.calls == 1
    with Session(engine) as session:
        assert session.exec(select(Brief)).all() == []
    # Once the other worker's lease runs out, the brief is written (once).
    later = clock() + LEASE * 4
    assert len(write_pending_briefs(engine=engine, clock=lambda: later, writer=BuiltinWriter(WRITER_NOTE)).written) == 1
    assert write_pending_briefs(engine=engine, clock=lambda: later, writer=BuiltinWriter(WRITER_NOTE)).written == []


def test_a_subject_leased_to_another_worker_is_left_to_it(engine: Engine, clock: Any) -> None:
    seed_seattle_hiring(engine, clock)
    update_signals(engine=engine, clock=clock, params=SignalParams())
    assert acquire(engine=engine, name="brief:T1:signal:1", owner="other", now=clock(), lease=LEASE)
    busy = write_pending_briefs(engine=engine, clock=clock, writer=BuiltinWriter(WRITER_NOTE))
    assert (busy.written, busy.busy) == ([], 1)
    release(engine=engine, name="brief:T1:signal:1", owner="other")
    assert len(write_pending_briefs(engine=engine, clock=clock, writer=BuiltinWriter(WRITER_NOTE)).written) == 1


def deliveries(engine: Engine, clock: Any, channels: dict[str, int]) -> None:
    with session_scope(engine) as session:
        ensure_workspace(session=session, team_id="T1", now=clock())
        for channel, count in channels.items():
            for n in range(count):
                session.add(Delivery(team_id="T1", channel_id=channel, kind="alert", payload={},
                                     dedupe_key=f"{channel}:{n}", status="pending", next_attempt_at=clock(),
                                     created_at=clock()))


def claim(engine: Engine, owner: str, now: Any, limit: int = 100) -> list[tuple[str, int]]:
    with Session(engine, expire_on_commit=False) as session:
        return [(d.channel_id, d.id or 0) for d in claim_deliveries(session=session, owner=owner, now=now,
                                                                     lease=LEASE, limit=limit)]


def test_a_channel_is_delivered_by_one_worker_at_a_time(engine: Engine, clock: Any) -> None:
    deliveries(engine, clock, {"C1": 3, "C2": 2})
    first = claim(engine, "a", clock(), limit=2)
    assert {c for c, _ in first} == {"C1"}
    assert {c for c, _ in claim(engine, "b", clock())} == {"C2"}  # C1's third waits for "a"
    assert claim(engine, "c", clock()) == []
    assert {c for c, _ in claim(engine, "a", clock())} == {"C1"}  # "a" may take the rest of its channel
    # "a" died: when its leases run out, its channel passes to another worker.
    assert sorted(c for c, _ in claim(engine, "c", clock() + LEASE * 2)) == ["C1"] * 3 + ["C2"] * 2


def test_concurrent_delivery_claims_never_share_a_channel(engine: Engine, clock: Any) -> None:
    deliveries(engine, clock, {f"C{n}": 4 for n in range(12)})
    got: dict[str, list[tuple[str, int]]] = {}
    barrier = threading.Barrier(4)

    def worker(owner: str) -> None:
        barrier.wait()
        got[owner] = claim(engine, owner, clock(), limit=5)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    owners_of: dict[str, set[str]] = {}
    for owner, claimed in got.items():
        for channel, _ in claimed:
            owners_of.setdefault(channel, set()).add(owner)
    assert owners_of and all(len(owners) == 1 for owners in owners_of.values()), owners_of
    ids = [i for claimed in got.values() for _, i in claimed]
    assert len(ids) == len(set(ids))


def test_a_post_renews_its_lease_and_a_lost_lease_stops_the_post(engine: Engine, clock: Any) -> None:
    deliveries(engine, clock, {"C1": 1})
    [(_, delivery_id)] = claim(engine, "a", clock())
    late = clock() + LEASE - timedelta(seconds=1)
    with session_scope(engine) as session:
        row = mark_sending(session=session, delivery_id=delivery_id, owner="a", now=late, lease=LEASE)
        assert row is not None and row.status == "sending" and row.attempts == 1
        assert row.lease_until == late + LEASE
    assert claim(engine, "b", clock() + LEASE + timedelta(seconds=1)) == []  # renewed: not free yet
    assert claim(engine, "b", late + LEASE * 2) == [("C1", delivery_id)]
    with session_scope(engine) as session:  # "a" woke up too late: it must not post
        assert mark_sending(session=session, delivery_id=delivery_id, owner="a", now=late + LEASE * 2,
                            lease=LEASE) is None


def test_wanted_work_is_seen_by_every_worker_and_marked_done_only_when_done(settings: Any, clock: Any) -> None:
    from tests.conftest import context_for

    ctx = context_for(settings, clock)
    seed_seattle_hiring(ctx.engine, clock)
    assert ctx.analyse(only_wanted=True).briefs == []  # nothing said it wants analysis yet
    with session_scope(ctx.engine) as session:
        request_work(session=session, team_id="T1", kind="cluster")  # what a poll that stored items does
    with session_scope(ctx.engine) as session:
        assert teams_wanting_analysis(session=session) == ["T1"]
        late = pending_work(session=session, team_id="T1", kind="cluster")  # a pass starts...
        request_work(session=session, team_id="T1", kind="cluster")  # ...more arrives during it...
        finish_work(session=session, team_id="T1", kind="cluster", up_to=late.seq)  # ...the end leaves it wanted
        assert pending_work(session=session, team_id="T1", kind="cluster").waiting
    # Another worker holds one subject's brief: the pass writes the rest and leaves the briefs wanted.
    acquire(engine=ctx.engine, name="brief:T1:signal:1", owner="other", now=clock(), lease=LEASE)
    report = ctx.analyse(only_wanted=True)
    assert (report.briefs, report.busy) == ([], 1)
    with session_scope(ctx.engine) as session:
        assert not pending_work(session=session, team_id="T1", kind="cluster").waiting
        assert pending_work(session=session, team_id="T1", kind="briefs").waiting
    release(engine=ctx.engine, name="brief:T1:signal:1", owner="other")
    assert len(ctx.analyse(only_wanted=True).briefs) == 1
    with session_scope(ctx.engine) as session:
        assert teams_wanting_analysis(session=session) == []
        # A stale pass finishing late can't mark newer work done (no reset to zero, so no A-B-A).
        request_work(session=session, team_id="T1", kind="briefs")
        finish_work(session=session, team_id="T1", kind="briefs", up_to=late.seq)
        assert teams_wanting_analysis(session=session) == ["T1"]
    ctx.engine.dispose()


class CountingWriter(BuiltinWriter):
    """The built-in writer, slowed down, counting how many of its calls overlap."""

    def __init__(self) -> None:
        super().__init__(WRITER_NOTE)
        self.lock, self.active, self.most, self.subjects = threading.Lock(), 0, 0, Counter[int]()

    def write(self, inp: BriefInput) -> WrittenBrief:
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
            self.subjects[inp.subject_id] += 1
        time.sleep(0.05)
        with self.lock:
            self.active -= 1
        return super().write(inp)


def test_a_worker_writes_several_briefs_at_once_and_each_once(engine: Engine, clock: Any) -> None:
    for n in range(6):  # six companies hiring in Kent: six signals
        with session_scope(engine) as session:
            source, _ = add_source(session=session, team_id="T1", kind="greenhouse", locator=f"https://x.example/{n}",
                                   spec=f"greenhouse:c{n}", title="", now=clock())
        entries = [Entry(external_id=f"{n}-{t}", url=f"https://x.example/{n}/{i}", title=t, outlet=f"Company {n}",
                         job_title=t, places=[PlaceHint(text="Kent, WA")])
                   for i, t in enumerate(["Warehouse Associate", "Forklift Operator", "Picker"])]
        items = [normalise_entry(e, kind="job", default_outlet="", max_chars=1000, now=clock()) for e in entries]
        with session_scope(engine) as session:
            store_items(session=session, source=source, items=[i for i in items if i], now=clock(), backfill=False)
    assert len(update_signals(engine=engine, clock=clock, params=SignalParams()).created) == 6
    writer = CountingWriter()
    written = write_pending_briefs(engine=engine, clock=clock, writer=writer, concurrency=4).written
    assert len(written) == 6 and writer.most > 1
    assert set(writer.subjects.values()) == {1}
    assert write_pending_briefs(engine=engine, clock=clock, writer=writer, concurrency=4).written == []


def test_a_channel_just_posted_to_waits_out_the_pace_whichever_worker_posted(engine: Engine, clock: Any) -> None:
    deliveries(engine, clock, {"C1": 2, "C2": 1})
    pace = timedelta(seconds=1)
    with session_scope(engine) as session:  # worker "a" posted C1's first a moment ago, then stopped
        first = session.exec(select(Delivery).where(Delivery.channel_id == "C1").order_by(Delivery.id)).first()
        assert first is not None
        first.status, first.sent_at = "sent", clock() - timedelta(milliseconds=300)

    def claim_paced(owner: str, now: Any) -> list[str]:
        with Session(engine, expire_on_commit=False) as session:
            return [d.channel_id for d in claim_deliveries(session=session, owner=owner, now=now, lease=LEASE,
                                                           limit=10, pace=pace)]

    assert claim_paced("b", clock()) == ["C2"]  # C1 waits for its pace
    assert claim_paced("b", clock() + pace) == ["C1"]
