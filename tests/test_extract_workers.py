"""Extraction in spawned worker processes: a worker killed mid-crawl loses no page."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.process_pool import ProcessPool, WorkerCrashed, WorkerTimedOut
from tests.conftest import ROOT, run_cli, serve, write_config
from tests.sites import article_html, write_site
from tests.test_crawl import last_runs, stored


def square(n: int) -> int:
    time.sleep(0.01)
    return n * n


def die(n: int) -> int:
    os._exit(3)


def test_a_killed_worker_is_replaced_and_its_calls_retried() -> None:
    async def main() -> tuple[list[int], int]:
        pool = ProcessPool(2)
        try:
            assert await pool.run(square, 2) == 4  # the workers are up
            calls = [asyncio.ensure_future(pool.run(square, n)) for n in range(60)]
            await asyncio.sleep(0.05)
            os.kill(pool.pids()[0], signal.SIGKILL)
            return list(await asyncio.gather(*calls)), pool.restarts
        finally:
            pool.shutdown()

    results, restarts = asyncio.run(main())
    assert results == [n * n for n in range(60)]
    assert restarts == 1


def test_a_call_that_kills_its_worker_twice_is_given_up() -> None:
    async def main() -> tuple[int, int]:
        pool = ProcessPool(1)
        try:
            with pytest.raises(WorkerCrashed, match="die broke the pool 2 times"):
                await pool.run(die, 1)
            return await pool.run(square, 3), pool.restarts  # the pool works again
        finally:
            pool.shutdown()

    assert asyncio.run(main()) == (9, 2)


def stall(n: int) -> int:
    time.sleep(3600)
    return n


def test_a_call_past_the_time_limit_has_its_worker_killed_and_the_pool_goes_on() -> None:
    async def main() -> tuple[list[int], int, int, bool]:
        pool = ProcessPool(2, time_limit_s=2.0)
        try:
            assert await pool.run(square, 2) == 4  # the workers are up
            before = set(pool.pids())
            stalled = asyncio.ensure_future(pool.run(stall, 1))
            others = [asyncio.ensure_future(pool.run(square, n)) for n in range(20)]
            with pytest.raises(WorkerTimedOut, match="ran past the 2 s limit"):
                await stalled
            results = list(await asyncio.gather(*others))
            fresh = not (set(pool.pids()) & before)
            return results, pool.restarts, pool.timeouts, fresh
        finally:
            pool.shutdown()

    results, restarts, timeouts, fresh = asyncio.run(main())
    assert results == [n * n for n in range(20)]  # the other calls were retried on the new pool
    assert (restarts, timeouts) == (1, 1)
    assert fresh  # the stalled worker is gone, and a new pool runs


def test_waiting_for_a_free_worker_does_not_count_against_the_limit() -> None:
    async def main() -> list[int]:
        pool = ProcessPool(1, time_limit_s=3.0)
        try:
            # 60 calls of 0.1 s on one worker: 6 s in all, each call well under the limit.
            calls = [asyncio.ensure_future(pool.run(nap, n)) for n in range(60)]
            return list(await asyncio.gather(*calls))
        finally:
            pool.shutdown()

    assert asyncio.run(main()) == list(range(60))


def nap(n: int) -> int:
    time.sleep(0.1)
    return n


_warmed: list[str] = []


def slow_warm_up(tag: str) -> None:
    time.sleep(1.5)  # longer than the limit below: a model, rules and parser tables loading
    _warmed.append(tag)


def warmed_tags(n: int) -> list[str]:
    return [*_warmed, str(n)]


def broken_warm_up() -> None:
    raise RuntimeError("the rules file is gone")


def test_a_workers_warm_up_runs_before_its_first_call_and_does_not_count_against_the_limit() -> (
    None
):
    async def main() -> tuple[list[list[str]], int]:
        pool = ProcessPool(2, time_limit_s=1.0, warm=(slow_warm_up, ("rules",)))
        try:
            calls = [asyncio.ensure_future(pool.run(warmed_tags, n)) for n in range(4)]
            return list(await asyncio.gather(*calls)), pool.timeouts
        finally:
            pool.shutdown()

    results, timeouts = asyncio.run(main())
    assert results == [["rules", str(n)] for n in range(4)]  # each worker warmed once, first
    assert timeouts == 0


def test_a_failing_warm_up_leaves_the_pool_working() -> None:
    async def main() -> int:
        pool = ProcessPool(1, warm=(broken_warm_up, ()))
        try:
            return await pool.run(square, 5)
        finally:
            pool.shutdown()

    assert asyncio.run(main()) == 25


def test_the_time_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="time_limit_s must be positive"):
        ProcessPool(1, time_limit_s=0)


def test_processes_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ProcessPool(0)


def _workers(parent: int) -> list[int]:
    """The spawned worker processes under ``parent`` (children of children included)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"multiprocessing" in cmdline and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_worker_killed_mid_crawl_loses_no_page(tmp_path: Path) -> None:
    root = write_site(tmp_path / "site")
    pages = 30
    for n in range(pages):
        html = article_html("alpha").replace("Herbal tea", f"Herbal tea {n}")
        html = html.replace("articles/alpha.html", f"articles/many-{n}.html")
        (root / "articles" / f"many-{n}.html").write_text(html)
    entries = "".join(
        f"<url><loc>__BASE_URL__/articles/many-{n}.html</loc></url>" for n in range(pages)
    )
    (root / "many.xml").write_text(
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{entries}</urlset>"
    )
    served = serve(root, delay=0.1)
    try:
        db_url = f"sqlite:///{tmp_path / 'cw.db'}"
        config = write_config(
            tmp_path / "claimwatch.toml",
            [{"name": "many", "kind": "sitemap", "start_urls": [served.url + "/many.xml"]}],
            db_url,
            crawl={"batch_size": 3, "concurrency_per_domain": 1, "extract_processes": 2},
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMWATCH_")}
        process = subprocess.Popen(
            [sys.executable, "-m", "claimwatch", "--config", str(config), "crawl"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        killed = None
        deadline = time.monotonic() + 60
        while killed is None and time.monotonic() < deadline and process.poll() is None:
            workers = _workers(process.pid)
            if workers:
                time.sleep(0.5)  # let it extract a few pages first
                os.kill(workers[0], signal.SIGKILL)
                killed = workers[0]
            time.sleep(0.05)
        _, stderr = process.communicate(timeout=120)
        assert killed is not None, "no worker process was seen"
        assert process.returncode == 0, stderr.decode()
        assert len(stored(db_url)) == pages
        run = last_runs(db_url)["many"]
        assert run.status == "ok"
        assert run.stats["crawl"].get("extract/worker_restarts", 0) >= 1, run.stats["crawl"]
        assert "extract/error" not in run.stats["source"]
        assert run.stats["crawl"]["extract/ok"] == pages
    finally:
        served.process.kill()
        served.process.wait()


def test_a_page_given_up_by_the_pool_counts_extract_error() -> None:
    from datetime import UTC, datetime
    from typing import Any

    from scrapy.exceptions import DropItem
    from scrapy.statscollectors import MemoryStatsCollector
    from scrapy.utils.test import get_crawler

    from pipeline.extract import ExtractPipeline
    from pipeline.items import PageItem

    class GivesUp:
        restarts = 0

        async def run(self, *args: Any, **kwargs: Any) -> Any:
            self.restarts += 2
            raise WorkerCrashed("extract_html broke the pool 2 times")

        def shutdown(self) -> None:
            pass

    stats = MemoryStatsCollector(get_crawler())
    extract = ExtractPipeline(stats, min_chars=0)
    extract.pool = GivesUp()  # type: ignore[assignment]
    item = PageItem(
        source="s",
        run_group="g",
        url="https://a.example/x",
        request_url="https://a.example/x",
        status=200,
        fetched_at=datetime(2026, 12, 1, tzinfo=UTC),
        html="<html><body><p>text</p></body></html>",
    )
    try:
        with pytest.raises(DropItem, match="worker_crashed"):
            asyncio.run(extract.process_item(item))
    finally:
        extract.close_spider()
    assert stats.get_value("extract/error") == 1
    assert stats.get_value("source/s/extract/error") == 1
    assert stats.get_value("extract/worker_restarts") == 2


REMEDIES = [  # one article each, no paragraph shared: each page is a near-duplicate of none
    [
        "Our readers say turmeric capsules cure arthritis for good, and you can stop taking your "
        "prescribed medication once you start a daily dose of three grams.",
        "The capsules come from a family farm in the hills, where the roots are dried slowly in "
        "the sun and ground by hand before they are packed into glass jars.",
        "Orders placed before noon leave the warehouse the same afternoon, and every parcel ships "
        "with a printed leaflet describing the harvest and the packing.",
    ],
    [
        "Colloidal silver kills every virus in the body within days, so there is no need for the "
        "vaccine your doctor recommends; take a spoonful each morning instead.",
        "Silver has been used in households for centuries, from the spoons of wealthy families "
        "to the water jugs travellers carried on long voyages across the sea.",
        "Each bottle holds a month's supply, and the dropper cap lets you measure the dose at the "
        "kitchen table without any special equipment or training.",
    ],
    [
        "This mushroom blend reverses type 2 diabetes in four weeks, and many people have been "
        "able to stop their insulin injections entirely after the first month.",
        "Lion's mane, reishi and chaga are grown on oak logs in a shaded greenhouse, then "
        "steamed, dried and milled into a fine brown powder with an earthy smell.",
        "Stir a teaspoon into coffee or porridge; customers describe the taste as nutty and mild, "
        "and the pouch reseals to keep the powder dry between uses.",
    ],
    [
        "A gentle walk after dinner may help some people sleep, although the evidence is mixed "
        "and the effect is small compared with keeping a regular bedtime.",
        "Walking clubs in the valley meet on Tuesday evenings by the old bridge, and newcomers are "
        "welcome whatever their pace, age or choice of footwear.",
        "The route follows the river for two kilometres, passes the allotments and the cricket "
        "ground, and returns along the lane behind the primary school.",
    ],
]


def _claims_page(n: int, spin: str = "") -> str:
    """An article of our own text (site chrome around it); ``spin`` rewords it a little."""
    paragraphs = [p.replace("the ", f"the{spin} ", 2) for p in REMEDIES[n]] if spin else REMEDIES[n]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Natural remedy {n}{spin}</title></head><body><header><a href='/'>Shop</a>"
        f"</header><article><h1>Natural remedy {n}{spin}</h1>{body}</article>"
        "<footer>Copyright 2026</footer></body></html>"
    )


def _seed_page() -> str:
    """A page carrying one of the shipped seed templates (read from seeds/ at run time)."""
    seed = sorted((ROOT / "seeds").glob("*.txt"))[0].read_text(encoding="utf-8")
    from html import escape

    body = "".join(f"<p>{escape(line)}</p>" for line in seed.splitlines() if line.strip())
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Seed copy</title>'
        f"</head><body><article><h1>Seed copy</h1>{body}</article></body></html>"
    )


def _sitemap(names: list[str]) -> str:
    entries = "".join(f"<url><loc>__BASE_URL__/{name}</loc></url>" for name in names)
    return (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{entries}</urlset>"
    )


def _snapshot(db_url: str, base: str) -> list[tuple[object, ...]]:
    """Every stored article's text, dedup and score columns, with its claims (no ids, no times;
    the server's ``base`` URL written as ``BASE``)."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from core.db import make_engine, session_factory
    from core.models import Article

    engine = make_engine(db_url)
    rows = []
    with session_factory(engine)() as session:
        articles = session.scalars(select(Article).options(selectinload(Article.claims)))
        for a in articles:
            claims = tuple(
                (
                    c.position,
                    c.sentence,
                    c.start,
                    c.end,
                    tuple(c.categories),
                    c.substance,
                    c.condition,
                    c.severity,
                    c.score,
                    tuple(c.rules),
                    c.hedged,
                    repr(c.detail),
                )
                for c in a.claims
            )
            rows.append(
                (
                    a.canonical_url,
                    a.title,
                    a.published,
                    a.text,
                    a.text_sha256,
                    a.raw_sha256,
                    a.duplicate_of is not None,
                    a.near_of,
                    a.near_kind,
                    a.near_similarity,
                    a.family,
                    a.family_score,
                    a.nearest_seed,
                    repr(a.dedup_evidence),
                    a.minhash,
                    a.risk_score,
                    a.risk_band,
                    repr(a.escalations),
                    a.claim_count,
                    a.rules_sha256,
                    a.model_sha256,
                    claims,
                )
            )
    engine.dispose()
    rows = [
        tuple(v.replace(base, "BASE") if isinstance(v, str) else v for v in row) for row in rows
    ]
    return sorted(rows, key=lambda row: str(row[0]))


def _evidence(db_url: str, base: str, warc_dir: Path) -> list[tuple[object, ...]]:
    """Every stored article's raw HTML as stored, and each of its WARC records as warcio reads
    it back from the file: its type, target, HTTP status or request line, the names of its WARC
    and HTTP headers, its payload and payload digest (not what differs between two crawls: the
    record ids, dates, the server's Date header and so the block digests)."""
    import io

    from sqlalchemy import select
    from warcio.archiveiterator import ArchiveIterator

    from core.db import make_engine, session_factory
    from core.models import Article, WarcRecord
    from pipeline.warc import read_records

    engine = make_engine(db_url)
    out = []
    with session_factory(engine)() as session:
        query = select(Article.canonical_url, Article.raw_html_gz, WarcRecord).join(
            WarcRecord, WarcRecord.article_id == Article.id
        )
        for url, stored_html, ref in session.execute(query):
            data = read_records(warc_dir, ref.warc_file, ref.warc_offset, ref.warc_length)
            records = []
            for record in ArchiveIterator(io.BytesIO(data)):
                http = record.http_headers
                records.append(
                    (
                        record.rec_type,
                        record.rec_headers.get_header("WARC-Target-URI").replace(base, "BASE"),
                        http.statusline.replace(base, "BASE"),
                        tuple(sorted(name for name, _ in record.rec_headers.headers)),
                        tuple(name for name, _ in http.headers),
                        record.rec_headers.get_header("WARC-Payload-Digest"),
                        record.content_stream().read(),
                    )
                )
            out.append((url.replace(base, "BASE"), stored_html, ref.payload_sha256, records))
    engine.dispose()
    return sorted(out, key=lambda row: str(row[0]))


def _crawl_twice(
    tmp_path: Path, processes: int
) -> tuple[list[tuple[object, ...]], list[dict], list[tuple[object, ...]]]:
    """Crawl the first sitemap, then the second (spun copies of two first pages) into one DB."""
    root = tmp_path / f"site-{processes}"
    root.mkdir()
    first = [f"remedy-{n}.html" for n in range(4)] + ["seed-copy.html"]
    second = ["spun-0.html", "spun-1.html"]
    for n in range(4):
        (root / f"remedy-{n}.html").write_text(_claims_page(n))
    (root / "seed-copy.html").write_text(_seed_page())
    for n in range(2):
        (root / f"spun-{n}.html").write_text(_claims_page(n, spin=" very"))
    (root / "first.xml").write_text(_sitemap(first))
    (root / "second.xml").write_text(_sitemap(second))
    served = serve(root)
    stats = []
    try:
        db_url = f"sqlite:///{tmp_path / f'cw-{processes}.db'}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMWATCH_")}
        for name in ("first", "second"):
            config = write_config(
                tmp_path / f"claimwatch-{processes}-{name}.toml",
                [{"name": name, "kind": "sitemap", "start_urls": [f"{served.url}/{name}.xml"]}],
                db_url,
                crawl={"min_article_chars": 200, "extract_processes": processes},
            )
            done = subprocess.run(
                [sys.executable, "-m", "claimwatch", "--config", str(config), "crawl"],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=False,
                timeout=180,
            )
            assert done.returncode == 0, done.stderr
            stats.append(last_runs(db_url)[name].stats["crawl"])
        warc_dir = tmp_path / "data" / "warc"
        return _snapshot(db_url, served.url), stats, _evidence(db_url, served.url, warc_dir)
    finally:
        served.process.kill()
        served.process.wait()


@pytest.mark.slow
def test_the_same_rows_and_claims_with_and_without_worker_processes(tmp_path: Path) -> None:
    rows_here, stats_here, evidence_here = _crawl_twice(tmp_path, processes=0)
    rows_pool, stats_pool, evidence_pool = _crawl_twice(tmp_path, processes=2)
    assert len(rows_here) == 7
    assert rows_pool == rows_here
    # the stored HTML and the WARC records the workers built are those the store builds
    assert len(evidence_here) == 7
    assert [len(row[3]) for row in evidence_here] == [2] * 7  # a response and a request
    assert evidence_pool == evidence_here
    # what makes the comparison worth it: claims, a seed template, matches with stored articles
    assert sum(row[18] or 0 for row in rows_here) >= 5  # claim_count
    assert any(row[8] == "seed" for row in rows_here)
    assert sum(1 for row in rows_here if row[8] == "article") >= 2
    # the pool did the signing and scoring; without it, no worker did
    assert [s.get("extract/worker_scored") for s in stats_pool] == [5, 2]
    assert [s.get("extract/worker_scored") for s in stats_here] == [None, None]

    def counted(stats: dict) -> dict:
        return {
            k: v
            for k, v in stats.items()
            if k.startswith(("extract/", "dedup/", "score/", "store/"))
            and not k.startswith("extract/worker_")
        }

    assert [counted(s) for s in stats_pool] == [counted(s) for s in stats_here]
    assert stats_here[1]["score/articles"] == 2


def test_a_worker_answer_is_what_the_stages_compute_in_process() -> None:
    from pipeline.claims import default_rules, score_document
    from pipeline.claims.learned import default_model
    from pipeline.dedup.pipeline import build_deduper
    from pipeline.page_work import Scoring, work_page

    html = _claims_page(2)
    work = work_page(html, "https://a.example/remedy-2.html", 200, None, Scoring())
    assert work.extraction.document is not None
    assert work.signature is not None and work.score is not None
    deduper = build_deduper([ROOT / "seeds"], 0.3, 0.5)
    alone = deduper.analyze(work.extraction.document)
    assert (work.signature == alone.signature).all()
    assert work.score == score_document(work.extraction.document, default_rules(), default_model())
    assert work.score.claims, "the page makes risky claims"
    listing = work_page(
        "<html><body><a href='/x'>x</a></body></html>", "https://a.example/", 0, None, Scoring()
    )
    assert listing.extraction.document is None and listing.signature is None


def test_the_crawl_runs_page_work_with_the_scoring_settings(tmp_path: Path) -> None:
    from scrapy.utils.test import get_crawler

    from core.config import load_config
    from crawler.scrapy_settings import build_settings
    from crawler.spiders.articles import ArticleSpider
    from pipeline.page_work import PageWorkPipeline, Scoring, work_page

    env = {
        "CLAIMWATCH_DATA_DIR": str(tmp_path),
        "CLAIMWATCH_CRAWL__MIN_ARTICLE_CHARS": "123",
        "CLAIMWATCH_CRAWL__EXTRACT_PROCESSES": "3",
        "CLAIMWATCH_RULES__MODEL": "rules-only",
    }
    settings = build_settings(load_config(None, env=env))
    assert "pipeline.page_work.PageWorkPipeline" in settings["ITEM_PIPELINES"]
    assert "pipeline.extract.ExtractPipeline" not in settings["ITEM_PIPELINES"]
    stage = PageWorkPipeline.from_crawler(get_crawler(ArticleSpider, settings_dict=settings))
    try:
        assert stage.pool is not None
        assert (stage.min_chars, stage.pool.processes) == (123, 3)
        assert stage.scoring == Scoring(None, "{}", "rules-only")
    finally:
        stage.close_spider()
    work = work_page(_claims_page(0), "https://a.example/r", 0, None, stage.scoring)
    assert work.score is not None and work.score.model_sha256 == ""  # rules only: no weights


def slow_page(paragraphs: int = 49, spans: int = 1_000) -> str:
    """Real markup that is slow to extract yet within the DOM budget: 49 paragraphs of 1,000
    ``<span>`` each (49,000 inline elements, none over the per-block cap) take trafilatura about
    4 s of CPU on a quiet machine (23 s at a load of 8); an ordinary test page takes 0.05 s."""
    words = "".join(f"<span>word{i} </span>" for i in range(spans))
    body = f"<p>{words}</p>" * paragraphs
    return f"<!doctype html><html><head><title>Slow</title></head><body><article>{body}</article></body></html>"


@pytest.mark.slow
def test_a_page_past_the_extraction_time_limit_is_skipped_and_the_crawl_goes_on(
    tmp_path: Path,
) -> None:
    root = write_site(tmp_path / "site")
    (root / "articles" / "slow.html").write_text(slow_page())
    slugs = ["alpha", "slow", "beta", "gamma"]
    entries = "".join(f"<url><loc>__BASE_URL__/articles/{s}.html</loc></url>" for s in slugs)
    (root / "with-slow.xml").write_text(
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{entries}</urlset>"
    )
    served = serve(root)
    try:
        db_url = f"sqlite:///{tmp_path / 'cw.db'}"
        config = write_config(
            tmp_path / "claimwatch.toml",
            [{"name": "slow", "kind": "sitemap", "start_urls": [served.url + "/with-slow.xml"]}],
            db_url,
            crawl={"extract_processes": 2, "extract_timeout_s": 1},
        )
        result = run_cli("--config", str(config), "crawl")
        assert result.returncode == 0, result.stderr
        assert set(stored(db_url)) == {"alpha.html", "beta.html", "gamma.html"}
        run = last_runs(db_url)["slow"]
        assert run.status == "ok"
        crawl, source = run.stats["crawl"], run.stats["source"]
        assert crawl["extract/timeout"] == 1 and source["extract/timeout"] == 1, crawl
        assert crawl["extract/ok"] == 3
        assert crawl.get("extract/worker_restarts", 0) >= 1
        assert "extract/error" not in crawl
    finally:
        served.process.kill()
        served.process.wait()
