"""Family discovery over the stored articles: the read-only query behind ``claimwatch families
--candidates``, ``families promote`` and the digest's "possible new template families".

The articles considered are those that match no family and copy no other article (exact reposts
are linked to their first copy). A candidate most of whose articles a current seed family already
matches (it was promoted, or someone seeded it by hand) is left out: :func:`uncovered`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from core.document import Document
from pipeline.dedup.discovery import Candidate, candidates
from pipeline.dedup.template import TemplateMatcher
from pipeline.dedup.unmatched import unmatched_articles


def unmatched(
    session: Session, *, since: datetime | None = None, until: datetime | None = None
) -> list[tuple[str, Document]]:
    """(canonical URL, document) of the stored articles that match no family and are not exact
    reposts, first seen in [since, until) when given, oldest first."""
    return [(a.url, a.document) for a in unmatched_articles(session, since=since, until=until)]


def uncovered(
    found: Sequence[Candidate],
    documents: Sequence[tuple[str, Document]],
    matcher: TemplateMatcher | None,
) -> list[Candidate]:
    """The candidates a current family does not already cover (at most half of their examples
    match one)."""
    if matcher is None or not matcher.families:
        return list(found)
    by_key = dict(documents)
    out = []
    for candidate in found:
        matched = sum(1 for key in candidate.examples if matcher.match(by_key[key]).match)
        if matched * 2 <= len(candidate.examples):
            out.append(candidate)
    return out


def stored_candidates(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    matcher: TemplateMatcher | None = None,
) -> tuple[list[Candidate], list[tuple[str, Document]]]:
    """The candidate families among the stored unmatched articles, and those articles."""
    documents = unmatched(session, since=since, until=until)
    return uncovered(candidates(documents), documents, matcher), documents
