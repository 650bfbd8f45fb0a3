"""workspace health: why the last analysis of a workspace (or a part of it) failed, and when; a source's
notes from its last poll (items skipped or refused)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bot.storage.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('analysis_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('analysis_error_at', bot.storage.types.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_notes', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_column('last_notes')
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.drop_column('analysis_error_at')
        batch_op.drop_column('analysis_error')
