"""Store faults (issue 16, item 4): a failing batch is retried with a growing wait, a batch that keeps
failing fails the run loudly (exit 1, the reason in the run and in ``claimwatch sources``), nothing
is crawled without a recorded run, and an article stored without its source gets it back.

The faults are real database errors: a trigger that refuses the write, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler
from sqlalchemy import Engine, func, select, text

from core.db import make_engine, session_factory, upgrade
from core.models import Article, CrawlRun
from pipeline.store import StorePipeline, store_batch
from tests.conftest import Served, run_cli, write_config
from tests.test_store import ids, page

__all__ = ["ids"]  # the fixture, shared with test_store

REFUSAL = "No space left on device"


def refuse_writes(engine: Engine, table: str, while_flagged: bool = False) -> None:
    """A trigger that makes every insert into ``table`` fail as a full disk would; with
    ``while_flagged``, only while the table ``store_fault`` has a row."""
    with engine.begin() as conn:
        if while_flagged:
            conn.execute(text("CREATE TABLE IF NOT EXISTS store_fault (id INTEGER)"))
            conn.execute(text("INSERT INTO store_fault VALUES (1)"))
        if engine.dialect.name == "sqlite":
            when = "WHEN EXISTS (SELECT 1 FROM store_fault)" if while_flagged else ""
            conn.execute(
                text(
                    f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} {when} "
                    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
                )
            )
            return
        check = "IF EXISTS (SELECT 1 FROM store_fault) THEN " if while_flagged else "IF true THEN "
        conn.execute(
            text(
                f"CREATE OR REPLACE FUNCTION refuse_{table}() RETURNS trigger AS $$ BEGIN "
                f"{check} RAISE EXCEPTION '{REFUSAL}'; END IF; RETURN NEW; END $$ "
                "LANGUAGE plpgsql"
            )
        )
        conn.execute(
            text(
                f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION refuse_{table}()"
            )
        )


def test_an_article_stored_without_its_source_gets_it_on_the_next_upsert(
    engine: Engine, ids: dict
) -> None:
    sessions = session_factory(engine)
    text_ = "An article first stored while its crawl run was not recorded."
    with sessions() as session:
        store_batch(session, [page("orphan", text_)], {})
    with sessions() as session:
        assert session.scalars(select(Article.source_id)).one() is None
    with sessions() as session:
        store_batch(session, [page("orphan", text_)], ids)
    with sessions() as session:
        assert session.scalars(select(Article.source_id)).one() == ids["news"][0]


def test_a_failing_batch_is_retried_until_the_database_takes_it(
    engine: Engine, db_url: str, ids: dict
) -> None:
    refuse_writes(engine, "articles", while_flagged=True)
    crawler = get_crawler()
    crawler.stats.open_spider()
    pipeline = StorePipeline(crawler.stats, db_url, 10, attempts=5, backoff_s=0.3)

    def clear_fault_after_a_retry() -> None:
        deadline = time.monotonic() + 30
        while not crawler.stats.get_value("store/retried") and time.monotonic() < deadline:
            time.sleep(0.01)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM store_fault"))

    helper = threading.Thread(target=clear_fault_after_a_retry)
    helper.start()
    item = page("retried", "An article stored at the second or third try.")
    outcomes = pipeline._write([item])
    helper.join()
    assert [o.kind for o in outcomes] == ["inserted"]
    assert crawler.stats.get_value("store/retried") >= 1
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 1


def test_a_batch_that_keeps_failing_raises_after_every_try(
    engine: Engine, db_url: str, ids: dict
) -> None:
    refuse_writes(engine, "articles")
    crawler = get_crawler()
    crawler.stats.open_spider()
    pipeline = StorePipeline(crawler.stats, db_url, 10, attempts=3, backoff_s=0.01)
    with pytest.raises(Exception, match=REFUSAL):
        pipeline._write([page("lost", "An article the database refuses.")])
    assert crawler.stats.get_value("store/retried") == 2


def config_for(tmp_path: Path, site: Served, db_url: str) -> Path:
    return write_config(
        tmp_path / "claimwatch.toml",
        [{"name": "weekly", "kind": "sitemap", "start_urls": [site.url + "/sitemap.xml"]}],
        db_url,
    )


@pytest.mark.slow
def test_a_store_that_keeps_failing_fails_the_crawl_loudly(
    site: Served, db_url: str, tmp_path: Path
) -> None:
    """Before: the batch's items were counted as store/error, the run was "ok", exit 0."""
    engine = make_engine(db_url)
    upgrade(engine)
    refuse_writes(engine, "articles")
    config = config_for(tmp_path, site, db_url)
    result = run_cli("--config", str(config), "crawl")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "source(s) failed: weekly" in result.stderr
    assert "not stored" in result.stdout and REFUSAL in result.stdout
    with session_factory(engine)() as session:
        run = session.scalars(select(CrawlRun)).one()
        assert session.scalar(select(func.count()).select_from(Article)) == 0
    assert run.status == "failed"
    assert run.errors >= 3
    assert "store: 3 item(s) not stored" in run.stats["failure"]
    assert REFUSAL in run.stats["failure"]
    listing = run_cli("--config", str(config), "sources")
    assert "failed last run" in listing.stdout
    assert "last run failed: store: 3 item(s) not stored" in listing.stdout
    engine.dispose()


@pytest.mark.slow
def test_nothing_is_crawled_without_a_recorded_run(
    site: Served, db_url: str, tmp_path: Path
) -> None:
    """Before: the crawl went on, every article got a NULL source_id and no crawl_runs row."""
    engine = make_engine(db_url)
    upgrade(engine)
    refuse_writes(engine, "crawl_runs")
    config = config_for(tmp_path, site, db_url)
    result = run_cli("--config", str(config), "crawl")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "could not be recorded" in result.stderr and "nothing was crawled" in result.stderr
    assert site.requests == []
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 0
    engine.dispose()
