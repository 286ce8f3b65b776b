"""Storage round trips on SQLite and PostgreSQL: idempotent upserts, versions, atomic batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from core.compression import ZSTD_MAGIC, decompress_html
from core.db import current_revision, session_factory, upgrade
from core.document import from_text
from core.models import Article, CrawlRun
from pipeline.items import PageItem
from pipeline.runs import SourceSpec, close_runs, open_runs
from pipeline.store import Outcome, run_ids, store_batch

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def kinds(outcomes: list[Outcome]) -> list[str]:
    return [o.kind for o in outcomes]


def page(slug: str, text: str, when: datetime = T0, **extra: object) -> PageItem:
    url = f"https://news.example.org/{slug}?utm_source=x"
    html = f"<html><body><p>{text}</p></body></html>".encode()
    document = from_text(text, url=f"https://news.example.org/{slug}")
    item = PageItem(
        source="news",
        run_group="g1",
        url=url,
        request_url=url,
        status=200,
        fetched_at=when,
        body=html,
        html=html.decode(),
        etag='"v1"',
        **extra,
    )  # type: ignore[arg-type]
    item.document = document
    return item


@pytest.fixture
def ids(engine: Engine) -> dict[str, tuple[int | None, int | None]]:
    with session_factory(engine)() as session:
        open_runs(
            session, [SourceSpec("news", "sitemap", ["https://news.example.org/"])], "g1", None
        )
    with session_factory(engine)() as session:
        return run_ids(session, "g1")


def test_upgrade_is_idempotent(engine: Engine) -> None:
    upgrade(engine)
    assert current_revision(engine) == "0010"


def test_round_trip_insert_unchanged_updated(engine: Engine, ids: dict) -> None:
    sessions = session_factory(engine)
    text = "Walking groups\nNeighbourhood walking groups met every Sunday this autumn in the park."
    with sessions() as session:
        assert kinds(store_batch(session, [page("walk", text)], ids)) == ["inserted"]
    with sessions() as session:
        again = store_batch(session, [page("walk", text, T0 + timedelta(days=1))], ids)
        assert kinds(again) == ["unchanged"]
    with sessions() as session:
        changed = page("walk", text + "\nA new paragraph was added.", T0 + timedelta(days=2))
        assert kinds(store_batch(session, [changed], ids)) == ["updated"]
    with sessions() as session:
        rows = session.scalars(select(Article)).all()
        assert len(rows) == 1
        article = rows[0]
        assert article.canonical_url == "https://news.example.org/walk"
        assert article.version == 2
        assert article.first_seen_at == T0
        assert article.changed_at == T0 + timedelta(days=2)
        assert article.fetched_at == T0 + timedelta(days=2)
        assert article.blocks[0] == {"kind": "heading", "text": "Walking groups"}
        assert article.raw_html_gz.startswith(ZSTD_MAGIC)
        assert decompress_html(article.raw_html_gz).startswith(b"<html>")
        assert len(article.raw_sha256) == 64 and len(article.text_sha256) == 64
        assert article.source_id == ids["news"][0] and article.crawl_run_id == ids["news"][1]


def test_not_modified_touches_checked_at_only(engine: Engine, ids: dict) -> None:
    sessions = session_factory(engine)
    with sessions() as session:
        store_batch(session, [page("a", "Some text about the city marathon and its route.")], ids)
    touch = PageItem(
        source="news",
        run_group="g1",
        url="https://news.example.org/a?utm_source=x",
        request_url="",
        status=304,
        fetched_at=T0 + timedelta(hours=5),
        sitemap_lastmod="2026-11-20",
        not_modified=True,
    )
    with sessions() as session:
        assert kinds(store_batch(session, [touch], ids)) == ["not_modified"]
    with sessions() as session:
        article = session.scalars(select(Article)).one()
        assert article.checked_at == T0 + timedelta(hours=5)
        assert article.fetched_at == T0 and article.version == 1
        assert article.sitemap_lastmod == "2026-11-20"  # a newer listing date answered by 304


def test_a_failing_batch_writes_nothing(engine: Engine, ids: dict) -> None:
    good = page("good", "A perfectly ordinary article about winter vegetables.")
    broken = page("broken", "Another article.")
    broken.body = None  # type: ignore[assignment]  # fails half-way through the batch
    with session_factory(engine)() as session, pytest.raises(TypeError):
        store_batch(session, [good, broken], ids)
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 0


def test_duplicate_urls_in_one_batch(engine: Engine, ids: dict) -> None:
    text = "The same page reached through two links in one crawl, with its tracking tag."
    with session_factory(engine)() as session:
        outcomes = store_batch(session, [page("dup", text), page("dup", text)], ids)
    assert kinds(outcomes) == ["inserted", "unchanged"]


def test_crawl_runs_open_and_close(engine: Engine) -> None:
    sessions = session_factory(engine)
    specs = [
        SourceSpec("ok", "feed", ["https://a.example/"]),
        SourceSpec("down", "feed", ["https://b.example/"]),
    ]
    with sessions() as session:
        runs = open_runs(session, specs, "g2", 12345678)
    stats = {
        "source/ok/fetch/pages": 4,
        "source/ok/items": 3,
        "source/down/errors/start_failed": 1,
        "source/down/errors/total": 1,
        "finish_reason": "finished",
        "start_time": T0,
    }
    with sessions() as session:
        statuses = close_runs(
            session,
            runs,
            {"ok": 1, "down": 1},
            stats,
            "finished",
            {"down": [{"url": "https://b.example/", "reason": "dns_error"}]},
        )
    assert statuses == {"ok": "ok", "down": "failed"}
    with sessions() as session:
        rows = {r.source.name: r for r in session.scalars(select(CrawlRun))}
        assert rows["ok"].pages == 4 and rows["ok"].items == 3 and rows["ok"].status == "ok"
        assert rows["down"].stats["error_samples"][0]["reason"] == "dns_error"
        assert rows["ok"].stats["crawl"]["start_time"] == T0.isoformat()
    # A run left 'running' by a process that no longer exists is marked interrupted next time.
    with sessions() as session:
        stale = open_runs(session, specs[:1], "g3", 2**22 + 7)
    with sessions() as session:
        open_runs(session, specs[:1], "g4", None)
    with sessions() as session:
        assert session.get(CrawlRun, stale["ok"]).status == "interrupted"  # type: ignore[union-attr]
