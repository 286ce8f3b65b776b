"""The stored articles family discovery looks at: no family matched, and not a repost.

Read from the database as documents (the stored blocks), in id order, for
:func:`pipeline.dedup.discovery.candidates` (``claimwatch families --candidates`` and the review
workspace's families page).
"""

from __future__ import annotations

from dataclasses import dataclass
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


def unmatched_articles(session: Session) -> list[Unmatched]:
    rows = session.execute(
        select(Article.id, Article.canonical_url, Article.title, Article.blocks)
        .where(Article.family.is_(None), Article.duplicate_of.is_(None))
        .order_by(Article.id)
    )
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
