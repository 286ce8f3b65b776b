"""Scrapy adapter for the dedup engine.

At start it loads the seed families and rebuilds the LSH index from the signatures stored with every
article; each item is then compared (off the reactor thread) and remembered, so later pages of the
same crawl are compared with it too. Matched articles' URLs and texts are read from the database
only when needed for evidence.

Stats: ``dedup/template_match``, ``dedup/template_match/<family>``, ``dedup/near_seed``,
``dedup/near_article``, ``dedup/unique``, ``dedup/indexed`` (signatures loaded at start).
Settings read: ``CLAIMWATCH_CONFIG`` (``db_url``, ``seed_folders``, ``dedup``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select

from pipeline.db import make_engine
from pipeline.dedup.engine import Deduper
from pipeline.dedup.minhash import from_bytes
from pipeline.dedup.seeds import load_families
from pipeline.models import Article

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector


def build_deduper(config: Any) -> Deduper:
    return Deduper(
        load_families(config.seed_folders),
        near_threshold=config.dedup.near_threshold,
        template_threshold=config.dedup.template_threshold,
    )


def load_index(deduper: Deduper, engine: Engine) -> int:
    """Add every stored article's signature to the deduper's index."""
    with engine.connect() as conn:
        rows = conn.execute(select(Article.id, Article.minhash).where(Article.minhash.is_not(None)))
        return deduper.load((row_id, from_bytes(blob)) for row_id, blob in rows if blob)


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
    def __init__(self, stats: StatsCollector, deduper: Deduper, db_url: str) -> None:
        self.stats = stats
        self.deduper = deduper
        self.engine = make_engine(db_url)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dedup")
        self.resolve = resolver(self.engine)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupPipeline:
        config = crawler.settings["CLAIMWATCH_CONFIG"]
        return cls(crawler.stats, build_deduper(config), config.db_url)

    def open_spider(self, spider: Any = None) -> None:
        self.stats.set_value("dedup/indexed", load_index(self.deduper, self.engine))

    def close_spider(self, spider: Any = None) -> None:
        self.executor.shutdown(wait=True)
        self.engine.dispose()

    def _analyze(self, item: Any) -> Any:
        doc = item.document
        result = self.deduper.analyze(doc, resolve=self.resolve, exclude_url=doc.canonical_url)
        self.deduper.remember(doc.canonical_url, doc.text, result.signature)
        return result

    async def process_item(self, item: Any, spider: Any = None) -> Any:
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
