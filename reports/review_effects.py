"""What the review workspace's decisions do to the digest, read in one place.

- An article ``dismissed`` is left out while its text is the one it was dismissed on; when the
  text changes it is flagged again (its status then reads ``dismissed, text changed since``).
- A claim marked a false positive is left out while the article keeps that sentence; a reworded
  sentence is a new claim and shows again.
- Every other article shows its review status (``new`` when nobody has looked at it yet).

The digest counts what it left out and says so. Reading only, like the rest of reports/.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Article, ArticleReview, ClaimDecision, sentence_sha256

CHUNK = 500


@dataclass(slots=True)
class ReviewEffects:
    status: dict[int, str] = field(default_factory=dict)  # article id -> status label
    dismissed: set[int] = field(default_factory=set)  # left out of the digest
    false_positives: dict[int, set[str]] = field(default_factory=dict)  # id -> sentence keys

    def is_false_positive(self, article_id: int, sentence: str) -> bool:
        keys = self.false_positives.get(article_id)
        return keys is not None and sentence_sha256(sentence) in keys


def review_effects(session: Session, article_ids: Sequence[int]) -> ReviewEffects:
    effects = ReviewEffects()
    ids = sorted(set(article_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        reviews = session.execute(
            select(
                ArticleReview.article_id,
                ArticleReview.status,
                ArticleReview.text_sha256,
                Article.text_sha256,
            )
            .join(Article, Article.id == ArticleReview.article_id)
            .where(ArticleReview.article_id.in_(chunk))
        )
        for article_id, status, decided_on, current in reviews:
            if status == "dismissed" and decided_on == current:
                effects.dismissed.add(article_id)
            elif status == "dismissed":
                effects.status[article_id] = "dismissed, text changed since"
            else:
                effects.status[article_id] = status.replace("_", " ")
        decisions = session.execute(
            select(ClaimDecision.article_id, ClaimDecision.sentence_sha256).where(
                ClaimDecision.article_id.in_(chunk), ClaimDecision.verdict == "false_positive"
            )
        )
        for article_id, key in decisions:
            effects.false_positives.setdefault(article_id, set()).add(key)
    return effects
