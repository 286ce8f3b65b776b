"""How the parts are put together: Scrapy settings derived from the config (named, each documented,
no config object), components switched off with NotConfigured, one engine per process and URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

import crawler.scrapy_settings
from core.config import Config, load_config
from core.db import engine_for, sessions_for
from crawler.extensions import Progress, RunRecorder
from crawler.scrapy_settings import build_settings, claimwatch_settings
from crawler.spiders.articles import ArticleSpider
from pipeline.claims import default_rules
from pipeline.claims.pipeline import ScorePipeline
from pipeline.dedup.pipeline import DedupPipeline
from pipeline.extract import ExtractPipeline
from pipeline.store import StorePipeline


def config(tmp_path: Path, **env: str) -> Config:
    return load_config(None, env={"CLAIMWATCH_DATA_DIR": str(tmp_path), **env})


def test_settings_are_named_values_each_documented(tmp_path: Path) -> None:
    settings = build_settings(config(tmp_path))
    assert "CLAIMWATCH_CONFIG" not in settings
    doc = crawler.scrapy_settings.__doc__ or ""
    for name, value in claimwatch_settings(config(tmp_path)).items():
        assert f"``{name}``" in doc, f"{name} is not in the table"
        assert value is None or isinstance(value, str | int | float | bool | list | dict), name


def test_components_read_their_settings(tmp_path: Path) -> None:
    env = {
        "CLAIMWATCH_CRAWL__MIN_ARTICLE_CHARS": "123",
        "CLAIMWATCH_CRAWL__BATCH_SIZE": "7",
        "CLAIMWATCH_DEDUP__NEAR_THRESHOLD": "0.5",
        "CLAIMWATCH_DEDUP__EXACT_DUPLICATES": "link",
        "CLAIMWATCH_SOURCES": '[{name = "feed", kind = "feed", start_urls = ["https://a.test/f"]}]',
    }
    crawler_ = get_crawler(ArticleSpider, settings_dict=build_settings(config(tmp_path, **env)))
    assert ExtractPipeline.from_crawler(crawler_).min_chars == 123
    store = StorePipeline.from_crawler(crawler_)
    assert (store.batch_size, store.exact_duplicates) == (7, "link")
    assert DedupPipeline.from_crawler(crawler_).deduper.near_threshold == 0.5
    assert ScorePipeline.from_crawler(crawler_).rules is default_rules()
    spider = ArticleSpider.from_crawler(crawler_)
    assert [s.name for s in spider.sources] == ["feed"]
    assert spider.db_url == config(tmp_path).db_url


def test_switched_off_components_raise_not_configured() -> None:
    bare = get_crawler(settings_dict={})
    for component in (StorePipeline, RunRecorder, Progress):
        with pytest.raises(NotConfigured):
            component.from_crawler(bare)
    with pytest.raises(KeyError, match="CLAIMWATCH_MIN_ARTICLE_CHARS"):
        ExtractPipeline.from_crawler(bare)
    assert Progress.from_crawler(get_crawler(settings_dict={"CLAIMWATCH_PROGRESS": True}))


def test_one_engine_and_session_factory_per_url(tmp_path: Path) -> None:
    first, second = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    assert engine_for(first) is engine_for(first) is sessions_for(first).kw["bind"]
    assert sessions_for(first) is sessions_for(first)
    assert engine_for(first) is not engine_for(second)
