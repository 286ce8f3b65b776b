"""A small world for the review workspace's tests: users, a source, flagged articles and claims."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.db import session_factory
from core.models import Article, Claim, Source
from review.users import add_user

PASSWORD = "correct horse battery"
SECRET = "s" * 48
NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)  # in 2026-W47

HOSTILE_TITLE = '<script>document.title="pwned"</script><img src=x onerror="document.title=1">'
HOSTILE_TEXT = (
    "Kratom cures opioid withdrawal in days. <script>document.title='pwned'</script>\n"
    '<a href="javascript:document.title=2">click</a> <b onmouseover="alert(1)">hover</b> '
    "{{ 7*7 }} and more text."
)


@dataclass
class World:
    sessions: sessionmaker[Session]
    articles: dict[str, int]
    claims: dict[str, list[int]]


def _article(
    session: Session,
    source: Source,
    slug: str,
    title: str,
    text: str,
    band: str,
    score: float,
    claims: list[tuple[str, list[str], str | None]],
    *,
    escalations: list[str] | None = None,
    family: str | None = None,
    first_seen: datetime = NOW,
) -> tuple[int, list[int]]:
    article = Article(
        canonical_url=f"https://{source.name}.example/{slug}",
        url=f"https://{source.name}.example/{slug}",
        source_id=source.id,
        first_seen_at=first_seen,
        fetched_at=first_seen,
        checked_at=first_seen,
        changed_at=first_seen,
        raw_sha256=hashlib.sha256(text.encode()).hexdigest(),
        text_sha256=hashlib.sha256(text.encode()).hexdigest(),
        raw_html_gz=gzip.compress(b"<html></html>"),
        title=title,
        text=text,
        text_chars=len(text),
        blocks=[{"kind": "paragraph", "text": line} for line in text.split("\n")],
        risk_score=score,
        risk_band=band,
        escalations=escalations or [],
        claim_count=len(claims),
        family=family,
        family_score=0.8 if family else None,
        rules_sha256="r" * 64,
    )
    session.add(article)
    session.flush()
    ids = []
    for position, (sentence, categories, substance) in enumerate(claims):
        start = text.index(sentence)
        claim = Claim(
            article_id=article.id,
            position=position,
            sentence=sentence,
            start=start,
            end=start + len(sentence),
            categories=categories,
            substance=substance,
            condition=None,
            severity="serious",
            score=60.0 - position,
            rules=["disease-cure"],
            hedged=False,
            detail={"criterion": ["21 CFR 101.93(g)(2)(iv)"]},
        )
        session.add(claim)
        session.flush()
        ids.append(claim.id)
    return article.id, ids


def build(engine: Engine) -> World:
    sessions = session_factory(engine)
    articles: dict[str, int] = {}
    claims: dict[str, list[int]] = {}
    with sessions() as session:
        for name, role in (("vera", "viewer"), ("rita", "reviewer"), ("adam", "admin")):
            add_user(session, name, role, PASSWORD)
        farm = Source(name="farm", kind="sitemap", start_urls=["https://farm.example/"])
        news = Source(name="news", kind="feed", start_urls=["https://news.example/"])
        session.add_all([farm, news])
        session.flush()
        text = (
            "Turmeric cures arthritis for good.\n"
            "It also reverses diabetes without insulin.\n"
            "Take 3 grams a day."
        )
        articles["turmeric"], claims["turmeric"] = _article(
            session,
            farm,
            "turmeric",
            "Turmeric, the miracle",
            text,
            "priority",
            88.0,
            [
                ("Turmeric cures arthritis for good.", ["disease_treatment"], "turmeric"),
                (
                    "It also reverses diabetes without insulin.",
                    ["medical_substitution"],
                    "turmeric",
                ),
            ],
            family="miracle-listicle",
        )
        articles["kratom"], claims["kratom"] = _article(
            session,
            news,
            "kratom",
            HOSTILE_TITLE,
            HOSTILE_TEXT,
            "review",
            55.0,
            [("Kratom cures opioid withdrawal in days.", ["disease_treatment"], "kratom")],
            escalations=["opioid_withdrawal"],
        )
        articles["ashwa"], claims["ashwa"] = _article(
            session,
            farm,
            "ashwagandha",
            "Ashwagandha and sleep",
            "Ashwagandha ends insomnia.\nSleep well.",
            "watch",
            20.0,
            [("Ashwagandha ends insomnia.", ["efficacy_certainty"], "ashwagandha")],
            first_seen=NOW - timedelta(hours=1),
        )
        session.commit()
    return World(sessions, articles, claims)
