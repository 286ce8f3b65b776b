"""``claimwatch demo``: serve the bundled demo sites on loopback and run the pipeline over them."""

from __future__ import annotations

from core.config import Config, Source, SourceKind

DEMO_SOURCES = {
    "herbal-wellness-hub": (SourceKind.sitemap, "/robots.txt"),
    "natural-remedy-daily": (SourceKind.feed, "/feed.xml"),
    "city-health-news": (SourceKind.site, "/"),
}


def demo_config(config: Config, urls: dict[str, str]) -> Config:
    """The user's config (data dir, database) with the demo sites as its sources, loopback allowed,
    and no politeness delay (the servers are ours)."""
    sources = [
        Source(name=name, kind=kind, start_urls=[urls[name] + path], max_pages=200)
        for name, (kind, path) in DEMO_SOURCES.items()
        if name in urls
    ]
    crawl = config.crawl.model_copy(
        update={
            "allow_addresses": ["127.0.0.1/32"],
            "download_delay": 0.0,
            "autothrottle": False,
            "concurrency_per_domain": 4,
        }
    )
    return config.model_copy(update={"sources": sources, "crawl": crawl})
