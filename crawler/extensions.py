"""Scrapy extension recording each crawl as crawl-run rows (see :mod:`pipeline.runs`).

On ``spider_opened`` it brings the schema up to date and opens one run per source; on
``spider_closed`` it writes each source's figures, error samples and status from the final stats.
The statuses are left on ``crawler.stats`` as ``claimwatch/status/<source>`` for the caller, with
what the run did in words as ``claimwatch/note/<source>`` (see :func:`pipeline.health.run_note`).

Nothing is crawled without a recorded run: when the runs cannot be opened, the spider is closed
before its first request (reason ``run_not_recorded``), every source's status is ``failed`` and
the reason is kept as ``claimwatch/run_not_recorded``.

Settings read: ``CLAIMWATCH_DB_URL``; without it the extension is off (``NotConfigured``).
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import CloseSpider, NotConfigured

from core.db import engine_for, sessions_for, upgrade
from pipeline.health import run_note
from pipeline.runs import SourceSpec, close_runs, open_runs, source_stats

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class RunRecorder:
    def __init__(self, crawler: Crawler, db_url: str) -> None:
        self.crawler = crawler
        self.sessions = sessions_for(db_url)
        self.runs: dict[str, int] = {}
        upgrade(engine_for(db_url))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        db_url = crawler.settings.get("CLAIMWATCH_DB_URL")
        if not db_url:
            raise NotConfigured("CLAIMWATCH_DB_URL is not set: crawl runs are not recorded")
        ext = cls(crawler, db_url)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Any) -> None:
        specs = [SourceSpec(s.name, s.kind.value, list(s.start_urls)) for s in spider.sources]
        try:
            with self.sessions() as session:
                self.runs = open_runs(session, specs, spider.run_group, os.getpid())
        except Exception as exc:
            logger.exception("could not record the crawl runs: nothing is crawled")
            assert self.crawler.stats is not None
            original = getattr(exc, "orig", None) or exc
            reason = f"{type(original).__name__}: {original}".splitlines()[0][:200]
            self.crawler.stats.set_value("claimwatch/run_not_recorded", reason)
            for spec in specs:
                self.crawler.stats.set_value(f"claimwatch/status/{spec.name}", "failed")
            raise CloseSpider("run_not_recorded") from exc

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
            own = {"source": source_stats(stats, name), "error_samples": spider.error_samples[name]}
            self.crawler.stats.set_value(f"claimwatch/note/{name}", run_note(status, own))


class Progress:
    """A progress display on stderr (rich): one line per source with the pages done of those
    discovered so far, the rate and the errors, refreshed every ``interval`` seconds.

    Settings read: ``CLAIMWATCH_PROGRESS`` (the CLI sets it on a terminal); off without it.
    """

    def __init__(self, crawler: Crawler, interval: float = 1.0, console: Any = None) -> None:
        self.crawler = crawler
        self.interval = interval
        self.console = console
        self.task: Any = None
        self.display: Any = None
        self.rows: dict[str, Any] = {}
        self.started = 0.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        if not crawler.settings.getbool("CLAIMWATCH_PROGRESS"):
            raise NotConfigured  # no message: Scrapy would log one as a warning
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Any) -> None:
        import time

        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn
        from rich.progress import Progress as Display

        self.display = Display(
            TextColumn("{task.description:<24}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TextColumn("pages  {task.fields[rate]:>5.1f}/s  errors {task.fields[errors]}"),
            console=self.console or Console(stderr=True),
            auto_refresh=False,
        )
        self.display.start()
        self.rows = {
            s.name: self.display.add_task(s.name, total=None, rate=0.0, errors=0)
            for s in spider.sources
        }
        self.started = time.monotonic()
        if self.interval > 0:
            from twisted.internet import task

            self.task = task.LoopingCall(self.show)
            self.task.start(self.interval, now=False)

    def figures(self, name: str) -> tuple[int, int, int]:
        """Pages done, pages discovered (to fetch) and errors of a source so far."""
        assert self.crawler.stats is not None
        get = self.crawler.stats.get_value
        done = int(get(f"source/{name}/fetch/pages", 0))
        queued = int(get(f"source/{name}/discovery/new", 0)) + int(
            get(f"source/{name}/discovery/conditional", 0)
        )
        return done, max(done, queued), int(get(f"source/{name}/errors/total", 0))

    def show(self) -> None:
        import time

        elapsed = max(time.monotonic() - self.started, 1e-6)
        for name, row in self.rows.items():
            done, total, errors = self.figures(name)
            self.display.update(
                row, completed=done, total=total or None, rate=done / elapsed, errors=errors
            )
        self.display.refresh()

    def spider_closed(self, spider: Any) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        if self.display is not None:
            self.show()
            self.display.stop()
