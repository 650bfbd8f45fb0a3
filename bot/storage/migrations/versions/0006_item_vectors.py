"""item vectors: embeddings kept from story clustering, for questions matched by meaning

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sqlmodel
import bot.storage.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('item_vectors',
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('dims', sa.Integer(), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.Column('at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], ),
    sa.ForeignKeyConstraint(['team_id'], ['workspaces.team_id'], ),
    sa.PrimaryKeyConstraint('item_id')
    )
    with op.batch_alter_table('item_vectors', schema=None) as batch_op:
        batch_op.create_index('ix_item_vectors_team_at', ['team_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('item_vectors', schema=None) as batch_op:
        batch_op.drop_index('ix_item_vectors_team_at')
    op.drop_table('item_vectors')
