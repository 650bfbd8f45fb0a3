"""Migrations match the models, apply on both databases, and run again harmlessly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import bot.storage.models  # noqa: F401
from bot.storage.db import LIBRARY_TABLES, current_revision, is_ours, upgrade


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": is_ours})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == [], f"models and migrations disagree; write a migration: {diff}"


def test_upgrade_is_idempotent_and_every_workspace_table_has_a_team_id(engine: Engine) -> None:
    upgrade(engine)
    assert current_revision(engine) == "0008"
    tables = {t for t in inspect(engine).get_table_names() if not t.startswith(("items_fts", "briefs_fts"))}
    tables -= {"alembic_version", "slack_oauth_states"}
    tables -= {"work_leases"}  # holds no workspace data: lease names only, e.g. "cluster:T123"
    assert tables == {"workspaces", "sources", "subscriptions", "items", "item_links", "polls", "stories", "signals",
                      "signal_items", "briefs", "channels", "watches", "mutes", "deliveries", "alert_messages",
                      "slack_events", "feedback", "conversation_turns", "answer_feedback", "item_vectors"} | (
                          LIBRARY_TABLES - {"slack_oauth_states"})
    for table in tables:
        assert "team_id" in {c["name"] for c in inspect(engine).get_columns(table)}, table


def test_upgrading_a_database_that_has_items_keeps_them(db_url: str) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import MetaData, text

    from bot.storage.db import build_engine
    from tests.conftest import make_settings

    engine = build_engine(make_settings(db_url))
    # The fixture migrated to head; go back to 0001 by rebuilding the schema there, with data.
    schema = MetaData()
    schema.reflect(engine)
    schema.drop_all(engine)
    upgrade(engine, "0001")
    now = datetime(2026, 11, 25, tzinfo=UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO workspaces (team_id, name, timezone, created_at) VALUES ('T1', '', 'UTC', :n)"),
                     {"n": now})
        conn.execute(text("INSERT INTO sources (team_id, kind, spec, locator, title, enabled, created_at, next_due_at, "
                          "failures) VALUES ('T1', 'feed', 's', 'l', '', true, :n, :n, 0)"), {"n": now})
        conn.execute(text("INSERT INTO items (team_id, source_id, kind, external_id, url, url_key, title, text, "
                          "outlet, author, first_seen_at, updated_at, content_hash, locations) VALUES ('T1', 1, "
                          "'news', 'e', 'u', 'k', 't', '', '', '', :n, :n, 'h', '[]')"), {"n": now})
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT backfill, story_id FROM items")).one() == (False, None)
    engine.dispose()
