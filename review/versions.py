"""The article page's version history: each stored version, its WARC captures, and the diff of
its claims against the version before (:func:`pipeline.versions.diff_claims`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Article, ArticleVersion, WarcRecord
from pipeline.versions import ClaimDiff, diff_claims


@dataclass(slots=True)
class VersionRow:
    version: int
    fetched_at: datetime
    text_sha256: str
    risk_band: str | None
    claims: int
    captures: int  # fetches archived to WARC that returned this version
    diff: ClaimDiff | None  # against the version before (None: the first one kept)
    previous: int | None = None
    current: bool = False
    sentences: list[str] = field(default_factory=list)


def version_history(session: Session, article: Article) -> list[VersionRow]:
    """The versions kept of an article, newest first."""
    versions = list(
        session.scalars(
            select(ArticleVersion)
            .where(ArticleVersion.article_id == article.id)
            .order_by(ArticleVersion.version)
        )
    )
    captures: dict[int, int] = {}
    for (version,) in session.execute(
        select(WarcRecord.version).where(WarcRecord.article_id == article.id)
    ):
        captures[version] = captures.get(version, 0) + 1
    rows: list[VersionRow] = []
    before: ArticleVersion | None = None
    for kept in versions:
        rows.append(
            VersionRow(
                version=kept.version,
                fetched_at=kept.fetched_at,
                text_sha256=kept.text_sha256,
                risk_band=kept.risk_band,
                claims=len(kept.claims),
                captures=captures.get(kept.version, 0),
                diff=diff_claims(before.claims, kept.claims) if before is not None else None,
                previous=before.version if before is not None else None,
                current=kept.version == article.version,
            )
        )
        before = kept
    return rows[::-1]


def records_of(session: Session, article_id: int, version: int) -> list[WarcRecord]:
    """The WARC captures of one version of an article, oldest first."""
    return list(
        session.scalars(
            select(WarcRecord)
            .where(WarcRecord.article_id == article_id, WarcRecord.version == version)
            .order_by(WarcRecord.fetched_at, WarcRecord.id)
        )
    )
