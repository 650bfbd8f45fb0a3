"""questions: full-text search over items and briefs, conversation turns, answer feedback

SQLite: FTS5 tables over items (title, outlet, text) and briefs (headline, summary, why_it_matters, entities), kept
in step with their tables by triggers (external content). PostgreSQL: a stored generated tsvector column
(`search_tsv`) on each, with a GIN index, so ranking reads the vector instead of re-parsing every matching
row's text. Both are filled from the rows already stored.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sqlmodel
import bot.storage.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# Keep in step with bot/storage/search.py, which queries these.
SQLITE_FTS = {
    "items_fts": ("items", ("title", "outlet", "text")),  # a posting's outlet is its company
    "briefs_fts": ("briefs", ("headline", "summary", "why_it_matters", "entities")),
}
PG_COLUMN = "search_tsv"
PG_INDEXES = {
    "ix_items_search": ("items", "to_tsvector('english', title || ' ' || outlet || ' ' || text)"),
    "ix_briefs_search": ("briefs", "to_tsvector('english', headline || ' ' || summary || ' ' || why_it_matters "
                                   "|| ' ' || CAST(entities AS text))"),
}


def upgrade() -> None:
    op.create_table('conversation_turns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('channel_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('thread_ts', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('surface', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('citations', sa.JSON(), nullable=False),
    sa.Column('brief_id', sa.Integer(), nullable=True),
    sa.Column('writer', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('prompt_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('prompt_version', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('model', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('message_ts', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('created_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['brief_id'], ['briefs.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['workspaces.team_id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('conversation_turns', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_turns_thread', ['team_id', 'channel_id', 'thread_ts'], unique=False)

    op.create_table('answer_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('turn_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['workspaces.team_id'], ),
    sa.ForeignKeyConstraint(['turn_id'], ['conversation_turns.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('turn_id', 'user_id', name='uq_answer_feedback')
    )
    with op.batch_alter_table('answer_feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_answer_feedback_team_id'), ['team_id'], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        for fts, (table, columns) in SQLITE_FTS.items():
            cols = ", ".join(columns)
            new = ", ".join(f"new.{c}" for c in columns)
            old = ", ".join(f"old.{c}" for c in columns)
            op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', content_rowid='id', "
                       "tokenize='porter unicode61 remove_diacritics 2')")
            op.execute(f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
                       f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END")
            op.execute(f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
                       f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); END")
            op.execute(f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {cols} ON {table} BEGIN "
                       f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
                       f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END")
            op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
    else:
        for name, (table, expression) in PG_INDEXES.items():
            op.execute(f"ALTER TABLE {table} ADD COLUMN {PG_COLUMN} tsvector GENERATED ALWAYS AS ({expression}) STORED")
            op.execute(f"CREATE INDEX {name} ON {table} USING gin ({PG_COLUMN})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for fts in SQLITE_FTS:
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
    else:
        for name, (table, _) in PG_INDEXES.items():
            op.execute(f"DROP INDEX IF EXISTS {name}")
            op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS {PG_COLUMN}")
    with op.batch_alter_table('answer_feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_answer_feedback_team_id'))
    op.drop_table('answer_feedback')
    with op.batch_alter_table('conversation_turns', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_turns_thread')
    op.drop_table('conversation_turns')
