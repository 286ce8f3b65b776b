"""Scrapy settings derived from the claimwatch configuration: the one place where that happens.

``claimwatch crawl`` calls :func:`build_settings`; ``scrapy crawl articles`` reaches it through
``crawler/settings.py``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from claimwatch.config import Config

BOT_NAME = "claimwatch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"


def build_settings(config: Config) -> dict[str, Any]:
    crawl = config.crawl
    per_source_slots = {}
    for source in config.sources:
        p = source.politeness
        if p.download_delay is not None or p.concurrency:
            for url in source.start_urls:
                slot: dict[str, Any] = {}
                if p.download_delay is not None:
                    slot["delay"] = p.download_delay
                if p.concurrency:
                    slot["concurrency"] = p.concurrency
                per_source_slots[f"{source.name}:{urlsplit(url).netloc}"] = slot
    return {
        "BOT_NAME": BOT_NAME,
        "SPIDER_MODULES": SPIDER_MODULES,
        "NEWSPIDER_MODULE": NEWSPIDER_MODULE,
        "CLAIMWATCH_CONFIG": config,
        "USER_AGENT": crawl.full_user_agent,
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "CONCURRENT_REQUESTS": crawl.concurrent_requests,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrency_per_domain,
        "DOWNLOAD_DELAY": crawl.download_delay,
        "DOWNLOAD_SLOTS": per_source_slots,
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(crawl.download_delay, 0.5),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": crawl.autothrottle_target_concurrency,
        "DOWNLOAD_TIMEOUT": crawl.download_timeout,
        "DOWNLOAD_MAXSIZE": crawl.max_page_bytes,
        "DOWNLOAD_WARNSIZE": max(crawl.max_page_bytes // 2, 1024),
        "REDIRECT_MAX_TIMES": crawl.max_redirects,
        "RETRY_TIMES": crawl.retry_times,
        "CLOSESPIDER_TIMEOUT": crawl.time_limit_s,
        "DEPTH_LIMIT": 0,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "INFO",
        "LOG_INSTALL_ROOT_HANDLER": True,
        "LOGSTATS_INTERVAL": 60.0,
        # Only the web: no local files, FTP, S3 buckets or data: URLs.
        "DOWNLOAD_HANDLERS": {"file": None, "ftp": None, "s3": None, "data": None},
        "DOWNLOADER_MIDDLEWARES": {"crawler.middlewares.AddressGuard": 50},
        "ITEM_PIPELINES": {
            "pipeline.extract.ExtractPipeline": 100,
            "pipeline.dedup.pipeline.DedupPipeline": 300,
            "pipeline.claims.pipeline.ScorePipeline": 500,
            "pipeline.store.StorePipeline": 900,
        },
        "EXTENSIONS": {"crawler.extensions.RunRecorder": 0},
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
        "FEED_EXPORT_ENCODING": "utf-8",
    }
