"""Review decisions on both backends: verdicts, statuses, the audit log, the digest's view of
them, and the export that ``claimwatch model train`` reads."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, insert, select, update

from core.config import DigestSettings
from core.models import Article, ArticleReview, AuditEntry, Claim, ClaimDecision, User
from pipeline.claims.units import read_units
from reports.digest import build_digest
from reports.period import week_period
from reports.render import page_html, text
from review.decisions import DecisionError, decide_claim, update_article
from review.export import write_jsonl
from tests.review_world import World, build

WEEK = week_period(2026, 47)


@pytest.fixture
def world(engine: Engine) -> World:
    return build(engine)


def user(session, name: str) -> User:  # type: ignore[no-untyped-def]
    found = session.scalar(select(User).where(User.name == name))
    assert found is not None
    return found


def test_status_assignee_notes_and_their_audit(world: World) -> None:
    article = world.articles["turmeric"]
    with world.sessions() as session:
        rita = user(session, "rita")
        update_article(session, rita, article, status="in_review", assignee="rita")
        update_article(session, rita, article, notes="letter sent 1 Dec")
        update_article(session, rita, article, status="actioned")
        update_article(session, rita, article, status="actioned")  # no change, no entry
        with pytest.raises(DecisionError, match="cannot become"):
            update_article(session, rita, article, status="dismissed")
        with pytest.raises(DecisionError, match="no user"):
            update_article(session, rita, article, assignee="nobody")
        session.commit()
    with world.sessions() as session:
        review = session.get(ArticleReview, article)
        assert review is not None and review.status == "actioned" and review.updated_by == "rita"
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [(e.actor, e.action, e.article_id) for e in entries] == [
            ("rita", "article", article)
        ] * 3
        assert entries[0].before == {"status": "new", "assignee": None, "notes": ""}
        assert entries[0].after == {"status": "in_review", "assignee": "rita", "notes": ""}
        assert entries[1].after["notes"] == "letter sent 1 Dec"
        assert (entries[2].before["status"], entries[2].after["status"]) == (
            "in_review",
            "actioned",
        )
        assert all(e.at is not None and e.at.tzinfo is not None for e in entries)


def test_the_audit_log_is_append_only(world: World) -> None:
    with world.sessions() as session:
        update_article(session, user(session, "rita"), world.articles["turmeric"], notes="x")
        session.commit()
        entry = session.scalars(select(AuditEntry)).one()
        entry.actor = "someone else"
        with pytest.raises(RuntimeError, match="append-only"):
            session.flush()
        session.rollback()
        entry = session.scalars(select(AuditEntry)).one()
        session.delete(entry)
        with pytest.raises(RuntimeError, match="append-only"):
            session.flush()


def test_claim_verdicts_survive_a_rescore(world: World) -> None:
    article = world.articles["turmeric"]
    first, second = world.claims["turmeric"]
    with world.sessions() as session:
        rita = user(session, "rita")
        with pytest.raises(DecisionError, match="say why"):
            decide_claim(session, rita, first, "false_positive")
        decide_claim(session, rita, first, "false_positive", "quotes a study it rebuts")
        decide_claim(session, rita, second, "confirmed")
        decide_claim(session, rita, second, "confirmed")  # the same again: no audit entry
        session.commit()
        # the store replaces an article's claims whole on every re-score
        rows = [
            {c.name: getattr(claim, c.name) for c in Claim.__table__.columns if c.name != "id"}
            for claim in session.scalars(select(Claim).where(Claim.article_id == article))
        ]
        session.execute(delete(Claim).where(Claim.article_id == article))
        session.execute(insert(Claim), rows)
        session.commit()
    with world.sessions() as session:
        decisions = session.scalars(
            select(ClaimDecision).order_by(ClaimDecision.sentence_index)
        ).all()
        assert [(d.verdict, d.sentence_index) for d in decisions] == [
            ("false_positive", 0),
            ("confirmed", 1),
        ]
        audit = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [(e.before, e.after) for e in audit] == [
            (None, {"verdict": "false_positive", "reason": "quotes a study it rebuts"}),
            (None, {"verdict": "confirmed", "reason": ""}),
        ]
        new_first = session.scalars(
            select(Claim.id).where(Claim.article_id == article, Claim.position == 0)
        ).one()
        assert decide_claim(session, user(session, "rita"), new_first, "") is None  # undo
        session.commit()
        assert len(session.scalars(select(ClaimDecision)).all()) == 1
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert last is not None and last.after is None and last.before is not None


def test_the_digest_honours_the_decisions(world: World) -> None:
    settings = DigestSettings()
    with world.sessions() as session:
        before = build_digest(session, WEEK, settings)
        assert len(before.articles) == 3
        assert {a.review_status for a in before.articles} == {"new"}
        assert (before.dismissed, before.false_positives) == (0, 0)
        rita = user(session, "rita")
        update_article(session, rita, world.articles["kratom"], status="dismissed")
        update_article(session, rita, world.articles["ashwa"], status="in_review")
        decide_claim(session, rita, world.claims["turmeric"][0], "false_positive", "a recipe")
        session.commit()
    with world.sessions() as session:
        digest = build_digest(session, WEEK, settings)
        ids = [a.article_id for a in digest.articles]
        assert world.articles["kratom"] not in ids  # dismissed
        assert [a.rank for a in digest.articles] == [1, 2]
        turmeric = next(a for a in digest.articles if a.article_id == world.articles["turmeric"])
        assert [c.text for c in turmeric.claims] == ["It also reverses diabetes without insulin."]
        assert turmeric.claim_count == 1 and turmeric.false_positives == 1
        statuses = {a.article_id: a.review_status for a in digest.articles}
        assert statuses[world.articles["ashwa"]] == "in review"
        assert (digest.dismissed, digest.false_positives) == (1, 1)
        html, plain = page_html(digest), text(digest)
        assert "Left out after review: 1 dismissed article and 1 false-positive claim." in html
        assert "Left out after review: 1 dismissed article and 1 false-positive claim." in plain
        assert "review: in review" in html and "review: in review" in plain
        assert "Turmeric cures arthritis" not in html
        # the dismissed article's text changes: it is flagged again
        changed = "Kratom cures opioid withdrawal in days. New paragraph."
        session.execute(
            update(Article)
            .where(Article.id == world.articles["kratom"])
            .values(text=changed, text_sha256=hashlib.sha256(changed.encode()).hexdigest())
        )
        session.commit()
        again = build_digest(session, WEEK, settings)
        kratom = next(a for a in again.articles if a.article_id == world.articles["kratom"])
        assert kratom.review_status == "dismissed, text changed since"
        assert again.dismissed == 0


def test_export_is_read_by_model_training(world: World, tmp_path: Path) -> None:
    with world.sessions() as session:
        rita = user(session, "rita")
        decide_claim(session, rita, world.claims["turmeric"][1], "confirmed")
        decide_claim(session, rita, world.claims["turmeric"][0], "false_positive", "history")
        decide_claim(session, rita, world.claims["kratom"][0], "confirmed")
        session.commit()
        out = io.StringIO()
        assert write_jsonl(session, out) == 3
    path = tmp_path / "decisions.jsonl"
    path.write_text(out.getvalue(), encoding="utf-8")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert set(lines[0]) >= {
        "article_id",
        "sentence_index",
        "sentence",
        "unit_type",
        "risky",
        "categories",
    }
    units = read_units(path)
    assert [(u.article_id, u.index, u.risky, sorted(u.categories)) for u in units] == [
        (str(world.articles["turmeric"]), 0, False, []),
        (str(world.articles["turmeric"]), 1, True, ["medical_substitution"]),
        (str(world.articles["kratom"]), 0, True, ["disease_treatment"]),
    ]
    assert units[0].text == "Turmeric cures arthritis for good."
