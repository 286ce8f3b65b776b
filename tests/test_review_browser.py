"""The review workspace in headless Chromium (Debian's, driven by Playwright; no browser download):
`claimwatch serve` in a subprocess, a reviewer's round trip, and hostile scraped text kept inert."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from core.compression import compress_html
from core.config import DigestSettings
from core.db import make_engine, upgrade
from core.models import Article, ArticleReview, ArticleVersion, AuditEntry, ClaimDecision
from reports.archive import write_archive
from reports.digest import build_digest
from reports.period import week_period
from review.evidence import RENDERED_CSP
from tests.conftest import ROOT, require, serve, write_config
from tests.review_world import PASSWORD, SECRET, World, build

pytestmark = pytest.mark.slow


@dataclass
class Served:
    url: str
    world: World


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    db = tmp_path / "review.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    world = build(engine)
    config = write_config(tmp_path / "claimwatch.toml", [], db_url=f"sqlite:///{db}")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMWATCH_")}
    env["CLAIMWATCH_WEB__SECRET_KEY"] = SECRET
    process = subprocess.Popen(
        [sys.executable, "-m", "claimwatch", "--config", str(config), "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                    assert response.read() == b"ok"
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"serve did not start: {process.stderr.read()}") from None
                time.sleep(0.2)
        yield Served(url, world)
    finally:
        process.terminate()
        process.wait(timeout=30)
        engine.dispose()


@pytest.fixture
def browser() -> Iterator[object]:
    binary = shutil.which("chromium")
    require(binary is not None, "chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "playwright is not installed (pip install -e '.[dev]')")
        raise
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=binary, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


def _log_in(page, url: str, name: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{url}/")
    assert "/login" in page.url
    page.fill('input[name="name"]', name)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button:has-text("Log in")')
    page.wait_for_url(f"{url}/")


def test_a_reviewer_decides_in_the_browser(served: Served, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    _log_in(page, served.url, "rita")
    assert page.locator("tbody tr").count() == 3
    page.select_option('select[name="band"]', "priority")
    page.click('button:has-text("Filter")')
    page.wait_for_url("**/?band=priority*")
    assert page.locator("tbody tr").count() == 1
    page.click("a.article-link")
    page.wait_for_url(f"**/articles/{served.world.articles['turmeric']}")
    assert page.locator("mark").count() == 2  # both claims highlighted in the text
    first = page.locator("#claim-1")
    first.locator('input[value="false_positive"]').check()
    first.locator('input[name="reason"]').fill("the page rebuts it")
    first.locator('button:has-text("Decide")').click()
    page.wait_for_load_state()
    assert page.locator("#claim-1 .verdict").inner_text() == "false positive"
    page.select_option('#review-form select[name="status"]', "in_review")
    page.select_option('#review-form select[name="assignee"]', "rita")
    page.click('#review-form button:has-text("Save")')
    page.wait_for_load_state()
    assert page.locator("#status").inner_text() == "in review"
    assert page.locator("#assignee").inner_text() == "rita"

    world = served.world
    with world.sessions() as session:
        decision = session.scalars(select(ClaimDecision)).one()
        assert (decision.verdict, decision.reason, decision.decided_by) == (
            "false_positive",
            "the page rebuts it",
            "rita",
        )
        review = session.get(ArticleReview, world.articles["turmeric"])
        assert review is not None and review.status == "in_review"
        assert len(session.scalars(select(AuditEntry)).all()) == 2
        digest = build_digest(session, week_period(2026, 47), DigestSettings())
        turmeric = next(a for a in digest.articles if a.article_id == world.articles["turmeric"])
        assert turmeric.review_status == "in review" and turmeric.false_positives == 1
        assert [c.text for c in turmeric.claims] == ["It also reverses diabetes without insulin."]


def test_hostile_article_renders_inert(served: Served, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    _log_in(page, served.url, "rita")
    for path in ("/", f"/articles/{served.world.articles['kratom']}"):
        page.goto(served.url + path)
        page.wait_for_load_state()
        counts = page.evaluate(
            """() => ({
                scripts: document.querySelectorAll('script').length,
                images: document.querySelectorAll('img').length,
                handlers: [...document.querySelectorAll('*')].filter(
                    e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
                js_links: document.querySelectorAll('a[href^="javascript:"]').length,
            })"""
        )
        assert counts == {"scripts": 0, "images": 0, "handlers": 0, "js_links": 0}, path
        assert page.title().endswith("· claimwatch review")  # a script would have set it
        assert "<script>" in page.locator("main").inner_text()  # shown as text
    page.locator("#text").hover()
    page.click("#text")
    assert dialogs == []
    assert page.title().endswith("· claimwatch review")


INERT = """() => ({
    scripts: document.querySelectorAll('script').length,
    images: document.querySelectorAll('img').length,
    handlers: [...document.querySelectorAll('*')].filter(
        e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
    js_links: document.querySelectorAll('a[href^="javascript:"]').length,
})"""


def test_families_and_the_digest_archive_in_the_browser(  # type: ignore[no-untyped-def]
    served: Served, browser, tmp_path: Path
) -> None:
    world = served.world
    with world.sessions() as session:
        hostile = session.get(Article, world.articles["kratom"])
        assert hostile is not None
        hostile.family = "miracle-listicle"  # the hostile title among a family's matches
        session.commit()
        digest = build_digest(session, week_period(2026, 47), DigestSettings())
        write_archive(session, digest, tmp_path / "data" / "digests")  # the config's data_dir
    page = browser.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"{m.text} {m.location}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    page.on("dialog", lambda dialog: (problems.append(dialog.message), dialog.dismiss()))
    _log_in(page, served.url, "vera")

    page.click('header a:has-text("Families")')
    page.wait_for_url("**/families")
    assert page.evaluate(INERT) == {"scripts": 0, "images": 0, "handlers": 0, "js_links": 0}
    assert "<script>" in page.locator("main").inner_text()
    page.click('a.family-link:has-text("miracle-listicle")')
    page.wait_for_url("**/?family=miracle-listicle")
    assert page.locator("tbody tr").count() == 2
    page.goto(f"{served.url}/families/candidates")
    assert page.locator("h1").inner_text() == "Candidate families"

    page.click('header a:has-text("Digests")')
    page.wait_for_url("**/digests")
    page.click("a.digest-link")
    page.wait_for_url("**/digests/2026-W47.html")
    assert page.evaluate(INERT) == {"scripts": 0, "images": 0, "handlers": 0, "js_links": 0}
    assert "<script>" in page.locator("body").inner_text()  # the hostile title, as text
    assert page.title() and "pwned" not in page.title() and page.title() != "1"
    page.click('a:has-text("All digests")')  # a link out of the sandboxed page
    page.wait_for_url(f"{served.url}/digests")
    assert page.locator("a.digest-link").count() == 1
    assert problems == []  # no script error, no dialog, no style refused by the CSP


def test_the_stored_page_renders_inert_in_its_sandboxed_frame(  # type: ignore[no-untyped-def]
    served: Served, browser, tmp_path: Path
) -> None:
    """The version history with its claim diff, and the rendered view: its styles apply, but no
    script, handler or remote load runs (the loopback server the page points at sees no
    request)."""
    (tmp_path / "remote").mkdir()
    remote = serve(tmp_path / "remote")
    try:
        base = remote.url
        hostile = f"""<!doctype html><html><head><title>stored</title>
<base href="{base}/"><meta http-equiv="refresh" content="0; url={base}/refresh">
<link rel="stylesheet" href="{base}/style.css"></head>
<body onload="document.body.dataset.ran='onload'">
<h1 id="h">Stored page</h1><style>h1{{color:rgb(161, 0, 0)}}</style>
<img src="{base}/pixel.png" onerror="document.body.dataset.ran='onerror'">
<img id="inline" src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7">
<script>document.body.dataset.ran = 'script'; new Image().src = '{base}/ran';</script>
<iframe src="{base}/frame"></iframe>
<a id="js" href="javascript:document.body.dataset.ran='link'">click</a>
</body></html>"""
        article_id = served.world.articles["kratom"]
        with served.world.sessions() as session:
            article = session.get(Article, article_id)
            assert article is not None
            article.raw_html_gz = compress_html(hostile.encode())
            article.version = 2
            gone = {"sentence": "Kratom ends all pain.", "categories": ["disease_treatment"]}
            kept = {"sentence": "Kratom cures opioid withdrawal in days.", "categories": []}
            for number, claims in ((1, [kept, gone]), (2, [kept])):
                session.add(
                    ArticleVersion(
                        article_id=article_id,
                        version=number,
                        fetched_at=article.fetched_at,
                        text_sha256=f"{number}" * 64,
                        raw_sha256=article.raw_sha256,
                        title=article.title,
                        text=article.text,
                        claims=claims,
                        risk_band="review",
                    )
                )
            session.commit()
        page = browser.new_page()
        answered: list[str] = []  # a request the CSP blocks is announced, but never answered
        page.on("response", lambda response: answered.append(response.url))
        _log_in(page, served.url, "vera")
        response = page.goto(f"{served.url}/articles/{article_id}")
        assert (
            response is not None
            and "frame-src 'self'" in response.headers["content-security-policy"]
        )
        assert page.locator("#diff-2 li.removed").inner_text() == "removed “Kratom ends all pain.”"
        assert page.locator("#version-2").inner_text().startswith("2 (current)")
        assert page.get_attribute("#rendered", "sandbox") == ""  # no allow-scripts, nothing
        frame = page.frame_locator("#rendered")
        heading = frame.locator("#h")
        assert heading.inner_text() == "Stored page"
        assert heading.evaluate("e => getComputedStyle(e).color") == "rgb(161, 0, 0)"
        assert frame.locator("#inline").evaluate("e => e.complete && e.naturalWidth") == 1
        frame.locator("#js").click()
        page.wait_for_load_state("networkidle")
        state = frame.locator("body").evaluate(
            """b => ({ran: b.dataset.ran || null, scripts: b.ownerDocument.scripts.length,
                      frames: b.ownerDocument.querySelectorAll('iframe, base, link').length})"""
        )
        assert state == {"ran": None, "scripts": 0, "frames": 0}
        assert page.title().endswith("· claimwatch review")
        rendered = page.request.get(f"{served.url}/articles/{article_id}/rendered")
        assert rendered.headers["content-security-policy"] == RENDERED_CSP
        assert remote.requests == []  # nothing remote was loaded
        assert not [url for url in answered if url.startswith(base)]
    finally:
        remote.process.kill()
        remote.process.wait()
