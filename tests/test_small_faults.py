"""The smaller faults of issue 16 (item 6): a digest writer out of room says so plainly; a source
that never yielded an article is not called healthy."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core.db import session_factory
from reports.listings import source_health
from tests.conftest import ROOT, Served, postgres_url, run_cli, write_config
from tests.test_crawl import last_runs, stored
from tests.test_health import runs

FILE_LIMIT = 512  # bytes: the digest page is larger, so its write fails as on a full disk


def _small_files() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))


@pytest.mark.slow
def test_a_digest_writer_out_of_room_fails_with_a_clear_error(tmp_path: Path) -> None:
    """Before: a raw OSError traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMWATCH_")}
    env["CLAIMWATCH_DATABASE_URL"] = postgres_url()  # a server: no local database file to grow
    env["CLAIMWATCH_DATA_DIR"] = str(tmp_path / "data")
    base = [sys.executable, "-m", "claimwatch", "digest", "--week", "2026-W47"]
    ready = subprocess.run(
        [sys.executable, "-m", "claimwatch", "db", "upgrade"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert ready.returncode == 0, ready.stderr
    out = tmp_path / "digests"
    result = subprocess.run(
        [*base, "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, preexec_fn=_small_files,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "could not write the 2026-W47 digest" in result.stderr
    assert not list(out.glob(".*.html.*"))  # no temporary file left behind


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session


def test_a_source_that_never_yielded_an_article_is_not_healthy(session: Session) -> None:
    """Before: a source whose runs all ended "ok" with nothing stored (a 429 storm, a bomb, an
    invalid sitemap) read "healthy"."""
    runs(session, "empty", ["ok", "ok"])
    [row] = source_health(session, 3)
    assert row.articles == 0 and row.last_items == 0
    assert row.health == "no articles yet"


def test_retry_after_is_read_as_seconds_or_a_date() -> None:
    from datetime import UTC, datetime

    from crawler.retry_after import retry_after_s

    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert retry_after_s(b"120") == 120.0
    assert retry_after_s("Tue, 01 Dec 2026 10:00:30 GMT", now) == 30.0
    assert retry_after_s("Tue, 01 Dec 2026 09:00:00 GMT", now) == 0.0  # in the past: now
    assert retry_after_s(b"soon") is None and retry_after_s(None) is None


@pytest.mark.slow
def test_retry_after_is_honoured_up_to_a_cap(site: Served, tmp_path: Path) -> None:
    """Before: `Retry-After: 3600` was ignored and the page asked for again at once."""
    entries = "".join(
        f"<url><loc>__BASE_URL__/hostile/{name}.html</loc></url>"
        for name in ("busy-long", "busy-short")
    )
    (site.root / "busy.xml").write_text(
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{entries}</urlset>"
    )
    db_url = f"sqlite:///{tmp_path / 'cw.db'}"
    config = write_config(
        tmp_path / "claimwatch.toml",
        [{"name": "busy", "kind": "sitemap", "start_urls": [site.url + "/busy.xml"]}],
        db_url,
        crawl={"retry_times": 2},
    )
    result = run_cli("--config", str(config), "crawl")
    assert result.returncode == 0, result.stderr
    assert set(stored(db_url)) == {"busy-short.html"}  # waited a second, then stored
    assert site.requests.count("/hostile/busy-short.html") == 2
    assert site.requests.count("/hostile/busy-long.html") == 1  # not asked again this run
    source = last_runs(db_url)["busy"].stats["source"]
    assert source["errors/retry_after_too_long"] == 1
    crawl = last_runs(db_url)["busy"].stats["crawl"]
    assert crawl["retry_after/too_long"] == 1 and crawl["retry_after/waited"] == 1


def test_an_undeclared_windows_1252_page_is_read_as_windows_1252() -> None:
    from crawler.encoding import page_text

    body = "<html><body><p>Café crème brûlée, 5 €</p></body></html>".encode("cp1252")
    text, encoding = page_text(body, "text/html", body.decode("cp1250"), "cp1250")
    assert "crème brûlée" in text and "€" in text and encoding == "cp1252"
    declared = b'<meta charset="iso-8859-2">' + "č".encode("iso-8859-2")
    assert page_text(declared, "text/html", "kept", "iso8859-2") == ("kept", "iso8859-2")
    utf8 = "crème".encode()
    assert page_text(utf8, "text/html", "crème", "utf-8") == ("crème", "utf-8")


@pytest.mark.slow
def test_an_undeclared_windows_1252_page_is_stored_right(site: Served, tmp_path: Path) -> None:
    """Before: Scrapy's guess read it as windows-1250: "crčme"."""
    (site.root / "undeclared.xml").write_text(
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>__BASE_URL__/hostile/undeclared.html</loc></url></urlset>"
    )
    db_url = f"sqlite:///{tmp_path / 'cw.db'}"
    config = write_config(
        tmp_path / "claimwatch.toml",
        [{"name": "cafe", "kind": "sitemap", "start_urls": [site.url + "/undeclared.xml"]}],
        db_url,
    )
    result = run_cli("--config", str(config), "crawl")
    assert result.returncode == 0, result.stderr
    article = stored(db_url)["undeclared.html"]
    assert article.title == "Crème fraîche and herbal tea"
    assert "crème de la crème" in article.text and "crčme" not in article.text
