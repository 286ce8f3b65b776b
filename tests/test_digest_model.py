"""The digest model: figures, ranking, claims in context, families, trends, source health, changes.

Runs on SQLite and PostgreSQL (the ``engine`` fixture). The builders here (``World``) are shared by
the other digest tests.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core.config import DigestSettings
from core.db import session_factory
from core.models import Article, Claim, CrawlRun, Source
from reports.digest import build_digest
from reports.model import Audience
from reports.period import (
    Period,
    parse_period,
)

WEEK = parse_period("2026-W47")  # Monday 16 - Sunday 22 November 2026
BEFORE = WEEK.previous()


def at(period: Period, days: float = 1.0) -> datetime:
    return period.start + timedelta(days=days)


@dataclass
class ClaimSpec:
    sentence: str
    score: float = 40.0
    categories: Sequence[str] = ("disease_treatment",)
    substance: str | None = "kratom"
    condition: str | None = "opioid_withdrawal"
    severity: str = "serious"
    rules: Sequence[str] = ("disease.treats",)
    detail: dict[str, Any] = field(
        default_factory=lambda: {
            "criterion": ["21 CFR 101.93(g)(2)(i)"],
            "aggravators": ["unlawful"],
            "mitigators": [],
        }
    )


class World:
    """Writes sources, articles, claims and crawl runs the way the pipeline stores them."""

    def __init__(self, engine: Engine) -> None:
        self.factory = session_factory(engine)
        self.session: Session = self.factory()
        self.sources: dict[str, Source] = {}
        self.count = 0

    def source(self, name: str) -> Source:
        if name not in self.sources:
            source = Source(name=name, kind="sitemap", start_urls=[f"https://{name}.test/"])
            self.session.add(source)
            self.session.flush()
            self.sources[name] = source
        return self.sources[name]

    def article(
        self,
        title: str | None,
        seen: datetime,
        *,
        url: str | None = None,
        band: str | None = None,
        score: float | None = None,
        claims: Sequence[ClaimSpec] = (),
        text: str | None = None,
        source: str = "farm",
        changed: datetime | None = None,
        escalations: Sequence[str] = (),
        html: str | None = None,
        **columns: Any,
    ) -> Article:
        self.count += 1
        url = url or f"https://{source}.test/post-{self.count}"
        body = text or "\n".join(c.sentence for c in claims) or f"Plain article {self.count}."
        raw = (html or f"<html><body><p>{title}</p></body></html>").encode()
        article = Article(
            canonical_url=url,
            url=url,
            source_id=self.source(source).id,
            first_seen_at=seen,
            fetched_at=changed or seen,
            checked_at=changed or seen,
            changed_at=changed or seen,
            raw_sha256=hashlib.sha256(raw).hexdigest(),
            text_sha256=hashlib.sha256(body.encode()).hexdigest(),
            raw_html_gz=gzip.compress(raw),
            title=title,
            text=body,
            text_chars=len(body),
            version=2 if changed else 1,
            risk_band=band,
            risk_score=score,
            escalations=list(escalations),
            claim_count=len(claims),
            rules_sha256="ab" * 32 if band else None,
            **columns,
        )
        self.session.add(article)
        self.session.flush()
        offset = 0
        for position, spec in enumerate(claims):
            start = body.find(spec.sentence, offset)
            offset = start + len(spec.sentence)
            self.session.add(
                Claim(
                    article_id=article.id,
                    position=position,
                    sentence=spec.sentence,
                    start=start,
                    end=start + len(spec.sentence),
                    categories=list(spec.categories),
                    substance=spec.substance,
                    condition=spec.condition,
                    severity=spec.severity,
                    score=spec.score,
                    rules=list(spec.rules),
                    hedged=False,
                    detail=spec.detail,
                )
            )
        return article

    def run(self, source: str, started: datetime, status: str = "ok", **figures: Any) -> CrawlRun:
        run = CrawlRun(
            run_group=f"g{started.timestamp()}",
            source_id=self.source(source).id,
            started_at=started,
            finished_at=started + timedelta(minutes=5),
            status=status,
            pages=figures.pop("pages", 10),
            items=figures.pop("items", 5),
            errors=figures.pop("errors", 0),
            stats={"source": figures.pop("stats", {})},
        )
        self.session.add(run)
        return run

    def commit(self) -> None:
        self.session.commit()


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    """A World on each backend; its session is closed after the test (PostgreSQL's teardown
    drops the tables and would wait for an open transaction)."""
    world = World(engine)
    yield world
    world.session.close()


def flagged_world(world: World) -> World:
    """A week with four flagged articles, one ignored, reposts, a family, and source runs."""
    world.article(
        "Kratom for opioid withdrawal: the complete guide",
        at(WEEK, 1),
        band="review",
        score=55.0,
        source="hub",
        family="kratom-dopamine",
        family_score=0.82,
        dedup_evidence={"template": ["table of contents of 7 items, as in the seeds"]},
        text="Intro line.\nMany readers ask about it. Kratom eases opioid withdrawal in days. "
        "Ask your doctor first.",
        claims=[ClaimSpec("Kratom eases opioid withdrawal in days.", score=52.0)],
    )
    cancer = world.article(
        "Mushroom tea shrinks tumours",
        at(WEEK, 2),
        band="review",
        score=48.0,
        source="daily",
        escalations=["cancer"],
        claims=[
            ClaimSpec(
                "Turkey tail shrinks tumours.",
                score=40.0,
                substance="mushrooms",
                condition="cancer",
            ),
            ClaimSpec("It is completely safe.", score=8.0, categories=("safety_assurance",)),
        ],
    )
    top = world.article(
        "Stop taking insulin: this root does it all",
        at(WEEK, 3),
        band="priority",
        score=90.0,
        source="hub",
        family="kratom-dopamine",
        family_score=0.7,
        claims=[
            ClaimSpec(
                "Replace insulin with kava root.",
                score=80.0,
                categories=("medical_substitution", "disease_treatment"),
                substance="kava",
                condition="diabetes",
            )
        ],
    )
    world.article(
        "Kratom for opioid withdrawal: the complete guide (copy)",
        at(WEEK, 4),
        band="watch",
        score=20.0,
        source="copycat",
        url="https://copycat.test/guide",
        duplicate_of=top.id,
        family="kratom-dopamine",
        family_score=0.8,
        near_of="https://hub.test/post-1",
        near_kind="article",
        near_similarity=0.93,
        claims=[ClaimSpec("Kratom eases opioid withdrawal.", score=20.0)],
    )
    world.article("Flu clinic hours", at(WEEK, 2), band="ignore", score=0.0, source="news")
    world.article("Old flagged post", at(BEFORE, 2), band="review", score=45.0, source="hub")
    world.article("Earlier family post", at(BEFORE, 1), source="hub", family="kratom-dopamine")
    world.article("Next week's post", at(WEEK, 8), band="priority", score=99.0, source="hub")
    del cancer
    for day in (1, 3):
        world.run("hub", at(WEEK, day), pages=20, items=8)
        world.run(
            "news",
            at(WEEK, day),
            status="failed",
            errors=3,
            stats={"errors/total": 3, "errors/dns_error": 3},
        )
    world.run("news", at(BEFORE, 5), status="ok")
    world.commit()
    return world


SETTINGS = DigestSettings(max_articles=50, claims_per_article=3, history_weeks=8)


def test_figures_and_ranking(world: World) -> None:
    flagged_world(world)
    digest = build_digest(world.session, WEEK, SETTINGS, now=at(WEEK, 8))
    f = digest.figures
    assert (f.new_articles, f.flagged, f.priority, f.review, f.watch) == (5, 4, 1, 2, 1)
    assert f.total_articles == 7  # next week's post is not counted
    assert (f.escalated, f.family_matches, f.reposts, f.near_duplicates) == (1, 3, 1, 1)
    assert digest.previous.flagged == 1
    titles = [a.title for a in digest.articles]
    # priority first; within review the escalated (cancer) article before the higher score
    assert titles == [
        "Stop taking insulin: this root does it all",
        "Mushroom tea shrinks tumours",
        "Kratom for opioid withdrawal: the complete guide",
        "Kratom for opioid withdrawal: the complete guide (copy)",
    ]
    assert [a.rank for a in digest.articles] == [1, 2, 3, 4]
    assert digest.articles[1].substances == ("kratom", "mushrooms")


def test_claims_in_context_and_explained(world: World) -> None:
    flagged_world(world)
    messages = {"disease.treats": "says the product treats a disease"}
    digest = build_digest(world.session, WEEK, SETTINGS, rule_messages=messages)
    guide = next(a for a in digest.articles if a.title.endswith("complete guide"))
    claim = guide.claims[0]
    assert (claim.before, claim.text, claim.after) == (
        "Many readers ask about it. ",
        "Kratom eases opioid withdrawal in days.",
        " Ask your doctor first.",
    )
    assert claim.reasons == ("says the product treats a disease",)
    assert claim.criteria == ("21 CFR 101.93(g)(2)(i)",) and claim.aggravators == ("unlawful",)
    assert guide.family == "kratom-dopamine" and guide.family_evidence
    copy = digest.articles[3]
    assert copy.repost_of is not None and copy.repost_of.href == "https://hub.test/post-3"
    assert copy.near is not None and copy.near.href == "https://hub.test/post-1"
    assert copy.evidence_path.startswith(f"evidence/{copy.article_id}-")


def test_only_the_shown_articles_get_context(world: World) -> None:
    flagged_world(world)
    settings = DigestSettings(max_articles=1, claims_per_article=1)
    digest = build_digest(world.session, WEEK, settings)
    assert len(digest.shown) == 1 and digest.not_shown == 3
    assert all(len(a.claims) <= 1 for a in digest.articles)
    guide = next(a for a in digest.articles if a.title.endswith("complete guide"))
    assert guide.claims[0].before == ""  # not shown in full: no article text loaded


def test_families_trends_sources_and_changes(world: World) -> None:
    flagged_world(world)
    for weeks_back in (2, 3):
        world.article(
            f"Kratom post {weeks_back} weeks back",
            at(WEEK.previous(weeks_back)),
            band="watch",
            score=20.0,
            claims=[ClaimSpec("Kratom cures pain.")],
        )
    world.commit()
    digest = build_digest(world.session, WEEK, SETTINGS, failing_after=2)  # news failed twice
    [family] = digest.families
    assert (family.name, family.articles, family.total) == ("kratom-dopamine", 3, 4)
    assert family.first_seen == at(BEFORE, 1)
    assert [(s.host, s.new) for s in family.sites] == [("hub.test", False), ("copycat.test", True)]
    assert digest.figures.new_family_sites == 1
    assert digest.substances.windows[-1] == "W47" and len(digest.substances.windows) == 9
    kratom = next(r for r in digest.substances.rows if r.name == "kratom")
    assert kratom.counts == (0, 0, 0, 0, 0, 1, 1, 0, 3)
    assert kratom.change == "up"
    kava = next(r for r in digest.substances.rows if r.name == "kava")
    assert kava.change == "new"
    categories = {r.name: r.current for r in digest.categories.rows}
    assert categories["treats a disease"] == 4 and categories["replaces medical care"] == 1
    sources = {s.name: s for s in digest.sources}
    assert sources["news"].failing and sources["news"].health == "failing (2 runs)"
    assert sources["news"].error_reasons == (("dns_error", 6),)
    assert (sources["hub"].runs, sources["hub"].pages, sources["hub"].health) == (2, 40, "healthy")
    assert digest.sources[0].name == "news"  # failing sources first
    assert "Flagged articles: 4, up from 1 the period before." in digest.changes
    assert "Source news is failing: its last 2 runs." in digest.changes
    assert "Family kratom-dopamine spread to a new site: copycat.test." in digest.changes
    assert any(line.startswith("First flagged claims about kava") for line in digest.changes)
    assert any(line.startswith("Claims about kratom rose") for line in digest.changes)


def test_changed_articles_count_in_the_period_they_changed(world: World) -> None:
    world.article(
        "Rewritten to add a cure claim",
        at(BEFORE.previous(), 2),
        changed=at(WEEK, 2),
        band="review",
        score=50.0,
        claims=[ClaimSpec("It cures cancer.")],
    )
    world.commit()
    digest = build_digest(world.session, WEEK, SETTINGS)
    [article] = digest.articles
    assert (article.status, article.version) == ("changed", 2)
    assert (digest.figures.new_articles, digest.figures.changed_articles) == (0, 1)


def test_audience_filters_and_reranks(world: World) -> None:
    flagged_world(world)
    digest = build_digest(world.session, WEEK, SETTINGS)
    review = digest.for_audience(Audience("desk", min_band="review"))
    assert [a.band for a in review.articles] == ["priority", "review", "review"]
    kava = digest.for_audience(Audience("kava", substances=("kava",)))
    assert [(a.rank, a.title) for a in kava.articles] == [
        (1, "Stop taking insulin: this root does it all")
    ]
    assert kava.figures == digest.figures  # the headline figures stay the whole period's


def test_empty_database_gives_an_empty_digest(world: World) -> None:
    digest = build_digest(world.session, WEEK, SETTINGS)
    assert digest.articles == () and digest.families == () and digest.sources == ()
    assert digest.figures.total_articles == 0 and digest.changes == ()


def test_claim_confidence_reaches_the_digest(world: World) -> None:
    """A claim stored with the learned decision's confidence shows it; one scored by the rules
    alone (or before the learned decision) shows none."""
    from reports.render import page_html, text

    world.article(
        "Kava for sleep",
        at(WEEK, 1),
        band="priority",
        score=80.0,
        claims=[
            ClaimSpec("Kava cures insomnia.", detail={"confidence": 0.834}),
            ClaimSpec("Kava ends anxiety.", detail={}),
        ],
    )
    world.session.commit()
    digest = build_digest(world.session, WEEK, SETTINGS)
    article = next(a for a in digest.articles if a.title == "Kava for sleep")
    assert sorted(c.confidence or 0 for c in article.claims) == [0, 0.834]
    assert "confidence 83%" in page_html(digest) and "(confidence 83%)" in text(digest)
