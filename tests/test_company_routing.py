"""Company identity in routing, on real databases: a channel that muted or watches a company under one of its
names holds or takes the briefs about it under another (the workspace's aliases), and no other workspace is
touched by the alias."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.analysis.run import analyse
from bot.settings import Settings
from bot.storage.channels import add_watch, set_company_mute
from bot.storage.companies import add_alias
from bot.storage.db import session_scope
from bot.storage.deliveries import route_new_briefs
from bot.storage.models import Delivery, Signal
from bot.storage.sources import subscribe
from tests.test_hostile_ingest import WRITER
from tests.test_signal_update import board, post_as


def seed(engine: Engine, clock: Any, team: str) -> tuple[int, int]:
    """A "TikTok Inc." board and a "ByteDance" board, each with two new warehouse roles around Seattle."""
    tiktok, bytedance = board(engine, clock, team=team), board(engine, clock, team=team)
    post_as(engine, clock, tiktok, "TikTok Inc.", ["Software Engineer"], "Bellingham", backfill=True)
    post_as(engine, clock, bytedance, "ByteDance", ["Data Scientist"], "Bellingham", backfill=True)
    clock.now += timedelta(days=1)
    post_as(engine, clock, tiktok, "TikTok Inc.", ["Warehouse Associate", "Forklift Operator"], "Kent")
    post_as(engine, clock, bytedance, "ByteDance", ["Fulfillment Picker", "Inventory Specialist"], "Kent")
    return tiktok.id or 0, bytedance.id or 0


def route(settings: Settings, engine: Engine, clock: Any) -> None:
    """Signals found and briefed, then routed to channels (what the worker's analysis and outbox do)."""
    analyse(engine=engine, clock=clock, settings=settings, writer=WRITER)
    with session_scope(engine) as session:
        for team in ("T1", "T2"):
            route_new_briefs(session=session, team_id=team, now=clock())


def test_mutes_and_watches_work_on_the_company_not_the_spelling(
        settings: Settings, engine: Engine, clock: Any) -> None:
    tiktok, bytedance = seed(engine, clock, "T1")
    with session_scope(engine) as session:
        add_alias(session=session, team_id="T1", alias="ByteDance Ltd.", canonical_name="TikTok", created_by="U1",
                  now=clock())
        subscribe(session=session, team_id="T1", channel_id="C_MUTED", source_id=tiktok, now=clock())
        set_company_mute(session=session, team_id="T1", channel_id="C_MUTED", company="ByteDance", user_id="U1",
                         muted=True, now=clock())
        subscribe(session=session, team_id="T1", channel_id="C_FOLLOWS", source_id=bytedance, now=clock())
        add_watch(session=session, team_id="T1", channel_id="C_WATCHES", term="bytedance", source_id=None,
                  now=clock())
        add_watch(session=session, team_id="T1", channel_id="C_OTHER", term="Orchard", source_id=None, now=clock())
    route(settings, engine, clock)
    with Session(engine) as session:
        signal = session.exec(select(Signal)).one()
        assert (signal.company, signal.item_count) == ("TikTok", 4)
        deliveries = {d.channel_id: d for d in session.exec(select(Delivery))}
    assert set(deliveries) == {"C_MUTED", "C_FOLLOWS", "C_WATCHES"}
    assert deliveries["C_MUTED"].status == "held"  # muted as "ByteDance", briefed as "TikTok"
    assert deliveries["C_FOLLOWS"].status == deliveries["C_WATCHES"].status == "pending"


def test_an_alias_is_the_workspaces_own(settings: Settings, engine: Engine, clock: Any) -> None:
    """The same boards in a workspace without the alias: two companies, neither with enough roles for a
    signal, so a watch on "bytedance" there gets nothing."""
    seed(engine, clock, "T1")
    seed(engine, clock, "T2")
    with session_scope(engine) as session:
        add_alias(session=session, team_id="T1", alias="ByteDance", canonical_name="TikTok", created_by="U1",
                  now=clock())
        add_watch(session=session, team_id="T2", channel_id="C_T2", term="bytedance", source_id=None, now=clock())
    route(settings, engine, clock)
    with Session(engine) as session:
        assert [(s.team_id, s.company) for s in session.exec(select(Signal))] == [("T1", "TikTok")]
        assert session.exec(select(Delivery).where(Delivery.team_id == "T2")).all() == []
