"""The command line: ``analyze --json`` contract, ``demo`` end to end, ``db upgrade``, ``--help``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from core.db import make_engine, session_factory
from core.models import Article, Source
from tests.conftest import ROOT, run_cli
from tests.test_extract import ARTICLE, HEAD, page

CONTRACT_KEYS = {"source", "title", "text_chars", "blocks"}
KINDS = {"heading", "paragraph", "list_item", "quote"}


def check_contract(obj: dict) -> None:
    assert set(obj) >= CONTRACT_KEYS
    assert isinstance(obj["source"], str)
    assert obj["title"] is None or isinstance(obj["title"], str)
    assert isinstance(obj["text_chars"], int)
    for block in obj["blocks"]:
        assert set(block) == {"kind", "text"} and block["kind"] in KINDS
    assert obj["text_chars"] == sum(len(b["text"]) for b in obj["blocks"])


@pytest.mark.slow
def test_analyze_json_text_and_html(tmp_path: Path) -> None:
    html = tmp_path / "coffee.html"
    html.write_text(page(ARTICLE, HEAD))
    text = tmp_path / "note.txt"
    text.write_text(
        "Notes on tea\nGreen tea has a long history in many cultures, and people drink "
        "it for its taste.\n- Brew at 80 degrees\n- Steep for two minutes\n"
    )
    result = run_cli("analyze", "--json", str(html), str(text))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    from_html, from_text = (json.loads(line) for line in lines)
    for obj in (from_html, from_text):
        check_contract(obj)
    assert from_html["source"] == str(html)
    assert from_html["title"] == "Mushroom coffee, explained"
    assert [b["kind"] for b in from_html["blocks"]].count("list_item") == 3
    assert from_text["title"] is None
    assert [b["kind"] for b in from_text["blocks"]] == [
        "heading",
        "paragraph",
        "list_item",
        "list_item",
    ]


@pytest.mark.slow
def test_analyze_seed_and_missing_file(tmp_path: Path) -> None:
    seed = sorted((ROOT / "seeds").glob("*.txt"))[0]
    result = run_cli("analyze", "--json", str(seed), str(tmp_path / "missing.txt"))
    assert result.returncode == 1
    good, missing = (json.loads(line) for line in result.stdout.splitlines())
    check_contract(good)
    assert good["text_chars"] > 1000
    assert missing["error"] and missing["blocks"] == []
    assert "missing.txt" in result.stderr


@pytest.mark.slow
def test_analyze_plain_output(tmp_path: Path) -> None:
    text = tmp_path / "a.txt"
    text.write_text("A heading\nA paragraph of text that ends with a full stop.\n- an item\n")
    result = run_cli("analyze", str(text))
    assert result.returncode == 0
    assert "## A heading" in result.stdout and "• an item" in result.stdout


def test_help_lists_every_command() -> None:
    result = run_cli("--help")
    for command in ("init", "crawl", "sources", "articles", "db", "demo", "analyze"):
        assert command in result.stdout


@pytest.mark.slow
def test_db_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    result = run_cli("db", "upgrade", env={"CLAIMWATCH_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert "revision 0010" in result.stdout


@pytest.mark.slow
def test_demo_stores_articles_from_every_site(tmp_path: Path) -> None:
    result = run_cli("demo", cwd=tmp_path, env={"CLAIMWATCH_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 0, result.stderr
    db = tmp_path / "data" / "demo" / "claimwatch.db"  # a fresh demo folder on every run
    assert str(db) in result.stdout
    engine = make_engine(f"sqlite:///{db}")
    with session_factory(engine)() as session:
        rows = session.execute(select(Source.name, Article.url).join(Article)).all()
    per_site: dict[str, int] = {}
    for name, _url in rows:
        per_site[name] = per_site.get(name, 0) + 1
    # Every demo article and nothing else: listing, shop and about pages are not articles.
    assert per_site == {"herbal-wellness-hub": 7, "natural-remedy-daily": 7, "city-health-news": 8}
    assert not any("/private/" in url for _name, url in rows)
    # Dedup: every template-style article matches the seed family, no news article does; the
    # verbatim seed reposts are near-duplicates of their seeds; the cross-site repost is linked.
    with session_factory(engine)() as session:
        articles = {a.url.split("/", 3)[-1]: a for a in session.scalars(select(Article))}
    for path, article in articles.items():
        expected = not path.startswith("news/") and "turmeric" not in path
        assert (article.family == "kratom-dopamine") is expected, path
    assert articles["posts/what-kratom-does-to-dopamine-chronic-pain.html"].near_of == (
        "000_54481a6cccb87f97"
    )
    assert articles["posts/herbal-help-opioid-withdrawal.html"].near_of == "001_ef7b4939b47f663b"
    copy, original = (
        articles["posts/lions-mane-brain-boost.html"],
        articles["articles/lions-mane-memory.html"],
    )
    assert {copy.duplicate_of, original.duplicate_of} - {None} == {min(copy.id, original.id)}
    assert "matched a seed template family" in result.stdout
