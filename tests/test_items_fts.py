"""SQLite's items index (migration 0013) is contentless: it can be counted and integrity-checked like any table
(an external-content index over `items`, which has no day column, failed on both), and stays exact through
inserts, corrections that move an item to another day, and deletes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.storage.db import session_scope
from bot.storage.models import Item
from tests.history import add_items, item, source

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def matches(engine: Engine, query: str) -> list[int]:
    with engine.connect() as conn:
        return [r[0] for r in conn.exec_driver_sql(
            "SELECT rowid FROM items_fts WHERE items_fts MATCH ? ORDER BY rowid", (query,))]


def test_the_index_counts_checks_and_follows_every_change(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's FTS5 index; PostgreSQL's GIN index has its own tests in test_ask_retrieval.py")
    feed = source(engine, "T1", "https://news.example/feed", NOW)
    ids = add_items(engine, [item("T1", feed, f"Harbor report {n}", url=f"https://news.example/{n}",
                                  at=NOW - timedelta(days=n)) for n in range(3)])
    with session_scope(engine) as session:
        moved = session.exec(select(Item).where(Item.id == ids[1])).one()
        moved.title, moved.published_at = "Kestrel lease filed", NOW - timedelta(days=30)
        session.delete(session.exec(select(Item).where(Item.id == ids[2])).one())
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO items_fts(items_fts) VALUES ('integrity-check')"))
        assert conn.execute(text("SELECT count(*) FROM items_fts")).scalar_one() == 2
    assert matches(engine, "harbor") == [ids[0]]
    assert matches(engine, "kestrel AND day : d20261026") == [ids[1]]  # its corrected day, not the old one
    assert matches(engine, f"day : d{(NOW - timedelta(days=1)):%Y%m%d}") == []
    with Session(engine) as session:
        assert session.exec(select(Item.id)).all() == ids[:2]
