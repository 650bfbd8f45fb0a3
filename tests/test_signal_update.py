"""Signals stored on real databases: found once, grown in place, closed after a quiet window, team-scoped."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.analysis.run import analyse
from bot.analysis.signal_update import update_signals
from bot.core.signals import SignalParams
from bot.settings import Settings
from bot.sources.base import Entry, PlaceHint
from bot.sources.item import normalise_entry
from bot.storage.companies import add_alias
from bot.storage.db import session_scope
from bot.storage.items import store_items
from bot.storage.models import Brief, Item, Signal, SignalItem, Source
from bot.storage.signals import list_signals
from bot.storage.sources import add_source
from tests.test_hostile_ingest import WRITER

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


def post_as(engine: Engine, clock: Any, source: Source, company: str, titles: list[str], city: str, *,
            backfill: bool = False) -> None:
    entries = [Entry(external_id=f"{company}-{city}-{t}", title=t,
                     url=f"https://x.example/{company}/{city}/{t}".replace(" ", "-"),
                     outlet=company, job_title=t, places=[PlaceHint(text=f"{city}, WA")]) for t in titles]
    items = [normalise_entry(e, kind="job", default_outlet="", max_chars=1000, now=clock()) for e in entries]
    with session_scope(engine) as session:
        store_items(session=session, source=source, items=[i for i in items if i], now=clock(), backfill=backfill)


def two_boards_of_one_company(engine: Engine, clock: Any, team: str) -> None:
    """A "TikTok Inc." board and a "ByteDance" board: each posts two warehouse roles around Seattle, fewer than
    a new-metro signal needs on its own (MIN_NOVEL is 3)."""
    tiktok, bytedance = (board(engine, clock, team=team), board(engine, clock, team=team))
    post_as(engine, clock, tiktok, "TikTok Inc.", ["Software Engineer"], "Bellingham", backfill=True)
    post_as(engine, clock, bytedance, "ByteDance", ["Data Scientist"], "Bellingham", backfill=True)
    clock.now += timedelta(days=1)
    post_as(engine, clock, tiktok, "TikTok Inc.", ["Warehouse Associate", "Forklift Operator"], "Kent")
    post_as(engine, clock, bytedance, "ByteDance", ["Fulfillment Picker", "Inventory Specialist"], "Kent")


def test_a_company_is_one_company_under_its_names_and_aliases(engine: Engine, clock: Any) -> None:
    """Signals work on the company, not the spelling: with "ByteDance" an alias of "TikTok" the two boards' four
    roles are one signal named "TikTok"; a workspace without the alias sees two companies and no signal."""
    with session_scope(engine) as session:
        add_alias(session=session, team_id="T1", alias="ByteDance", canonical_name="TikTok", created_by="U1",
                  now=clock())
    two_boards_of_one_company(engine, clock, "T1")
    two_boards_of_one_company(engine, clock, "T2")
    report = update_signals(engine=engine, clock=clock, params=PARAMS)
    assert len(report.created) == 1
    with Session(engine) as session:
        signal = session.exec(select(Signal)).one()
        assert (signal.team_id, signal.company, signal.metro, signal.item_count) == ("T1", "TikTok", "Seattle", 4)


def test_an_alias_added_later_grows_the_open_signal(engine: Engine, clock: Any) -> None:
    """A signal first found under a board's name keeps growing once that name becomes an alias, and takes the
    company's name: no second signal (and no second alert) for the same postings."""
    two_boards_of_one_company(engine, clock, "T1")
    source = board(engine, clock, team="T1")
    post_as(engine, clock, source, "ByteDance", ["Shipping Lead"], "Auburn")
    assert len(update_signals(engine=engine, clock=clock, params=PARAMS).created) == 1  # ByteDance's three
    with session_scope(engine) as session:
        add_alias(session=session, team_id="T1", alias="ByteDance", canonical_name="TikTok", created_by="U1",
                  now=clock())
    again = update_signals(engine=engine, clock=clock, params=PARAMS)
    assert again.created == [] and len(again.grown) == 1
    with Session(engine) as session:
        signal = session.exec(select(Signal)).one()
        assert (signal.company, signal.item_count, signal.version) == ("TikTok", 5, 2)


def close(engine: Engine, clock: Any, titles: list[str], *, days_ago: float) -> list[int]:
    """Mark postings closed, as a poll that no longer lists them does."""
    with session_scope(engine) as session:
        items = [i for i in session.exec(select(Item)) if i.title in titles]
        for item in items:
            item.closed_at = clock() - timedelta(days=days_ago)
        return sorted(i.id or 0 for i in items)


WAREHOUSE_ROLES = ["Warehouse Associate", "Forklift Operator", "Picker", "Packer", "Shipping Lead", "Dock Worker"]


def test_a_sharp_fall_in_open_roles_is_a_pullback_briefed_like_the_others(
        settings: Settings, engine: Engine, clock: Any) -> None:
    """Six warehouse roles open around Seattle for weeks; four close within a week: a pullback signal of four
    (of six), briefed as such, beside any growth signal of the same group. Closing one more grows it."""
    source = board(engine, clock)
    post(engine, clock, source, WAREHOUSE_ROLES, "Kent", backfill=True)
    clock.now += timedelta(days=20)
    closed = close(engine, clock, WAREHOUSE_ROLES[:4], days_ago=2)
    report = update_signals(engine=engine, clock=clock, params=PARAMS)
    assert len(report.created) == 1
    with Session(engine) as session:
        signal = session.exec(select(Signal)).one()
        assert (signal.reason, signal.metro, signal.item_count, signal.baseline) == ("pullback", "Seattle", 4, 6.0)
        assert sorted(session.exec(select(SignalItem.item_id))) == closed
    analyse(engine=engine, clock=clock, settings=settings, writer=WRITER)
    with Session(engine) as session:
        brief = session.exec(select(Brief)).one()
    assert brief.headline == "Kestrel Commerce closed 4 fulfillment and logistics roles in Seattle"
    assert "closed 4 of the 6 fulfillment and logistics roles it had open" in brief.summary
    assert brief.event_type == "hiring_pullback"
    clock.now += timedelta(days=1)
    close(engine, clock, WAREHOUSE_ROLES[4:5], days_ago=0)
    assert update_signals(engine=engine, clock=clock, params=PARAMS).grown == []  # counted once a day old
    clock.now += timedelta(days=1)
    assert len(update_signals(engine=engine, clock=clock, params=PARAMS).grown) == 1


def test_a_repost_is_not_new_demand(engine: Engine, clock: Any) -> None:
    """Three roles closed and posted again under new ids in a metro the company left: no new-metro signal."""
    source = board(engine, clock)
    post(engine, clock, source, ["Software Engineer"], "Bellingham", backfill=True)
    clock.now += timedelta(days=1)
    titles = ["Warehouse Associate", "Forklift Operator", "Picker"]
    post_as(engine, clock, source, "Kestrel Commerce", titles, "Boise")
    with session_scope(engine) as session:
        for item in session.exec(select(Item).where(col(Item.title).in_(titles))):
            item.repost_of = item.id  # stands for the closed posting it repeats
    assert update_signals(engine=engine, clock=clock, params=PARAMS).created == []
