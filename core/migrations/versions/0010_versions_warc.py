"""every stored version of an article, and the WARC records of each fetch

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'article_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('text_sha256', sa.String(length=64), nullable=False),
        sa.Column('raw_sha256', sa.String(length=64), nullable=False),
        sa.Column('title', sa.Text(), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('claims', sa.JSON(), nullable=False),
        sa.Column('risk_score', sa.Float(), nullable=True),
        sa.Column('risk_band', sa.String(length=16), nullable=True),
        sa.Column('rules_sha256', sa.String(length=64), nullable=True),
        sa.Column('model_sha256', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_versions_article_id_articles'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_article_versions')),
    )
    op.create_index('uq_article_versions_article_version', 'article_versions', ['article_id', 'version'], unique=True)
    op.create_table(
        'warc_records',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('url', sa.String(length=2048), nullable=False),
        sa.Column('warc_file', sa.String(length=255), nullable=False),
        sa.Column('warc_offset', sa.BigInteger(), nullable=False),
        sa.Column('warc_length', sa.BigInteger(), nullable=False),
        sa.Column('payload_sha256', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_warc_records_article_id_articles'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_warc_records')),
    )
    op.create_index('ix_warc_records_article_version', 'warc_records', ['article_id', 'version'])


def downgrade() -> None:
    op.drop_table('warc_records')
    op.drop_table('article_versions')
