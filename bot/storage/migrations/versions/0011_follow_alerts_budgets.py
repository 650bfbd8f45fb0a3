"""follow alert policy and workspace LLM budgets: a follow says how its source's news reaches the channel
(subscriptions.alert: every | stories | digest; NULL is the default for the source's kind), and a workspace can
have its own daily LLM token budget (workspaces.llm_daily_tokens; NULL is the setting's default)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import sqlmodel


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns only: SQLite alters the tables in place.
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('alert', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))

    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('llm_daily_tokens', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.drop_column('llm_daily_tokens')

    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_column('alert')
