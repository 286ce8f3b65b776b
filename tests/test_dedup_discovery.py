"""pipeline/dedup/discovery.py and ``claimwatch families --candidates``: groups of unmatched
articles that share a template, on two template families written for the tests
(tests/discovery_texts.py), beside ordinary pages, reposts, syndicated prose and the demo sites.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from claimwatch.cli.app import main
from core.db import engine_for, sessions_for, upgrade
from core.document import Document, from_text
from core.models import Article
from pipeline.dedup.discovery import candidates, site_of
from pipeline.dedup.seeds import load_families
from pipeline.dedup.template import Family, TemplateMatcher
from pipeline.extract import extract_html
from tests.conftest import ROOT, write_config
from tests.dedup_texts import (
    BLOG_WITH_CONTENTS_TEXT,
    ELDERBERRY_TEXT,
    MEDICAL_TEXT,
    NEWS_TEXT,
    VENDOR_SHORT_TEXT,
    VENDOR_TEXT,
)
from tests.discovery_texts import FAMILY_A, FAMILY_B, FAMILY_C

ORDINARY = [
    ("https://riverside-news.example/cycle-lanes", NEWS_TEXT),
    ("https://health-service.example/anaemia", MEDICAL_TEXT),
    ("https://meadowlane.example/gummies", VENDOR_TEXT),
    ("https://a-blog.example/contents", BLOG_WITH_CONTENTS_TEXT),
    ("https://gummy-shop.example/black-elderberry", VENDOR_SHORT_TEXT),
    ("https://hedgerow.example/elderberry", ELDERBERRY_TEXT),
]


def documents(pairs: list[tuple[str, str]]) -> list[tuple[str, Document]]:
    return [(url, from_text(text, url=url)) for url, text in pairs]


def test_both_template_families_are_proposed_and_nothing_else() -> None:
    found = candidates(documents(FAMILY_A + FAMILY_B + ORDINARY))
    assert [sorted(c.members) for c in found] == [
        sorted(url for url, _ in FAMILY_A),
        sorted(url for url, _ in FAMILY_B),
    ]
    quick, myths = found
    assert quick.sites == sorted({site_of(u) for u, _ in FAMILY_A}) and len(quick.sites) == 3
    assert "whose items come back as headings" in quick.shape
    assert "not echoed by the headings" in myths.shape
    for candidate in found:
        assert candidate.id.startswith("cand-") and candidate.examples
        text = " ".join(candidate.phrases)
        # the evidence is the frame, never the topic words of the members' headings
        assert not any(w in text for w in ("chamomile", "ginger", "cinnamon", "rosehip", "balm"))
        assert any("share the shape" in line for line in candidate.evidence)


def test_the_candidate_id_is_stable_and_the_order_does_not_matter() -> None:
    forward = candidates(documents(FAMILY_A + ORDINARY))
    backward = candidates(documents(list(reversed(FAMILY_A + ORDINARY))))
    assert [c.id for c in forward] == [c.id for c in backward] and len(forward) == 1


def test_one_site_is_not_a_family() -> None:
    one_site = [
        (f"https://answers-daily.example/{i}", text) for i, (_, text) in enumerate(FAMILY_A)
    ]
    assert candidates(documents(one_site)) == []


def test_reposts_of_one_article_are_not_a_template() -> None:
    text = FAMILY_A[0][1]
    copies = [(f"https://copy{i}.example/post", text) for i in range(4)]
    assert candidates(documents(copies)) == []


def test_syndicated_prose_without_structure_is_not_a_template() -> None:
    """The same frame as plain prose (no list near the top) across sites: what news syndication
    looks like, phrases shared and no template structure."""
    prose = [
        (
            url.replace("/myths/", "/story/"),
            "\n".join(line for line in text.splitlines() if not line.startswith("- ")),
        )
        for url, text in FAMILY_B
    ]
    assert candidates(documents(prose)) == []


def test_the_demo_sites_unmatched_pages_make_no_candidate() -> None:
    matcher = TemplateMatcher(
        [Family.learn(n, s) for n, s in load_families([ROOT / "seeds"]).items()]
    )
    sites = ROOT / "crawler" / "demo" / "sites"
    unmatched: list[tuple[str, Document]] = []
    for path in sorted(sites.glob("*/**/*.html")):
        site = path.relative_to(sites).parts[0]
        base = f"http://{site}.demo"
        url = base + "/" + path.relative_to(sites / site).as_posix()
        document = extract_html(path.read_text(encoding="utf-8").replace("__BASE_URL__", base), url)
        if document.document is not None and not matcher.match(document.document).match:
            unmatched.append((url, document.document))
    assert len(unmatched) >= 10
    assert candidates(unmatched) == []


# --- the command ------------------------------------------------------------------------------


def store(db_url: str, pairs: list[tuple[str, str]], family: str | None = None) -> None:
    engine = engine_for(db_url)
    upgrade(engine)
    with sessions_for(db_url)() as session:
        for url, text in pairs:
            document = from_text(text)
            raw = f"<html><body>{url}</body></html>".encode()
            session.add(
                Article(
                    canonical_url=url,
                    url=url,
                    raw_sha256=hashlib.sha256(raw).hexdigest(),
                    text_sha256=hashlib.sha256(text.encode()).hexdigest(),
                    raw_html_gz=gzip.compress(raw),
                    title=None,
                    text=document.text,
                    text_chars=len(document.text),
                    blocks=[b.as_dict() for b in document.blocks],
                    family=family,
                )
            )
        session.commit()


@pytest.mark.parametrize("matched", [False, True])
def test_families_candidates_lists_the_groups_of_unmatched_articles(
    tmp_path: Path, matched: bool
) -> None:
    db_url = f"sqlite:///{tmp_path / 'claimwatch.db'}"
    config = write_config(tmp_path / "claimwatch.toml", [], db_url=db_url)
    store(db_url, FAMILY_C, family="remedy-card" if matched else None)
    store(db_url, FAMILY_B + ORDINARY)
    # family A is left out: its frame is the bundled seeds' own, whose family matches it
    store(db_url, FAMILY_A)
    result = CliRunner().invoke(main, ["--config", str(config), "families", "--candidates"])
    assert result.exit_code == 0, result.output
    ids = [line.split()[0] for line in result.output.splitlines() if line.startswith("cand-")]
    expected = 1 if matched else 2
    assert len(ids) == expected, result.output
    assert f"{expected} candidate families among" in result.output
    assert "example https://factcheckherbs.example/myths/" in result.output
    assert ("example https://remedycards.example/" in result.output) is not matched
    assert "shared topic-free phrases:" in result.output
