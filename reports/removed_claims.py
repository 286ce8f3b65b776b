"""The digest's "claims removed since flagged": articles whose text changed in the period and no
longer makes claims it made when it was first flagged, or when a reviewer last set its status.

For each article changed in the period (a version above 1 whose text changed in it), the
baseline is the version a reviewer last set the status on (``article_reviews.text_sha256``), when
that is an earlier version, else the first version kept in a flagged band. The claims of the
baseline missing from the current version (:func:`pipeline.versions.diff_claims`: removed, not
merely reworded) are listed. Reading only, like the rest of reports/.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from core.models import Article, ArticleReview, ArticleVersion
from pipeline.versions import diff_claims
from reports.model import BAND_ORDER, Link, RemovedClaims
from reports.period import Period
from reports.query import execute
from reports.text import clean, safe_url, site_of

CHUNK = 500
TITLE_LIMIT = 300
SENTENCE_LIMIT = 1000


def removed_since_flagged(session: Session, period: Period) -> tuple[RemovedClaims, ...]:
    changed = list(
        execute(
            session,
            select(
                Article.id, Article.canonical_url, Article.title, Article.version, Article.risk_band
            )
            .where(
                and_(
                    Article.changed_at >= period.start,
                    Article.changed_at < period.end,
                    Article.version > 1,
                )
            )
            .order_by(Article.id),
        )
    )
    out: list[RemovedClaims] = []
    for start in range(0, len(changed), CHUNK):
        rows = changed[start : start + CHUNK]
        ids = [row.id for row in rows]
        versions: dict[int, list[Any]] = {}
        for kept in session.execute(  # the versions without their text
            select(
                ArticleVersion.article_id,
                ArticleVersion.version,
                ArticleVersion.text_sha256,
                ArticleVersion.risk_band,
                ArticleVersion.claims,
            )
            .where(ArticleVersion.article_id.in_(ids))
            .order_by(ArticleVersion.article_id, ArticleVersion.version)
        ):
            versions.setdefault(kept.article_id, []).append(kept)
        reviewed = {
            article_id: sha
            for article_id, sha in session.execute(
                select(ArticleReview.article_id, ArticleReview.text_sha256).where(
                    ArticleReview.article_id.in_(ids), ArticleReview.text_sha256.is_not(None)
                )
            )
        }
        for row in rows:
            entry = _removed(row, versions.get(row.id, []), reviewed.get(row.id))
            if entry is not None:
                out.append(entry)
    return tuple(out)


def _baseline(kept: list[Any], current: Any, reviewed_sha: str | None) -> tuple[Any, str] | None:
    earlier = [v for v in kept if v.version < current.version]
    if reviewed_sha is not None:
        if reviewed_sha == current.text_sha256:
            return None  # reviewed on the text it has now: nothing is news
        matching = [v for v in earlier if v.text_sha256 == reviewed_sha]
        if matching:
            return matching[-1], "last reviewed"
    flagged = [v for v in earlier if v.risk_band in BAND_ORDER]
    return (flagged[0], "first flagged") if flagged else None


def _removed(row: Any, kept: list[Any], reviewed: str | None) -> RemovedClaims | None:
    current = next((v for v in kept if v.version == row.version), None)
    if current is None:
        return None
    found = _baseline(kept, current, reviewed)
    if found is None:
        return None
    baseline, since = found
    removed = diff_claims(baseline.claims, current.claims).removed
    if not removed:
        return None
    url = str(row.canonical_url)
    site = site_of(url)
    return RemovedClaims(
        article_id=current.article_id,
        title=clean(row.title, TITLE_LIMIT) or "(untitled)",
        page=Link(site, safe_url(url)),
        site=site,
        since=since,
        since_version=baseline.version,
        version=current.version,
        band=row.risk_band,
        sentences=tuple(clean(str(c.get("sentence") or ""), SENTENCE_LIMIT) for c in removed),
    )
