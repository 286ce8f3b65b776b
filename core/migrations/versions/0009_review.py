"""the review workspace: users, article reviews, claim decisions, the audit log

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op



revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'users',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('password_hash', sa.String(length=255), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
        sa.UniqueConstraint('name', name=op.f('uq_users_name')),
    )
    op.create_table(
        'article_reviews',
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('assignee_id', sa.Integer(), nullable=True),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('text_sha256', sa.String(length=64), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_article_reviews_article_id_articles'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], name=op.f('fk_article_reviews_assignee_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('article_id', name=op.f('pk_article_reviews')),
    )
    op.create_index(op.f('ix_article_reviews_status'), 'article_reviews', ['status'])
    op.create_index(op.f('ix_article_reviews_assignee_id'), 'article_reviews', ['assignee_id'])
    op.create_table(
        'claim_decisions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.Column('sentence_sha256', sa.String(length=64), nullable=False),
        sa.Column('sentence', sa.Text(), nullable=False),
        sa.Column('sentence_index', sa.Integer(), nullable=False),
        sa.Column('categories', sa.JSON(), nullable=False),
        sa.Column('verdict', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('decided_by', sa.String(length=64), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_claim_decisions_article_id_articles'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_decisions')),
    )
    op.create_index(op.f('ix_claim_decisions_article_id'), 'claim_decisions', ['article_id'])
    op.create_index('uq_claim_decisions_article_sentence', 'claim_decisions', ['article_id', 'sentence_sha256'], unique=True)
    op.create_table(
        'audit_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=True),
        sa.Column('target', sa.String(length=128), nullable=False),
        sa.Column('before', sa.JSON(), nullable=True),
        sa.Column('after', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    )
    op.create_index(op.f('ix_audit_log_at'), 'audit_log', ['at'])
    op.create_index(op.f('ix_audit_log_article_id'), 'audit_log', ['article_id'])


def downgrade() -> None:
    op.drop_table('audit_log')
    op.drop_table('claim_decisions')
    op.drop_table('article_reviews')
    op.drop_table('users')
