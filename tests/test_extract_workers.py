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


def slow_page(paragraphs: int = 49, spans: int = 1_000) -> str:
    """Real markup that is slow to extract yet within the DOM budget: 49 paragraphs of 1,000
    ``<span>`` each (49,000 inline elements, none over the per-block cap) take trafilatura about
    half a second per paragraph."""
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
            crawl={"extract_processes": 2, "extract_timeout_s": 5},
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
