"""Page metadata: trafilatura's own fields, and the sitemap or feed date used in place of a search."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler
from trafilatura.metadata import extract_metadata
from trafilatura.utils import load_html

import pipeline.metadata
from pipeline.dates import listed_date
from pipeline.extract import ExtractPipeline, extract_html
from pipeline.items import PageItem
from pipeline.metadata import page_metadata
from tests.test_extract import ARTICLE, HEAD, page

URL = "https://wellness.example/mushroom-coffee"
NO_DATE_HEAD = HEAD.replace('"2026-10-30T08:00:00Z"', '""')


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-20", "2026-11-20"),
        ("2026-11-20T23:30:00Z", "2026-11-20"),
        ("2026-11-21T01:30:00+02:00", "2026-11-20"),  # in UTC
        ("Fri, 20 Nov 2026 10:00:00 GMT", "2026-11-20"),  # RSS
        ("1970-01-01", None),  # an unset date in the listing
        ("next week", None),
        ("  ", None),
        (None, None),
    ],
)
def test_listed_date(value: str | None, expected: str | None) -> None:
    assert listed_date(value) == expected


def test_same_fields_as_trafilatura_extract_metadata() -> None:
    html = page(ARTICLE, HEAD)
    ours = page_metadata(load_html(html), URL)
    theirs = extract_metadata(load_html(html), URL)
    for name in ("title", "author", "date", "url", "sitename", "description"):
        assert getattr(ours, name) == getattr(theirs, name), name


def test_the_pages_own_date_comes_before_the_listed_one() -> None:
    own = extract_html(page(ARTICLE, HEAD), URL, listed="2026-11-20").document
    assert own is not None and own.date == "2026-10-30"  # lastmod is a change, not publication


def test_the_listed_date_fills_a_page_without_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline.metadata, "find_date", lambda *args, **kwargs: None)
    doc = extract_html(page(ARTICLE, NO_DATE_HEAD), URL, listed="2026-11-20").document
    assert doc is not None and doc.date == "2026-11-20" and doc.author == "Ada Lane"


def test_without_a_listed_date_the_page_date_is_found() -> None:
    doc = extract_html(page(ARTICLE, HEAD), URL).document
    assert doc is not None and doc.date == "2026-10-30"


def test_pipeline_passes_the_sitemap_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline.metadata, "find_date", lambda *args, **kwargs: None)
    stats = MemoryStatsCollector(get_crawler())
    extract = ExtractPipeline(stats, min_chars=0)
    item = PageItem(
        source="s",
        run_group="g",
        url=URL,
        request_url=URL,
        status=200,
        fetched_at=datetime(2026, 12, 1, tzinfo=UTC),
        html=page(ARTICLE, NO_DATE_HEAD),
        sitemap_lastmod="2026-11-20T08:00:00+00:00",
    )
    try:
        out = asyncio.run(extract.process_item(item))
    finally:
        extract.close_spider()
    assert out.document.date == "2026-11-20"
    assert stats.get_value("extract/ok") == 1
