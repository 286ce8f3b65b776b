"""Rendering the digest: hostile scraped content stays text, links stay http(s), hosts show as
punycode, the archive files and evidence are written, and the page renders in headless Chromium."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from lxml import html as lxml_html
from sqlalchemy import Engine

from core.config import DigestSettings
from core.models import Article, Claim
from reports import render
from reports.archive import write_archive
from reports.digest import build_digest
from reports.mail import build_message, subject
from reports.model import Digest
from reports.text import claim_context, clean, safe_url, site_of
from tests.conftest import require
from tests.test_digest_model import WEEK, ClaimSpec, World, at, flagged_world

EVIL_TITLE = (
    'Cure <script>alert("t")</script> <img src=x onerror="alert(1)"> {{ 7*7 }}'
    "\r\nBcc: victim@evil.test\r\n\r\nbody"
)
EVIL_SENTENCE = (
    "Kratom <b onmouseover=alert(2)>cures</b> {{ 7*7 }} {% raw %} cancer<script>x()</script>."
)
EVIL_HTML = "<html><script>alert('evidence')</script><img src=x onerror=alert(6)></html>"
SETTINGS = DigestSettings()


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    world = World(engine)
    yield world
    world.session.close()


def hostile_digest(world: World) -> Digest:
    world.article(
        EVIL_TITLE,
        at(WEEK),
        url="https://bücher.test/kratom?x=1",
        band="priority",
        score=90.0,
        escalations=["cancer"],
        html=EVIL_HTML,
        near_of="javascript:alert(5)",
        near_kind="article",
        near_similarity=0.5,
        dedup_evidence={"template": [], "passages": ["<script>alert(7)</script>"]},
        text=f"Intro <i>text</i>.\n{EVIL_SENTENCE} After.",
        claims=[ClaimSpec(EVIL_SENTENCE)],
    )
    world.article(
        '=HYPERLINK("https://evil.test","click")',
        at(WEEK, 2),
        url="javascript:alert(4)",
        band="review",
        score=50.0,
    )
    world.article("\u202eevil\u202c title", at(WEEK, 3), band="watch", score=20.0)
    world.commit()
    return build_digest(world.session, WEEK, SETTINGS)


def assert_inert(page: str) -> lxml_html.HtmlElement:
    """No script element, no event-handler attribute, no link other than http(s) or relative."""
    tree = lxml_html.document_fromstring(page)
    assert tree.xpath("//script") == []
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (element.tag, name)
            if name in ("href", "src"):
                assert value.startswith(("https://", "http://")) or ":" not in value, value
    return tree


def test_hostile_content_is_escaped_in_the_page(world: World, tmp_path: Path) -> None:
    digest = hostile_digest(world)
    page = render.page_html(digest, render.Links("index.html", "a.csv", "a.json"))
    tree = assert_inert(page)
    text = tree.text_content()
    assert "{{ 7*7 }}" in text and "{% raw %}" in text  # data, never template source
    assert '<script>alert("t")</script>' in text  # shown as text
    assert "Bcc: victim@evil.test" in text  # on one line with the rest of the title
    assert "xn--bcher-kva.test" in text and "bücher" not in text
    hrefs = [a.get("href") for a in tree.iter("a")]
    assert "https://xn--bcher-kva.test/kratom?x=1" in hrefs
    assert not any("javascript" in (h or "") for h in hrefs)
    assert "Page link omitted" in text
    assert "\u202e" not in page
    marks = [m.text_content() for m in tree.iter("mark")]
    assert (
        marks[0]
        == "Kratom <b onmouseover=alert(2)>cures</b> {{ 7*7 }} {% raw %} cancer<script>x()</script>."
    )
    csp = tree.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")[0]
    assert "script-src 'none'" in csp and "default-src 'none'" in csp


def test_hostile_content_in_the_mail(world: World) -> None:
    digest = hostile_digest(world)
    line = subject(digest)
    assert line == "claimwatch digest 2026-W47: 1 priority, 3 flagged, 3 new articles"
    message = build_message(
        subject_line=line,
        sender="claimwatch@example.org",
        recipients=["desk@example.org"],
        text=render.text(digest),
        html=render.mail_html(digest),
        message_id="<digest.test@example.org>",
        list_name="desk",
        list_domain="example.org",
        date=digest.generated_at,
    )
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed["Subject"] == line and parsed["Bcc"] is None
    assert not any("victim" in str(value) for _, value in parsed.items())
    plain = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert plain is not None and html is not None
    text = plain.get_content()
    assert not any(row.startswith("Bcc:") for row in text.splitlines())
    assert "{{ 7*7 }}" in text and "javascript:" not in text
    assert "https://xn--bcher-kva.test/kratom?x=1" in text
    assert_inert(html.get_content())


def test_archive_files_evidence_and_exports(world: World, tmp_path: Path) -> None:
    digest = hostile_digest(world)
    out = tmp_path / "digests"
    written = write_archive(world.session, digest, out)
    assert [p.name for p in written.paths] == [
        "2026-W47.html",
        "2026-W47.txt",
        "2026-W47.csv",
        "2026-W47.json",
        "index.html",
    ]
    assert len(written.evidence) == 3
    evidence = next(p for p in written.evidence if p.read_text().count("alert(&#39;evidence&#39;)"))
    tree = assert_inert(evidence.read_text())
    assert "<script>alert('evidence')</script>" in tree.xpath("//pre")[0].text_content()
    page = lxml_html.document_fromstring(written.html.read_text())
    links = {a.get("href") for a in page.iter("a")}
    assert {"index.html", "2026-W47.csv", "2026-W47.json"} <= links
    for article in digest.shown:
        assert article.evidence_path in links and (out / article.evidence_path).exists()
    rows = list(csv.DictReader(io.StringIO(written.csv.read_text())))
    assert [r["rank"] for r in rows] == ["1", "2", "3"]
    assert rows[1]["title"].startswith("'=HYPERLINK")  # not a formula in a spreadsheet
    assert rows[1]["url"] == ""
    data = json.loads(written.json.read_text())
    assert data["period"]["key"] == "2026-W47" and data["figures"]["flagged"] == 3
    assert data["articles"][0]["claims"][0]["text"].startswith("Kratom <b")
    index = lxml_html.document_fromstring(written.index.read_text())
    assert "2026-W47.html" in {a.get("href") for a in index.iter("a")}
    digest_before = build_digest(world.session, WEEK.previous(), SETTINGS)
    write_archive(world.session, digest_before, out)
    rows_html = written.index.read_text()
    assert rows_html.index("2026-W47.html") < rows_html.index("2026-W46.html")  # newest first


def test_claim_whose_offsets_went_stale_is_found_or_shown_alone(world: World) -> None:
    article = world.article(
        "Stale",
        at(WEEK),
        band="review",
        score=50.0,
        text="First. Kava cures anxiety. Last.",
        claims=[ClaimSpec("Kava cures anxiety.")],
    )
    world.session.flush()
    claim = world.session.query(Claim).filter_by(article_id=article.id).one()
    claim.start, claim.end = 0, 5  # as if the text had changed since scoring
    world.article("Gone", at(WEEK), band="review", score=45.0, text="Other text.", claims=[])
    world.session.add(
        Claim(
            article_id=world.session.query(Article).filter_by(title="Gone").one().id,
            position=0,
            sentence="A sentence no longer there.",
            start=3,
            end=9,
            categories=["disease_treatment"],
            severity="serious",
            score=45.0,
            rules=[],
            hedged=False,
            detail={},
        )
    )
    world.commit()
    digest = build_digest(world.session, WEEK, SETTINGS)
    by_title = {a.title: a.claims[0] for a in digest.articles}
    assert (by_title["Stale"].before, by_title["Stale"].text) == ("First. ", "Kava cures anxiety.")
    assert (by_title["Gone"].before, by_title["Gone"].text, by_title["Gone"].after) == (
        "",
        "A sentence no longer there.",
        "",
    )


def test_text_helpers() -> None:
    assert clean("a\r\nb\tc\x00d\u202ee  ") == "a b c d e"
    assert clean("x" * 10, 5) == "xxxx…"
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("data:text/html,<b>") is None
    assert safe_url("https://user:pw@EXAMPLE.org:8443/a?b#c") == "https://example.org:8443/a?b#c"
    assert safe_url("https://exa mple.org/") is None
    assert safe_url('https://example.org/"onmouseover=x') is None
    assert safe_url("https://пример.испытание/") == "https://xn--e1afmkfd.xn--80akhbyknj4f/"
    assert site_of("http://[::1]:8080/x") == "::1"
    assert site_of("not a url") == "(unknown site)"
    text = "Head\nOne two three. The claim here. Four five.\nNext"
    start = text.index("The claim")
    assert claim_context(text, start, start + 15, "The claim here.") == (
        "One two three. ",
        "The claim here.",
        " Four five.",
    )
    long = "word " * 100 + "Claim. " + "tail " * 100
    start = long.index("Claim.")
    before, _, after = claim_context(long, start, start + 6, "Claim.", width=30)
    assert before.startswith("…") and after.endswith("…") and len(before) < 40


def chromium() -> str:
    path = shutil.which("chromium")
    require(path is not None, "chromium is not installed (apt-get install chromium)")
    assert path is not None
    return path


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_page_renders_in_headless_chromium(world: World, tmp_path: Path) -> None:
    binary = chromium()
    flagged_world(world)
    world.article(EVIL_TITLE, at(WEEK, 5), band="watch", score=16.0, html=EVIL_HTML)
    world.commit()
    digest = build_digest(world.session, WEEK, SETTINGS)
    written = write_archive(world.session, digest, tmp_path / "digests")
    url = written.html.as_uri()
    dom = run_chromium(binary, tmp_path / "profile", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "Content Security Policy" not in dom.stderr  # our stylesheet is allowed, nothing ran
    tree = lxml_html.document_fromstring(dom.stdout)
    headings = [h.text_content().strip() for h in tree.iter("h3")]
    assert headings[:4] == [
        "1. Stop taking insulin: this root does it all",
        "2. Mushroom tea shrinks tumours",
        "3. Kratom for opioid withdrawal: the complete guide",
        "4. Kratom for opioid withdrawal: the complete guide (copy)",
    ]
    assert tree.xpath("//script") == [] and "{{ 7*7 }}" in headings[4]
    assert [h.text_content() for h in tree.iter("h2")][:3] == [
        "At a glance",
        "What changed since the last digest",
        "Flagged articles, ranked",
    ]
    assert len(tree.xpath("//*[local-name()='svg']")) == 2
    shot = tmp_path / "shot.png"
    result = run_chromium(
        binary, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1200,2000", url
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
