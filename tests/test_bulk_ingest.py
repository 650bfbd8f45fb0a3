"""Issue 15.4 and 15.5: items stored in bulk (Core statements) and polls that stored nothing recorded together,
keeping the rules the one-at-a-time code kept: leases, validators, a URL stored meanwhile linked, not doubled."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.demo.server import LocalServer, Route
from bot.ingest import poller
from bot.settings import Settings
from bot.sources.base import Entry
from bot.sources.item import NormalisedItem, normalise_entry
from bot.storage.db import session_scope
from bot.storage.items import StoreCounts, store_items
from bot.storage.models import Item, ItemLink, Poll, Source
from bot.storage.sources import PollOutcome, add_source, claim_sources, finish_polls
from tests.db_faults import refuse
from tests.feeds import numbered, rss
from tests.test_poller import add, poll

LEASE = timedelta(minutes=5)


def seed(engine: Engine, clock: Any, n: int) -> list[int]:
    with session_scope(engine) as session:
        return [add_source(session=session, team_id="T1", kind="feed", locator=f"https://x.example/{i}",
                           spec=f"https://x.example/{i}", title="", now=clock())[0].id or 0 for i in range(n)]


def test_finish_polls_records_each_source_still_leased_and_no_other(engine: Engine, clock: Any) -> None:
    ids = seed(engine, clock, 3)
    with Session(engine) as session:
        sources = claim_sources(session=session, owner="me", now=clock(), lease=LEASE, limit=10)
    assert sorted(s.id or 0 for s in sources) == ids
    with session_scope(engine) as session:  # the third was taken over by another poller meanwhile
        session.exec(select(Source).where(Source.id == ids[2])).one().lease_owner = "other"
    due = clock() + timedelta(minutes=15)
    results = [(source, PollOutcome(
        outcome="not_modified" if source.id == ids[0] else "unchanged", started_at=clock(), finished_at=clock(),
        next_due_at=due, http_status=304 if source.id == ids[0] else 200, etag=f'"e{source.id}"', entries=7,
        body_hash="ab" * 32)) for source in sorted(sources, key=lambda s: s.id or 0)]
    with session_scope(engine) as session:
        assert finish_polls(session=session, owner="me", results=results) == set(ids[:2])
    with Session(engine) as session:
        rows = {s.id: s for s in session.exec(select(Source).where(col(Source.id).in_(ids)))}
        polls = list(session.exec(select(Poll).order_by(col(Poll.source_id))))
    for sid in ids[:2]:
        assert rows[sid].lease_owner is None and rows[sid].lease_until is None and rows[sid].next_due_at == due
        assert rows[sid].last_success_at == clock() and rows[sid].failures == 0
    # A 304 keeps the validators it sent; a poll that read the same bytes stores the ones it was sent.
    assert rows[ids[0]].etag is None and rows[ids[0]].body_hash is None
    assert rows[ids[1]].etag == f'"e{ids[1]}"' and rows[ids[1]].body_hash == "ab" * 32
    assert rows[ids[1]].last_entry_count == 7
    assert rows[ids[2]].lease_owner == "other" and rows[ids[2]].last_polled_at is None  # not ours: untouched
    assert [(p.source_id, p.outcome, p.http_status, p.team_id) for p in polls] == [
        (ids[0], "not_modified", 304, "T1"), (ids[1], "unchanged", 200, "T1")]


def news(i: int, clock: Any, title: str = "") -> NormalisedItem:
    item = normalise_entry(Entry(external_id=f"g{i}", url=f"https://news.example/{i}", title=title or f"Story {i}",
                                 text="<p>Body</p>"), kind="news", default_outlet="Wire", max_chars=1000, now=clock())
    assert item is not None
    return item


def test_a_url_another_poller_stored_meanwhile_is_linked_not_doubled(engine: Engine, clock: Any) -> None:
    """PostgreSQL: the second INSERT of a URL waits for the first transaction, then does nothing, and the item
    that transaction stored is linked. (SQLite has one writer: its second poll fails and is retried whole.)"""
    if engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL only")
    first_id, second_id = seed(engine, clock, 2)
    with Session(engine) as session:
        first, second = session.get_one(Source, first_id), session.get_one(Source, second_id)
    batch = [news(1, clock), news(2, clock)]
    outcome: dict[str, Any] = {}

    def other_poller() -> None:
        try:
            with session_scope(engine) as session:
                outcome["counts"] = store_items(session=session, source=second, items=batch, now=clock())
        except Exception as exc:  # reported below, with its type
            outcome["error"] = exc

    with session_scope(engine) as session:
        counts = store_items(session=session, source=first, items=batch[:1], now=clock())
        assert counts.new == 1
        thread = threading.Thread(target=other_poller)
        thread.start()
        with engine.connect() as watcher:  # wait until the other poller's INSERT waits on this transaction
            for _ in range(500):
                waiting = watcher.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                               "current_database() AND wait_event_type = 'Lock'")).scalar_one()
                if waiting:
                    break
                time.sleep(0.02)
            assert waiting, "the other poller never waited on the first one's row"
    thread.join(30)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["counts"] == StoreCounts(new=1, linked=1, new_ids=outcome["counts"].new_ids)
    assert len(outcome["counts"].new_ids) == 1
    with Session(engine) as session:
        links = list(session.exec(select(ItemLink).where(ItemLink.external_id == "g1")))
    assert len({link.item_id for link in links}) == 1 and {link.source_id for link in links} == {first_id, second_id}


def test_an_edited_story_updates_its_item_in_place(engine: Engine, clock: Any) -> None:
    (sid,) = seed(engine, clock, 1)
    with Session(engine) as session:
        source = session.get_one(Source, sid)
    with session_scope(engine) as session:
        assert store_items(session=session, source=source, items=[news(1, clock), news(2, clock)], now=clock()).new == 2
    clock.now = clock() + timedelta(hours=1)
    with session_scope(engine) as session:
        counts = store_items(session=session, source=source, items=[news(1, clock, "Story 1, corrected"),
                                                                     news(2, clock)], now=clock())
    assert (counts.new, counts.updated, counts.unchanged) == (0, 1, 1)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT title, updated_at > first_seen_at FROM items ORDER BY id")).all()
    assert [(title, bool(later)) for title, later in rows] == [("Story 1, corrected", True), ("Story 2", False)]


def test_a_304_the_database_refuses_to_record_fails_alone(settings: Settings, engine: Engine, server: LocalServer,
                                                          clock: Any) -> None:
    """Three sources answer 304 and are recorded together; the database refuses one's poll row, so the batch is
    recorded again one by one: the other two are recorded, and the refused one's poll is recorded as a failure
    to store (as when its items are refused), so it is retried."""
    for i in range(3):
        server.route(f"/feed/{i}", Route(body=rss(numbered(2, prefix=f"s{i}"))))
    ids = [add(engine, clock, server.url(f"/feed/{i}")) for i in range(3)]
    assert poll(settings, engine, clock).ok == 3
    refuse(engine, "no_poll_row", "polls", f"NEW.source_id = {ids[1]} AND NEW.outcome = 'not_modified'",
           events=("INSERT",))
    clock.now += timedelta(seconds=settings.briefbot_poll_interval)
    report = poll(settings, engine, clock)
    assert (report.polled, report.not_modified, report.errors) == (3, 2, 1)
    assert [(sid, kind) for sid, kind, _ in report.failures] == [(ids[1], "store")]
    with Session(engine) as session:
        outcomes = {(p.source_id, p.outcome) for p in session.exec(select(Poll))}
        leases = [session.get_one(Source, sid).lease_owner for sid in ids]
    assert outcomes == {(sid, "ok") for sid in ids} | {(ids[0], "not_modified"), (ids[1], "error"),
                                                       (ids[2], "not_modified")}
    assert leases == [None, None, None]


def test_every_column_comes_back_as_it_was_stored(engine: Engine, clock: Any) -> None:
    """The bulk INSERT (one JSON array of rows on PostgreSQL) keeps every value: quotes, backslashes, newlines,
    non-ASCII text, a datetime to the microsecond, a posting's places and flags, and None where a field is."""
    (sid,) = seed(engine, clock, 1)
    with Session(engine) as session:
        source = session.get_one(Source, sid)
    published = clock().replace(microsecond=123456) - timedelta(days=2)
    odd = 'He said "no" \\ then\tleft;\nZoë — 東京 😀 it\'s {"json": [1]} %s $1 ::text'
    posting = NormalisedItem(
        kind="job", external_id="job-1 'quoted'", url="https://jobs.example/1?a=b&c=\"d\"", url_key="k" * 64,
        title=odd, text=odd * 3, outlet="Zoë & Co", author="", published_at=published, job_title="Engineer \\ II",
        department="R&D", employment_type="full-time", remote=True,
        locations=[{"city": "Zürich", "country": "CH", "note": 'a "b" \\ c'}, {"city": None}], content_hash="v1:x")
    article = NormalisedItem(
        kind="news", external_id="a1", url="https://news.example/a1", url_key="a" * 64, title="Plain", text="",
        outlet="Wire", author="Ann", published_at=None, job_title=None, department=None, employment_type=None,
        remote=None, locations=[], content_hash="v1:y")
    with session_scope(engine) as session:
        counts = store_items(session=session, source=source, items=[posting, article], now=clock(), backfill=True)
    assert counts.new == 2
    with Session(engine) as session:
        stored = {i.external_id: i for i in session.exec(select(Item))}
    for entry in (posting, article):
        item = stored[entry.external_id]
        assert {name: getattr(item, name) for name in NormalisedItem.__dataclass_fields__} == \
            {name: getattr(entry, name) for name in NormalisedItem.__dataclass_fields__}
        assert (item.backfill, item.first_seen_at, item.updated_at, item.source_id) == (True, clock(), clock(), sid)
    with session_scope(engine) as session:  # and read back as known: unchanged, not stored again
        again = store_items(session=session, source=source, items=[posting, article], now=clock())
    assert (again.new, again.unchanged) == (0, 2)


def test_a_posting_s_places_with_a_lone_surrogate_and_nul_are_stored_as_they_came(engine: Engine, clock: Any) -> None:
    """A JSON column is not fitted like text: a lone surrogate in a place cannot be sent as UTF-8, so the rows go
    to PostgreSQL with ASCII escapes (as the JSON type writes them on SQLite); the posting is stored, not refused."""
    (sid,) = seed(engine, clock, 1)
    with Session(engine) as session:
        source = session.get_one(Source, sid)
    places = [{"city": "Z\ud800\x00rich", "country": "CH"}]
    posting = NormalisedItem(
        kind="job", external_id="j1", url="https://jobs.example/1", url_key="j" * 64, title="Zoë's role",
        text="x", outlet="Co", author="", published_at=None, job_title="Engineer", department=None,
        employment_type=None, remote=None, locations=places, content_hash="v1:j")
    with session_scope(engine) as session:
        counts = store_items(session=session, source=source, items=[posting], now=clock(), backfill=True)
    assert counts.new == 1
    with Session(engine) as session:
        (item,) = session.exec(select(Item))
    assert (item.locations, item.title) == (places, "Zoë's role")


def test_a_run_of_several_batches_polls_each_source_once(settings: Settings, engine: Engine, server: LocalServer,
                                                         clock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The next batch is claimed while the last one is still being stored: every source is still polled once,
    counted once, and `limit` still stops the run."""
    monkeypatch.setattr(poller, "CLAIM_BATCH", 2)
    monkeypatch.setattr(poller, "ANALYZE_AFTER", 1)  # statistics refreshed beside the next batches
    for n in range(7):
        server.route(f"/feed/{n}", Route(body=rss(numbered(3, prefix=f"s{n}"))))
    ids = [add(engine, clock, server.url(f"/feed/{n}")) for n in range(7)]
    first = poll(settings, engine, clock, limit=5)
    assert (first.polled, first.ok, first.items_new) == (5, 5, 15)
    rest = poll(settings, engine, clock)
    assert (rest.polled, rest.ok, rest.items_new) == (2, 2, 6)
    with Session(engine) as session:
        polls = list(session.exec(select(Poll.source_id)))
        assert sorted(polls) == sorted(ids)
        assert len(list(session.exec(select(Item)))) == 21
