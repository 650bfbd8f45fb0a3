"""PostgreSQL: items' full-text GIN index also holds each item's UTC day (btree_gin), so a question's search
can read only the matching items of a recent window instead of every matching item (bot/storage/search.py;
measured in bench/ask.py). SQLite: nothing (its search reads the newest matches first from FTS5 itself).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# The day in the index must be spelled as bot/storage/search.py spells it, or the index is not used.
DAY = "(COALESCE(published_at, first_seen_at) AT TIME ZONE 'UTC')::date"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # In public, whatever the search_path: a schema dropped later must not take the extension with it.
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin SCHEMA public")
    op.execute("DROP INDEX IF EXISTS ix_items_search")
    op.execute(f"CREATE INDEX ix_items_search ON items USING gin (search_tsv, ({DAY}) public.date_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_items_search")
    op.execute("CREATE INDEX ix_items_search ON items USING gin (search_tsv)")
