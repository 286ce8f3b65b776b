"""The stored articles family discovery looks at: no family matched, and not a repost.

Read from the database as documents (the stored blocks), in id order, for
:func:`pipeline.dedup.discovery.candidates` (``claimwatch families --candidates`` and the review
workspace's families page).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.document import Block, BlockKind, Document
from core.models import Article


@dataclass(frozen=True, slots=True)
class Unmatched:
    article_id: int
    url: str
    document: Document


def unmatched_articles(
    session: Session, *, since: datetime | None = None, until: datetime | None = None
) -> list[Unmatched]:
    """The stored articles that match no family and are not exact reposts, first seen in
    [since, until) when given, oldest first."""
    query = select(Article.id, Article.canonical_url, Article.title, Article.blocks).where(
        Article.family.is_(None), Article.duplicate_of.is_(None)
    )
    if since is not None:
        query = query.where(Article.first_seen_at >= since)
    if until is not None:
        query = query.where(Article.first_seen_at < until)
    rows = session.execute(query.order_by(Article.id).execution_options(yield_per=1000))
    return [
        Unmatched(
            article_id,
            url,
            Document(
                blocks=tuple(Block(cast(BlockKind, b["kind"]), b["text"]) for b in blocks or ()),
                title=title,
                url=url,
            ),
        )
        for article_id, url, title, blocks in rows
    ]
