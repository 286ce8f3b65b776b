"""Scrapy adapter for the dedup engine.

At start it loads the seed families and rebuilds the LSH index from the signatures stored with every
article; each item is then compared (off the reactor thread) and remembered, so later pages of the
same crawl are compared with it too. Matched articles' URLs and texts are read from the database
only when needed for evidence. While the crawl runs, the articles other processes store (another
crawl, another machine's worker) are added to the index too, every ``REFRESH_S`` seconds at most
(:class:`IndexRefresher`). A signature a worker process computed with the extraction
(``item.signature``, :mod:`pipeline.page_work`) is used as it is; matching stays here.

Stats: ``dedup/template_match``, ``dedup/template_match/<family>``, ``dedup/near_seed``,
``dedup/near_article``, ``dedup/unique``, ``dedup/indexed`` (signatures loaded at start),
``dedup/refreshed`` (signatures other processes stored, added while crawling), ``dedup/resigned``
(stored signatures in an older format, signed again from the stored text at start),
``dedup/refresh_error``.
Settings read: ``CLAIMWATCH_SEED_FOLDERS``, ``CLAIMWATCH_NEAR_THRESHOLD``,
``CLAIMWATCH_TEMPLATE_THRESHOLD``, and ``CLAIMWATCH_DB_URL`` (absent: the seeds only, no stored
articles).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from core.db import engine_for
from core.models import Article, utcnow
from pipeline.dedup.engine import Deduper, DedupResult
from pipeline.dedup.minhash import Signature
from pipeline.dedup.resign import current, resign
from pipeline.dedup.seeds import load_families
from pipeline.settings import required

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from core.document import Document


class Page(Protocol):
    """What the adapter reads and sets on an item (:class:`pipeline.items.PageItem` has it; the
    item module is not imported here, as it imports this stage's result type)."""

    url: str
    not_modified: bool
    document: Document | None
    signature: Signature | None
    dedup: DedupResult | None


def build_deduper(
    seed_folders: Iterable[Path | str], near_threshold: float, template_threshold: float
) -> Deduper:
    """The engine over the seed families in ``seed_folders``, with the configured thresholds."""
    return Deduper(
        load_families([Path(p) for p in seed_folders]),
        near_threshold=near_threshold,
        template_threshold=template_threshold,
    )


def load_stored(deduper: Deduper, engine: Engine) -> tuple[int, int]:
    """Add every stored article's signature to the deduper's index, signing again (and storing)
    those in an older format (:mod:`pipeline.dedup.resign`); returns (indexed, re-signed)."""
    stale: list[tuple[int, bytes]] = []
    with engine.connect() as conn:
        rows = conn.execute(select(Article.id, Article.minhash).where(Article.minhash.is_not(None)))
        indexed = deduper.load(current(rows, stale))
    resigned = resign(engine, deduper.hasher, stale)
    return indexed + deduper.load(resigned), len(resigned)


def load_index(deduper: Deduper, engine: Engine) -> int:
    """:func:`load_stored`'s count of signatures indexed."""
    return load_stored(deduper, engine)[0]


logger = logging.getLogger(__name__)
REFRESH_S = 2.0  # the index takes in what other processes stored at most this often
#: How far before the last refresh the next one looks. An article's ``changed_at`` is its fetch
#: time on the machine that fetched it, and it is committed up to a batch's wait and its retries
#: later (pipeline/store.py: about 15 s at worst), so the window is well past that plus clock skew.
REFRESH_LAG = timedelta(seconds=120)


class IndexRefresher:
    """Adds to a deduper's index the articles stored (or changed) since the last look, by
    ``changed_at``, so near-duplicates are found across processes sharing one database. Articles
    this process indexed itself (:meth:`Deduper.remember`) are skipped; an article already
    indexed with the same ``changed_at`` is not added twice. A changed article is added with its
    new signature (the old one stays; a match reads the current text)."""

    def __init__(
        self,
        deduper: Deduper,
        engine: Engine,
        every_s: float = REFRESH_S,
        lag: timedelta = REFRESH_LAG,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.deduper, self.engine, self.every_s, self.lag, self.now = (
            deduper,
            engine,
            every_s,
            lag,
            now,
        )
        self.since = now() - lag
        self.seen = self._recent()  # in the window, so in the full load that follows
        self.due = time.monotonic() + every_s

    def _recent(self) -> dict[int, datetime]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(Article.id, Article.changed_at).where(Article.changed_at >= self.since)
            )
            return {row_id: changed for row_id, changed in rows}

    def maybe_refresh(self) -> int:
        """:meth:`refresh` if ``every_s`` has passed since the last one; returns rows added."""
        if time.monotonic() < self.due:
            return 0
        return self.refresh()

    def refresh(self) -> int:
        started = self.now()
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(Article.id, Article.canonical_url, Article.changed_at, Article.minhash)
                .where(Article.changed_at >= self.since, Article.minhash.is_not(None))
                .order_by(Article.id)
            ).all()
        mine = {url for url, _ in self.deduper.local.values()} if rows else set()
        fresh: list[tuple[int, bytes | None]] = []
        for row_id, url, changed, blob in rows:
            if self.seen.get(row_id) == changed or url in mine or not blob:
                continue
            self.seen[row_id] = changed
            fresh.append((row_id, blob))
        stale: list[tuple[int, bytes]] = []  # stored by a process still on the old format
        added = self.deduper.load(list(current(fresh, stale)))
        added += self.deduper.load(resign(self.engine, self.deduper.hasher, stale))
        self.since = started - self.lag
        self.seen = {k: v for k, v in self.seen.items() if _aware(v) >= _aware(self.since)}
        self.due = time.monotonic() + self.every_s
        return added


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes, PostgreSQL aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def resolver(engine: Engine) -> Callable[[int], tuple[str, str] | None]:
    """Article id -> (canonical URL, text), read when a match needs showing."""

    def resolve(article_id: int) -> tuple[str, str] | None:
        with engine.connect() as conn:
            row = conn.execute(
                select(Article.canonical_url, Article.text).where(Article.id == article_id)
            ).first()
        return (row[0], row[1]) if row else None

    return resolve


class DedupPipeline:
    def __init__(self, stats: StatsCollector, deduper: Deduper, db_url: str | None) -> None:
        self.stats = stats
        self.deduper = deduper
        self.engine = engine_for(db_url) if db_url else None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dedup")
        self.resolve = resolver(self.engine) if self.engine is not None else None
        self.refresher: IndexRefresher | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupPipeline:
        settings = crawler.settings
        deduper = build_deduper(
            required(settings, "CLAIMWATCH_SEED_FOLDERS"),
            float(required(settings, "CLAIMWATCH_NEAR_THRESHOLD")),
            float(required(settings, "CLAIMWATCH_TEMPLATE_THRESHOLD")),
        )
        return cls(crawler.stats, deduper, settings.get("CLAIMWATCH_DB_URL"))

    def open_spider(self, spider: Any = None) -> None:
        if self.engine is not None:
            self.refresher = IndexRefresher(self.deduper, self.engine)  # before the full load
        indexed, resigned = (
            load_stored(self.deduper, self.engine) if self.engine is not None else (0, 0)
        )
        self.stats.set_value("dedup/indexed", indexed)
        self.stats.set_value("dedup/resigned", resigned)

    def close_spider(self, spider: Any = None) -> None:
        self.executor.shutdown(wait=True)

    def _analyze(self, item: Page) -> DedupResult:
        doc = item.document
        assert doc is not None
        url = doc.canonical_url or item.url
        if self.refresher is not None:
            self._refresh(self.refresher)
        result = self.deduper.analyze(
            doc, resolve=self.resolve, exclude_url=url, signature=item.signature
        )
        self.deduper.remember(url, doc.text, result.signature)
        return result

    def _refresh(self, refresher: IndexRefresher) -> None:
        """What other processes stored, into the index; a database error only delays it."""
        try:
            self.stats.inc_value("dedup/refreshed", refresher.maybe_refresh())
        except SQLAlchemyError as exc:
            refresher.due = time.monotonic() + refresher.every_s
            self.stats.inc_value("dedup/refresh_error")
            logger.warning("could not refresh the dedup index (next try soon): %s", exc)

    async def process_item(self, item: Page, spider: Any = None) -> Page:
        if item.not_modified or item.document is None:
            return item
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self.executor, self._analyze, item)
        item.dedup = result
        if result.template.match:
            self.stats.inc_value("dedup/template_match")
            self.stats.inc_value(f"dedup/template_match/{result.template.family}")
        if result.near.of is not None:
            self.stats.inc_value(f"dedup/near_{result.near.kind}")
        if not result.template.match and result.near.of is None:
            self.stats.inc_value("dedup/unique")
        return item
