"""The queue: flagged articles ranked as in the digest, filtered, searched and paged in SQL.

Ranking: band (priority, review, watch), escalated articles first, risk score (highest first),
then first seen (oldest first). An article without a review row has the status ``new``. The week
filter (``2026-W48``) keeps the articles of that week's digest (see :mod:`review.weeks`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, and_, case, cast, exists, func, or_, select
from sqlalchemy.orm import Session

from core.models import Article, ArticleReview, Claim, Source, User
from review.weeks import Week, flagged_weeks, in_week, parse_week

BANDS: tuple[str, ...] = ("priority", "review", "watch")
FILTERS = ("band", "status", "family", "substance", "category", "source", "week", "assignee", "q")


@dataclass(frozen=True, slots=True)
class Filters:
    band: str = ""
    status: str = ""
    family: str = ""
    substance: str = ""
    category: str = ""
    source: str = ""
    week: str = ""  # an ISO week, 2026-W48 (anything else is no filter)
    assignee: str = ""  # a user name, or "-" for unassigned
    q: str = ""

    @classmethod
    def from_query(cls, params: Any) -> Filters:
        values = {key: str(params.get(key, "")).strip()[:200] for key in FILTERS}
        if parse_week(values["week"]) is None:
            values["week"] = ""
        return cls(**values)

    def query_string(self) -> list[tuple[str, str]]:
        return [(key, getattr(self, key)) for key in FILTERS if getattr(self, key)]


@dataclass(frozen=True, slots=True)
class Row:
    id: int
    title: str
    url: str
    band: str
    score: float
    escalations: list[str]
    claim_count: int
    family: str | None
    source: str | None
    first_seen: datetime
    status: str
    assignee: str | None


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[Row]
    total: int
    page: int
    pages: int


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _conditions(filters: Filters, timezone: str) -> list[Any]:
    status = func.coalesce(ArticleReview.status, "new")
    conditions: list[Any] = [Article.risk_band.in_(BANDS)]
    if filters.band:
        conditions.append(Article.risk_band == filters.band)
    if filters.status:
        conditions.append(status == filters.status)
    if filters.family:
        conditions.append(Article.family == filters.family)
    if filters.source:
        conditions.append(Source.name == filters.source)
    if filters.week:
        week = parse_week(filters.week, timezone)
        if week is not None:  # from_query admits only real weeks
            conditions.append(in_week(week))
    if filters.assignee == "-":
        conditions.append(ArticleReview.assignee_id.is_(None))
    elif filters.assignee:
        conditions.append(User.name == filters.assignee)
    if filters.substance:
        conditions.append(
            exists().where(Claim.article_id == Article.id, Claim.substance == filters.substance)
        )
    if filters.category:
        categories = cast(Claim.categories, Text)
        conditions.append(
            exists().where(
                Claim.article_id == Article.id,
                categories.like(_like(f'"{filters.category}"'), escape="\\"),
            )
        )
    if filters.q:
        pattern = _like(filters.q.lower())
        conditions.append(
            or_(
                func.lower(Article.title).like(pattern, escape="\\"),
                func.lower(Article.canonical_url).like(pattern, escape="\\"),
                func.lower(Article.text).like(pattern, escape="\\"),
            )
        )
    return conditions


def queue(
    session: Session,
    filters: Filters,
    page: int = 1,
    page_size: int = 50,
    *,
    timezone: str = "UTC",
) -> Page:
    """One page of the queue; weeks are ISO weeks in ``timezone`` (``digest.timezone``)."""
    conditions = _conditions(filters, timezone)
    base = (
        select(Article.id)
        .outerjoin(ArticleReview, ArticleReview.article_id == Article.id)
        .outerjoin(Source, Source.id == Article.source_id)
        .outerjoin(User, User.id == ArticleReview.assignee_id)
        .where(and_(*conditions))
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    escalations = cast(Article.escalations, Text)
    band_rank = case(*((Article.risk_band == b, n) for n, b in enumerate(BANDS)), else_=9)
    escalated = case((or_(Article.escalations.is_(None), escalations == "[]"), 1), else_=0)
    query = (
        select(
            Article.id,
            Article.title,
            Article.canonical_url,
            Article.risk_band,
            Article.risk_score,
            Article.escalations,
            Article.claim_count,
            Article.family,
            Source.name,
            Article.first_seen_at,
            func.coalesce(ArticleReview.status, "new"),
            User.name,
        )
        .outerjoin(ArticleReview, ArticleReview.article_id == Article.id)
        .outerjoin(Source, Source.id == Article.source_id)
        .outerjoin(User, User.id == ArticleReview.assignee_id)
        .where(and_(*conditions))
        .order_by(
            band_rank,
            escalated,
            Article.risk_score.desc(),
            Article.first_seen_at,
            Article.id,
        )
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    rows = [
        Row(
            id=r[0],
            title=" ".join((r[1] or "").split()) or "(untitled)",
            url=r[2],
            band=r[3] or "",
            score=float(r[4] or 0.0),
            escalations=list(r[5] or []),
            claim_count=int(r[6] or 0),
            family=r[7],
            source=r[8],
            first_seen=r[9],
            status=r[10],
            assignee=r[11],
        )
        for r in session.execute(query)
    ]
    return Page(rows, int(total), page, pages)


def weeks(session: Session, timezone: str = "UTC") -> list[Week]:
    """The week menu: the weeks that hold flagged articles, newest first."""
    return flagged_weeks(session, Article.risk_band.in_(BANDS), timezone)


def choices(session: Session) -> dict[str, list[str]]:
    """The values the filter menus offer."""
    flagged = Article.risk_band.in_(BANDS)
    families = session.scalars(
        select(Article.family).where(flagged, Article.family.is_not(None)).distinct()
    )
    substances = session.scalars(
        select(Claim.substance)
        .join(Article, Article.id == Claim.article_id)
        .where(flagged, Claim.substance.is_not(None))
        .distinct()
    )
    categories: set[str] = set()
    stored = select(cast(Claim.categories, Text)).join(Article, Article.id == Claim.article_id)
    for (values,) in session.execute(stored.where(flagged).distinct()):
        categories.update(json.loads(values) if values else ())
    return {
        "family": sorted(f for f in families if f),
        "substance": sorted(s for s in substances if s),
        "category": sorted(categories),
        "source": sorted(session.scalars(select(Source.name))),
        "assignee": sorted(session.scalars(select(User.name).where(User.active.is_(True)))),
    }
