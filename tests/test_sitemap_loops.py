"""Sitemap indexes that loop (list themselves or an index that led to them) or list a sitemap
twice: each sitemap is read once, and the loop is counted and recorded for the source instead of
vanishing in Scrapy's duplicate filter. A crawl of a real loopback site."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import Served, run_cli, write_config
from tests.test_crawl import last_runs, stored

NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def index_xml(*paths: str) -> str:
    entries = "".join(f"<sitemap><loc>__BASE_URL__/{p}</loc></sitemap>" for p in paths)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="{NS}">{entries}</sitemapindex>'
    )


@pytest.mark.slow
def test_a_looping_sitemap_index_is_read_once_and_the_loop_recorded(
    site: Served, tmp_path: Path
) -> None:
    # loop.xml lists itself, a child index and the articles; the child lists loop.xml (its
    # parent) and the articles again.
    (site.root / "loop.xml").write_text(
        index_xml("loop.xml", "child-index.xml", "sitemap-articles.xml")
    )
    (site.root / "child-index.xml").write_text(index_xml("loop.xml", "sitemap-articles.xml"))
    db_url = f"sqlite:///{tmp_path / 'cw.db'}"
    config = write_config(
        tmp_path / "claimwatch.toml",
        [{"name": "loops", "kind": "sitemap", "start_urls": [site.url + "/loop.xml"]}],
        db_url,
    )
    result = run_cli("--config", str(config), "crawl")
    assert result.returncode == 0, result.stderr
    assert set(stored(db_url)) == {"alpha.html", "beta.html", "gamma.html"}
    fetched = [line for line in site.requests if line.endswith(".xml")]
    for path in ("/loop.xml", "/child-index.xml", "/sitemap-articles.xml"):
        assert fetched.count(path) == 1, (path, fetched)

    run = last_runs(db_url)["loops"]
    assert run.status == "ok"
    own = run.stats["source"]
    assert own["sitemap/loop"] == 2  # loop.xml -> loop.xml, loop.xml -> child-index.xml -> loop.xml
    assert own["sitemap/repeated"] == 1  # sitemap-articles.xml, listed by both indexes
    assert own["errors/sitemap_loop"] == 2 and own["errors/sitemap_repeated"] == 1
    assert run.errors == 3
    details = sorted(s["detail"] for s in run.stats["error_samples"])
    base = site.url
    assert details == [
        f"lists {base}/sitemap-articles.xml again, already read in this run: not read twice",
        f"sitemap loop, not followed: {base}/loop.xml -> {base}/child-index.xml -> {base}/loop.xml",
        f"sitemap loop, not followed: {base}/loop.xml -> {base}/loop.xml",
    ]
    assert "dupefilter/filtered" not in run.stats["crawl"]

    sources = run_cli("--config", str(config), "sources")
    assert sources.returncode == 0, sources.stderr
    # articles 3, then the last run: pages 3, items 3, errors 3
    assert re.search(r"^loops\s+sitemap\s+3\s+\S+ \S+\s+3\s+3\s+3\s", sources.stdout, re.M), (
        sources.stdout
    )
