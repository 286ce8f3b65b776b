"""The digest's "possible new template families" (reports/candidates.py): candidate families among
the period's unmatched articles, with their evidence and example links, in the HTML page and the
text digest; those a seed family already matches are left out; scraped URLs stay inert.

The template families are the ones written for the discovery tests (tests/discovery_texts.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from core.config import DigestSettings
from core.document import from_text
from pipeline.dedup.discovery import candidates
from pipeline.dedup.seeds import load_families
from pipeline.dedup.template import Family, TemplateMatcher
from reports import render
from reports.digest import build_digest
from tests.conftest import ROOT
from tests.discovery_texts import FAMILY_A, FAMILY_B, FAMILY_C
from tests.test_dedup_discovery import ORDINARY
from tests.test_digest_model import WEEK, World, at
from tests.test_digest_render import assert_inert

SETTINGS = DigestSettings()
MATCHER = TemplateMatcher([Family.learn(n, s) for n, s in load_families([ROOT / "seeds"]).items()])
EVIL = '?q="><script>alert(1)</script>'
# one of family B's articles under a URL that is no fit link
FAMILY_B_EVIL = [(FAMILY_B[0][0] + EVIL, FAMILY_B[0][1]), *FAMILY_B[1:]]


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    world = World(engine)
    yield world
    world.session.close()


def add(world: World, pairs: list[tuple[str, str]], days: float, **columns: object) -> None:
    for n, (url, text) in enumerate(pairs):
        document = from_text(text)
        world.article(
            None,
            at(WEEK, days + n / 100),
            url=url,
            text=document.text,
            blocks=document.blocks_as_dicts(),
            **columns,
        )


def ids_of(*families: list[tuple[str, str]]) -> dict[str, str]:
    """The candidate id of each family's member set, when all of them are grouped together."""
    pairs = [p for family in families for p in family]
    return {c.members[0]: c.id for c in candidates([(u, from_text(t)) for u, t in pairs])}


def test_the_periods_candidates_are_listed_with_evidence_and_examples(world: World) -> None:
    add(world, FAMILY_A, 1)  # the bundled family matches these (its own frame): no candidate
    add(world, FAMILY_B_EVIL, 2)
    add(world, FAMILY_C, 3)
    add(world, ORDINARY, 4)
    # the period before: another copy of the frame, not this period's business
    before = [(u.replace("/cards/", "/old-cards/"), t) for u, t in FAMILY_C]
    for n, (url, text) in enumerate(before):
        document = from_text(text)
        world.article(
            None,
            at(WEEK.previous(), 1 + n / 100),
            url=url,
            text=document.text,
            blocks=document.blocks_as_dicts(),
        )
    # an article a family matched is no candidate material
    add(world, [(FAMILY_C[0][0] + "-copy", FAMILY_C[0][1])], 5, family="remedy-card")
    world.commit()

    digest = build_digest(world.session, WEEK, SETTINGS, matcher=MATCHER)
    ids = ids_of(FAMILY_A, FAMILY_B_EVIL, FAMILY_C, ORDINARY)
    card, myths = ids[FAMILY_C[0][0]], ids[FAMILY_B_EVIL[0][0]]
    assert [c.id for c in digest.candidates] == [card, myths]
    first = digest.candidates[0]
    assert first.articles == 5
    assert first.sites == ("grannyknows.example", "pantryhealth.example", "remedycards.example")
    assert any("share the shape" in line for line in first.evidence)
    assert any(line.startswith("shared topic-free phrases: ") for line in first.evidence)
    assert [e.href for e in first.examples] == [u for u, _ in FAMILY_C]
    evil = digest.candidates[1].examples[0]
    assert evil.href is None and "<script>" in evil.text  # plain text, shown without a link

    page = render.page_html(digest)
    tree = assert_inert(page)
    section = tree.xpath("//section[@aria-labelledby='h-candidates']")[0]
    assert section.xpath("string(h2)") == "Possible new template families"
    assert f"{card}: 5 articles on 3 sites" in section.text_content()
    hrefs = section.xpath(".//a/@href")
    assert hrefs[:5] == [u for u, _ in FAMILY_C] and not any("script" in h for h in hrefs)
    assert "claimwatch families promote ID --name NAME" in section.text_content()
    assert "alert(1)</script>" in section.text_content()  # shown as text, escaped in the page

    text = render.text(digest)
    part = text.split("POSSIBLE NEW TEMPLATE FAMILIES", 1)[1].split("SUBSTANCES", 1)[0]
    assert f"  - {card}: 5 articles on 3 sites: grannyknows.example" in part
    assert f"    example: {FAMILY_C[0][0]}" in part
    assert "shared topic-free phrases:" in part and myths in part


def test_without_the_seed_families_every_candidate_is_shown(world: World) -> None:
    add(world, FAMILY_A + FAMILY_C + ORDINARY, 1)
    world.commit()
    digest = build_digest(world.session, WEEK, SETTINGS)
    ids = ids_of(FAMILY_A, FAMILY_C, ORDINARY)
    assert sorted(c.id for c in digest.candidates) == sorted(ids.values())
    assert len(digest.candidates) == 2


def test_a_period_without_candidates_says_so(world: World) -> None:
    add(world, ORDINARY, 1)
    world.commit()
    digest = build_digest(world.session, WEEK, SETTINGS, matcher=MATCHER)
    assert digest.candidates == ()
    assert "No group of unmatched articles shares a template this period." in render.text(digest)
    tree = assert_inert(render.page_html(digest))
    section = tree.xpath("//section[@aria-labelledby='h-candidates']")[0]
    assert "No group of unmatched articles" in section.text_content()
