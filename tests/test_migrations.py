"""Migrations match the models, apply on both databases, and run again harmlessly."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import bot.storage.models  # noqa: F401
from bot.storage.db import LIBRARY_TABLES, build_engine, current_revision, is_ours, upgrade
from tests.conftest import PG_URL, make_settings, pg_database_url


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": is_ours})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == [], f"models and migrations disagree; write a migration: {diff}"


def test_upgrade_is_idempotent_and_every_workspace_table_has_a_team_id(engine: Engine) -> None:
    upgrade(engine)
    assert current_revision(engine) == "0013"
    tables = {t for t in inspect(engine).get_table_names() if not t.startswith(("items_fts", "briefs_fts"))}
    tables -= {"alembic_version", "slack_oauth_states"}
    tables -= {"work_leases"}  # holds no workspace data: lease names only, e.g. "cluster:T123"
    assert tables == {"workspaces", "sources", "subscriptions", "items", "item_links", "polls", "stories", "signals",
                      "signal_items", "briefs", "channels", "watches", "mutes", "deliveries", "alert_messages",
                      "slack_events", "feedback", "conversation_turns", "answer_feedback", "item_vectors",
                      "company_aliases"} | (
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


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def test_processes_starting_together_on_an_empty_database_migrate_it_once(kind: str, tmp_path: Path,
                                                                         pg_problem: str | None) -> None:
    """Every process migrates at start (`briefbot worker` ×2 beside `briefbot serve` on one fresh database): on
    PostgreSQL an advisory lock makes the others wait and then find nothing to do, instead of racing to create
    the same tables."""
    if kind == "postgresql" and pg_problem:
        pytest.skip(f"PostgreSQL not reachable: {pg_problem}")
    name = f"bbmig_{uuid.uuid4().hex[:12]}"
    url = f"sqlite:///{tmp_path / 'fresh.db'}" if kind == "sqlite" else pg_database_url(name)
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT") if kind == "postgresql" else None
    if admin is not None:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engines = [build_engine(make_settings(url)) for _ in range(4)]
    start = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def migrate(engine: Engine) -> None:
        start.wait()
        try:
            upgrade(engine)
        except BaseException as exc:  # the test reports every process's failure, not the first
            errors.append(exc)

    threads = [threading.Thread(target=migrate, args=(engine,)) for engine in engines]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=90)
        assert errors == []
        assert {current_revision(engine) for engine in engines} == {"0013"}
    finally:
        for engine in engines:
            engine.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def test_head_revision_read_from_the_files_is_alembics_head() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from bot.storage.db import MIGRATIONS_DIR, head_revision

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()


def test_a_database_at_head_is_not_migrated_again_but_one_behind_is(db_url: str) -> None:
    from sqlalchemy import MetaData

    from bot.storage.db import _at_head, head_revision

    engine = build_engine(make_settings(db_url))
    assert _at_head(engine) and current_revision(engine) == head_revision()
    # One step behind (the version table says so): the full path runs and brings it to head.
    schema = MetaData()
    schema.reflect(engine)
    schema.drop_all(engine)
    upgrade(engine, "0001")
    assert not _at_head(engine)
    upgrade(engine)
    assert _at_head(engine) and current_revision(engine) == head_revision()
    engine.dispose()


def test_a_new_sqlite_file_takes_the_full_path(tmp_path: Path) -> None:
    from bot.storage.db import _at_head

    engine = build_engine(make_settings(f"sqlite:///{tmp_path / 'new.db'}"))
    assert not _at_head(engine)
    upgrade(engine)
    assert _at_head(engine)
    engine.dispose()
