"""Decisions and their audit log: claim verdicts, article status, assignee and notes.

Each change writes one :class:`~core.models.AuditEntry` in the same transaction (who, when, the
state before and after). The audit log is append-only: the ORM refuses to update or delete its
rows. Statuses go ``new`` → ``in_review`` → ``actioned`` | ``dismissed`` (a closed article may be
reopened to ``in_review``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from core.models import (
    CLAIM_VERDICTS,
    REVIEW_STATUSES,
    Article,
    ArticleReview,
    AuditEntry,
    Claim,
    ClaimDecision,
    User,
    sentence_sha256,
)

NOTES_LIMIT = 10_000
REASON_LIMIT = 2_000
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("in_review", "actioned", "dismissed"),
    "in_review": ("new", "actioned", "dismissed"),
    "actioned": ("in_review",),
    "dismissed": ("in_review",),
}


class DecisionError(ValueError):
    """A decision that cannot be made as asked (the message says why)."""


def _append_only(*_args: Any) -> None:
    raise RuntimeError("the audit log is append-only")


event.listen(AuditEntry, "before_update", _append_only)
event.listen(AuditEntry, "before_delete", _append_only)


def sentence_key(sentence: str) -> str:
    return sentence_sha256(sentence)


def _audit(
    session: Session,
    actor: User,
    action: str,
    article_id: int,
    target: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    session.add(
        AuditEntry(
            at=datetime.now(UTC),
            actor=actor.name,
            action=action,
            article_id=article_id,
            target=target,
            before=before,
            after=after,
        )
    )


def review_of(session: Session, article_id: int) -> ArticleReview | None:
    return session.get(ArticleReview, article_id)


def _state(review: ArticleReview | None, names: dict[int, str]) -> dict[str, Any]:
    if review is None:
        return {"status": "new", "assignee": None, "notes": ""}
    return {
        "status": review.status,
        "assignee": names.get(review.assignee_id) if review.assignee_id else None,
        "notes": review.notes,
    }


def update_article(
    session: Session,
    actor: User,
    article_id: int,
    *,
    status: str | None = None,
    assignee: str | None = None,
    notes: str | None = None,
) -> ArticleReview:
    """Change an article's status, assignee (a user name; ``""`` unassigns) and/or notes."""
    article = session.get(Article, article_id)
    if article is None:
        raise DecisionError(f"no article {article_id}")
    names = {uid: name for uid, name in session.execute(select(User.id, User.name))}
    review = review_of(session, article_id)
    before = _state(review, names)
    if review is None:
        review = ArticleReview(article_id=article_id, status="new", notes="")
        session.add(review)
    if status is not None and status != review.status:
        if status not in REVIEW_STATUSES:
            raise DecisionError(f"status must be one of {', '.join(REVIEW_STATUSES)}")
        if status not in TRANSITIONS[review.status]:
            raise DecisionError(f"an article {review.status} cannot become {status}")
        review.status = status
        review.text_sha256 = article.text_sha256
    if assignee is not None:
        if assignee == "":
            review.assignee_id = None
        else:
            user = session.scalar(select(User).where(User.name == assignee))
            if user is None or not user.active:
                raise DecisionError(f"no user {assignee!r}")
            review.assignee_id = user.id
    if notes is not None:
        if len(notes) > NOTES_LIMIT:
            raise DecisionError(f"notes are limited to {NOTES_LIMIT} characters")
        review.notes = notes
    after = _state(review, names)
    if after != before:
        review.updated_at = datetime.now(UTC)
        review.updated_by = actor.name
        _audit(session, actor, "article", article_id, f"article:{article_id}", before, after)
    session.flush()
    return review


def decide_claim(
    session: Session, actor: User, claim_id: int, verdict: str, reason: str = ""
) -> ClaimDecision | None:
    """Confirm a claim or mark it a false positive (a reason is required); ``verdict=""`` undoes
    the decision (returns ``None``)."""
    claim = session.get(Claim, claim_id)
    if claim is None:
        raise DecisionError(f"no claim {claim_id}")
    reason = reason.strip()
    if verdict and verdict not in CLAIM_VERDICTS:
        raise DecisionError(f"verdict must be one of {', '.join(CLAIM_VERDICTS)}")
    if verdict == "false_positive" and not reason:
        raise DecisionError("say why the claim is a false positive")
    if len(reason) > REASON_LIMIT:
        raise DecisionError(f"a reason is limited to {REASON_LIMIT} characters")
    key = sentence_key(claim.sentence)
    decision = session.scalar(
        select(ClaimDecision).where(
            ClaimDecision.article_id == claim.article_id, ClaimDecision.sentence_sha256 == key
        )
    )
    before = {"verdict": decision.verdict, "reason": decision.reason} if decision else None
    if not verdict:
        if decision is not None:
            session.delete(decision)
    else:
        if decision is None:
            decision = ClaimDecision(article_id=claim.article_id, sentence_sha256=key)
            session.add(decision)
        decision.sentence = claim.sentence
        decision.sentence_index = claim.position
        decision.categories = list(claim.categories)
        decision.verdict = verdict
        decision.reason = reason
        decision.decided_by = actor.name
        decision.decided_at = datetime.now(UTC)
    after = {"verdict": verdict, "reason": reason} if verdict else None
    if after != before:
        target = f"claim:{claim.article_id}:{key[:12]}"
        _audit(session, actor, "claim", claim.article_id, target, before, after)
    session.flush()
    return decision if verdict else None


def decisions_for(session: Session, article_id: int) -> dict[str, ClaimDecision]:
    """The article's claim decisions by sentence key."""
    rows = session.scalars(select(ClaimDecision).where(ClaimDecision.article_id == article_id))
    return {row.sentence_sha256: row for row in rows}


def audit_for(session: Session, article_id: int, limit: int = 200) -> list[AuditEntry]:
    query = (
        select(AuditEntry)
        .where(AuditEntry.article_id == article_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))
