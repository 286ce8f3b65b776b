"""Run one crawl in this process and report what happened, per source, from the crawl's stats.

Twisted's reactor cannot be restarted, so a process runs at most one crawl: the CLI calls this once;
the daemon starts a new process per crawl.
"""

from __future__ import annotations

import logging
import sys
import uuid
from dataclasses import dataclass, field
from typing import Any

from core.config import Config


@dataclass
class CrawlSummary:
    run_group: str
    finish_reason: str
    statuses: dict[str, str]
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> list[str]:
        return [name for name, status in self.statuses.items() if status != "ok"]

    def source_figure(self, name: str, key: str) -> int:
        return int(self.stats.get(f"source/{name}/{key}", 0))

    def note(self, name: str) -> str:
        """Why the source failed, or how many articles were new of those listed."""
        from pipeline.health import run_note
        from pipeline.runs import source_stats

        found = self.stats.get(f"claimwatch/note/{name}")
        if found:
            return str(found)
        return run_note(self.statuses.get(name), {"source": source_stats(self.stats, name)})


def run_crawl(
    config: Config,
    sources: list[str] | None = None,
    *,
    log_level: str = "WARNING",
    progress: bool | None = None,
    extra_settings: dict[str, Any] | None = None,
) -> CrawlSummary:
    from scrapy.crawler import CrawlerProcess

    from crawler.scrapy_settings import build_settings
    from crawler.spiders.articles import ArticleSpider

    settings = build_settings(config)
    settings["LOG_LEVEL"] = log_level
    settings["LOG_INSTALL_ROOT_HANDLER"] = not logging.root.handlers
    if progress is None:
        progress = sys.stderr.isatty()
    settings["CLAIMWATCH_PROGRESS"] = progress
    settings.update(extra_settings or {})
    run_group = str(uuid.uuid4())
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(ArticleSpider)
    process.crawl(crawler, sources=sources or None, run_group=run_group)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    names = sources or [s.name for s in config.sources if s.enabled]
    statuses = {name: str(stats.get(f"claimwatch/status/{name}", "interrupted")) for name in names}
    return CrawlSummary(run_group, str(stats.get("finish_reason", "unknown")), statuses, stats)
