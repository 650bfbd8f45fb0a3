"""Polling end to end on real databases and a real local HTTP server: store, dedupe, 304s, failures."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.demo.server import LocalServer, Route
from bot.fetch.http import build_fetcher
from bot.ingest.poller import Poller, PollReport
from bot.settings import Settings
from bot.storage.db import session_scope
from bot.storage.items import list_items
from bot.storage.models import Item, ItemLink, Poll, Source
from bot.storage.sources import add_source, item_count
from tests.feeds import numbered, rss

TEAM = "T1"


def add(engine: Engine, clock: Any, url: str, kind: str = "feed", team: str = TEAM) -> int:
    with session_scope(engine) as session:
        source, _ = add_source(session=session, team_id=team, kind=kind, locator=url, spec=url, title="", now=clock())
        return source.id or 0


def poll(settings: Settings, engine: Engine, clock: Any, **kwargs: Any) -> PollReport:
    async def run() -> PollReport:
        fetcher = build_fetcher(settings)
        try:
            return await Poller(settings=settings, engine=engine, fetcher=fetcher, clock=clock).poll(**kwargs)
        finally:
            await fetcher.aclose()

    return asyncio.run(run())


def source(engine: Engine, source_id: int) -> Source:
    with Session(engine) as session:
        found = session.get(Source, source_id)
        assert found is not None
        return found


def test_poll_stores_items_then_304_costs_nothing(settings: Settings, engine: Engine, server: LocalServer,
                                                   clock: Any) -> None:
    server.route("/feed", Route(body=rss(numbered(5))))
    sid = add(engine, clock, server.url("/feed"))
    first = poll(settings, engine, clock)
    assert (first.polled, first.ok, first.items_new) == (1, 1, 5)
    with session_scope(engine) as session:
        items = list_items(session=session, team_id=TEAM)
    assert {i.url for i in items} == {f"https://wire.example/story/{i}" for i in range(5)}  # utm_ removed
    assert all(i.text.startswith("About Story number") and "<" not in i.text for i in items)
    assert source(engine, sid).title == "Test Wire"

    # Not due yet: nothing happens. Due again: a conditional GET answered with 304.
    assert poll(settings, engine, clock).polled == 0
    clock.now += timedelta(seconds=settings.briefbot_poll_interval)
    second = poll(settings, engine, clock)
    assert (second.polled, second.not_modified, second.items_new) == (1, 1, 0)
    assert server.requests[-1][1].get("if-none-match")
    with session_scope(engine) as session:
        assert item_count(session=session, team_id=TEAM) == 5
        outcomes = [p.outcome for p in session.exec(select(Poll).order_by(Poll.id))]  # type: ignore[arg-type]
    assert outcomes == ["ok", "not_modified"]


def test_same_bytes_without_etag_skip_the_parse(settings: Settings, engine: Engine, server: LocalServer,
                                                clock: Any) -> None:
    server.route("/feed", Route(body=rss(numbered(3)), etag=False))
    add(engine, clock, server.url("/feed"))
    poll(settings, engine, clock)
    again = poll(settings, engine, clock, due_only=False)
    assert (again.unchanged, again.items_new, again.items_updated) == (1, 0, 0)


def test_changed_content_updates_the_item_in_place(settings: Settings, engine: Engine, server: LocalServer,
                                                   clock: Any) -> None:
    items = numbered(3)
    server.route("/feed", Route(body=rss(items)))
    add(engine, clock, server.url("/feed"))
    poll(settings, engine, clock)
    with session_scope(engine) as session:
        before = {i.external_id: (i.id, i.first_seen_at) for i in list_items(session=session)}
    items[1] = (items[1][0], items[1][1], "Story number 1, corrected")
    server.route("/feed", Route(body=rss([*items, ("story-9", "https://wire.example/story/9", "New one")])))
    clock.now += timedelta(hours=1)
    report = poll(settings, engine, clock, due_only=False)
    assert (report.items_new, report.items_updated) == (1, 1)
    with session_scope(engine) as session:
        after = {i.external_id: i for i in list_items(session=session)}
    corrected = after["story-1"]
    assert corrected.title == "Story number 1, corrected"
    assert (corrected.id, corrected.first_seen_at) == before["story-1"]  # same row, first seen unchanged
    assert corrected.updated_at == clock.now


def test_the_same_url_through_two_sources_is_linked_not_doubled(settings: Settings, engine: Engine,
                                                                 server: LocalServer, clock: Any) -> None:
    shared = ("https://wire.example/story/shared", "Shared scoop")
    server.route("/a", Route(body=rss([("a-scoop", shared[0], shared[1]), *numbered(2, "a")])))
    server.route("/b", Route(body=rss([("b-77", shared[0] + "?utm_medium=social", "Shared scoop, retold"),
                                       *numbered(1, "b")], title="Other Wire")))
    a, b = add(engine, clock, server.url("/a")), add(engine, clock, server.url("/b"))
    report = poll(settings, engine, clock)
    assert (report.items_new, report.items_linked) == (4, 1)  # 5 entries, 4 distinct URLs
    with session_scope(engine) as session:
        assert item_count(session=session) == 4
        scoop = session.exec(select(Item).where(Item.url == shared[0])).one()
        links = session.exec(select(ItemLink).where(ItemLink.item_id == scoop.id)).all()
        assert {link.source_id for link in links} == {a, b}
        assert {i.id for i in list_items(session=session, source_id=b)} >= {scoop.id}


def test_a_failing_source_backs_off_keeps_its_items_and_spares_the_others(
        settings: Settings, engine: Engine, server: LocalServer, clock: Any) -> None:
    server.route("/good", Route(body=rss(numbered(2, "good"))))
    server.route("/flaky", Route(body=rss(numbered(3, "flaky"))))
    good, flaky = add(engine, clock, server.url("/good")), add(engine, clock, server.url("/flaky"))
    poll(settings, engine, clock)

    server.route("/flaky", Route(status=503, headers={"Retry-After": "3600"}))
    server.route("/good", Route(body=rss(numbered(3, "good"))))
    clock.now += timedelta(seconds=settings.briefbot_poll_interval)
    report = poll(settings, engine, clock)
    assert (report.errors, report.ok, report.items_new) == (1, 1, 1)
    failed = source(engine, flaky)
    assert failed.failures == 1 and failed.last_error_kind == "http_5xx" and "HTTP 503" in (failed.last_error or "")
    assert failed.next_due_at >= clock.now + timedelta(seconds=3600)  # Retry-After honoured over the 1-minute backoff
    with session_scope(engine) as session:
        assert len(list_items(session=session, source_id=flaky)) == 3  # nothing deleted

    server.route("/flaky", Route(status=500))
    delays = []
    for _ in range(4):
        clock.now = source(engine, flaky).next_due_at
        poll(settings, engine, clock, source_ids=[flaky])
        delays.append((source(engine, flaky).next_due_at - clock.now).total_seconds())
    assert delays == sorted(delays) and delays[1] >= 2 * delays[0] * 0.9  # exponential
    assert source(engine, good).failures == 0


def test_malformed_empty_and_not_a_feed_are_reported(settings: Settings, engine: Engine, server: LocalServer,
                                                     clock: Any) -> None:
    server.route("/feed", Route(body=rss(numbered(2))))
    server.route("/broken", Route(body=b"<?xml version='1.0'?><rss><channel><title>x</tit"))
    server.route("/page", Route(body=b"<!doctype html><html><body>hello</body></html>", content_type="text/html"))
    feed, broken, page = (add(engine, clock, server.url(p)) for p in ("/feed", "/broken", "/page"))
    poll(settings, engine, clock)
    server.route("/feed", Route(body=rss([])))
    poll(settings, engine, clock, due_only=False)
    assert source(engine, broken).last_error_kind == "malformed"
    assert source(engine, page).last_error_kind == "not_a_feed"
    emptied = source(engine, feed)
    assert emptied.last_error_kind == "empty" and "had 2 last time" in (emptied.last_error or "")
    with session_scope(engine) as session:
        assert len(list_items(session=session, source_id=feed)) == 2


def test_undated_items_get_their_first_seen_time_and_a_note(settings: Settings, engine: Engine,
                                                            server: LocalServer, clock: Any) -> None:
    server.route("/undated", Route(body=rss(numbered(2), dated=False)))
    add(engine, clock, server.url("/undated"))
    poll(settings, engine, clock)
    with session_scope(engine) as session:
        items = list_items(session=session)
        note = session.exec(select(Poll.notes)).one()
    assert all(i.published_at is None and i.first_seen_at == clock.now for i in items)
    assert note and "2 of 2 items have no date" in note


def test_workspaces_keep_their_items_apart(settings: Settings, engine: Engine, server: LocalServer,
                                           clock: Any) -> None:
    server.route("/feed", Route(body=rss(numbered(2))))
    add(engine, clock, server.url("/feed"), team="T1")
    add(engine, clock, server.url("/feed"), team="T2")
    report = poll(settings, engine, clock)
    assert report.items_new == 4 and report.items_linked == 0  # same URLs, but each team has its own copy
    with session_scope(engine) as session:
        assert item_count(session=session, team_id="T1") == item_count(session=session, team_id="T2") == 2


def test_an_entry_that_moves_to_a_new_url_keeps_the_old_item(settings: Settings, engine: Engine,
                                                             server: LocalServer, clock: Any) -> None:
    server.route("/feed", Route(body=rss([("g-1", "https://wire.example/old", "Moving story")])))
    sid = add(engine, clock, server.url("/feed"))
    poll(settings, engine, clock)
    server.route("/feed", Route(body=rss([("g-1", "https://wire.example/new", "Moving story")])))
    report = poll(settings, engine, clock, due_only=False)
    assert (report.items_new, report.items_updated) == (0, 1)
    with session_scope(engine) as session:
        urls = sorted(i.url for i in list_items(session=session))
        link = session.exec(select(ItemLink).where(ItemLink.source_id == sid)).one()
        target = session.get(Item, link.item_id)
    assert urls == ["https://wire.example/new", "https://wire.example/old"]
    assert target is not None and target.url == "https://wire.example/new"
