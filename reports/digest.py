"""Building a period's digest from the database: read-only queries in, :class:`Digest` out.

An article belongs to a period when it was first seen in it or its text changed in it. It is
*flagged* when its risk band is ``watch`` or higher. Flagged articles are ranked by band, then
escalated ones first (cancer, opioid withdrawal, children...: flags raised whatever the score), then
by risk score, then oldest first.

The work is a handful of aggregate queries; only the period's flagged articles and their claims are
loaded, and the article text only for the ones shown in full, so memory follows the size of the
flagged set, not of the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from core.config import DigestSettings
from core.models import Article, Claim, Source
from pipeline.dedup.template import TemplateMatcher
from pipeline.health import DEFAULT_FAILING_AFTER
from reports.candidates import candidate_rows
from reports.model import BAND_ORDER, ClaimView, Digest, Figures, FlaggedArticle, Link
from reports.period import Period
from reports.query import execute, flagged_in, in_period, loads, loads_shared, raw
from reports.removed_claims import removed_since_flagged
from reports.review_effects import ReviewEffects, review_effects
from reports.sections import changes, families, source_rows, trends
from reports.text import claim_context, clean, safe_url, site_of

TITLE_LIMIT = 300
SENTENCE_LIMIT = 1000
CHUNK = 500  # ids per IN (...) query


def _count(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def figures(session: Session, period: Period, escalated: int | None = None) -> Figures:
    """The headline figures. The total is a count on its own (it reads only the start of each row);
    the rest look only at the period's articles."""
    total = session.scalar(select(func.count()).where(Article.first_seen_at < period.end)) or 0
    new = and_(Article.first_seen_at >= period.start, Article.first_seen_at < period.end)
    flagged = Article.risk_band.in_(BAND_ORDER)
    row = execute(
        session,
        select(
            _count(new),
            _count(~new),
            _count(flagged),
            *(_count(Article.risk_band == band) for band in BAND_ORDER),
            _count(and_(new, Article.family.is_not(None))),
            _count(and_(new, Article.duplicate_of.is_not(None))),
            _count(and_(new, Article.near_of.is_not(None))),
        ).where(in_period(period)),
    ).one()
    new_n, changed_n, flagged_n, priority, review, watch, family, reposts, near = (
        int(v) for v in row
    )
    if escalated is None:
        query = select(raw(Article.escalations)).where(flagged_in(period))
        escalated = sum(1 for (flags,) in execute(session, query) if loads(flags))
    return Figures(
        total_articles=int(total),
        new_articles=new_n,
        changed_articles=changed_n,
        flagged=flagged_n,
        priority=priority,
        review=review,
        watch=watch,
        escalated=escalated,
        family_matches=family,
        new_family_sites=0,
        reposts=reposts,
        near_duplicates=near,
    )


@dataclass(slots=True)
class _Claims:
    """One article's claims: the strongest few in full, the substances and categories of all."""

    top: list[tuple[Any, ...]]
    substances: set[str]
    categories: set[str]
    false_positives: int = 0  # left out: a reviewer marked them false positives


def _claims(
    session: Session, ids: list[int], per_article: int, effects: ReviewEffects | None = None
) -> dict[int, _Claims]:
    """Claims of these articles, strongest first; rules and detail decoded only for the top ones."""
    out: dict[int, _Claims] = {}
    for start in range(0, len(ids), CHUNK):
        query = (
            select(
                Claim.article_id,
                Claim.sentence,
                Claim.start,
                Claim.end,
                raw(Claim.categories),
                Claim.substance,
                Claim.condition,
                Claim.severity,
                Claim.score,
                raw(Claim.rules),
                Claim.hedged,
                raw(Claim.detail),
            )
            .where(Claim.article_id.in_(ids[start : start + CHUNK]))
            .order_by(Claim.article_id, Claim.score.desc(), Claim.position)
        )
        for row in execute(session, query):
            entry = out.get(row[0])
            if entry is None:
                entry = out[row[0]] = _Claims([], set(), set())
            if effects is not None and effects.is_false_positive(row[0], row[1]):
                entry.false_positives += 1
                continue
            categories = loads_shared(row[4]) or ()
            if row[5]:
                entry.substances.add(row[5])
            entry.categories.update(categories)
            if len(entry.top) < per_article:
                entry.top.append(
                    (
                        *row[:4],
                        categories,
                        *row[5:9],
                        loads_shared(row[9]),
                        row[10],
                        loads_shared(row[11]),
                    )
                )
    return out


def _claim_view(row: Sequence[Any], text: str | None, messages: Mapping[str, str]) -> ClaimView:
    (_, sentence, start, end, categories, substance, condition, severity, score) = row[:9]
    rules, hedged, detail = row[9], row[10], row[11] or {}
    if text is not None:
        before, claim, after = claim_context(text, start, end, sentence)
    else:
        before, claim, after = "", clean(sentence, SENTENCE_LIMIT), ""
    rule_ids = tuple(rules or ())
    reasons: dict[str, None] = {}
    for rule_id in rule_ids:
        if rule_id in messages:
            reasons[messages[rule_id]] = None
    return ClaimView(
        score=float(score),
        before=before,
        text=claim,
        after=after,
        categories=tuple(categories or ()),
        substance=substance,
        condition=condition,
        severity=str(severity),
        hedged=bool(hedged),
        rules=rule_ids,
        reasons=tuple(reasons),
        criteria=tuple(detail.get("criterion", ())),
        aggravators=tuple(detail.get("aggravators", ())),
        mitigators=tuple(detail.get("mitigators", ())),
        confidence=_confidence(detail.get("confidence")),
    )


def _confidence(value: Any) -> float | None:
    """A stored claim's confidence, or ``None`` (scored by the rules alone, or before there was a
    learned decision)."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _flagged_rows(session: Session, period: Period) -> list[Any]:
    query = (
        select(
            Article.id,
            Article.canonical_url,
            Article.title,
            Article.first_seen_at,
            Article.published,
            Article.version,
            Article.risk_band,
            Article.risk_score,
            raw(Article.escalations).label("escalations"),
            Article.claim_count,
            Article.family,
            Article.family_score,
            Article.near_of,
            Article.near_kind,
            Article.near_similarity,
            Article.duplicate_of,
            raw(Article.dedup_evidence).label("dedup_evidence"),
            Article.raw_sha256,
            Article.rules_sha256,
            Article.model_sha256,
            Source.name.label("source"),
        )
        .outerjoin(Source, Source.id == Article.source_id)
        .where(flagged_in(period))
    )
    rows = [(row, loads_shared(row.escalations) or ()) for row in execute(session, query)]
    rows.sort(
        key=lambda item: (
            BAND_ORDER.index(item[0].risk_band),
            0 if item[1] else 1,
            -(item[0].risk_score or 0.0),
            item[0].first_seen_at,
            item[0].id,
        )
    )
    return rows


def _near_link(kind: str | None, of: str | None) -> Link | None:
    if not of:
        return None
    if kind == "seed":
        return Link(f"seed {clean(of, 200)}", None)
    return Link(site_of(of) + " (stored article)", safe_url(of))


def _first_copies(session: Session, ids: set[int]) -> dict[int, Link]:
    links: dict[int, Link] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        query = select(Article.id, Article.canonical_url, Article.title).where(
            Article.id.in_(ordered[start : start + CHUNK])
        )
        for article_id, url, title in execute(session, query):
            text = clean(title, TITLE_LIMIT) or site_of(url)
            links[article_id] = Link(f"{text} ({site_of(url)})", safe_url(url))
    return links


def _texts(session: Session, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    query = select(Article.id, Article.text).where(Article.id.in_(ids))
    return {article_id: text for article_id, text in execute(session, query)}


def flagged_articles(
    session: Session,
    period: Period,
    settings: DigestSettings,
    messages: Mapping[str, str],
    effects: ReviewEffects | None = None,
) -> tuple[FlaggedArticle, ...]:
    rows = _flagged_rows(session, period)
    if effects is not None:
        rows = [item for item in rows if item[0].id not in effects.dismissed]
    claims = _claims(session, [r.id for r, _ in rows], settings.claims_per_article, effects)
    texts = _texts(session, [r.id for r, _ in rows[: settings.max_articles]])
    firsts = _first_copies(session, {r.duplicate_of for r, _ in rows if r.duplicate_of})
    out: list[FlaggedArticle] = []
    none = _Claims([], set(), set())
    for rank, (r, escalations) in enumerate(rows, 1):
        own = claims.get(r.id, none)
        text = texts.get(r.id)
        evidence = loads(r.dedup_evidence) or {}
        site = site_of(r.canonical_url)
        out.append(
            FlaggedArticle(
                rank=rank,
                article_id=r.id,
                band=r.risk_band,
                score=float(r.risk_score or 0.0),
                escalations=tuple(str(e) for e in escalations),
                title=clean(r.title, TITLE_LIMIT) or "(untitled)",
                page=Link(site, safe_url(r.canonical_url)),
                site=site,
                source=r.source,
                first_seen=r.first_seen_at,
                published=clean(r.published, 32) or None,
                status="new" if r.first_seen_at >= period.start else "changed",
                version=r.version,
                claim_count=int(r.claim_count or 0) - own.false_positives,
                substances=tuple(sorted(own.substances)),
                categories=tuple(sorted(own.categories)),
                claims=tuple(_claim_view(c, text, messages) for c in own.top),
                family=r.family,
                family_score=r.family_score,
                family_evidence=tuple(clean(e, 300) for e in evidence.get("template", ())[:4])
                if r.family
                else (),
                near=_near_link(r.near_kind, r.near_of),
                near_similarity=r.near_similarity,
                repost_of=firsts.get(r.duplicate_of) if r.duplicate_of else None,
                shared_passages=tuple(clean(p, 160) for p in evidence.get("passages", ())[:2]),
                raw_sha256=r.raw_sha256,
                rules_sha256=r.rules_sha256,
                model_sha256=r.model_sha256,
                review_status=effects.status.get(r.id, "new") if effects is not None else None,
                false_positives=own.false_positives,
            )
        )
    return tuple(out)


def build_digest(
    session: Session,
    period: Period,
    settings: DigestSettings,
    *,
    rule_messages: Mapping[str, str] | None = None,
    now: datetime | None = None,
    failing_after: int = DEFAULT_FAILING_AFTER,
    matcher: TemplateMatcher | None = None,
) -> Digest:
    """The digest of ``period``: figures, ranked flagged articles, families, trends, sources
    (failing after ``failing_after`` failed runs in a row: ``schedule.failing_after``), and the
    possible new template families (those ``matcher``, the seed families in use, does not
    already match)."""
    flagged_ids = [i for (i,) in execute(session, select(Article.id).where(flagged_in(period)))]
    effects = review_effects(session, flagged_ids)
    articles = flagged_articles(session, period, settings, rule_messages or {}, effects)
    escalated = sum(1 for a in articles if a.escalations)
    current = figures(session, period, escalated)
    previous_period = period.previous()
    previous = figures(session, previous_period)
    family_rows = families(session, period)
    current = replace(current, new_family_sites=sum(f.new_sites for f in family_rows))
    substances, categories = trends(session, period, settings.history_weeks, articles)
    sources = source_rows(session, period, failing_after)
    return Digest(
        period=period,
        generated_at=now or datetime.now(UTC),
        figures=current,
        previous=previous,
        articles=articles,
        max_articles=settings.max_articles,
        families=family_rows,
        substances=substances,
        categories=categories,
        sources=sources,
        changes=changes(
            session, period, current, previous, family_rows, substances, sources, failing_after
        ),
        rules=tuple(sorted({a.rules_sha256 for a in articles if a.rules_sha256})),
        dismissed=len(effects.dismissed),
        candidates=candidate_rows(session, period, matcher),
        removed_claims=removed_since_flagged(session, period),
    )
