"""Decisions as labelled units, in the ``claims_dev.jsonl`` shape that ``claimwatch model train
--data`` reads (see :mod:`pipeline.claims.units`).

One unit per decided claim: ``risky`` is true for a confirmed claim and false for a false
positive; ``categories`` are the claim's categories when confirmed. ``sentence_index`` is the
claim's position among the article's flagged sentences (their order in the text). Undecided claims
are left out: nobody has labelled them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import ClaimDecision

FORMATS = ("jsonl",)


def units(session: Session) -> Iterator[dict[str, Any]]:
    query = select(ClaimDecision).order_by(
        ClaimDecision.article_id, ClaimDecision.sentence_index, ClaimDecision.id
    )
    for decision in session.scalars(query):
        risky = decision.verdict == "confirmed"
        yield {
            "article_id": str(decision.article_id),
            "sentence_index": decision.sentence_index,
            "sentence": " ".join(decision.sentence.split()),
            "unit_type": "sentence",
            "risky": risky,
            "categories": sorted(decision.categories) if risky else [],
            "reason": decision.reason,
            "decided_by": decision.decided_by,
            "decided_at": decision.decided_at.isoformat(),
        }


def write_jsonl(session: Session, out: TextIO) -> int:
    count = 0
    for unit in units(session):
        out.write(json.dumps(unit, ensure_ascii=False) + "\n")
        count += 1
    return count
