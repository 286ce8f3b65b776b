"""Scrapy settings derived from the claimwatch configuration: the one place where that happens.

``claimwatch crawl`` calls :func:`build_settings`; ``scrapy crawl articles`` reaches it through
``crawler/settings.py``. Every value comes from :class:`core.config.Config`, whose fields hold the
defaults (one place, documented in the README's configuration table); nothing here or in the
components repeats one. Components read only the named settings below, never the config object.

======================================  ========================================  ==================
setting                                 from the config                           read by
======================================  ========================================  ==================
``CLAIMWATCH_DB_URL``                   ``db_url``                                spider (known
                                                                                  pages),
                                                                                  ``RunRecorder``,
                                                                                  ``DedupPipeline``
                                                                                  (stored index),
                                                                                  ``StorePipeline``
``CLAIMWATCH_SOURCES``                  ``sources`` (as plain dicts)              spider
``CLAIMWATCH_RECRAWL_AFTER_DAYS``       ``crawl.recrawl_after_days``              spider
``CLAIMWATCH_ALLOW_ADDRESSES``          ``crawl.allow_addresses``                 ``AddressGuard``,
                                                                                  ``GuardedResolver``
``CLAIMWATCH_MIN_ARTICLE_CHARS``        ``crawl.min_article_chars``               ``PageWorkPipeline``
``CLAIMWATCH_EXTRACT_PROCESSES``        ``crawl.extract_processes`` (``None``:    ``PageWorkPipeline``
                                        one per CPU; 0: no worker processes)
``CLAIMWATCH_EXTRACT_TIMEOUT_S``        ``crawl.extract_timeout_s``               ``ExtractPipeline``
``CLAIMWATCH_SEED_FOLDERS``             ``seed_folders``                          ``DedupPipeline``
``CLAIMWATCH_NEAR_THRESHOLD``           ``dedup.near_threshold``                  ``DedupPipeline``
``CLAIMWATCH_TEMPLATE_THRESHOLD``       ``dedup.template_threshold``              ``DedupPipeline``
``CLAIMWATCH_RULES_PATH``               ``rules.path`` (``None``: shipped rules)  ``ScorePipeline``,
                                                                                  ``PageWork...``
``CLAIMWATCH_RULES_EXTRA``              ``rules.extra``                           ``ScorePipeline``,
                                                                                  ``PageWork...``
``CLAIMWATCH_CLAIM_MODEL``              ``rules.model`` (``shipped``, ``rules-    ``ScorePipeline``,
                                        only`` or a weights file)                 ``PageWork...``
``CLAIMWATCH_BATCH_SIZE``               ``crawl.batch_size``                      ``StorePipeline``
``CLAIMWATCH_EXACT_DUPLICATES``         ``dedup.exact_duplicates``                ``StorePipeline``
``CLAIMWATCH_WARC_DIR``                 ``storage.warc_dir`` (``None``: ``storage.  ``StorePipeline``
                                        warc`` is off)
``CLAIMWATCH_WARC_MAX_BYTES``           ``storage.warc_max_mb`` in bytes          ``StorePipeline``
``CLAIMWATCH_PROGRESS``                 (the CLI, on a terminal; ``False``)       ``Progress``
======================================  ========================================  ==================

``PageWork...`` is ``PageWorkPipeline`` (``pipeline/page_work.py``): extraction, and in its worker
processes the dedup signature and the claim score too, with the rules ``ScorePipeline`` uses.

A component that is switched off raises ``NotConfigured``: without ``CLAIMWATCH_DB_URL`` there is
no ``RunRecorder`` and no ``StorePipeline`` (the spider then knows no pages and dedup compares with
the seeds only), and ``Progress`` runs only with ``CLAIMWATCH_PROGRESS``. The other components
need their settings and fail with ``KeyError`` naming the one that is missing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from core.config import Config

BOT_NAME = "claimwatch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
CONCURRENT_ITEMS = 8  # per response (bench/README.md, "Crawl process CPU and memory")


def claimwatch_settings(config: Config) -> dict[str, Any]:
    """The ``CLAIMWATCH_*`` settings of the table above."""
    crawl = config.crawl
    return {
        "CLAIMWATCH_DB_URL": config.db_url,
        "CLAIMWATCH_SOURCES": [s.model_dump(mode="json") for s in config.sources],
        "CLAIMWATCH_RECRAWL_AFTER_DAYS": crawl.recrawl_after_days,
        "CLAIMWATCH_ALLOW_ADDRESSES": list(crawl.allow_addresses),
        "CLAIMWATCH_MIN_ARTICLE_CHARS": crawl.min_article_chars,
        "CLAIMWATCH_EXTRACT_PROCESSES": crawl.extract_processes,
        "CLAIMWATCH_EXTRACT_TIMEOUT_S": crawl.extract_timeout_s,
        "CLAIMWATCH_SEED_FOLDERS": [str(p) for p in config.seed_folders],
        "CLAIMWATCH_NEAR_THRESHOLD": config.dedup.near_threshold,
        "CLAIMWATCH_TEMPLATE_THRESHOLD": config.dedup.template_threshold,
        "CLAIMWATCH_RULES_PATH": str(config.rules.path) if config.rules.path else None,
        "CLAIMWATCH_RULES_EXTRA": dict(config.rules.extra),
        "CLAIMWATCH_CLAIM_MODEL": config.rules.model,
        "CLAIMWATCH_BATCH_SIZE": crawl.batch_size,
        "CLAIMWATCH_EXACT_DUPLICATES": config.dedup.exact_duplicates,
        "CLAIMWATCH_WARC_DIR": str(config.warc_folder) if config.warc_folder else None,
        "CLAIMWATCH_WARC_MAX_BYTES": config.storage.warc_max_mb * 1024 * 1024,
        "CLAIMWATCH_PROGRESS": False,
    }


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
        **claimwatch_settings(config),
        "USER_AGENT": crawl.full_user_agent,
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "CONCURRENT_REQUESTS": crawl.concurrent_requests,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrency_per_domain,
        # Scrapy starts this many tasks for each response's output (the default 100 cost about
        # 0.7 ms of the reactor's CPU a page); a page yields one item, a listing only requests.
        "CONCURRENT_ITEMS": CONCURRENT_ITEMS,
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
        "DOWNLOADER_MIDDLEWARES": {
            "crawler.middlewares.AddressGuard": 50,
            "crawler.retry_after.RetryAfter": 560,  # sees a response before RetryMiddleware (550)
        },
        # Connections go only to addresses the guard allows, checked on the answer connected to.
        "TWISTED_DNS_RESOLVER": "crawler.resolver.GuardedResolver",
        "ITEM_PIPELINES": {
            "pipeline.page_work.PageWorkPipeline": 100,
            "pipeline.dedup.pipeline.DedupPipeline": 300,
            "pipeline.claims.pipeline.ScorePipeline": 500,
            "pipeline.store.StorePipeline": 900,
        },
        "EXTENSIONS": {"crawler.extensions.RunRecorder": 0, "crawler.extensions.Progress": 10},
        "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
        "FEED_EXPORT_ENCODING": "utf-8",
    }
