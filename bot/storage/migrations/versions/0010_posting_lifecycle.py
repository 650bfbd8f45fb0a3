"""posting lifecycle: a job posting is closed when its boards stop listing it (items.closed_at, per source
item_links.delisted_at, a held mass disappearance in item_links.missing_since), a closed posting come back
under a new id is a repost (items.repost_of), and a source says when closing began (sources.listing_tracked_at)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sqlmodel
import bot.storage.types


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Columns and indexes only, with a literal server default: SQLite then alters `items` in place (ALTER TABLE
    # ADD COLUMN). A default written as an SQL expression (sa.false()) makes Alembic rebuild the table, which
    # drops the full-text triggers of migration 0005. '0' reads as false on both databases.
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', bot.storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closed_before_tracking', sa.Boolean(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('repost_of', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_items_repost_of'), ['repost_of'], unique=False)

    with op.batch_alter_table('item_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delisted_at', bot.storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('missing_since', bot.storage.types.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('listing_tracked_at', bot.storage.types.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_column('listing_tracked_at')

    with op.batch_alter_table('item_links', schema=None) as batch_op:
        batch_op.drop_column('missing_since')
        batch_op.drop_column('delisted_at')

    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_items_repost_of'))
        batch_op.drop_column('repost_of')
        batch_op.drop_column('closed_before_tracking')
        batch_op.drop_column('closed_at')
