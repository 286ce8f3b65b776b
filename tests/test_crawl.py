"""End-to-end crawls of a local site in subprocesses: discovery, incremental re-crawls, robots.txt,
failing sources and hostile pages."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from core.db import make_engine, session_factory
from core.models import Article, CrawlRun, Source
from tests.conftest import Served, run_cli, write_config
from tests.sites import article_html, sitemap_xml


def stored(db_url: str) -> dict[str, Article]:
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        rows = {a.canonical_url.split("/")[-1]: a for a in session.scalars(select(Article))}
    engine.dispose()
    return rows


def last_runs(db_url: str) -> dict[str, CrawlRun]:
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        runs = session.execute(select(Source.name, CrawlRun).join(CrawlRun).order_by(CrawlRun.id))
        result = {name: run for name, run in runs}
    engine.dispose()
    return result


def crawl(config: Path, *sources: str) -> Any:
    result = run_cli("--config", str(config), "crawl", *sources)
    return result


@pytest.mark.slow
def test_sitemap_crawl_then_only_changes(site: Served, db_url: str, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "claimwatch.toml",
        [{"name": "weekly", "kind": "sitemap", "start_urls": [site.url + "/robots.txt"]}],
        db_url,
    )
    first = crawl(config)
    assert first.returncode == 0, first.stderr
    articles = stored(db_url)
    assert set(articles) == {"alpha.html", "beta.html", "gamma.html"}
    alpha = articles["alpha.html"]
    assert alpha.title == "Herbal tea and evening routines"
    assert alpha.author == "Sam Writer"
    assert alpha.language == "en"
    assert alpha.canonical_url == site.url + "/articles/alpha.html"  # utm_source stripped
    assert alpha.sitemap_lastmod == "2026-11-01"
    assert alpha.etag and alpha.last_modified
    kinds = [b["kind"] for b in alpha.blocks]
    assert kinds.count("list_item") == 3 and "heading" in kinds
    assert "cookies" not in alpha.text and "Copyright" not in alpha.text
    run = last_runs(db_url)["weekly"]
    assert run.status == "ok" and run.items == 3 and run.finished_at is not None
    assert run.stats["source"]["store/inserted"] == 3
    assert "/private/secret.html" not in site.requests

    # Change one article (and its sitemap lastmod); touch another without changing it.
    time.sleep(1.1)
    (site.root / "articles" / "beta.html").write_text(article_html("beta", revision=2))
    (site.root / "sitemap-articles.xml").write_text(
        sitemap_xml({"alpha": "2026-11-01", "beta": "2026-11-09", "gamma": "2026-11-03"})
    )
    site.clear_log()
    second = crawl(config)
    assert second.returncode == 0, second.stderr
    fetched_articles = [p for p in site.requests if p.startswith("/articles/")]
    assert fetched_articles == ["/articles/beta.html"]
    after = stored(db_url)
    assert after["beta.html"].version == 2 and "revision 2" in after["beta.html"].text
    assert after["alpha.html"].version == 1
    assert after["alpha.html"].first_seen_at == alpha.first_seen_at
    run = last_runs(db_url)["weekly"]
    assert run.stats["source"]["store/updated"] == 1
    assert run.stats["source"]["discovery/lastmod_unchanged"] == 2


@pytest.mark.slow
def test_feed_and_site_sources(site: Served, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'cw.db'}"
    config = write_config(
        tmp_path / "claimwatch.toml",
        [
            {"name": "feed", "kind": "feed", "start_urls": [site.url + "/feed.xml"]},
            {"name": "links", "kind": "site", "start_urls": [site.url + "/"], "max_depth": 3},
        ],
        db_url,
    )
    result = crawl(config)
    assert result.returncode == 0, result.stderr
    articles = stored(db_url)
    assert set(articles) == {"alpha.html", "beta.html", "gamma.html", "delta.html"}
    assert "/private/secret.html" not in site.requests  # robots.txt obeyed for links too
    runs = last_runs(db_url)
    assert runs["links"].stats["source"]["discovery/offsite"] >= 1  # example.com not followed
    assert runs["links"].stats["source"]["errors/robots_forbidden"] == 1
    assert runs["links"].stats["source"]["extract/too_short"] >= 1  # the about page
    # Conditional GETs on the second run: the server answers 304 and nothing is re-extracted.
    site.clear_log()
    again = crawl(config, "links")
    assert again.returncode == 0, again.stderr
    stats = last_runs(db_url)["links"].stats["source"]
    assert stats["fetch/not_modified"] >= 2
    assert stats.get("store/inserted", 0) == 0


@pytest.mark.slow
def test_unreachable_source_is_recorded_and_others_go_on(site: Served, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'cw.db'}"
    config = write_config(
        tmp_path / "claimwatch.toml",
        [
            {"name": "down", "kind": "feed", "start_urls": ["http://127.0.0.1:9/feed.xml"]},
            {"name": "good", "kind": "sitemap", "start_urls": [site.url + "/sitemap.xml"]},
        ],
        db_url,
    )
    result = crawl(config)
    assert result.returncode != 0
    assert "down" in result.stderr
    runs = last_runs(db_url)
    assert runs["down"].status == "failed"
    assert runs["down"].stats["error_samples"][0]["reason"] == "connection_refused"
    assert runs["good"].status == "ok" and runs["good"].items == 3
    listing = run_cli("--config", str(config), "sources")
    assert "failed last run" in listing.stdout and "healthy" in listing.stdout


HOSTILE = {
    "huge": "too_large",
    "huge-chunked": "too_large",
    "bomb": "decompression_bomb",
    "redirect-private": "loopback_address",
    "error": "http_500",
}


@pytest.mark.slow
def test_hostile_pages_are_refused_with_reasons(site: Served, tmp_path: Path) -> None:
    names = [*HOSTILE, "latin1", "misdeclared", "malformed", "binary"]
    entries = "".join(f"<url><loc>__BASE_URL__/hostile/{n}.html</loc></url>" for n in names)
    (site.root / "hostile.xml").write_text(
        f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}'
        "<url><loc>__BASE_URL__/articles/alpha.html</loc></url></urlset>"
    )
    db_url = f"sqlite:///{tmp_path / 'cw.db'}"
    config = write_config(
        tmp_path / "claimwatch.toml",
        [{"name": "hostile", "kind": "sitemap", "start_urls": [site.url + "/hostile.xml"]}],
        db_url,
    )
    result = crawl(config)
    assert result.returncode == 0, result.stderr  # bad pages do not fail the source
    run = last_runs(db_url)["hostile"]
    reasons = {(s["url"].rsplit("/", 1)[-1], s["reason"]) for s in run.stats["error_samples"]}
    for name, reason in HOSTILE.items():
        assert (f"{name}.html", reason) in reasons or (
            name == "redirect-private" and ("alpha.html", reason) in reasons
        ), (name, reasons)
    assert run.stats["crawl"]["guard/refused/loopback_address"] == 1
    assert run.stats["source"]["extract/empty"] >= 1  # the binary junk
    articles = stored(db_url)
    assert articles["latin1.html"].title == "Café crème über alles"
    assert "très apprécié à Zürich" in articles["latin1.html"].text
    assert "malformed.html" in articles and "brewing times" in articles["malformed.html"].text
    assert "misdeclared.html" in articles
    assert "alpha.html" in articles
    assert run.status == "ok"
    memory = run.stats["crawl"].get("memusage/max", 0)
    assert memory == 0 or memory < 1024 * 1024 * 1024


@pytest.mark.slow
def test_articles_export(site: Served, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "claimwatch.toml",
        [{"name": "weekly", "kind": "sitemap", "start_urls": [site.url + "/sitemap.xml"]}],
    )
    assert crawl(config).returncode == 0
    jsonl = run_cli("--config", str(config), "articles", "--format", "jsonl")
    rows = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert {r["canonical_url"].rsplit("/", 1)[-1] for r in rows} == {
        "alpha.html",
        "beta.html",
        "gamma.html",
    }
    assert all(r["source"] == "weekly" for r in rows)
    csv_out = run_cli("--config", str(config), "articles", "--format", "csv", "--source", "weekly")
    assert csv_out.stdout.splitlines()[0].startswith("canonical_url,url,source,title")
    assert len(csv_out.stdout.splitlines()) == 4


@pytest.mark.slow
def test_scrapy_list_and_crawl_from_repo(site: Served, tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT

    config = write_config(
        tmp_path / "claimwatch.toml",
        [{"name": "weekly", "kind": "sitemap", "start_urls": [site.url + "/sitemap.xml"]}],
    )
    env = {**os.environ, "CLAIMWATCH_CONFIG": str(config)}
    scrapy = [sys.executable, "-m", "scrapy"]
    listed = subprocess.run([*scrapy, "list"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert listed.stdout.split() == ["articles"], listed.stderr
    crawled = subprocess.run(
        [*scrapy, "crawl", "articles", "-a", "sources=weekly", "-s", "LOG_LEVEL=WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert crawled.returncode == 0, crawled.stderr
    assert len(stored(f"sqlite:///{tmp_path / 'data' / 'claimwatch.db'}")) == 3


@pytest.mark.parametrize("bad", ["broken"])
def test_crawl_with_invalid_config_exits_78(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "claimwatch.toml"
    path.write_text('[crawl]\ndownload_delay = "soon"\n')
    result = run_cli("--config", str(path), "crawl")
    assert result.returncode == 78
    assert str(path) in result.stderr and "crawl.download_delay" in result.stderr


@pytest.mark.slow
def test_killed_crawl_leaves_whole_rows_and_next_run_completes(tmp_path: Path) -> None:
    import hashlib
    import signal
    import subprocess
    import sys

    from core.compression import decompress_html
    from core.document import Document, from_text
    from tests.conftest import ROOT, serve
    from tests.sites import write_site

    root = write_site(tmp_path / "site")
    for n in range(40):
        html = article_html("alpha").replace("Herbal tea", f"Herbal tea {n}")
        html = html.replace("articles/alpha.html", f"articles/many-{n}.html")
        (root / "articles" / f"many-{n}.html").write_text(html)
    entries = "".join(
        f"<url><loc>__BASE_URL__/articles/many-{n}.html</loc></url>" for n in range(40)
    )
    (root / "many.xml").write_text(
        f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    )
    served = serve(root, delay=0.15)
    try:
        db_url = f"sqlite:///{tmp_path / 'cw.db'}"
        config = write_config(
            tmp_path / "claimwatch.toml",
            [{"name": "many", "kind": "sitemap", "start_urls": [served.url + "/many.xml"]}],
            db_url,
            crawl={"batch_size": 3, "concurrency_per_domain": 1},
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMWATCH_")}
        process = subprocess.Popen(
            [sys.executable, "-m", "claimwatch", "--config", str(config), "crawl"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if (tmp_path / "cw.db").exists() and len(stored(db_url)) >= 3:
                    break
            except OperationalError:  # the crawl is still migrating the new database
                pass
            time.sleep(0.1)
        process.send_signal(signal.SIGKILL)
        process.wait()
        partial = stored(db_url)
        assert 3 <= len(partial) < 40
        for article in partial.values():  # every committed row is whole
            document = Document(blocks=from_text(article.text).blocks)
            assert article.text_sha256 == document.text_sha256
            raw = decompress_html(article.raw_html_gz)
            assert hashlib.sha256(raw).hexdigest() == article.raw_sha256
            assert article.blocks and article.title
        assert last_runs(db_url)["many"].status == "running"
        # The next run marks the dead run interrupted and fetches the rest, with no duplicates.
        result = crawl(config)
        assert result.returncode == 0, result.stderr
        engine = make_engine(db_url)
        with session_factory(engine)() as session:
            urls = list(session.scalars(select(Article.canonical_url)))
            statuses = [r.status for r in session.scalars(select(CrawlRun).order_by(CrawlRun.id))]
            integrity = session.execute(text("PRAGMA integrity_check")).scalar()
        engine.dispose()
        assert len(urls) == len(set(urls)) == 40
        assert integrity == "ok"
        assert statuses == ["interrupted", "ok"]
    finally:
        served.process.kill()
        served.process.wait()
