"""What the families pages show: the template families and the candidate families, as plain data.

A family is known from the seed folders (its seed articles) and from the database (the articles
the pipeline matched to it); either may be missing (a seed family nothing matched yet, a family
whose seeds are no longer configured). Candidates come from the pipeline's family discovery over
the unmatched articles (as ``claimwatch families --candidates``), computed when asked for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.document import Document
from core.models import Article
from pipeline.dedup.discovery import candidates, site_of
from pipeline.dedup.stored import uncovered
from pipeline.dedup.template import TemplateMatcher
from pipeline.dedup.unmatched import unmatched_articles
from review.queue import BANDS

RECENT = 5
SEED_LABEL_CHARS = 120


@dataclass(frozen=True, slots=True)
class Seed:
    id: str
    label: str  # the seed's title, else its first heading or block, shortened


@dataclass(frozen=True, slots=True)
class Match:
    id: int
    title: str
    url: str
    first_seen: datetime
    band: str | None


@dataclass(frozen=True, slots=True)
class Family:
    name: str
    seeds: list[Seed]
    articles: int
    flagged: int
    sites: list[tuple[str, int]]  # site, articles; most first
    recent: list[Match]


@dataclass(frozen=True, slots=True)
class CandidateView:
    id: str
    evidence: list[str]
    sites: list[str]
    members: list[Match]  # the examples first, as the discovery orders them


def _label(doc: Document) -> str:
    heading = next((b.text for b in doc.blocks if b.kind == "heading"), None)
    text = doc.title or heading or (doc.blocks[0].text if doc.blocks else "")
    text = " ".join(text.split())
    return text if len(text) <= SEED_LABEL_CHARS else text[: SEED_LABEL_CHARS - 1] + "…"


def _title(title: str | None) -> str:
    return " ".join((title or "").split()) or "(untitled)"


def families(session: Session, seeds: Mapping[str, Mapping[str, Document]]) -> list[Family]:
    """Every family: seed families in the seed folders' order, then the others by name."""
    counts: dict[str, tuple[int, int]] = {}
    flagged = func.sum(case((Article.risk_band.in_(BANDS), 1), else_=0))
    for name, total, hot in session.execute(
        select(Article.family, func.count(), flagged)
        .where(Article.family.is_not(None))
        .group_by(Article.family)
    ):
        counts[str(name)] = (int(total), int(hot or 0))
    sites: dict[str, Counter[str]] = {}
    for name, url in session.execute(
        select(Article.family, Article.canonical_url).where(Article.family.is_not(None))
    ):
        sites.setdefault(str(name), Counter())[site_of(url)] += 1
    names = list(seeds) + sorted(n for n in counts if n not in seeds)
    out = []
    for name in names:
        total, hot = counts.get(name, (0, 0))
        recent = session.execute(
            select(
                Article.id,
                Article.title,
                Article.canonical_url,
                Article.first_seen_at,
                Article.risk_band,
            )
            .where(Article.family == name)
            .order_by(Article.first_seen_at.desc(), Article.id.desc())
            .limit(RECENT)
        )
        out.append(
            Family(
                name=name,
                seeds=[Seed(i, _label(doc)) for i, doc in seeds.get(name, {}).items()],
                articles=total,
                flagged=hot,
                sites=sorted(sites.get(name, Counter()).items(), key=lambda kv: (-kv[1], kv[0])),
                recent=[Match(r[0], _title(r[1]), r[2], r[3], r[4]) for r in recent],
            )
        )
    return out


def candidate_families(
    session: Session, matcher: TemplateMatcher | None = None
) -> tuple[int, list[CandidateView]]:
    """How many unmatched articles were looked at, and the candidate families among them; with
    ``matcher`` (the seed families), those a seed family already covers are left out, as
    ``claimwatch families --candidates`` leaves them out (a promoted candidate, say)."""
    unmatched = unmatched_articles(session)
    documents = [(a.url, a.document) for a in unmatched]
    found = uncovered(candidates(documents), documents, matcher)
    by_url = {a.url: a for a in unmatched}
    moments: dict[int, tuple[datetime, str | None]] = {}
    wanted = [by_url[url].article_id for c in found for url in c.members]
    for start in range(0, len(wanted), 500):
        for article_id, seen, band in session.execute(
            select(Article.id, Article.first_seen_at, Article.risk_band).where(
                Article.id.in_(wanted[start : start + 500])
            )
        ):
            moments[article_id] = (seen, band)
    views = []
    for candidate in found:
        members = []
        for url in candidate.members:
            article = by_url[url]
            seen, band = moments[article.article_id]
            members.append(
                Match(article.article_id, _title(article.document.title), url, seen, band)
            )
        views.append(CandidateView(candidate.id, candidate.evidence, candidate.sites, members))
    return len(unmatched), views
