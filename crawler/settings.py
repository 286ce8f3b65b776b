"""Scrapy's settings module (named in ``scrapy.cfg``), so ``scrapy list`` and ``scrapy crawl articles``
work from the repository root. It loads the configuration (``$CLAIMWATCH_CONFIG`` or
``./claimwatch.toml``) and exposes what :func:`crawler.scrapy_settings.build_settings` derives from it.
"""

from __future__ import annotations

import sys
from typing import Any

from core.config import ConfigError, find_config_path, load_config
from crawler.scrapy_settings import build_settings


def _settings() -> dict[str, Any]:
    try:
        settings = build_settings(load_config())
    except ConfigError as exc:
        print(f"claimwatch: {exc}", file=sys.stderr)
        raise SystemExit(78) from None
    found = find_config_path(None)
    # `scrapy crawl` checks the sources before crawling (crawler/commands/crawl.py).
    return {
        **settings,
        "COMMANDS_MODULE": "crawler.commands",
        "CLAIMWATCH_CONFIG_FILE": str(found) if found else "",
    }


globals().update(_settings())
