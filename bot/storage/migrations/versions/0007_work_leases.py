"""work leases: named work (a team's clustering, a subject's brief) held by one worker at a time; and
the analysis each workspace wants (counters any worker can see)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sqlmodel
import bot.storage.types


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('work_leases',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('lease_until', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('acquired_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cluster_wanted', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('cluster_done', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('briefs_wanted', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('briefs_done', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.drop_column('briefs_done')
        batch_op.drop_column('briefs_wanted')
        batch_op.drop_column('cluster_done')
        batch_op.drop_column('cluster_wanted')
    op.drop_table('work_leases')
