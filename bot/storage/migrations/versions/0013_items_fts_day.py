"""SQLite: items' FTS5 index also holds each item's UTC day as a token ("d20261125", its own column), so a
question's time window is matched inside the index ("stocks" AND a day of the window) and only that window's
matching items are ranked, whatever order the items were stored in (bot/storage/search.py; measured in
bench/ask.py). The triggers write the day as they write the other columns, and an item whose time changes moves
to its new day. The index is contentless (content=''): `items` has no day column, so an external-content index
over it would fail whenever FTS5 read its content table (`SELECT count(*) FROM items_fts`, 'integrity-check',
highlight()); search reads rowids and bm25 only, the text comes from items. It is filled by INSERT ... SELECT
here, as it would be again ('rebuild' needs a content table). PostgreSQL: nothing (migration 0012 put the day
in its GIN index).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

COLUMNS = ("title", "outlet", "text")  # as migration 0005 indexed them; bm25 weights follow this order
TOKENIZE = "porter unicode61 remove_diacritics 2"
TRIGGERS = ("items_fts_ai", "items_fts_ad", "items_fts_au")


def day(row: str) -> str:
    """The day token of `row` (new, old, or a table): SQLite stores UTC times as 'YYYY-MM-DD HH:MM:SS...'.
    bot/storage/search.py writes the same tokens for a window."""
    return f"'d' || replace(substr(COALESCE({row}.published_at, {row}.first_seen_at), 1, 10), '-', '')"


def _drop() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS items_fts")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    cols = ", ".join(COLUMNS)
    new = ", ".join(f"new.{c}" for c in COLUMNS)
    old = ", ".join(f"old.{c}" for c in COLUMNS)
    _drop()
    op.execute(f"CREATE VIRTUAL TABLE items_fts USING fts5({cols}, day, content='', tokenize='{TOKENIZE}')")
    op.execute(f"CREATE TRIGGER items_fts_ai AFTER INSERT ON items BEGIN "
               f"INSERT INTO items_fts(rowid, {cols}, day) VALUES (new.id, {new}, {day('new')}); END")
    op.execute(f"CREATE TRIGGER items_fts_ad AFTER DELETE ON items BEGIN "
               f"INSERT INTO items_fts(items_fts, rowid, {cols}, day) VALUES ('delete', old.id, {old}, {day('old')}); "
               f"END")
    op.execute(f"CREATE TRIGGER items_fts_au AFTER UPDATE OF {cols}, published_at, first_seen_at ON items BEGIN "
               f"INSERT INTO items_fts(items_fts, rowid, {cols}, day) VALUES ('delete', old.id, {old}, {day('old')}); "
               f"INSERT INTO items_fts(rowid, {cols}, day) VALUES (new.id, {new}, {day('new')}); END")
    op.execute(f"INSERT INTO items_fts(rowid, {cols}, day) SELECT id, {cols}, {day('items')} FROM items")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    cols = ", ".join(COLUMNS)
    new = ", ".join(f"new.{c}" for c in COLUMNS)
    old = ", ".join(f"old.{c}" for c in COLUMNS)
    _drop()
    op.execute(f"CREATE VIRTUAL TABLE items_fts USING fts5({cols}, content='items', content_rowid='id', "
               f"tokenize='{TOKENIZE}')")
    op.execute(f"CREATE TRIGGER items_fts_ai AFTER INSERT ON items BEGIN "
               f"INSERT INTO items_fts(rowid, {cols}) VALUES (new.id, {new}); END")
    op.execute(f"CREATE TRIGGER items_fts_ad AFTER DELETE ON items BEGIN "
               f"INSERT INTO items_fts(items_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); END")
    op.execute(f"CREATE TRIGGER items_fts_au AFTER UPDATE OF {cols} ON items BEGIN "
               f"INSERT INTO items_fts(items_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); "
               f"INSERT INTO items_fts(rowid, {cols}) VALUES (new.id, {new}); END")
    op.execute("INSERT INTO items_fts(items_fts) VALUES ('rebuild')")
