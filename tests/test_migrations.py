"""Migrations match the models, apply on both databases, and run again harmlessly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import bot.storage.models  # noqa: F401
from bot.storage.db import current_revision, upgrade


def test_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == [], f"models and migrations disagree; write a migration: {diff}"


def test_upgrade_is_idempotent_and_every_workspace_table_has_a_team_id(engine: Engine) -> None:
    upgrade(engine)
    assert current_revision(engine) == "0001"
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert tables == {"workspaces", "sources", "subscriptions", "items", "item_links", "polls"}
    for table in tables:
        assert "team_id" in {c["name"] for c in inspect(engine).get_columns(table)}, table
