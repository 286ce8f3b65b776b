"""alert conditions that are open, each announced once

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-01 10:20:00

(Number 0007 was reserved for work that in the end needed no schema change.)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'alerts',
        sa.Column('key', sa.String(length=300), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_alerts')),
    )


def downgrade() -> None:
    op.drop_table('alerts')
