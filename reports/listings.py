"""Read-only listings for the CLI: sources with their health, and stored articles."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Article, CrawlRun, Source
from pipeline.health import failed_streak, health_label, run_note
from reports.exports import spreadsheet_safe

ARTICLE_FIELDS = (
    "canonical_url",
    "url",
    "source",
    "title",
    "author",
    "published",
    "language",
    "text_chars",
    "first_seen_at",
    "fetched_at",
    "changed_at",
    "http_status",
    "text_sha256",
    # scores and dedup, named as in the digest's CSV
    "risk_score",
    "band",
    "escalations",
    "claim_count",
    "family",
    "family_score",
    "duplicate_of",
    "near_duplicate_of",
    "near_similarity",
    "article_id",
)
_COLUMNS = {"band": "risk_band", "near_duplicate_of": "near_of", "article_id": "id"}


@dataclass(frozen=True, slots=True)
class SourceHealth:
    name: str
    kind: str
    articles: int
    last_started: datetime | None
    last_status: str | None
    last_pages: int
    last_items: int
    last_errors: int
    failing_runs: int  # the failed streak (see pipeline.health)
    health: str
    last_failure: str | None = None  # why the last run failed, when fetching itself worked
    note: str = ""  # the last run: why it failed, or "0 new of 12 listed"


def source_health(session: Session, failing_after: int) -> list[SourceHealth]:
    """Every source with its article count, its latest run and its health (a source is failing
    after ``failing_after`` failed runs in a row: ``schedule.failing_after``)."""
    query = select(Article.source_id, func.count()).group_by(Article.source_id)
    counts = {source_id: count for source_id, count in session.execute(query)}
    out = []
    for source in session.scalars(select(Source).order_by(Source.name)):
        last = session.scalars(
            select(CrawlRun)
            .where(CrawlRun.source_id == source.id)
            .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
            .limit(1)
        ).first()
        failing = failed_streak(session, source.id).failed
        last_status = last.status if last else None
        health = health_label(last_status, failing, failing_after)
        articles = counts.get(source.id, 0)
        if health == "healthy" and not articles and not (last.items if last else 0):
            health = "no articles yet"  # every run "worked" and none stored anything
        out.append(
            SourceHealth(
                name=source.name,
                kind=source.kind,
                articles=articles,
                last_started=last.started_at if last else None,
                last_status=last_status,
                last_pages=last.pages if last else 0,
                last_items=last.items if last else 0,
                last_errors=last.errors if last else 0,
                failing_runs=failing,
                health=health,
                last_failure=(last.stats or {}).get("failure") if last else None,
                note=run_note(last_status, last.stats) if last else "",
            )
        )
    return out


def csv_row(row: dict[str, Any]) -> dict[str, Any]:
    """An :func:`iter_articles` row for a spreadsheet: lists space-separated (as in the digest's
    CSV), and cells a spreadsheet would run as a formula defused."""
    return {
        key: spreadsheet_safe(" ".join(value) if isinstance(value, list) else value)
        for key, value in row.items()
    }


def iter_articles(
    session: Session,
    *,
    source: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> Iterator[dict[str, Any]]:
    query = (
        select(Article, Source.name)
        .outerjoin(Source, Source.id == Article.source_id)
        .order_by(Article.first_seen_at.desc(), Article.id.desc())
    )
    if source:
        query = query.where(Source.name == source)
    if since:
        query = query.where(Article.first_seen_at >= since)
    if limit:
        query = query.limit(limit)
    for article, source_name in session.execute(query.execution_options(yield_per=500)):
        row: dict[str, Any] = {}
        for name in ARTICLE_FIELDS:
            value = source_name if name == "source" else getattr(article, _COLUMNS.get(name, name))
            row[name] = value.isoformat() if isinstance(value, datetime) else value
        yield row


@dataclass(frozen=True, slots=True)
class FamilyWeek:
    family: str
    week: str  # ISO week, e.g. 2026-W47
    articles: int
    sites: list[str]
    reposts: int  # exact or near-duplicate copies among them


def family_weeks(session: Session) -> list[FamilyWeek]:
    """Articles matched to each template family, by ISO week of first sighting."""
    from urllib.parse import urlsplit

    rows = session.execute(
        select(
            Article.family,
            Article.first_seen_at,
            Article.canonical_url,
            Article.duplicate_of,
            Article.near_of,
        )
        .where(Article.family.is_not(None))
        .order_by(Article.family, Article.first_seen_at)
    )
    grouped: dict[tuple[str, str], list[tuple[str, bool]]] = {}
    for family, seen, url, duplicate_of, near_of in rows:
        year, week, _ = seen.isocalendar()
        key = (str(family), f"{year}-W{week:02d}")
        site = urlsplit(url).netloc
        grouped.setdefault(key, []).append((site, duplicate_of is not None or near_of is not None))
    return [
        FamilyWeek(
            family,
            week,
            len(items),
            sorted({s for s, _ in items}),
            sum(1 for _, copy in items if copy),
        )
        for (family, week), items in sorted(grouped.items())
    ]
