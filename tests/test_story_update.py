"""Stories on real databases: reports of one event across sources join one story, later reports attach to
it, and the queue of unclustered items survives a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.analysis.story_update import update_stories
from bot.core.stories import StoryParams
from bot.sources.base import Entry
from bot.sources.item import normalise_entry
from bot.storage.db import session_scope
from bot.storage.items import store_items
from bot.storage.models import Item, Story
from bot.storage.sources import add_source
from bot.storage.stories import list_stories, story_items

PARAMS = StoryParams()


def feed(engine: Engine, clock: Any, name: str) -> Any:
    with session_scope(engine) as session:
        return add_source(session=session, team_id="T1", kind="feed", locator=f"https://{name}.example/rss",
                          spec=name, title=name, now=clock())[0]


def report(engine: Engine, clock: Any, source: Any, outlet: str, title: str, text: str = "", hours: float = 0) -> None:
    entry = Entry(external_id=title, url=f"https://{outlet.replace(' ', '').lower()}.example/{abs(hash(title))}",
                  title=title, text=text, outlet=outlet,
                  published_at=datetime(2026, 11, 23, 9, tzinfo=UTC) + timedelta(hours=hours))
    item = normalise_entry(entry, kind="news", default_outlet=outlet, max_chars=2000, now=clock())
    assert item is not None
    with session_scope(engine) as session:
        store_items(session=session, source=source, items=[item], now=clock())


def stories(engine: Engine) -> list[tuple[int, list[str]]]:
    with session_scope(engine) as session:
        found = list_stories(session=session, team_id="T1", limit=100)
        members = story_items(session=session, story_ids=[s.id or 0 for s in found])
        return sorted((s.item_count, sorted(i.outlet for i in members[s.id or 0])) for s in found)


def test_reports_of_one_event_join_and_a_later_report_attaches(engine: Engine, clock: Any) -> None:
    ledger, wire = feed(engine, clock, "ledger"), feed(engine, clock, "wire")
    report(engine, clock, ledger, "The Harbor Ledger", "Kestrel Commerce leases giant fulfillment warehouse in Kent",
           "The online retailer signed a lease for a 600,000-square-foot warehouse in Kent.")
    report(engine, clock, wire, "Metro Wire", "Kestrel Commerce takes giant Kent warehouse, filings show",
           "County filings show the lease.", hours=2)
    report(engine, clock, ledger, "The Harbor Ledger", "Kestrel Commerce shares climb after upbeat holiday forecast",
           hours=3)
    first = update_stories(engine=engine, clock=clock, params=PARAMS)
    assert first.items == 3 and len(first.created) == 2
    assert stories(engine) == [(1, ["The Harbor Ledger"]), (2, ["Metro Wire", "The Harbor Ledger"])]

    report(engine, clock, wire, "Evening Post", "Kestrel Commerce's Kent warehouse lease to bring 1,000 jobs",
           hours=20)
    later = update_stories(engine=engine, clock=clock, params=PARAMS)  # a new run: states come from the database
    assert later.items == 1 and later.created == set() and len(later.grown) == 1
    assert stories(engine)[-1] == (3, ["Evening Post", "Metro Wire", "The Harbor Ledger"])
    with Session(engine) as session:
        grown = session.exec(select(Story).where(Story.item_count == 3)).one()
        assert grown.version == 2 and "warehouse" in grown.headline.lower()
        assert session.exec(select(Item).where(Item.story_id.is_(None))).all() == []  # type: ignore[union-attr]
    assert update_stories(engine=engine, clock=clock, params=PARAMS).items == 0  # nothing left in the queue
