"""Database models (SQLAlchemy 2.0 declarative style). Alembic migrations live in ``migrations/``."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no offset: we store UTC and
    attach it again on the way out)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware (UTC) datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        datetime: UTCDateTime(),
    }


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    start_urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    runs: Mapped[list[CrawlRun]] = relationship(back_populates="source")


class CrawlRun(Base):
    """One source's share of one crawl process: what was fetched, stored and what went wrong."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_group: Mapped[str] = mapped_column(String(36), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="running")
    finish_reason: Mapped[str | None] = mapped_column(String(64))
    pages: Mapped[int] = mapped_column(default=0)
    items: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    pid: Mapped[int | None]

    source: Mapped[Source] = relationship(back_populates="runs")

    __table_args__ = (Index("ix_crawl_runs_source_started", "source_id", "started_at"),)


class Article(Base):
    """One article, keyed by its canonical URL; the raw HTML is kept (compressed) as evidence."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    canonical_url: Mapped[str] = mapped_column(String(2048), unique=True)
    url: Mapped[str] = mapped_column(String(2048))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="SET NULL"))
    crawl_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("crawl_runs.id", ondelete="SET NULL")
    )
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    http_status: Mapped[int] = mapped_column(Integer, default=200)
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(64))
    sitemap_lastmod: Mapped[str | None] = mapped_column(String(64))
    content_type: Mapped[str | None] = mapped_column(String(128))
    encoding: Mapped[str | None] = mapped_column(String(64))
    raw_sha256: Mapped[str] = mapped_column(String(64))
    text_sha256: Mapped[str] = mapped_column(String(64), index=True)
    raw_html_gz: Mapped[bytes] = mapped_column(LargeBinary)
    title: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    published: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    text_chars: Mapped[int] = mapped_column(default=0)
    blocks: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(default=1)
    # dedup: exact repost, nearest seed or article, template family (see pipeline/dedup)
    duplicate_of: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), index=True
    )
    near_of: Mapped[str | None] = mapped_column(String(2048))
    near_kind: Mapped[str | None] = mapped_column(String(8))
    near_similarity: Mapped[float | None] = mapped_column(Float)
    family: Mapped[str | None] = mapped_column(String(128), index=True)
    family_score: Mapped[float | None] = mapped_column(Float)
    nearest_seed: Mapped[str | None] = mapped_column(String(128))
    dedup_evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)
    # claim scoring (see pipeline/claims): the article's risk, the rule file and the weights file
    # that produced it
    risk_score: Mapped[float | None] = mapped_column(Float, index=True)
    risk_band: Mapped[str | None] = mapped_column(String(16), index=True)
    escalations: Mapped[list[str] | None] = mapped_column(JSON)
    claim_count: Mapped[int | None]
    rules_sha256: Mapped[str | None] = mapped_column(String(64))
    model_sha256: Mapped[str | None] = mapped_column(String(64))  # the learned decision's weights
    scored_at: Mapped[datetime | None]

    claims: Mapped[list[Claim]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="Claim.position"
    )

    __table_args__ = (Index("ix_articles_source_fetched", "source_id", "fetched_at"),)


class Claim(Base):
    """One risky sentence of an article, with why it was flagged."""

    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    sentence: Mapped[str] = mapped_column(Text)
    start: Mapped[int]
    end: Mapped[int]
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    substance: Mapped[str | None] = mapped_column(String(128), index=True)
    condition: Mapped[str | None] = mapped_column(String(128))
    severity: Mapped[str] = mapped_column(String(32))
    score: Mapped[float] = mapped_column(Float)
    rules: Mapped[list[str]] = mapped_column(JSON, default=list)
    hedged: Mapped[bool]
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    article: Mapped[Article] = relationship(back_populates="claims")


class ArticleVersion(Base):
    """One stored version of an article's text: written when the article is first stored and each
    time its normalised text changes (pipeline/store.py), never updated afterwards. ``claims`` is
    what was flagged in that text (sentence, categories, rules, score, ...: see
    :func:`pipeline.versions.claim_snapshot`), with the rule and weights files that flagged it."""

    __tablename__ = "article_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    version: Mapped[int]
    fetched_at: Mapped[datetime]
    text_sha256: Mapped[str] = mapped_column(String(64))
    raw_sha256: Mapped[str] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    claims: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    risk_score: Mapped[float | None] = mapped_column(Float)
    risk_band: Mapped[str | None] = mapped_column(String(16))
    rules_sha256: Mapped[str | None] = mapped_column(String(64))
    model_sha256: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("uq_article_versions_article_version", "article_id", "version", unique=True),
    )


class WarcRecord(Base):
    """Where one fetch of an article is archived: its response and request records, back to back
    from ``warc_offset`` for ``warc_length`` bytes (gzip members) in ``warc_file`` (a name inside
    the WARC folder), and the SHA-256 of the response's payload (the page as received)."""

    __tablename__ = "warc_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    version: Mapped[int]  # the article's version this fetch returned
    fetched_at: Mapped[datetime]
    url: Mapped[str] = mapped_column(String(2048))
    warc_file: Mapped[str] = mapped_column(String(255))
    warc_offset: Mapped[int] = mapped_column(BigInteger)
    warc_length: Mapped[int] = mapped_column(BigInteger)
    payload_sha256: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_warc_records_article_version", "article_id", "version"),)


class DigestSend(Base):
    """The digest ledger: one row per period and recipient list (see reports/ledger.py).

    ``status`` goes ``pending`` → ``sending`` → ``sent`` or ``failed``; the Message-ID is chosen
    when the row is created, so a retry sends the same message again.
    """

    __tablename__ = "digest_sends"

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(32))  # "2026-W47" or "2026-11-01_2026-11-14"
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]  # exclusive
    list_name: Mapped[str] = mapped_column(String(64))
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    message_id: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str | None] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    __table_args__ = (Index("uq_digest_sends_period_list", "period", "list_name", unique=True),)


# The review workspace (review/): users, decisions and their audit log.

REVIEW_STATUSES = ("new", "in_review", "actioned", "dismissed")
CLAIM_VERDICTS = ("confirmed", "false_positive")
ROLES = ("viewer", "reviewer", "admin")


class User(Base):
    """A person who signs in to the review workspace; ``password_hash`` is an argon2 hash."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArticleReview(Base):
    """An article's review state. ``text_sha256`` is the text the status was set on: a dismissal
    holds only while the text stays the same."""

    __tablename__ = "article_reviews"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    notes: Mapped[str] = mapped_column(Text, default="")
    text_sha256: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(64))


def sentence_sha256(sentence: str) -> str:
    """The key a claim decision is stored under: the sentence with its spacing normalised."""
    return hashlib.sha256(" ".join(sentence.split()).encode("utf-8")).hexdigest()


class ClaimDecision(Base):
    """A reviewer's verdict on one flagged sentence of an article. Keyed by the sentence, not the
    claim row: claims are rewritten on every re-score, and a verdict holds while the sentence does."""

    __tablename__ = "claim_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    sentence_sha256: Mapped[str] = mapped_column(String(64))
    sentence: Mapped[str] = mapped_column(Text)
    sentence_index: Mapped[int]
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    verdict: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("uq_claim_decisions_article_sentence", "article_id", "sentence_sha256", unique=True),
    )


class AuditEntry(Base):
    """One decision, as it was made: who, when, on what, the state before and after. Rows are
    only ever inserted (review/audit.py refuses updates and deletes through the ORM)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    article_id: Mapped[int | None] = mapped_column(Integer, index=True)
    target: Mapped[str] = mapped_column(String(128))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Alert(Base):
    """An alert condition that is open (see reports/alerts.py): one row per condition while it
    holds, so each is announced once; the row goes when the condition clears. ``notified_at`` is
    empty until a notification got through (it is retried on the next check)."""

    __tablename__ = "alerts"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)  # "source_failing:<name>"
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    notified_at: Mapped[datetime | None]
