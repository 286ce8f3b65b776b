"""The page kind from what the crawl knows: a page's schema.org metadata, or the source's ``voice``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.db import make_engine, session_factory
from core.models import CrawlRun
from pipeline.page_kind import detect_kind, og_type, page_kind, schema_types
from pipeline.page_work import Scoring, work_page
from tests.conftest import Served, run_cli, write_config

BODY = (
    "<h1>Garden notes for a wet spring</h1>"
    + "".join(
        f"<p>Paragraph {n} of our notes: the beds along the fence were dug over twice, the "
        "compost turned, and the seedlings of beans and peas moved out under the cold frame "
        "once the nights stayed mild enough for them.</p>"
        for n in range(6)
    )
    + "<p>Our ginger root tea cures arthritis and relieves joint pain within days.</p>"
)


def page(head: str = "", body: str = BODY) -> str:
    return f"<html><head><title>Garden notes</title>{head}</head><body><article>{body}</article></body></html>"


def ld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


NEWS_LD = ld(
    {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": "Council opens a new clinic",
        "publisher": {"@type": "Organization", "name": "The Valley Courier"},
    }
)


def test_news_article_json_ld_is_news() -> None:
    html = page(NEWS_LD)
    assert schema_types(html) == ["newsarticle", "organization"]
    assert detect_kind(html) == "news"
    assert detect_kind(html.encode()) == "news"


def test_types_inside_a_graph_lists_and_nested_entities() -> None:
    graph = ld(
        {
            "@context": "https://schema.org",
            "@graph": [
                {"@type": "WebSite", "name": "x"},
                {"@type": ["WebPage", "MedicalWebPage"], "mainEntity": {"@type": "FAQPage"}},
            ],
        }
    )
    assert detect_kind(page(graph)) == "authority"
    listed = ld([{"@type": "BreadcrumbList"}, {"@type": "schema:BlogPosting"}])
    assert detect_kind(page(listed)) == "blog"
    nested = ld(
        {"@type": "WebPage", "mainEntity": {"@type": "Product", "offers": {"@type": "Offer"}}}
    )
    assert detect_kind(page(nested)) == "vendor"


def test_microdata_and_og_type() -> None:
    microdata = '<div itemscope itemtype="https://schema.org/ReportageNewsArticle"></div>'
    assert detect_kind(page(body=microdata + BODY)) == "news"
    product = '<meta property="og:type" content="product">'
    assert og_type(page(product)) == "product"
    assert detect_kind(page(product)) == "vendor"


def test_generic_or_broken_metadata_declares_nothing() -> None:
    generic = ld({"@type": "Article"}) + '<meta property="og:type" content="article">'
    assert detect_kind(page(generic)) is None
    broken = '<script type="application/ld+json">{"@type": "NewsArticle",</script>'
    assert detect_kind(page(broken)) is None
    assert detect_kind(page()) is None
    assert detect_kind("") is None
    unclosed = '<script type="application/ld+json">{"@type": "NewsArticle"}' * 50
    assert detect_kind(unclosed) is None
    late = '<meta content="product" property="og:type">'  # attributes in either order
    assert detect_kind(page(late)) == "vendor"


def test_news_wins_over_an_embedded_product() -> None:
    both = ld({"@type": "NewsArticle", "about": {"@type": "Product", "name": "a kettle"}})
    assert detect_kind(page(both)) == "news"


def test_the_sources_voice_wins_over_the_page() -> None:
    html = page(NEWS_LD)
    assert page_kind("authority", html) == "authority"
    assert page_kind("auto", html) == "news"
    assert page_kind("auto", page()) is None


@pytest.mark.parametrize(
    ("voice", "head", "kind"),
    [("auto", NEWS_LD, "news"), ("vendor", NEWS_LD, "vendor"), ("auto", "", None)],
)
def test_the_worker_scores_with_the_page_kind(voice: str, head: str, kind: str | None) -> None:
    work = work_page(page(head), "https://example.org/notes", 200, None, Scoring(), voice)
    assert work.score is not None
    assert work.score.page_kind == kind
    assert work.score.as_json()["page_kind"] == kind


# --- the declared kind through the crawl and the command line ---------------------------------

CLAIM = (
    "Our CBD oil cures cancer, reverses diabetes and replaces insulin, and it is completely safe "
    "for children."
)


def analyze_json(path: Path, *options: str) -> dict[str, Any]:
    result = run_cli("analyze", "--json", *options, str(path))
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.mark.slow
def test_the_same_sentence_weighs_less_on_a_declared_authority_page(tmp_path: Path) -> None:
    text = tmp_path / "page.txt"
    text.write_text(f"CBD oil and children\n{CLAIM}\n")
    vendor = analyze_json(text, "--kind", "vendor")
    authority = analyze_json(text, "--kind", "authority")
    undeclared = analyze_json(text)
    assert (vendor["page_kind"], authority["page_kind"], undeclared["page_kind"]) == (
        "vendor", "authority", None,
    )  # fmt: skip
    on_vendor, on_authority, plain = (
        next(c for c in data["claims"] if c["sentence"] == CLAIM)
        for data in (vendor, authority, undeclared)
    )
    assert on_authority["confidence"] < plain["confidence"] < on_vendor["confidence"]
    shown = {f["feature"]: f["weight"] for f in on_authority["features"]}
    assert shown["page_kind:reportive"] < 0 and shown["page_kind:authority"] < 0
    assert any(f["feature"].startswith("page_kind:vendor") for f in on_vendor["features"])
    assert not any(f["feature"].startswith("page_kind:") for f in plain["features"])


@pytest.mark.slow
def test_analyze_reads_a_news_article_json_ld(tmp_path: Path) -> None:
    html = tmp_path / "story.html"
    html.write_text(page(NEWS_LD))
    assert analyze_json(html)["page_kind"] == "news"
    assert analyze_json(html, "--kind", "vendor")["page_kind"] == "vendor"
    bad = run_cli("analyze", "--json", "--kind", "shop", str(html))
    assert bad.returncode == 2 and "'shop' is not one of" in bad.stderr


@pytest.mark.slow
@pytest.mark.parametrize("processes", [None, 0], ids=["worker-processes", "crawl-process"])
def test_a_source_with_voice_authority_scores_its_pages_as_authority(
    site: Served, tmp_path: Path, processes: int | None
) -> None:
    db_url = f"sqlite:///{tmp_path / 'cw.db'}"
    sitemap = site.url + "/robots.txt"
    config = write_config(
        tmp_path / "claimwatch.toml",
        [
            {
                "name": "health-service",
                "kind": "sitemap",
                "start_urls": [sitemap],
                "voice": "authority",
            }
        ],
        db_url,
        crawl={} if processes is None else {"extract_processes": processes},
    )
    result = run_cli("--config", str(config), "crawl")
    assert result.returncode == 0, result.stderr
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        run = session.scalars(select(CrawlRun)).one()
    engine.dispose()
    own = run.stats["source"]
    assert own["score/page_kind/authority"] == own["store/inserted"] == 3
    assert "score/page_kind/none" not in own
