"""The digest's "possible new template families": candidate families among the articles first
seen in the period that match no family and copy no other article (read-only; the grouping is
:mod:`pipeline.dedup.discovery`, through :mod:`pipeline.dedup.stored`)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pipeline.dedup.stored import stored_candidates
from pipeline.dedup.template import TemplateMatcher
from reports.model import CandidateRow, Link
from reports.period import Period
from reports.text import clean, safe_url

MAX_CANDIDATES = 10
MAX_SITES = 12


def candidate_rows(
    session: Session, period: Period, matcher: TemplateMatcher | None = None
) -> tuple[CandidateRow, ...]:
    """The period's candidate families, largest first; with ``matcher`` (the seed families in
    use), a candidate those families already match is left out."""
    found, _ = stored_candidates(session, since=period.start, until=period.end, matcher=matcher)
    return tuple(
        CandidateRow(
            id=candidate.id,
            articles=len(candidate.members),
            sites=tuple(clean(s, 200) for s in candidate.sites[:MAX_SITES]),
            evidence=tuple(clean(line, 600) for line in candidate.evidence),
            examples=tuple(Link(clean(url, 160), safe_url(url)) for url in candidate.examples),
        )
        for candidate in found[:MAX_CANDIDATES]
    )
