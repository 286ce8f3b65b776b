"""pipeline/dedup/discovery.py and ``claimwatch families --candidates``: groups of unmatched
articles that share a template, on two template families written for the tests
(tests/discovery_texts.py), beside ordinary pages, reposts, syndicated prose and the demo sites.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from claimwatch.cli.app import main
from core.db import engine_for, sessions_for, upgrade
from core.document import Document, from_text
from core.models import Article
from pipeline.dedup.discovery import _texts, candidates, site_of
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
from tests.discovery_texts import BRIDGE, FAMILY_A, FAMILY_B, FAMILY_C, FAMILY_D

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


CANDIDATE_IDS = (
    "from core.document import from_text; from pipeline.dedup.discovery import candidates;"
    "from tests.discovery_texts import FAMILY_B, FAMILY_C;"
    "from tests.test_dedup_discovery import ORDINARY;"
    "pairs = FAMILY_B + FAMILY_C + ORDINARY;"
    "print(' '.join(c.id for c in candidates([(u, from_text(t)) for u, t in pairs])))"
)


@pytest.mark.slow
def test_candidates_are_the_same_in_every_process() -> None:
    """``families promote ID`` finds the candidate again in another process: the phrase hashes
    and the banding do not depend on Python's per-process string hashing."""
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", CANDIDATE_IDS],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.add(done.stdout.strip())
    assert len(outputs) == 1 and len(outputs.pop().split()) == 2


def _filler(seed: int, sentences: int) -> str:
    """Sentences of made-up words that no other article uses."""
    words = [f"w{seed}x{k}" for k in range(sentences * 9)]
    return " ".join(" ".join(words[i : i + 9]) + "." for i in range(0, len(words), 9))


COMMON = [
    "as it turns out nobody",
    "more often than not the",
    "in the long run most",
    "at the end of every",
    "for what it is worth",
    "on the other hand some",
    "by and large the people",
    "time and again we hear",
    "all things considered it is",
    "from time to time a",
    "sooner or later they all",
    "little by little the whole",
    "once in a while someone",
    "every now and then you",
    "over and over again people",
]


def chain(together: bool) -> list[tuple[str, Document]]:
    """Six articles of one shape on six sites; each shares three common phrases (three
    passages) with the next. Each phrase is also in a witness article of another shape: one
    phrase per witness, or (``together``) the whole three in each."""
    triples = [COMMON[3 * k : 3 * k + 3] for k in range(5)]
    pairs = []
    for i in range(6):
        own = [p for k in (i - 1, i) if 0 <= k < 5 for p in triples[k]]
        paragraphs = [
            f"{_filler(i * 20 + k, 2)} {p} {_filler(i * 20 + k + 10, 1)}" for k, p in enumerate(own)
        ]
        lines = [_filler(i * 20 + 9, 2), f"- item w{i}a", f"- item w{i}b", f"- item w{i}c"]
        pairs.append((f"https://site{i}.example/post", "\n".join([*lines, *paragraphs])))
    for k, triple in enumerate(triples):
        for j, phrase in enumerate(triple):
            seed = 500 + 10 * k + j
            carried = triple if together else [phrase]
            body = [
                f"{_filler(seed * 7 + m, 2)} {p} {_filler(seed * 7 + m + 3, 1)}"
                for m, p in enumerate(carried)
            ]
            head = [
                _filler(seed * 7 + 5, 1),
                _filler(seed * 7 + 6, 1),
                f"- point w{seed}a",
                f"- point w{seed}b",
            ]
            pairs.append((f"https://witness{k}-{j}.example/post", "\n".join([*head, *body])))
    return documents(pairs)


def test_common_phrases_that_chain_unrelated_articles_make_no_candidate() -> None:
    """The three phrases two neighbours share are each used elsewhere, but never together:
    chance, not a template's set of stock phrases, so nothing is linked (before, the chain was
    one candidate of six articles on six sites). When the three travel together in the other
    articles too, they are a set and the neighbours are linked, but the chain is still no
    family: no phrase is in more than two of its six articles (before the cohesion split it was
    proposed as one). Each set's three witnesses are a small family of their own shape."""
    assert candidates(chain(together=False)) == []
    found = candidates(chain(together=True))
    assert sorted(c.sites for c in found) == [
        [f"witness{k}-{j}.example" for j in range(3)] for k in range(5)
    ]


def test_a_bridge_between_two_families_is_split_and_both_survive() -> None:
    """Families B and D have one shape; one page carries three stock lines of each, so it links
    to both and the linked group is all nine (union-find proposed them as one candidate). Split
    on the phrases its members share, each family comes out whole and on its own; the bridge
    page goes with one of them (it does hold that family's set), never with both."""
    family_b = {url for url, _ in FAMILY_B}
    family_d = {url for url, _ in FAMILY_D}
    found = candidates(documents(FAMILY_B + FAMILY_D + [BRIDGE] + ORDINARY))
    assert len(found) == 2
    groups = [set(c.members) for c in found]
    assert any(family_b <= g for g in groups) and any(family_d <= g for g in groups)
    for g in groups:
        assert g - {BRIDGE[0]} in (family_b, family_d)
    # without the bridge: the same two, one each
    assert sorted(sorted(c.members) for c in candidates(documents(FAMILY_B + FAMILY_D))) == sorted(
        [sorted(family_b), sorted(family_d)]
    )


def test_a_common_phrase_repeated_is_one_passage() -> None:
    """Four pages of one shape on four sites use one common phrase, each in three of its
    paragraphs, and nothing else in common: one phrase three times is not three stock phrases
    (before, its 4-grams, always together, made the four a candidate)."""
    phrase = "at the end of the day"
    pages = []
    for i in range(8):
        said = phrase if i < 4 else "and so on"
        paragraphs = [
            f"{_filler(i * 10 + k, 2)} {said} {_filler(i * 10 + k + 5, 1)}" for k in range(3)
        ]
        lines = [_filler(i * 10 + 9, 2), f"- item w{i}a", f"- item w{i}b", f"- item w{i}c"]
        pages.append((f"https://repeat{i}.example/post", "\n".join([*lines, *paragraphs])))
    assert candidates(documents(pages)) == []


def test_a_family_among_unstructured_pages_alone_is_proposed() -> None:
    """Four pages of one family whose stock phrases every member uses are a set even when no
    other structured article is there to count chance from (a small database: the family and a
    few plain prose pages)."""
    prose = [
        (
            f"https://plain{i}.example/note",
            f"Plain note {i}\n\nA short column about the weather in town number {i}, with no list "
            "and no headings, written the way a local paper writes its notes from the week.",
        )
        for i in range(6)
    ]
    found = candidates(documents(FAMILY_B + prose))
    assert [sorted(c.members) for c in found] == [sorted(url for url, _ in FAMILY_B)]


def test_texts_read_in_a_worker_process_are_the_ones_read_here() -> None:
    # a week's texts are read half in a spawned worker: the same hashes as in one process
    docs = [doc for _, doc in documents(FAMILY_A + FAMILY_B + FAMILY_D + ORDINARY)]
    here, split = _texts(docs, parallel=False), _texts(docs, parallel=True)
    assert len(here) == len(split) == len(docs)
    for one, other in zip(here, split, strict=True):
        assert np.array_equal(one.free, other.free) and one.free.size > 0
        assert np.array_equal(one.seq, other.seq)
        assert np.array_equal(one.all, other.all)
