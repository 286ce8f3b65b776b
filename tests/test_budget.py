"""The per-page budget (issue 16, item 2): a page too complex for trafilatura is refused before it,
as ``extract/too_complex``, and the crawl goes on; an article keeps at most
``MAX_CLAIMS_PER_ARTICLE`` claims.

No timings are asserted: before the budget, the 20,000-span paragraph below took about 47 s inside
trafilatura; now it is refused after one pass over the parsed tree.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.document import from_text
from pipeline.claims import default_rules
from pipeline.claims.article import MAX_CLAIMS_PER_ARTICLE, score_document
from pipeline.extract import MAX_DOM_ELEMENTS, complexity_problem, extract_html
from tests.conftest import Served, run_cli, write_config
from tests.test_crawl import last_runs, stored

PROSE = "Herbal tea is a warm drink that many people enjoy in the evening before they sleep. "


def spans_page(count: int) -> str:
    spans = "".join(f"<span>word{i} </span>" for i in range(count))
    return f"<html><body><article><p>{PROSE}{spans}</p></article></body></html>"


def test_a_paragraph_of_20k_spans_is_refused_before_trafilatura() -> None:
    outcome = extract_html(spans_page(20_000), "https://news.example.org/spans")
    assert outcome.document is None
    assert outcome.reason.startswith("too_complex")
    assert "inline elements in one <p>" in outcome.reason


def test_nested_inline_elements_count_for_their_block() -> None:
    nested = "".join(f"<b><i>w{i}</i></b> " for i in range(600))  # 1,200 inline in one <p>
    page = f"<html><body><p>{PROSE}{nested}</p></body></html>"
    assert extract_html(page, "https://news.example.org/nested").reason.startswith("too_complex")


def test_a_page_with_too_many_elements_is_refused() -> None:
    paragraphs = "<p>x</p>" * (MAX_DOM_ELEMENTS + 1)
    outcome = extract_html(f"<html><body>{paragraphs}</body></html>", "https://e.org/60k")
    assert outcome.document is None
    assert outcome.reason == f"too_complex: more than {MAX_DOM_ELEMENTS} elements"


def test_an_ordinary_article_is_within_the_budget() -> None:
    links = "".join(f'<a href="/t/{i}">tag {i}</a> ' for i in range(200))
    body = "".join(f"<p>{PROSE * 3}<em>note</em> <strong>{i}</strong></p>" for i in range(40))
    page = f"<html><body><article><h1>Tea</h1>{body}</article><nav>{links}</nav></body></html>"
    outcome = extract_html(page, "https://news.example.org/tea")
    assert outcome.document is not None, outcome.reason
    from lxml import html as lxml_html

    assert complexity_problem(lxml_html.fromstring(page)) is None


def test_claims_per_article_are_capped() -> None:
    lines = [
        f"Kava cures arthritis and relieves joint pain in {n} days without painkillers."
        for n in range(MAX_CLAIMS_PER_ARTICLE + 50)
    ]
    score = score_document(from_text("\n".join(lines)), default_rules())
    found = score.stats["claims"]
    assert found > MAX_CLAIMS_PER_ARTICLE, "the sentences should each make a claim"
    assert len(score.claims) == MAX_CLAIMS_PER_ARTICLE
    assert score.stats["claims_dropped"] == found - MAX_CLAIMS_PER_ARTICLE
    starts = [claim.start for claim in score.claims]
    assert starts == sorted(starts)  # kept in reading order


@pytest.mark.slow
def test_the_crawl_goes_on_past_a_page_too_complex(
    site: Served, db_url: str, tmp_path: Path
) -> None:
    (site.root / "articles" / "gamma.html").write_text(spans_page(20_000))
    config = write_config(
        tmp_path / "claimwatch.toml",
        [{"name": "weekly", "kind": "sitemap", "start_urls": [site.url + "/sitemap.xml"]}],
        db_url,
    )
    result = run_cli("--config", str(config), "crawl")
    assert result.returncode == 0, result.stderr
    assert set(stored(db_url)) == {"alpha.html", "beta.html"}
    run = last_runs(db_url)["weekly"]
    assert run.status == "ok"
    assert run.stats["source"]["extract/too_complex"] == 1
    assert run.stats["crawl"]["extract/too_complex"] == 1
