"""Scrapy extension recording each crawl as crawl-run rows (see :mod:`pipeline.runs`).

On ``spider_opened`` it brings the schema up to date and opens one run per source; on
``spider_closed`` it writes each source's figures, error samples and status from the final stats.
The statuses are left on ``crawler.stats`` as ``claimwatch/status/<source>`` for the caller.

Settings read: ``CLAIMWATCH_CONFIG`` (``db_url``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from scrapy import signals

from pipeline.db import make_engine, session_factory, upgrade
from pipeline.runs import SourceSpec, close_runs, open_runs

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class RunRecorder:
    def __init__(self, crawler: Crawler, db_url: str) -> None:
        self.crawler = crawler
        self.engine = make_engine(db_url)
        self.sessions = session_factory(self.engine)
        self.runs: dict[str, int] = {}
        upgrade(self.engine)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        config = crawler.settings["CLAIMWATCH_CONFIG"]
        ext = cls(crawler, config.db_url)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Any) -> None:
        specs = [SourceSpec(s.name, s.kind.value, list(s.start_urls)) for s in spider.sources]
        with self.sessions() as session:
            self.runs = open_runs(session, specs, spider.run_group, os.getpid())

    def spider_closed(self, spider: Any, reason: str) -> None:
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        start_urls = {s.name: len(s.start_urls) for s in spider.sources}
        with self.sessions() as session:
            statuses = close_runs(
                session, self.runs, start_urls, stats, reason, dict(spider.error_samples)
            )
        for name, status in statuses.items():
            self.crawler.stats.set_value(f"claimwatch/status/{name}", status)
        self.engine.dispose()


class Progress:
    """Prints one self-overwriting progress line to stderr (enabled by the CLI on a terminal)."""

    def __init__(self, crawler: Crawler, interval: float = 1.0) -> None:
        self.crawler = crawler
        self.interval = interval
        self.task: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Any) -> None:
        from twisted.internet import task

        self.task = task.LoopingCall(self.show)
        self.task.start(self.interval, now=False)

    def show(self, end: str = "\r") -> None:
        import sys

        assert self.crawler.stats is not None
        get = self.crawler.stats.get_value
        line = (
            f"pages {get('fetch/pages', 0)}  stored {get('store/inserted', 0)} new,"
            f" {get('store/updated', 0)} changed, {get('store/unchanged', 0)} unchanged"
            f"  skipped {get('extract/empty', 0) + get('extract/too_short', 0)}"
            f"  errors {get('errors/total', 0)}"
        )
        sys.stderr.write(f"\x1b[2K{line}{end}")
        sys.stderr.flush()

    def spider_closed(self, spider: Any) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        self.show(end="\n")
