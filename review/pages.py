"""What the article and sources pages show, read from the database as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import Article, AuditEntry, Claim, ClaimDecision, CrawlRun, Source, User
from pipeline.health import failed_streak, health_label
from review.decisions import audit_for, decisions_for, review_of, sentence_key


@dataclass(slots=True)
class Piece:
    text: str
    claim: int | None = None  # the claim number (1-based) this piece highlights


@dataclass(slots=True)
class ClaimItem:
    number: int
    claim: Claim
    decision: ClaimDecision | None
    criteria: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ArticlePage:
    article: Article
    source: str | None
    status: str
    assignee: str | None
    notes: str
    paragraphs: list[list[Piece]]
    claims: list[ClaimItem]
    evidence: dict[str, Any]
    first_copy: Article | None
    reposts: list[Article]
    audit: list[AuditEntry]


def highlight(text: str, claims: list[Claim]) -> list[list[Piece]]:
    """The text as paragraphs (one per line) of pieces, each claim's span marked."""
    pieces: list[Piece] = []
    position = 0
    for number, claim in sorted(enumerate(claims, 1), key=lambda item: item[1].start):
        start, end = max(claim.start, position), min(claim.end, len(text))
        if start >= end:
            continue
        if start > position:
            pieces.append(Piece(text[position:start]))
        pieces.append(Piece(text[start:end], number))
        position = end
    if position < len(text):
        pieces.append(Piece(text[position:]))
    paragraphs: list[list[Piece]] = [[]]
    for piece in pieces:
        lines = piece.text.split("\n")
        for index, line in enumerate(lines):
            if index:
                paragraphs.append([])
            if line:
                paragraphs[-1].append(Piece(line, piece.claim))
    return [p for p in paragraphs if p]


def article_page(session: Session, article_id: int) -> ArticlePage | None:
    article = session.get(Article, article_id)
    if article is None:
        return None
    source = session.get(Source, article.source_id) if article.source_id else None
    review = review_of(session, article_id)
    assignee = None
    if review is not None and review.assignee_id is not None:
        user = session.get(User, review.assignee_id)
        assignee = user.name if user else None
    decisions = decisions_for(session, article_id)
    claims = list(article.claims)
    items = [
        ClaimItem(
            number,
            claim,
            decisions.get(sentence_key(claim.sentence)),
            [str(c) for c in (claim.detail or {}).get("criterion", ())],
        )
        for number, claim in enumerate(claims, 1)
    ]
    reposts = list(
        session.scalars(
            select(Article).where(Article.duplicate_of == article_id).order_by(Article.id)
        )
    )
    first = session.get(Article, article.duplicate_of) if article.duplicate_of else None
    return ArticlePage(
        article=article,
        source=source.name if source else None,
        status=review.status if review else "new",
        assignee=assignee,
        notes=review.notes if review else "",
        paragraphs=highlight(article.text, claims),
        claims=items,
        evidence=dict(article.dedup_evidence or {}),
        first_copy=first,
        reposts=reposts,
        audit=audit_for(session, article_id),
    )


@dataclass(frozen=True, slots=True)
class SourceHealth:
    name: str
    kind: str
    articles: int
    last_status: str | None
    last_started: Any
    health: str


def sources_page(session: Session, failing_after: int) -> list[SourceHealth]:
    counts: dict[int | None, int] = {
        source_id: count
        for source_id, count in session.execute(
            select(Article.source_id, func.count()).group_by(Article.source_id)
        )
    }
    out = []
    for source in session.scalars(select(Source).order_by(Source.name)):
        last = session.execute(
            select(CrawlRun.status, CrawlRun.started_at)
            .where(CrawlRun.source_id == source.id, CrawlRun.status != "running")
            .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
            .limit(1)
        ).first()
        streak = failed_streak(session, source.id)
        status = last[0] if last else None
        out.append(
            SourceHealth(
                name=source.name,
                kind=source.kind,
                articles=int(counts.get(source.id, 0)),
                last_status=status,
                last_started=last[1] if last else None,
                health=health_label(status, streak.failed, failing_after),
            )
        )
    return out
