"""The workspace's week filter, families pages and digest archive over HTTP (Starlette's
TestClient), on real SQLite and PostgreSQL databases, real seed folders and a digest archive
written by ``reports``."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from starlette.testclient import TestClient

from core.config import DigestSettings, Web
from core.document import from_text
from core.models import Article, DigestSend, Source
from reports.archive import write_archive
from reports.digest import build_digest
from reports.period import week_of, week_period
from review.app import create_app
from review.weeks import parse_week
from review.weeks import week_of as review_week_of
from tests.discovery_texts import FAMILY_A, FAMILY_B, FAMILY_C
from tests.review_world import HOSTILE_TITLE, NOW, PASSWORD, SECRET, World, _article, build

BERLIN = "Europe/Berlin"
# Sunday 15 November 2026, 23:30 UTC: the end of 2026-W46 in UTC, Monday 00:30 of W47 in Berlin
BOUNDARY = datetime(2026, 11, 15, 23, 30, tzinfo=UTC)


@dataclass
class Pages:
    world: World
    seeds: Path
    archive: Path
    ids: dict[str, int]


def _add(session, source: Source, slug: str, title: str, band: str | None, **kw) -> int:  # type: ignore[no-untyped-def]
    text = f"{title}. Elderberry cures the flu overnight."
    claims = [("Elderberry cures the flu overnight.", ["disease_treatment"], "elderberry")]
    article_id, _ = _article(session, source, slug, title, text, band or "none", 40.0, claims, **kw)
    if band is None:
        session.get(Article, article_id).risk_band = None
    return article_id


@pytest.fixture
def pages(engine: Engine, tmp_path: Path) -> Pages:
    """The review world (SQLite and PostgreSQL) with articles over four weeks, two families, a
    candidate family's pages, and seed folders."""
    world = build(engine)
    ids: dict[str, int] = {}
    with world.sessions() as session:
        farm = session.query(Source).filter_by(name="farm").one()
        news = session.query(Source).filter_by(name="news").one()
        ids["w45"] = _add(
            session, farm, "w45", "Elderberry week 45", "review", first_seen=NOW - timedelta(14)
        )
        ids["changed"] = _add(
            session, news, "changed", "Edited in week 47", "watch", first_seen=NOW - timedelta(7)
        )
        session.get(Article, ids["changed"]).changed_at = NOW - timedelta(hours=2)  # W46 → W47
        ids["quiet"] = _add(
            session, farm, "quiet", "Not flagged", None, first_seen=NOW - timedelta(21)
        )
        ids["boundary"] = _add(
            session, news, "boundary", "Sunday night", "watch", first_seen=BOUNDARY
        )
        for n in range(2):
            ids[f"matched{n}"] = _add(
                session,
                farm if n == 0 else news,
                f"matched{n}",
                HOSTILE_TITLE if n == 1 else "Quick answer",
                "review",
                family="quick-answer",
                first_seen=NOW - timedelta(days=n),
            )
        for n, (url, text) in enumerate(FAMILY_B):
            article = Article(
                canonical_url=url,
                url=url,
                first_seen_at=NOW,
                fetched_at=NOW,
                checked_at=NOW,
                changed_at=NOW,
                raw_sha256=hashlib.sha256(url.encode()).hexdigest(),
                text_sha256=hashlib.sha256(text.encode()).hexdigest(),
                raw_html_gz=b"<html></html>",
                title=HOSTILE_TITLE if n == 0 else f"Myths {n}",
                text=text,
                text_chars=len(text),
                blocks=[b.as_dict() for b in from_text(text).blocks],
            )
            session.add(article)
            session.flush()
            ids[f"myth{n}"] = article.id
        session.commit()
    seeds = tmp_path / "seeds"
    for folder, name, text in (("qa", "quick-answer", FAMILY_A[4][1]), ("mb", "myth-buster", "")):
        (seeds / folder).mkdir(parents=True)
        (seeds / folder / "FAMILY").write_text(name)
        body = text or "A Seed Heading\n- one point\n- another point\nSome prose for the seed."
        (seeds / folder / f"{folder}_seed.txt").write_text(body)
    return Pages(world, seeds, tmp_path / "digests", ids)


def client_for(pages: Pages, timezone: str = "UTC", page_size: int = 50) -> TestClient:
    app = create_app(
        pages.world.sessions,
        Web(page_size=page_size),
        SECRET,
        timezone=timezone,
        seed_folders=[pages.seeds],
        archive_dir=pages.archive,
    )
    return TestClient(app, follow_redirects=False)


def login(client: TestClient, name: str = "vera") -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    response = client.post(
        "/login", data={"name": name, "password": PASSWORD, "csrf": token.group(1)}
    )
    assert response.status_code == 303


def listed(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<a href="/articles/(\d+)" class="article-link">', html)]


def digest_ids(pages: Pages, key: str, timezone: str) -> set[int]:
    period = week_period(int(key[:4]), int(key[-2:]), timezone)
    with pages.world.sessions() as session:
        digest = build_digest(session, period, DigestSettings(timezone=timezone, max_articles=100))
        return {a.article_id for a in digest.articles}


def test_review_weeks_are_the_digests_weeks() -> None:
    for zone in ("UTC", BERLIN, "America/Los_Angeles", "Pacific/Kiritimati"):
        for hours in range(0, 24 * 400, 37):
            moment = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=hours)
            theirs, ours = week_of(moment, zone), review_week_of(moment, zone)
            assert (ours.key, ours.start, ours.end) == (theirs.key, theirs.start, theirs.end)
    assert parse_week("2026-W54") is None and parse_week("2026-W5") is None


@pytest.mark.parametrize("timezone", ["UTC", BERLIN])
def test_the_week_filter_returns_exactly_the_digests_articles(pages: Pages, timezone: str) -> None:
    with client_for(pages, timezone) as client:
        login(client)
        queue = client.get("/").text
        menu = re.findall(r'<option value="(\d{4}-W\d{2})"', queue)
        assert menu == ["2026-W47", "2026-W46", "2026-W45"]  # newest first; W44 holds no flag
        for key in menu:
            html = client.get(f"/?week={key}").text
            assert f'<option value="{key}" selected>' in html
            assert set(listed(html)) == digest_ids(pages, key, timezone), key
        assert pages.ids["quiet"] not in digest_ids(pages, "2026-W44", timezone)
        assert "0 flagged articles;" in client.get("/?week=2026-W44").text
        w46 = set(listed(client.get("/?week=2026-W46").text))
        w47 = set(listed(client.get("/?week=2026-W47").text))
    assert pages.ids["changed"] in w46 and pages.ids["changed"] in w47  # first seen, then edited
    assert (pages.ids["boundary"] in w47) is (timezone == BERLIN)
    assert (pages.ids["boundary"] in w46) is (timezone == "UTC")


def test_the_week_filter_combines_and_pages_with_stable_links(pages: Pages) -> None:
    with client_for(pages, page_size=2) as client:
        login(client)
        everything = set(listed(client.get("/?week=2026-W47&page=1").text))
        first = client.get("/?week=2026-W47").text
        assert "6 flagged articles; page 1 of 3" in first
        next_link = re.search(r'<a href="\?([^"]+)" rel="next">', first)
        assert next_link and next_link.group(1) == "week=2026-W47&amp;page=2"
        seen = set(listed(first))
        for page in (2, 3):
            html = client.get(f"/?week=2026-W47&page={page}").text
            assert 'rel="prev"' in html and "week=2026-W47&amp;page=" in html
            seen |= set(listed(html))
        assert seen == digest_ids(pages, "2026-W47", "UTC") and everything <= seen
        farm = client.get("/?week=2026-W47&source=farm").text
        assert "3 flagged articles;" in farm  # turmeric, ashwagandha, the quick answer
        assert "1 flagged article;" in client.get("/?week=2026-W45&band=review").text
        assert "0 flagged articles;" in client.get("/?week=2026-W45&band=priority").text
        bad = client.get("/?week=2026-W99").text  # not a week: no week filter
        assert "8 flagged articles;" in bad and "week=2026-W99" not in bad


def test_the_pages_need_a_login(pages: Pages) -> None:
    with client_for(pages) as client:
        for path in ("/families", "/families/candidates", "/digests", "/digests/2026-W47.html"):
            response = client.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/login?next="), path


def test_the_families_page(pages: Pages) -> None:
    with client_for(pages) as client:
        login(client)  # a viewer
        response = client.get("/families")
    assert response.status_code == 200
    html = response.text
    sections = html.split('<section class="family"')[1:]

    def section(name: str) -> str:
        return next(s for s in sections if f">{name}</a></h2>" in s)

    assert [re.search(r'class="family-link">([^<]+)<', s).group(1) for s in sections] == [  # type: ignore[union-attr]
        "myth-buster",
        "quick-answer",
        "miracle-listicle",
    ]  # the seed folders' families in their order, then the others
    quick = section("quick-answer")
    assert 'href="/?family=quick-answer"' in html
    assert "2 matched articles (2 flagged) on 2 sites: farm.example (1), news.example (1)" in quick
    assert "<code>qa_seed</code>" in quick
    assert f'href="/articles/{pages.ids["matched0"]}"' in quick
    assert f'href="/articles/{pages.ids["matched1"]}"' in quick
    myth = section("myth-buster")
    assert "No articles matched yet." in myth and "<code>mb_seed</code> A Seed Heading" in myth
    listicle = section("miracle-listicle")
    assert "No seed of this family in the configured seed folders." in listicle
    assert "<script>document" not in html and "<img src=x" not in html
    assert "&lt;script&gt;document.title" in quick


def test_the_family_link_opens_the_filtered_queue(pages: Pages) -> None:
    with client_for(pages) as client:
        login(client)
        html = client.get("/?family=quick-answer").text
    assert set(listed(html)) == {pages.ids["matched0"], pages.ids["matched1"]}


def test_an_unreadable_seed_folder_is_a_message(pages: Pages) -> None:
    app = create_app(pages.world.sessions, Web(), SECRET, seed_folders=[pages.seeds / "missing"])
    with TestClient(app, follow_redirects=False) as client:
        login(client)
        response = client.get("/families")
    assert response.status_code == 200
    assert "seed folder not found" in response.text and ">miracle-listicle<" in response.text


def test_the_candidate_families_page(pages: Pages) -> None:
    with client_for(pages) as client:
        login(client)
        response = client.get("/families/candidates")
    assert response.status_code == 200
    html = response.text
    assert "1 candidate among 10 unmatched articles" in html
    assert "4 articles on 3 sites share the shape" in html
    assert "factcheckherbs.example, kitchenmyths.example, truthwell.example" in html
    linked = {int(i) for i in re.findall(r'<a href="/articles/(\d+)">', html)}
    assert linked == {pages.ids[f"myth{n}"] for n in range(4)}
    assert "<script>document" not in html and "&lt;script&gt;document.title" in html
    assert "<form" not in html.split("</header>", 1)[1]  # read-only


def _write_archive(pages: Pages) -> None:
    with pages.world.sessions() as session:
        digest = build_digest(session, week_period(2026, 47), DigestSettings())
        write_archive(session, digest, pages.archive)
        moment = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
        for key, status in (("2026-W47", "sent"), ("2026-W46", "failed")):
            period = week_period(int(key[:4]), int(key[-2:]))
            session.add(
                DigestSend(
                    period=key,
                    period_start=period.start,
                    period_end=period.end,
                    list_name="team",
                    recipients=["a@example.org", "b@example.org"],
                    status=status,
                    message_id=f"<{key}@claimwatch>",
                    attempts=1 if status == "sent" else 3,
                    last_error=None if status == "sent" else "550 mailbox unavailable",
                    sent_at=moment if status == "sent" else None,
                )
            )
        session.commit()


def test_the_digest_archive_lists_periods_with_sends_and_counts(pages: Pages) -> None:
    _write_archive(pages)
    with client_for(pages) as client:
        login(client)
        html = client.get("/digests").text
    rows = re.findall(r'<tr class="digest">(.*?)</tr>', html, re.DOTALL)
    assert len(rows) == 2
    w47, w46 = rows
    assert '<a href="/digests/2026-W47.html" class="digest-link">Week 47, 2026' in w47
    assert "<td>6</td>" in w47  # flagged in W47, as the digest counted them
    assert "team: sent</span> 2026-11-23 08:00 UTC" in w47 and "2 recipients" in w47
    for name in ("2026-W47.csv", "2026-W47.json", "2026-W47.txt"):
        assert f'href="/digests/{name}"' in w47
    assert "digest-link" not in w46 and "team: failed" in w46 and "550 mailbox unavailable" in w46


def test_an_archived_digest_is_served_under_a_strict_csp(pages: Pages) -> None:
    _write_archive(pages)
    with client_for(pages) as client:
        login(client)
        response = client.get("/digests/2026-W47.html")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        policy = response.headers["content-security-policy"]
        for part in ("script-src 'none'", "default-src 'none'", "sandbox", "form-action 'none'"):
            assert part in policy
        css = re.search(r"<style>(.*?)</style>", response.text, re.DOTALL)
        assert css
        digest = base64.b64encode(hashlib.sha256(css.group(1).encode()).digest()).decode()
        assert f"style-src 'sha256-{digest}'" in policy
        assert "<script" not in response.text and "&lt;script&gt;document.title" in response.text
        evidence = re.search(r'href="(evidence/[^"]+\.html)"', response.text)
        assert evidence, "the digest links its stored evidence"
        shown = client.get(f"/digests/{evidence.group(1)}")
        assert shown.status_code == 200 and "sandbox" in shown.headers["content-security-policy"]
        csv = client.get("/digests/2026-W47.csv")
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
        assert csv.headers["content-disposition"] == 'attachment; filename="2026-W47.csv"'
        assert client.get("/digests/index.html").headers["location"] == "/digests"
        (pages.archive.parent / "secret.html").write_text("secret")
        for path in (
            "/digests/../secret.html",
            "/digests/%2e%2e/secret.html",
            "/digests/evidence/..%2f..%2fsecret.html",
            "/digests/index.json",
            "/digests/2026-W46.html",
            "/digests/2026-W47.html.bak",
        ):
            response = client.get(path)
            assert response.status_code in (404, 303), path
            assert "secret" not in response.text, path


def test_without_an_archive_folder_the_ledger_still_shows(pages: Pages) -> None:
    _write_archive(pages)
    app = create_app(pages.world.sessions, Web(), SECRET)
    with TestClient(app, follow_redirects=False) as client:
        login(client)
        html = client.get("/digests").text
        assert client.get("/digests/2026-W47.html").status_code == 404
    assert "team: sent" in html and "team: failed" in html and "digest-link" not in html


def _store_plain(pages: Pages, rows: list[tuple[str, str]]) -> None:
    with pages.world.sessions() as session:
        for url, text in rows:
            session.add(
                Article(
                    canonical_url=url,
                    url=url,
                    first_seen_at=NOW,
                    fetched_at=NOW,
                    checked_at=NOW,
                    changed_at=NOW,
                    raw_sha256=hashlib.sha256(url.encode()).hexdigest(),
                    text_sha256=hashlib.sha256(text.encode()).hexdigest(),
                    raw_html_gz=b"<html></html>",
                    title=url.rsplit("/", 1)[-1],
                    text=text,
                    text_chars=len(text),
                    blocks=[b.as_dict() for b in from_text(text).blocks],
                )
            )
        session.commit()


def test_a_candidate_a_seed_family_covers_is_not_proposed(pages: Pages, tmp_path: Path) -> None:
    """As ``families --candidates``: once a candidate is a seed family (promoted), the page
    stops proposing its articles stored before, which still carry no family."""
    _store_plain(pages, FAMILY_C)
    with client_for(pages) as client:
        login(client)
        before = client.get("/families/candidates").text
    assert "2 candidates among 15 unmatched articles" in before
    assert "remedycards.example" in before
    promoted = tmp_path / "promoted" / "remedy-card"
    promoted.mkdir(parents=True)
    (promoted / "FAMILY").write_text("remedy-card")
    for n, (_, text) in enumerate(FAMILY_C[:3]):
        (promoted / f"card{n}.txt").write_text(text)
    app = create_app(
        pages.world.sessions,
        Web(),
        SECRET,
        seed_folders=[pages.seeds, tmp_path / "promoted"],
        archive_dir=pages.archive,
    )
    with TestClient(app, follow_redirects=False) as client:
        login(client)
        after = client.get("/families/candidates").text
    assert "1 candidate among 15 unmatched articles" in after
    assert "remedycards.example" not in after and "truthwell.example" in after
