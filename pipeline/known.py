"""What the database knows of a source's pages from earlier runs: the spider's one query.

The spider decides from it what to fetch again (see :func:`crawler.discovery.decide_fetch`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Article, Source
from pipeline.urls import canonical_url


@dataclass(frozen=True, slots=True)
class Known:
    """What the database knows of a URL from earlier runs."""

    etag: str | None
    last_modified: str | None
    sitemap_lastmod: str | None
    checked_at: datetime


def known_pages(session: Session, source: str) -> dict[str, Known]:
    """The stored pages of a source, under both their fetched and their canonical URL."""
    rows = session.execute(
        select(
            Article.url,
            Article.canonical_url,
            Article.etag,
            Article.last_modified,
            Article.sitemap_lastmod,
            Article.checked_at,
        )
        .join(Source, Source.id == Article.source_id)
        .where(Source.name == source)
    )
    known: dict[str, Known] = {}
    for url, canonical, etag, last_modified, lastmod, checked in rows:
        state = Known(etag, last_modified, lastmod, checked)
        known[canonical_url(url)] = state
        known[canonical] = state
    return known
