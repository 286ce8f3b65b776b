"""pipeline/dedup/promote.py and ``claimwatch families promote``: a candidate family becomes a seed
family in the user's seed folder, and later articles of its template match it; end to end, three
loopback sites are crawled, the candidate is promoted, and a fresh article of the template crawled
afterwards is matched to the new family.

Every text here was written for the tests (tests/discovery_texts.py, tests/dedup_texts.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from claimwatch.cli.app import main
from core.db import make_engine, session_factory
from core.document import Block, Document, from_text
from core.models import Article
from crawler.demo.server import SiteServer
from pipeline.dedup.discovery import Candidate, candidates
from pipeline.dedup.promote import MAX_SEEDS, PromoteError, pick, promote
from pipeline.dedup.seeds import load_families
from pipeline.dedup.template import Family, TemplateMatcher
from tests.conftest import ROOT, run_cli, write_config
from tests.dedup_texts import MEDICAL_TEXT, NEWS_TEXT, VENDOR_SHORT_TEXT, VENDOR_TEXT, as_html
from tests.discovery_texts import FAMILY_A, FAMILY_B, FAMILY_C, TOPICS, remedy_card
from tests.sites import article_html
from tests.test_dedup_discovery import ORDINARY, store

BUNDLED = ROOT / "seeds"
FRESH = remedy_card(TOPICS[5])  # a sixth article of family C, on a topic no member has


def documents(pairs: list[tuple[str, str]]) -> list[tuple[str, Document]]:
    return [(url, from_text(text, url=url)) for url, text in pairs]


def card_candidate() -> tuple[Candidate, dict[str, Document]]:
    docs = documents(FAMILY_A + FAMILY_B + FAMILY_C + ORDINARY)
    found = candidates(docs)
    by_members = {frozenset(c.members): c for c in found}
    return by_members[frozenset(url for url, _ in FAMILY_C)], dict(docs)


def listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_a_promoted_candidate_is_a_seed_family_that_matches_a_new_article(tmp_path: Path) -> None:
    candidate, docs = card_candidate()
    promoted = promote(candidate, docs, "remedy-card", tmp_path, other_folders=[BUNDLED])
    assert promoted.folder == tmp_path / "remedy-card"
    assert (promoted.folder / "FAMILY").read_text(encoding="utf-8").strip() == "remedy-card"
    assert sorted(promoted.seeds.values()) == sorted(url for url, _ in FAMILY_C)
    files = sorted(p.stem for p in promoted.folder.glob("*.txt"))
    assert files == sorted(promoted.seeds)  # one file per article; the stem is the seed id
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folder left
    loaded = load_families([BUNDLED, tmp_path])
    assert set(loaded) == {"kratom-dopamine", "remedy-card"}
    for seed_id, url in promoted.seeds.items():  # each seed reads back as the stored blocks
        assert loaded["remedy-card"][seed_id].blocks == docs[url].blocks
    matcher = TemplateMatcher([Family.learn(n, s) for n, s in loaded.items()])
    fresh = matcher.match(from_text(FRESH))
    assert fresh.match and fresh.family == "remedy-card", fresh.evidence
    for text in (NEWS_TEXT, MEDICAL_TEXT, VENDOR_TEXT):
        assert matcher.match(from_text(text)).family != "remedy-card"


def test_a_block_the_text_format_would_misread_is_written_as_html(tmp_path: Path) -> None:
    """A heading that ends in a colon reads back from plain text as a paragraph: that seed is
    written as HTML, and reads back with its heading."""
    candidate, docs = card_candidate()
    url = candidate.members[0]
    blocks = list(docs[url].blocks)
    index = next(i for i, b in enumerate(blocks) if b.kind == "heading")
    blocks[index] = Block("heading", blocks[index].text + ":")
    docs[url] = Document(blocks=tuple(blocks), title="Answers", url=url)
    promoted = promote(candidate, docs, "remedy-card", tmp_path)
    seed_id = next(s for s, u in promoted.seeds.items() if u == url)
    assert (promoted.folder / f"{seed_id}.html").is_file()
    loaded = load_families([tmp_path])["remedy-card"][seed_id]
    assert Block("heading", blocks[index].text) in loaded.blocks


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("kratom-dopamine", "already used by a seed family"),
        ("Quick Answer", "lower-case letters"),
        ("../escape", "lower-case letters"),
        ("", "lower-case letters"),
    ],
)
def test_a_bad_or_taken_name_is_refused_and_nothing_is_written(
    tmp_path: Path, name: str, message: str
) -> None:
    candidate, docs = card_candidate()
    with pytest.raises(PromoteError, match=message):
        promote(candidate, docs, name, tmp_path, other_folders=[BUNDLED])
    assert listing(tmp_path) == []


def test_an_existing_folder_is_not_overwritten(tmp_path: Path) -> None:
    candidate, docs = card_candidate()
    (tmp_path / "remedy-card").mkdir()
    (tmp_path / "remedy-card" / "notes.md.bak").write_text("mine")
    with pytest.raises(PromoteError, match="already exists"):
        promote(candidate, docs, "remedy-card", tmp_path)
    assert listing(tmp_path) == ["remedy-card", "remedy-card/notes.md.bak"]


def test_a_seed_that_does_not_read_back_leaves_nothing_behind(tmp_path: Path) -> None:
    """The last article is a few words that neither format keeps (as text a heading, as HTML too
    short to be an article): the promotion fails, and the seeds already written are removed."""
    candidate, docs = card_candidate()
    last = pick(candidate)[-1]
    docs[last] = Document(blocks=(Block("paragraph", "Read more soon"),), url=last)
    with pytest.raises(PromoteError, match="does not read back"):
        promote(candidate, docs, "remedy-card", tmp_path)
    assert listing(tmp_path) == []


def test_the_seeds_are_taken_from_every_site_in_turn() -> None:
    members = [f"https://big.example/{i}" for i in range(20)] + ["https://small.example/1"]
    candidate = Candidate("cand-x", "shape", [], members, ["big.example", "small.example"])
    chosen = pick(candidate)
    assert len(chosen) == MAX_SEEDS and "https://small.example/1" in chosen[:2]


# --- the command ------------------------------------------------------------------------------


def promote_config(tmp_path: Path, db_url: str, seeds: Path | None) -> Path:
    config = write_config(tmp_path / "claimwatch.toml", [], db_url=db_url)
    if seeds is not None:
        seeds.mkdir(exist_ok=True)
        with config.open("a") as out:
            out.write(f'[seeds]\npaths = ["{seeds.as_posix()}"]\n')
    return config


def cli(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    return result.exit_code, result.output


def candidate_ids(output: str) -> list[str]:
    return [line.split()[0] for line in output.splitlines() if line.startswith("cand-")]


def test_families_promote_writes_the_family_and_the_candidate_goes_away(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'claimwatch.db'}"
    seeds = tmp_path / "my-seeds"
    config = promote_config(tmp_path, db_url, seeds)
    store(db_url, FAMILY_A + FAMILY_B + FAMILY_C + ORDINARY)
    code, output = cli(config, "families", "--candidates")
    assert code == 0 and len(candidate_ids(output)) == 2, output
    assert "promote one with: claimwatch families promote ID --name NAME" in output
    everything = candidates(documents(FAMILY_A + FAMILY_B + FAMILY_C + ORDINARY))
    ids = {frozenset(c.members): c.id for c in everything}
    card = ids[frozenset(u for u, _ in FAMILY_C)]
    assert card in output
    # family A's frame is the bundled seeds' (summary, intro, an echoed contents list): the
    # bundled family matches its articles, so it is no candidate
    assert ids[frozenset(u for u, _ in FAMILY_A)] not in output

    code, output = cli(config, "families", "promote", "cand-0000000000", "--name", "remedy-card")
    assert code == 1 and "no candidate 'cand-0000000000'" in output and card in output
    assert listing(seeds) == []
    code, output = cli(config, "families", "promote", card, "--name", "kratom-dopamine")
    assert code == 1 and "'kratom-dopamine' is already used" in output
    assert listing(seeds) == []

    code, output = cli(config, "families", "promote", card, "--name", "remedy-card")
    assert code == 0, output
    assert f"promoted {card} as family 'remedy-card': 5 seeds in {seeds / 'remedy-card'}" in output
    assert "the family matches 5 of the candidate's 5 articles" in output
    assert len(list((seeds / "remedy-card").glob("remedy-card-*.txt"))) == 5

    code, output = cli(config, "families")
    assert code == 0 and "remedy-card  (5 seeds)" in output and "kratom-dopamine" in output
    code, output = cli(config, "families", "--candidates")
    assert code == 0 and len(candidate_ids(output)) == 1, output
    assert card not in output  # the promoted family covers it now; the myth family remains
    code, output = cli(config, "families", "promote", card, "--name", "remedy-card-2")
    assert code == 1 and "no candidate" in output


def test_families_promote_needs_a_seed_folder_of_ones_own(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'claimwatch.db'}"
    config = promote_config(tmp_path, db_url, None)
    store(db_url, FAMILY_A)
    code, output = cli(config, "families", "promote", "cand-x", "--name", "remedy-card")
    assert code == 78 and "add one to [seeds] paths" in output
    assert not list(BUNDLED.glob("remedy-card*"))


# --- end to end: crawl, candidate, promote, crawl, match ----------------------------------------

# ordinary pages, two per site: more than the family's articles, as on any real site (a phrase
# that more than half of the articles use is boilerplate, and links nothing)
ORDINARY_PAGES: list[dict[str, tuple[str, str | None]]] = [
    {"cycle-lanes": (NEWS_TEXT, "Cycle lanes"), "anaemia": (MEDICAL_TEXT, "Anaemia")},
    {"gummies": (VENDOR_TEXT, "Gummies"), "elderberry-gummies": (VENDOR_SHORT_TEXT, "Gummies")},
    {"beta": (article_html("beta"), None), "delta": (article_html("delta"), None)},
]


def write_site(root: Path, pages: dict[str, tuple[str, str | None]]) -> None:
    """Each page (text, title) as HTML (or as it is, without a title), and a sitemap of them."""
    (root / "articles").mkdir(parents=True, exist_ok=True)
    for slug, (text, title) in pages.items():
        page = as_html(text, title) if title else text
        (root / "articles" / f"{slug}.html").write_text(page, encoding="utf-8")
    urls = "".join(
        f"<url><loc>__BASE_URL__/articles/{slug}.html</loc><lastmod>2026-11-2{n % 8}</lastmod></url>"
        for n, slug in enumerate(pages)
    )
    (root / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    )


@pytest.fixture
def three_sites(tmp_path: Path) -> Iterator[list[tuple[Path, SiteServer]]]:
    """Family C's five articles on three loopback hosts (127.0.0.1-3: three sites), with ordinary
    pages beside them."""
    hosts: dict[str, dict[str, tuple[str, str | None]]] = {}
    for url, text in FAMILY_C:
        host = url.split("/")[2]
        slug = url.rsplit("/", 1)[-1]
        hosts.setdefault(host, {})[slug] = (text, slug.replace("-", " ").title())
    served = []
    for n, (pages, extra) in enumerate(zip(hosts.values(), ORDINARY_PAGES, strict=True)):
        root = tmp_path / f"site{n}"
        write_site(root, {**pages, **extra})
        served.append((root, SiteServer(root, host=f"127.0.0.{n + 1}").start()))
    yield served
    for _, server in served:
        server.stop()


@pytest.mark.slow
def test_crawl_candidate_promote_and_the_next_crawl_matches(
    three_sites: list[tuple[Path, SiteServer]], tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'db' / 'claimwatch.db'}"
    sources = [
        {"name": f"site{n}", "kind": "sitemap", "start_urls": [server.url + "/sitemap.xml"]}
        for n, (_, server) in enumerate(three_sites)
    ]
    config = write_config(
        tmp_path / "claimwatch.toml", sources, db_url, crawl={"allow_addresses": ["127.0.0.0/8"]}
    )
    seeds = tmp_path / "my-seeds"
    seeds.mkdir()
    with config.open("a") as out:
        out.write(f'[seeds]\npaths = ["{seeds.as_posix()}"]\n')

    first = run_cli("--config", str(config), "crawl")
    assert first.returncode == 0, first.stderr
    listed = run_cli("--config", str(config), "families", "--candidates")
    assert listed.returncode == 0, listed.stderr
    ids = candidate_ids(listed.stdout)
    assert len(ids) == 1, listed.stdout
    assert "5 articles, 3 sites: 127.0.0.1, 127.0.0.2, 127.0.0.3" in listed.stdout
    promoted = run_cli("--config", str(config), "families", "promote", ids[0], "--name", "qa")
    assert promoted.returncode == 0, promoted.stderr
    assert "the family matches 5 of the candidate's 5 articles" in promoted.stdout

    root, _ = three_sites[2]
    write_site(root, {"rosehip-powder": (FRESH, "Rosehip Powder")})
    second = run_cli("--config", str(config), "crawl", "site2")
    assert second.returncode == 0, second.stderr
    assert "articles matched a seed template family (qa: 1)" in second.stdout, second.stdout

    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        stored = {a.canonical_url.rsplit("/", 1)[-1]: a for a in session.scalars(select(Article))}
    engine.dispose()
    fresh = stored["rosehip-powder.html"]
    assert fresh.family == "qa" and fresh.nearest_seed and fresh.nearest_seed.startswith("qa-")
    for slug in (slug for pages in ORDINARY_PAGES for slug in pages):
        assert stored[f"{slug}.html"].family is None, slug
