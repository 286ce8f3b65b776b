"""A page served in two versions, crawled twice from a loopback site: both versions are kept, the
article page shows the claim diff, the digest says which claims were removed since the article
was flagged, the WARC files read back with warcio and match the database, and the stored page
is rendered inert under a strict CSP."""

from __future__ import annotations

import hashlib
import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient
from warcio.archiveiterator import ArchiveIterator

from core.config import DigestSettings, Web, load_config
from core.db import make_engine, session_factory
from core.models import Article, ArticleVersion, WarcRecord
from reports.digest import build_digest
from reports.period import week_period
from reports.render import mail_html, page_html, text
from review.app import create_app
from review.evidence import RENDERED_CSP
from review.users import add_user
from tests.conftest import Served, run_cli, serve, write_config

pytestmark = pytest.mark.slow

SECRET = "k" * 48
PASSWORD = "correct horse battery"
REMOVED = "It also reverses diabetes without insulin in a few weeks."
KEPT = "Turmeric cures arthritis for good, say the makers of this blend."
REWORDED_OLD = "Take five grams of turmeric every day to cure your joint pain."
REWORDED_NEW = "Take five grams of turmeric every day to cure joint pain quickly."
FILLER = (
    "The shop sells the powder in glass jars and ships them across the country within a week. "
    "Customers write in with stories about their gardens, their dogs and their long walks. "
)


def page(*claims: str) -> str:
    body = "".join(f"<p>{FILLER}{claim}</p>" for claim in claims)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Turmeric, the golden miracle</title><base href="__BASE_URL__/based/">
<meta http-equiv="x-ua-compatible" content="ie=edge">
<style>h1{{color:#a10000}}</style></head>
<body onload="document.title='pwned'"><article><h1>Turmeric, the golden miracle</h1>{body}
<p><img src="__BASE_URL__/pixel.png" alt="remote"> <a href="javascript:document.title='x'">more</a></p>
<script>document.title = 'pwned'; document.body.dataset.ran = 'yes';</script>
</article></body></html>"""


def sitemap(lastmod: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>__BASE_URL__/turmeric.html</loc><lastmod>{lastmod}</lastmod></url></urlset>"
    )


@dataclass
class Crawled:
    site: Served
    config: Path
    db_url: str
    warc_dir: Path


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    tmp = tmp_path_factory.mktemp("versions")
    root = tmp / "site"
    root.mkdir()
    (root / "turmeric.html").write_text(page(KEPT, REMOVED, REWORDED_OLD))
    (root / "sitemap.xml").write_text(sitemap("2026-11-01"))
    site = serve(root)
    try:
        db_url = f"sqlite:///{tmp / 'claimwatch.db'}"
        config = write_config(
            tmp / "claimwatch.toml",
            [{"name": "farm", "kind": "sitemap", "start_urls": [site.url + "/sitemap.xml"]}],
            db_url,
        )
        first = run_cli("--config", str(config), "crawl")
        assert first.returncode == 0, first.stderr
        time.sleep(1.1)  # a new Last-Modified second
        (root / "turmeric.html").write_text(page(KEPT, REWORDED_NEW))
        (root / "sitemap.xml").write_text(sitemap("2026-11-20"))
        site.clear_log()
        second = run_cli("--config", str(config), "crawl")
        assert second.returncode == 0, second.stderr
        warc_dir = load_config(config, env={}).warc_path
        yield Crawled(site, config, db_url, warc_dir)
    finally:
        site.process.kill()
        site.process.wait()


def test_two_versions_and_their_warc_records(crawled: Crawled) -> None:
    engine = make_engine(crawled.db_url)
    with session_factory(engine)() as session:
        article = session.scalars(select(Article)).one()
        versions = session.scalars(select(ArticleVersion).order_by(ArticleVersion.version)).all()
        records = session.scalars(select(WarcRecord).order_by(WarcRecord.id)).all()
    engine.dispose()
    assert article.version == 2 and [v.version for v in versions] == [1, 2]
    assert REMOVED in versions[0].text and REMOVED not in versions[1].text
    assert any(REMOVED in c["sentence"] for c in versions[0].claims)
    assert [r.version for r in records] == [1, 2]
    files = sorted(p.name for p in crawled.warc_dir.iterdir())
    assert files and all(name.endswith(".warc.gz") for name in files)
    bodies = []
    for record in records:
        assert record.warc_file in files
        with open(crawled.warc_dir / record.warc_file, "rb") as stream:
            iterator = ArchiveIterator(stream)
            at: dict[int, tuple[str, bytes]] = {}
            for warc in iterator:
                at[iterator.get_record_offset()] = (warc.rec_type, warc.content_stream().read())
        kind, payload = at[record.warc_offset]
        assert kind == "response"
        assert hashlib.sha256(payload).hexdigest() == record.payload_sha256
        assert record.url == crawled.site.url + "/turmeric.html"
        bodies.append(payload)
        # the request record follows its response
        kinds = [at[o][0] for o in sorted(at) if o >= record.warc_offset][:2]
        assert kinds == ["response", "request"]
    assert REMOVED.encode() in bodies[0] and REMOVED.encode() not in bodies[1]


def _client(crawled: Crawled) -> tuple[TestClient, object]:
    engine = make_engine(crawled.db_url)
    sessions = session_factory(engine)
    with sessions() as session:
        if session.scalar(select(Article.id)) is not None:
            from core.models import User

            if session.scalar(select(User.id).where(User.name == "vera")) is None:
                add_user(session, "vera", "viewer", PASSWORD)
                session.commit()
    app = create_app(sessions, Web(), SECRET, warc_dir=crawled.warc_dir)
    return TestClient(app, follow_redirects=False), engine


def _login(client: TestClient) -> None:
    form = client.get("/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token
    response = client.post(
        "/login", data={"name": "vera", "password": PASSWORD, "csrf": token.group(1)}
    )
    assert response.status_code == 303


def test_article_page_shows_the_claim_diff_and_the_evidence(crawled: Crawled) -> None:
    client, engine = _client(crawled)
    with client:
        _login(client)
        with session_factory(engine)() as session:  # type: ignore[arg-type]
            article_id = session.scalars(select(Article.id)).one()
        html = client.get(f"/articles/{article_id}").text
        versions = html[html.index('id="versions"') :]
        assert 'id="version-2"' in versions and 'id="version-1"' in versions
        diff = versions[versions.index('id="diff-2"') :]
        assert re.search(r'class="removed"><strong>removed</strong> “' + re.escape(REMOVED), diff)
        assert "reworded</strong> “" + REWORDED_OLD + "” → “" + REWORDED_NEW in diff
        assert 'class="added"' not in diff
        assert '<iframe id="rendered" sandbox src="/articles/' in html
        assert (
            "frame-src 'self'"
            in client.get(f"/articles/{article_id}").headers["content-security-policy"]
        )

        # the WARC download: the records of one version, a .warc.gz of their own
        download = client.get(f"/articles/{article_id}/warc?version=1")
        assert download.status_code == 200
        assert download.headers["content-type"] == "application/warc"
        assert 'filename="article-' in download.headers["content-disposition"]
        records = list(ArchiveIterator(io.BytesIO(download.content)))
        assert [r.rec_type for r in records] == ["response", "request"]
        assert client.get(f"/articles/{article_id}/warc?version=9").status_code == 404

        # the rendered view: inert, under its own strict CSP
        for url in (
            f"/articles/{article_id}/rendered",
            f"/articles/{article_id}/rendered?version=1",
        ):
            rendered = client.get(url)
            assert rendered.status_code == 200
            assert rendered.headers["content-security-policy"] == RENDERED_CSP
            assert rendered.headers["x-frame-options"] == "SAMEORIGIN"
            body = rendered.text.lower()
            for banned in ("<script", "<base", "http-equiv", "onload", "javascript:"):
                assert banned not in body, (url, banned)
            assert "turmeric, the golden miracle" in body and "<style>" in body
        assert REMOVED in client.get(f"/articles/{article_id}/rendered?version=1").text
        assert REMOVED not in client.get(f"/articles/{article_id}/rendered").text
    engine.dispose()  # type: ignore[attr-defined]


def test_the_digest_says_which_claims_were_removed_since_flagged(crawled: Crawled) -> None:
    engine = make_engine(crawled.db_url)
    now = datetime.now(UTC)
    year, week, _ = now.isocalendar()
    with session_factory(engine)() as session:
        digest = build_digest(session, week_period(year, week), DigestSettings(), now=now)
    engine.dispose()
    assert len(digest.removed_claims) == 1
    entry = digest.removed_claims[0]
    assert (entry.since, entry.since_version, entry.version) == ("first flagged", 1, 2)
    assert entry.sentences == (REMOVED,)  # the reworded claim is still there
    html = page_html(digest)
    assert "Claims removed since flagged" in html and REMOVED in html
    assert "Claims removed since flagged" in mail_html(digest)
    plain = text(digest)
    assert "CLAIMS REMOVED SINCE FLAGGED" in plain and REMOVED in plain
