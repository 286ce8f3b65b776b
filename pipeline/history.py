"""The rows that keep an article's history, written by :func:`pipeline.store.store_batch` in its
transaction: each version of the text with its claims (``article_versions``), and where each
fetch was archived (``warc_records``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from core.models import Article, ArticleVersion, Claim, WarcRecord
from pipeline.items import PageItem
from pipeline.versions import CLAIM_COLUMNS, claim_snapshot
from pipeline.warc import WarcRef


def add_version(
    session: Session, article_id: int, version: int, row: dict[str, Any], item: PageItem
) -> None:
    """The version this text is, with its claims: kept whatever later fetches bring."""
    claims = [claim_snapshot(c.as_json()) for c in item.score.claims] if item.score else []
    session.execute(
        insert(ArticleVersion).values(
            article_id=article_id,
            version=version,
            fetched_at=row["fetched_at"],
            text_sha256=row["text_sha256"],
            raw_sha256=row["raw_sha256"],
            title=row["title"],
            text=row["text"],
            claims=claims,
            risk_score=row.get("risk_score"),
            risk_band=row.get("risk_band"),
            rules_sha256=row.get("rules_sha256"),
            model_sha256=row.get("model_sha256"),
        )
    )


def keep_old_version(session: Session, article_id: int, version: int) -> None:
    """Before its text is overwritten, an article stored without version rows (before they were
    kept) gets its current version written from the article and its claims."""
    found = session.scalar(
        select(ArticleVersion.id).where(
            ArticleVersion.article_id == article_id, ArticleVersion.version == version
        )
    )
    if found is not None:
        return
    article = session.execute(
        select(
            Article.fetched_at,
            Article.text_sha256,
            Article.raw_sha256,
            Article.title,
            Article.text,
            Article.risk_score,
            Article.risk_band,
            Article.rules_sha256,
            Article.model_sha256,
        ).where(Article.id == article_id)
    ).one()
    claims = [
        claim_snapshot({key: getattr(claim, key) for key in CLAIM_COLUMNS})
        for claim in session.scalars(
            select(Claim).where(Claim.article_id == article_id).order_by(Claim.position)
        )
    ]
    session.execute(
        insert(ArticleVersion).values(
            article_id=article_id, version=version, claims=claims, **article._asdict()
        )
    )


def add_warc_record(
    session: Session, article_id: int, version: int, item: PageItem, ref: WarcRef
) -> None:
    """Where this fetch of the article is archived."""
    session.execute(
        insert(WarcRecord).values(
            article_id=article_id,
            version=version,
            fetched_at=item.fetched_at,
            url=item.url,
            warc_file=ref.file,
            warc_offset=ref.offset,
            warc_length=ref.length,
            payload_sha256=ref.payload_sha256,
        )
    )
