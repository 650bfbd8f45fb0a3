"""A copy stored first without a text (a news search's headline and link) takes the text of the outlet's own
entry for the same URL, whichever order the polls stored them in; one source's text never replaces another's."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.sources.base import Entry
from bot.sources.item import NormalisedItem, normalise_entry
from bot.storage.db import session_scope
from bot.storage.items import store_items
from bot.storage.models import Item, Source
from bot.storage.sources import add_source

URL = "https://www.harborledger.example/real-estate/kestrel-leases-kent"
LEASE = "Kestrel Commerce leases 600,000-square-foot fulfillment center in Kent"


def entry(clock: Any, text: str, outlet: str, external_id: str) -> NormalisedItem:
    item = normalise_entry(Entry(external_id=external_id, url=URL, title=LEASE, text=text, outlet=outlet),
                           kind="news", default_outlet=outlet, max_chars=1000, now=clock())
    assert item is not None
    return item


def store(engine: Engine, clock: Any, source_id: int, item: NormalisedItem) -> None:
    with session_scope(engine) as session:
        source = session.get_one(Source, source_id)
        store_items(session=session, source=source, items=[item], now=clock(), backfill=False)


def sources(engine: Engine, clock: Any) -> list[int]:
    with session_scope(engine) as session:
        return [add_source(session=session, team_id="T1", kind="feed", locator=f"https://{name}.example/feed",
                           spec=name, title=name, now=clock())[0].id or 0 for name in ("search", "ledger", "wire")]


def stored(engine: Engine) -> tuple[str, str]:
    with Session(engine) as session:
        [item] = session.exec(select(Item)).all()
        return item.text, item.outlet


def test_the_outlets_own_entry_fills_a_copy_without_text(engine: Engine, clock: Any) -> None:
    search, ledger, wire = sources(engine, clock)
    store(engine, clock, search, entry(clock, "", "The Harbor Ledger", "gn-1"))
    assert stored(engine) == ("", "The Harbor Ledger")
    store(engine, clock, ledger, entry(clock, "<p>Online marketplace Kestrel Commerce signed a 10-year lease.</p>",
                                       "The Harbor Ledger", "hl-1"))
    assert stored(engine) == ("Online marketplace Kestrel Commerce signed a 10-year lease.", "The Harbor Ledger")
    store(engine, clock, wire, entry(clock, "<p>Another outlet's words about it.</p>", "Wire", "w-1"))
    assert stored(engine)[0] == "Online marketplace Kestrel Commerce signed a 10-year lease."  # not replaced


def test_a_text_stored_first_stays(engine: Engine, clock: Any) -> None:
    search, ledger, _ = sources(engine, clock)
    store(engine, clock, ledger, entry(clock, "<p>The lease runs ten years.</p>", "The Harbor Ledger", "hl-1"))
    store(engine, clock, search, entry(clock, "", "The Harbor Ledger", "gn-1"))
    assert stored(engine) == ("The lease runs ten years.", "The Harbor Ledger")
