"""``scrapy crawl``, checked first: ``scrapy crawl articles`` with no sources to crawl, or with
``-a sources=`` naming one the config lacks, says so on one line and exits 1, instead of crawling
nothing (exit 0) or printing a traceback.
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl

from core.config import Source


def problem(spider: str, spargs: dict[str, str], configured: list[Source], config: str) -> str:
    """Why ``scrapy crawl SPIDER -a ...`` cannot crawl anything (``""``: it can)."""
    if spider != "articles":
        return ""
    if not configured:
        where = config or "no claimwatch.toml here and no $CLAIMWATCH_CONFIG"
        return f"no sources configured ({where}); add [[sources]] (see `claimwatch init`)"
    wanted = [name for name in (spargs.get("sources") or "").split(",") if name]
    unknown = sorted(set(wanted) - {s.name for s in configured})
    if unknown:
        known = ", ".join(s.name for s in configured)
        return f"unknown source(s): {', '.join(unknown)} (configured: {known})"
    if not wanted and not any(s.enabled for s in configured):
        return "every configured source is disabled; name some with -a sources=a,b"
    return ""


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        if len(args) == 1:
            configured = [
                Source.model_validate(s) for s in self.settings.getlist("CLAIMWATCH_SOURCES")
            ]
            config = self.settings.get("CLAIMWATCH_CONFIG_FILE") or ""
            reason = problem(args[0], dict(opts.spargs), configured, config)
            if reason:
                print(f"claimwatch: {reason}", file=sys.stderr)
                self.exitcode = 1
                return
        super().run(args, opts)
