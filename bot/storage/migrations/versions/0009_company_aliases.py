"""company aliases: a workspace's own names for companies ("ByteDance" is another name of "TikTok"), by
normalised key (core/companies.company_key)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sqlmodel
import bot.storage.types


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('company_aliases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('alias_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('canonical_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('alias', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('canonical', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['workspaces.team_id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('team_id', 'alias_key', name='uq_company_aliases_team_alias')
    )


def downgrade() -> None:
    op.drop_table('company_aliases')
