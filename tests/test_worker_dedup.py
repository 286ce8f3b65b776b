"""Dedup across workers: an article one worker's crawl stores is seen by the near-duplicate check
of a crawl another worker had already started (its index refreshed from the shared database while
it runs): the refresh itself on SQLite and PostgreSQL, then two real workers on the loopback Redis
and PostgreSQL crawling two loopback sites."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import Engine, select

from core.config import load_config
from core.db import session_factory, sessions_for
from core.document import from_text
from core.models import Article, CrawlRun, Source
from crawler.demo.server import SiteHandler, SiteServer
from pipeline.dedup.engine import Deduper
from pipeline.dedup.pipeline import IndexRefresher, load_index, resolver
from pipeline.store import store_batch
from tests.conftest import REDIS_URL, ROOT, postgres_url, run_cli
from tests.dedup_texts import MEDICAL_TEXT, NEWS_TEXT, as_html
from tests.sites import sitemap_xml
from tests.test_store import ids, page
from worker.broker import enqueue_crawl, queue_depth

__all__ = ["ids"]  # the fixture, shared with test_store
TITLE = "Riverside council approves protected cycle lanes on Harbour Road"


def respun(text: str, every: int = 12) -> str:
    """Every ``every``-th word replaced by one the text does not use: a spun copy."""
    words = text.split()
    return " ".join(f"qz{n}" if n % every == every - 1 else w for n, w in enumerate(words))


class GatedHandler(SiteHandler):
    """Holds every article page until :attr:`gate` is set (the listing and robots.txt pass)."""

    gate: ClassVar[threading.Event]

    def do_GET(self) -> None:
        if self.path.startswith("/articles/"):
            self.access_log.append("waiting " + self.path)
            self.gate.wait(90)
        self.serve()


def write_news_site(root: Path, slug: str, text: str) -> Path:
    (root / "articles").mkdir(parents=True)
    (root / "articles" / f"{slug}.html").write_text(as_html(text, TITLE), encoding="utf-8")
    (root / "sitemap.xml").write_text(sitemap_xml({slug: "2026-11-30"}))
    return root


@pytest.fixture
def two_sites(tmp_path: Path) -> Iterator[tuple[SiteServer, SiteServer, threading.Event]]:
    gate = threading.Event()

    class Gated(GatedHandler):
        pass

    Gated.gate = gate
    original = SiteServer(write_news_site(tmp_path / "a", "cycle-lanes", NEWS_TEXT)).start()
    copy = SiteServer(
        write_news_site(tmp_path / "b", "harbour-lanes", respun(NEWS_TEXT)), handler=Gated
    ).start()
    yield original, copy, gate
    gate.set()
    original.stop()
    copy.stop()


def run_status(db_url: str, source: str) -> str | None:
    with sessions_for(db_url)() as session:
        return session.scalar(
            select(CrawlRun.status)
            .join(Source, CrawlRun.source_id == Source.id)
            .where(Source.name == source)
            .order_by(CrawlRun.id.desc())
        )


def wait_for(check: object, what: str, timeout: float = 120) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


@pytest.mark.slow
@pytest.mark.postgres
def test_a_spun_copy_crawled_by_one_worker_links_to_what_another_stored_meanwhile(
    two_sites: tuple[SiteServer, SiteServer, threading.Event],
    tmp_path: Path,
    redis_namespace: str,
) -> None:
    from tests.conftest import _postgres_engine

    _postgres_engine().dispose()  # this run's database, empty
    db_url = postgres_url()
    original, copy, gate = two_sites
    path = tmp_path / "claimwatch.toml"
    path.write_text(
        f"""data_dir = "{tmp_path / "data"}"
database_url = "{db_url}"
[crawl]
allow_addresses = ["127.0.0.1/32"]
download_delay = 0
autothrottle = false
retry_times = 0
download_timeout = 100
concurrency_per_domain = 2
[cluster]
broker_url = "{REDIS_URL}"
namespace = "{redis_namespace}"
[[sources]]
name = "a"
kind = "sitemap"
start_urls = ["{original.url}/sitemap.xml"]
politeness = {{ concurrency = 1 }}
[[sources]]
name = "b"
kind = "sitemap"
start_urls = ["{copy.url}/sitemap.xml"]
politeness = {{ concurrency = 1 }}
"""
    )
    assert run_cli("--config", str(path), "db", "upgrade").returncode == 0
    config = load_config(path, env={})
    command = [sys.executable, "-m", "claimwatch", "--config", str(path), "worker"]
    workers = [
        subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(2)
    ]
    try:
        # One worker's crawl of b starts with an index that lacks a's article, and is held at
        # the copy's page ...
        enqueue_crawl(config, "b")
        wait_for(lambda: any(p.startswith("waiting") for p in copy.access_log), "b's page")
        # ... while the other worker crawls a and stores the original.
        enqueue_crawl(config, "a")
        wait_for(lambda: run_status(db_url, "a") == "ok", "a's crawl")
        assert run_status(db_url, "b") == "running"
        gate.set()
        wait_for(lambda: run_status(db_url, "b") == "ok", "b's crawl")
        # Acknowledged once each crawl process has exited.
        wait_for(lambda: queue_depth(config) == 0, "the crawls to be acknowledged", 60)
    finally:
        outputs = []
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
            outputs.append(worker.communicate(timeout=60)[0])
    joined = "\n".join(outputs)
    assert "crawl a finished with exit code 0" in joined, joined
    assert "crawl b finished with exit code 0" in joined, joined
    assert all("finished with exit code" in out for out in outputs), joined  # one crawl each
    with sessions_for(db_url)() as session:
        stored = {a.canonical_url.rsplit("/", 1)[-1]: a for a in session.scalars(select(Article))}
    assert set(stored) == {"cycle-lanes.html", "harbour-lanes.html"}
    first, spun = stored["cycle-lanes.html"], stored["harbour-lanes.html"]
    assert spun.near_kind == "article"
    assert spun.near_of == first.canonical_url
    assert spun.near_similarity is not None and 0.5 < spun.near_similarity < 1.0
    assert first.near_of is None


def test_the_index_takes_in_what_another_process_stored(engine: Engine, ids: dict) -> None:
    now = datetime.now(UTC)
    mine = Deduper({})  # this crawl's index, loaded at its start: nothing stored yet
    refresher = IndexRefresher(mine, engine, every_s=0)
    assert load_index(mine, engine) == 0
    other = Deduper({})  # another worker's crawl stores the original
    original = page("cycle-lanes", NEWS_TEXT, when=now)
    assert original.document is not None
    original.dedup = other.analyze(original.document)
    with session_factory(engine)() as session:
        store_batch(session, [original], ids)
    copy = from_text(respun(NEWS_TEXT), url="https://copy.example/harbour-lanes")
    assert mine.analyze(copy, resolve=resolver(engine)).near.of is None  # not yet seen
    assert refresher.maybe_refresh() == 1
    assert refresher.maybe_refresh() == 0  # not added twice
    near = mine.analyze(copy, resolve=resolver(engine)).near
    assert (near.kind, near.of) == ("article", "https://news.example.org/cycle-lanes")
    # What this process indexed itself is not added again once stored.
    own = page("own", MEDICAL_TEXT, when=now)
    assert own.document is not None
    own.dedup = mine.analyze(own.document)
    mine.remember("https://news.example.org/own", own.document.text, own.dedup.signature)
    with session_factory(engine)() as session:
        store_batch(session, [own], ids)
    assert refresher.refresh() == 0
    assert len(mine.index) == 2  # the original and this crawl's own article, once each
