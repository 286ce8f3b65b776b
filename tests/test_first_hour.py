"""The first hour, as a new user meets it, through the CLI against local servers: the demo twice,
the first (empty) digest and what `digest --send` and `digests` say about it, the article exports,
`init`, the Scrapy entry points, and `analyze` on a page already stored."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.config import load_config
from reports.period import week_of
from tests.conftest import ROOT, Served, run_cli, serve, write_config
from tests.sites import write_site

pytestmark = pytest.mark.slow


# --- the demo -----------------------------------------------------------------------------------


def _figures(stdout: str) -> list[str]:
    """The demo's summary without what changes from run to run (ports, run id, the demo login's
    fresh password)."""
    lines = [line for line in stdout.splitlines() if not line.startswith("serving ")]
    text = "\n".join(lines)
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    text = re.sub(r"log in as demo / \S+", "log in as demo / PASSWORD", text)
    return re.sub(r"crawl [0-9a-f-]{36}", "crawl RUN", text).splitlines()


def test_demo_runs_again_with_the_same_result_and_links_to_the_evidence(tmp_path: Path) -> None:
    env = {"CLAIMWATCH_DATA_DIR": str(tmp_path / "data")}
    first = run_cli("demo", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    second = run_cli("demo", cwd=tmp_path, env=env)
    assert second.returncode == 0, second.stderr
    assert _figures(second.stdout) == _figures(first.stdout)
    assert "0 exact reposts" not in second.stdout and "1 exact reposts" in second.stdout
    folder = tmp_path / "data" / "demo"
    assert f"results: sqlite:///{folder / 'claimwatch.db'}" in second.stdout

    # The digest of this week, its article links going to the stored evidence (the demo sites are
    # gone once it exits), and every linked evidence page written.
    week = week_of(datetime.now(UTC)).key
    page = folder / "digests" / f"{week}.html"
    assert f"digest: {page}" in second.stdout
    html = page.read_text(encoding="utf-8")
    assert "127.0.0.1" not in " ".join(re.findall(r'href="([^"]*)"', html))
    evidence = set(re.findall(r'href="(evidence/[^"]+)"', html))
    assert len(evidence) >= 13
    assert all((folder / "digests" / link).is_file() for link in evidence)

    # The config file it leaves behind shows the results; the configured database is untouched.
    shown = run_cli("--config", str(folder / "claimwatch.toml"), "sources", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert re.search(r"herbal-wellness-hub\s+sitemap\s+7 ", shown.stdout)
    assert "(not in config)" not in shown.stdout
    assert not (tmp_path / "data" / "claimwatch.db").exists()

    # It ends with how to open the review workspace on the demo data, and that login works.
    login = re.search(
        r"serve --dev, then open http://127\.0\.0\.1:8080/ and log in as demo / (\S+)",
        second.stdout,
    )
    assert login, second.stdout
    from core.db import engine_for, sessions_for
    from review.auth import verify_password
    from review.users import by_name

    url = f"sqlite:///{folder / 'claimwatch.db'}"
    engine_for(url)
    with sessions_for(url)() as session:
        user = by_name(session, "demo")
        assert user is not None and user.role == "admin"
        assert verify_password(user.password_hash, login.group(1))


def test_demo_does_not_empty_a_folder_it_did_not_make(tmp_path: Path) -> None:
    mine = tmp_path / "data" / "demo"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("mine")
    result = run_cli("demo", cwd=tmp_path, env={"CLAIMWATCH_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 1
    assert "was not made by `claimwatch demo`" in result.stderr
    assert (mine / "notes.txt").read_text() == "mine"


# --- a first crawl of a local site --------------------------------------------------------------


@dataclass
class Crawled:
    config: Path
    site: Served


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    """One site crawled once into SQLite, the way a new user starts."""
    folder = tmp_path_factory.mktemp("first")
    site = serve(write_site(folder / "site"))
    config = write_config(
        folder / "claimwatch.toml",
        [{"name": "weekly", "kind": "sitemap", "start_urls": [site.url + "/robots.txt"]}],
    )
    result = run_cli("--config", str(config), "crawl")
    assert result.returncode == 0, result.stderr
    yield Crawled(config, site)
    site.process.kill()
    site.process.wait()


def cli(crawled: Crawled, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("--config", str(crawled.config), *args)


def test_the_first_digest_says_why_it_is_empty_and_how_to_pick_this_week(
    crawled: Crawled,
) -> None:
    week = week_of(datetime.now(UTC)).key
    result = cli(crawled, "digest")
    assert result.returncode == 0, result.stderr
    assert "is empty: no new or changed articles in the last complete week" in result.stdout
    assert f"(the first article was stored in {week})" in result.stdout
    assert f"claimwatch digest --week {week}" in result.stdout
    this_week = cli(crawled, "digest", "--week", week)
    assert this_week.returncode == 0, this_week.stderr
    assert "is empty" not in this_week.stdout


def test_send_and_the_ledger_agree_when_nothing_is_due(crawled: Crawled) -> None:
    week = week_of(datetime.now(UTC)).key
    env = {
        "CLAIMWATCH_MAIL__ENABLED": "true",
        "CLAIMWATCH_MAIL__HOST": "127.0.0.1",
        "CLAIMWATCH_MAIL__PORT": "9",
        "CLAIMWATCH_MAIL__RECIPIENTS": '["desk@example.org"]',
    }
    sent = run_cli("--config", str(crawled.config), "digest", "--send", env=env)
    assert sent.returncode == 0, sent.stderr
    assert "every complete week" not in sent.stdout
    assert f"nothing due: no complete week since the first article was stored ({week}" in (
        sent.stdout
    )
    assert f"--week {week}" in sent.stdout
    ledger = run_cli("--config", str(crawled.config), "digests", env=env)
    assert ledger.returncode == 0, ledger.stderr
    assert "no digests sent yet: no complete week since the first article" in ledger.stdout
    without_mail = cli(crawled, "digests")
    assert "no digests sent yet: mail is not enabled" in without_mail.stdout


EXPORT_COLUMNS = {
    "risk_score",
    "band",
    "escalations",
    "claim_count",
    "family",
    "family_score",
    "duplicate_of",
    "near_duplicate_of",
    "near_similarity",
    "article_id",
}


def test_article_exports_carry_the_scores_and_dedup(crawled: Crawled) -> None:
    as_csv = cli(crawled, "articles", "--format", "csv")
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert len(rows) == 3 and set(rows[0]) >= EXPORT_COLUMNS
    assert all(row["band"] == "ignore" and row["claim_count"].isdigit() for row in rows)
    # the site's articles share their template text: near-duplicates of one another
    assert any(row["near_duplicate_of"].startswith(crawled.site.url) for row in rows)
    as_jsonl = cli(crawled, "articles", "--format", "jsonl")
    objects = [json.loads(line) for line in as_jsonl.stdout.splitlines()]
    assert len(objects) == 3 and set(objects[0]) >= EXPORT_COLUMNS
    first = objects[0]
    assert isinstance(first["risk_score"], float) and isinstance(first["article_id"], int)
    assert first["escalations"] == [] and first["duplicate_of"] is None


def test_analyze_does_not_match_a_stored_page_with_itself(crawled: Crawled) -> None:
    url = crawled.site.url + "/articles/alpha.html"
    result = cli(crawled, "analyze", "--json", url)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["title"] and found["near_duplicate"]["of"] != url


# --- init and the Scrapy entry points -----------------------------------------------------------


def test_init_lists_no_example_sources(tmp_path: Path) -> None:
    result = run_cli("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert load_config(tmp_path / "claimwatch.toml", env={}).sources == []
    listed = run_cli("sources", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "never crawled" not in listed.stdout and "example" not in listed.stdout


def scrapy(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMWATCH_")}
    env |= {"SCRAPY_SETTINGS_MODULE": "crawler.settings", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_scrapy_crawl_without_a_config_fails_clearly(tmp_path: Path) -> None:
    result = scrapy(tmp_path, "crawl", "articles")
    assert result.returncode == 1
    assert "claimwatch: no sources configured (no claimwatch.toml here" in result.stderr
    assert "Traceback" not in result.stderr


def test_scrapy_crawl_with_an_unknown_source_fails_clearly(tmp_path: Path, site: Served) -> None:
    write_config(
        tmp_path / "claimwatch.toml",
        [{"name": "weekly", "kind": "sitemap", "start_urls": [site.url + "/robots.txt"]}],
    )
    result = scrapy(tmp_path, "crawl", "articles", "-a", "sources=nosuch")
    assert result.returncode == 1
    assert "claimwatch: unknown source(s): nosuch (configured: weekly)" in result.stderr
    assert "Traceback" not in result.stderr
    assert site.requests == []
    listed = scrapy(tmp_path, "list")
    assert listed.returncode == 0 and listed.stdout.split() == ["articles"]
