"""Signals stored on real databases: found once, grown in place, closed after a quiet window, team-scoped."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.analysis.signal_update import update_signals
from bot.core.signals import SignalParams
from bot.sources.base import Entry, PlaceHint
from bot.sources.item import normalise_entry
from bot.storage.db import session_scope
from bot.storage.items import store_items
from bot.storage.models import Signal, SignalItem, Source
from bot.storage.signals import list_signals
from bot.storage.sources import add_source

PARAMS = SignalParams()


def board(engine: Engine, clock: Any, team: str = "T1") -> Source:
    with session_scope(engine) as session:
        source, _ = add_source(session=session, team_id=team, kind="greenhouse", locator="https://x.example/gh",
                               spec="greenhouse:kestrel", title="", now=clock())
        return source


def post(engine: Engine, clock: Any, source: Source, titles: list[str], city: str, *, backfill: bool = False) -> None:
    entries = [Entry(external_id=f"{city}-{t}", url=f"https://x.example/jobs/{city}/{t}".replace(" ", "-"), title=t,
                     outlet="Kestrel Commerce", job_title=t, places=[PlaceHint(text=f"{city}, WA")]) for t in titles]
    items = [normalise_entry(e, kind="job", default_outlet="", max_chars=1000, now=clock()) for e in entries]
    with session_scope(engine) as session:
        store_items(session=session, source=source, items=[i for i in items if i], now=clock(), backfill=backfill)


def seed_seattle_hiring(engine: Engine, clock: Any, team: str = "T1") -> Source:
    """A board whose backfill is one engineer, then a day later three warehouse roles around Seattle."""
    source = board(engine, clock, team=team)
    post(engine, clock, source, ["Software Engineer"], "Bellingham", backfill=True)
    clock.now += timedelta(days=1)
    post(engine, clock, source, ["Warehouse Associate", "Forklift Operator", "Picker"], "Kent")
    return source


def test_a_signal_is_found_once_grows_and_closes(engine: Engine, clock: Any) -> None:
    source = board(engine, clock)
    post(engine, clock, source, ["Software Engineer", "Account Executive"], "Bellingham", backfill=True)
    clock.now += timedelta(days=1)
    post(engine, clock, source, ["Warehouse Associate", "Forklift Operator", "Inventory Specialist"], "Kent")
    first = update_signals(engine=engine, clock=clock, params=PARAMS)
    assert len(first.created) == 1 and first.grown == []
    again = update_signals(engine=engine, clock=clock, params=PARAMS)
    assert (again.created, again.grown) == ([], [])  # idempotent

    clock.now += timedelta(days=2)
    post(engine, clock, source, ["Shipping Lead", "Dock Supervisor"], "Auburn")
    grown = update_signals(engine=engine, clock=clock, params=PARAMS)
    assert grown.grown == first.created and grown.created == []
    with Session(engine) as session:
        signal = session.exec(select(Signal)).one()
        assert (signal.metro, signal.item_count, signal.version, signal.status) == ("Seattle", 5, 2, "open")
        assert len(session.exec(select(SignalItem)).all()) == 5

    clock.now += PARAMS.window + timedelta(days=1)
    assert update_signals(engine=engine, clock=clock, params=PARAMS).closed == 1
    with Session(engine) as session:
        assert session.exec(select(Signal.status)).one() == "closed"


def test_backfill_alone_makes_no_signal_and_teams_stay_apart(engine: Engine, clock: Any) -> None:
    source = board(engine, clock, team="T1")
    post(engine, clock, source, [f"Warehouse Associate {n}" for n in range(10)], "Kent", backfill=True)
    other = board(engine, clock, team="T2")
    post(engine, clock, other, ["Software Engineer"], "Bellingham", backfill=True)
    clock.now += timedelta(days=1)
    post(engine, clock, other, ["Warehouse Associate", "Forklift Operator", "Picker"], "Kent")
    update_signals(engine=engine, clock=clock, params=PARAMS)
    with session_scope(engine) as session:
        assert list_signals(session=session, team_id="T1") == []
        assert [s.metro for s in list_signals(session=session, team_id="T2")] == ["Seattle"]
