"""The period's exports beside the HTML: every flagged article as CSV, the whole digest as JSON.

CSV cells that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return) are prefixed with an apostrophe, so a hostile title cannot run in Excel.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime
from typing import Any

from reports.model import ClaimView, Digest, FlaggedArticle, Link

CSV_FIELDS = (
    "rank",
    "band",
    "risk_score",
    "escalations",
    "status",
    "title",
    "url",
    "site",
    "source",
    "first_seen",
    "published",
    "claim_count",
    "substances",
    "categories",
    "top_claim",
    "top_claim_score",
    "family",
    "near_duplicate_of",
    "near_similarity",
    "repost_of",
    "article_id",
    "raw_sha256",
    "rules_sha256",
    "model_sha256",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv_row(a: FlaggedArticle) -> dict[str, Any]:
    top = a.claims[0] if a.claims else None
    row: dict[str, Any] = {
        "rank": a.rank,
        "band": a.band,
        "risk_score": a.score,
        "escalations": " ".join(a.escalations),
        "status": a.status,
        "title": a.title,
        "url": a.page.href or "",
        "site": a.site,
        "source": a.source or "",
        "first_seen": a.first_seen.isoformat(),
        "published": a.published or "",
        "claim_count": a.claim_count,
        "substances": " ".join(a.substances),
        "categories": " ".join(a.categories),
        "top_claim": top.text if top else "",
        "top_claim_score": top.score if top else "",
        "family": a.family or "",
        "near_duplicate_of": a.near.href or a.near.text if a.near else "",
        "near_similarity": a.near_similarity if a.near_similarity is not None else "",
        "repost_of": a.repost_of.href or a.repost_of.text if a.repost_of else "",
        "article_id": a.article_id,
        "raw_sha256": a.raw_sha256,
        "rules_sha256": a.rules_sha256 or "",
        "model_sha256": a.model_sha256 or "",
    }
    return {key: spreadsheet_safe(value) for key, value in row.items()}


def csv_chunks(digest: Digest, rows_per_chunk: int = 1000) -> Iterator[str]:
    """The CSV export, in pieces (every flagged article, ranked)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for index, article in enumerate(digest.articles, 1):
        writer.writerow(_csv_row(article))
        if index % rows_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _link(link: Link | None) -> dict[str, Any] | None:
    return {"text": link.text, "href": link.href} if link else None


def _claim(claim: ClaimView) -> dict[str, Any]:
    return {
        "score": claim.score,
        "text": claim.text,
        "before": claim.before,
        "after": claim.after,
        "categories": list(claim.categories),
        "substance": claim.substance,
        "condition": claim.condition,
        "severity": claim.severity,
        "hedged": claim.hedged,
        "rules": list(claim.rules),
        "reasons": list(claim.reasons),
        "criteria": list(claim.criteria),
        "aggravators": list(claim.aggravators),
        "mitigators": list(claim.mitigators),
    }


def _article(a: FlaggedArticle, shown: bool) -> dict[str, Any]:
    return {
        "rank": a.rank,
        "article_id": a.article_id,
        "band": a.band,
        "score": a.score,
        "escalations": list(a.escalations),
        "status": a.status,
        "version": a.version,
        "title": a.title,
        "url": a.page.href,
        "site": a.site,
        "source": a.source,
        "first_seen": a.first_seen.isoformat(),
        "published": a.published,
        "claim_count": a.claim_count,
        "substances": list(a.substances),
        "categories": list(a.categories),
        "claims": [_claim(c) for c in a.claims],
        "family": a.family,
        "family_score": a.family_score,
        "family_evidence": list(a.family_evidence),
        "near_duplicate_of": _link(a.near),
        "near_similarity": a.near_similarity,
        "repost_of": _link(a.repost_of),
        "shared_passages": list(a.shared_passages),
        "raw_sha256": a.raw_sha256,
        "rules_sha256": a.rules_sha256,
        "model_sha256": a.model_sha256,
        "evidence": a.evidence_path if shown else None,
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _jsonable(v) for key, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_chunks(digest: Digest) -> Iterator[str]:
    """The JSON export, in pieces: period, figures, every flagged article with its strongest
    claims, families, trends, sources and changes. Stable keys, ISO 8601 UTC times; one article
    per line so that the file also reads well line by line."""
    period = digest.period
    head = {
        "period": {
            "key": period.key,
            "label": period.label,
            "start": period.start,
            "end": period.end,
            "timezone": period.timezone,
        },
        "generated_at": digest.generated_at,
        "audience": asdict(digest.audience) if digest.audience else None,
        "figures": asdict(digest.figures),
        "previous_figures": asdict(digest.previous),
        "changes": list(digest.changes),
        "families": [asdict(f) for f in digest.families],
        "substances": asdict(digest.substances),
        "categories": asdict(digest.categories),
        "sources": [asdict(s) for s in digest.sources],
        "rules_sha256": list(digest.rules),
    }
    yield _dump(_jsonable(head))[:-1] + ',\n"articles":[\n'
    for index, article in enumerate(digest.articles):
        shown = article.rank <= digest.max_articles
        yield ("," if index else "") + _dump(_article(article, shown)) + "\n"
    yield "]}\n"
