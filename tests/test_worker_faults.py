"""Faults of the shared services, on loopback: a Redis of the test's own killed and restarted on its
port mid-run (the producer tries its enqueue again, the worker reconnects, the crawl that fell due
runs once); the store's PostgreSQL sessions terminated mid-batch (the batch is retried whole)."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import create_engine, func, select, text

from core.config import load_config
from core.db import sessions_for
from core.models import Article, Claim, CrawlRun
from tests.conftest import ROOT, run_cli, serve
from tests.sites import write_site
from tests.test_worker import cluster_config, free_port, fresh_postgres
from worker.broker import ENQUEUE_WAITS_S, BrokerUnreachable, queue_depth, until_sent
from worker.cluster import cluster_view

__all__ = ["fresh_postgres"]  # the fixture, shared with test_worker


NO_PERSISTENCE = ("--save", "", "--appendonly", "no")


class OwnRedis:
    """A redis-server of this test's own on a fixed loopback port, without persistence."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            if os.environ.get("CI") == "true":
                pytest.fail("redis-server is not installed")
            pytest.skip("redis-server is not installed")
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", *NO_PERSISTENCE],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = Redis.from_url(self.url)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except RedisError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.1)
        client.close()

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()
        self.process = None


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    yield server
    if server.process is not None:
        server.kill()


def test_an_enqueue_is_tried_again_while_redis_is_away() -> None:
    slept: list[float] = []
    now = [0.0]
    calls = []

    def send() -> str:
        calls.append(now[0])
        if len(calls) < 4:
            raise BrokerUnreachable("cannot reach Redis at redis://r/0: refused")
        return "message-1"

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    assert until_sent(send, 60, sleep, lambda: now[0]) == "message-1"
    assert slept == list(ENQUEUE_WAITS_S[:3])
    slept.clear()

    def refused() -> str:
        raise BrokerUnreachable("cannot reach Redis at redis://r/0: refused")

    with pytest.raises(BrokerUnreachable, match="cannot reach Redis"):
        until_sent(refused, 10, sleep, lambda: now[0])
    assert slept == [1.0, 2.0, 4.0]  # 7 s waited; the next wait (8 s) would pass the limit


@pytest.mark.slow
def test_a_crawl_due_while_redis_restarts_runs_once_after(
    own_redis: OwnRedis, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import scheduler.jobs

    served = serve(write_site(tmp_path / "site"))
    path = cluster_config(tmp_path, served.url, "faults", lock_ttl_s=2, heartbeat_timeout_s=5)
    path.write_text(path.read_text().replace("redis://127.0.0.1:6379/0", own_redis.url))
    config = load_config(path, env={})
    assert config.cluster.broker_url == own_redis.url
    assert run_cli("--config", str(path), "db", "upgrade").returncode == 0
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "claimwatch", "--config", str(path), "worker"],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    client = Redis.from_url(own_redis.url)
    try:
        deadline = time.monotonic() + 60
        while not cluster_view(client, "faults").workers:
            assert time.monotonic() < deadline, "the worker never beat"
            time.sleep(0.2)
        own_redis.kill()  # Redis gone, and with it everything it held
        results: list[int] = []
        caplog.set_level(logging.WARNING, logger="claimwatch.scheduler")
        daemon_job = threading.Thread(
            target=lambda: results.append(scheduler.jobs.crawl_job(str(path), "weekly"))
        )
        daemon_job.start()  # the crawl falls due while Redis is down
        deadline = time.monotonic() + 60
        while not any("trying again" in r.message for r in caplog.records):
            assert time.monotonic() < deadline, "the enqueue was not tried again"
            time.sleep(0.2)
        assert results == []
        own_redis.start()  # back on the same port, empty
        daemon_job.join(timeout=90)
        assert results == [0]
        db_url = config.db_url
        statuses: list[str] = []
        deadline = time.monotonic() + 120
        while statuses != ["ok"]:
            assert time.monotonic() < deadline, f"the crawl did not run: {statuses}"
            time.sleep(0.5)
            with sessions_for(db_url)() as session:
                statuses = list(session.scalars(select(CrawlRun.status)))
        deadline = time.monotonic() + 30
        while queue_depth(config):
            assert time.monotonic() < deadline, "the crawl was not acknowledged"
            time.sleep(0.5)
        assert [
            w.worker_id.endswith(f":{worker.pid}") for w in cluster_view(client, "faults").workers
        ] == [True]
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
        log.close()
        client.close()
        served.process.kill()
        served.process.wait()
    out = (tmp_path / "worker.log").read_text()
    assert worker.returncode == 0, out
    assert out.count("crawl weekly finished with exit code 0") == 1, out  # once, not twice
    with sessions_for(config.db_url)() as session:
        urls = sorted(u.rsplit("/", 1)[-1] for u in session.scalars(select(Article.canonical_url)))
    assert urls == ["alpha.html", "beta.html", "gamma.html"]


SLOW_BETA = """
CREATE FUNCTION slow_beta() RETURNS trigger AS $$
BEGIN
  IF NEW.canonical_url LIKE '%beta.html' THEN PERFORM pg_sleep(2); END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER slow_beta BEFORE INSERT ON articles FOR EACH ROW EXECUTE FUNCTION slow_beta();
"""
BETA_INSERT = """
SELECT pid FROM pg_stat_activity
WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()
  AND query ILIKE 'INSERT INTO articles%'
"""


@pytest.mark.slow
@pytest.mark.postgres
def test_a_batch_whose_postgres_session_is_terminated_is_retried_whole(
    tmp_path: Path, fresh_postgres: str
) -> None:
    db_url = fresh_postgres
    served = serve(write_site(tmp_path / "site"))
    path = cluster_config(tmp_path, served.url, "unused", db_url=db_url)
    assert run_cli("--config", str(path), "db", "upgrade").returncode == 0
    admin = create_engine(db_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(SLOW_BETA))
    crawl = subprocess.Popen(
        [sys.executable, "-m", "claimwatch", "--config", str(path), "crawl", "weekly"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        terminated = False
        deadline = time.monotonic() + 120
        with admin.connect() as conn:
            while not terminated:
                assert time.monotonic() < deadline, "no batch with beta was written"
                for (pid,) in conn.execute(text(BETA_INSERT)):
                    terminated = bool(conn.scalar(text(f"SELECT pg_terminate_backend({pid})")))
                    beta_after_kill = conn.scalar(
                        select(func.count())
                        .select_from(Article)
                        .where(Article.canonical_url.like("%beta.html"))
                    )
                    break
                time.sleep(0.05)
        out, _ = crawl.communicate(timeout=180)
    finally:
        if crawl.poll() is None:
            crawl.kill()
        served.process.kill()
        served.process.wait()
    assert crawl.returncode == 0, out
    assert beta_after_kill == 0  # the killed transaction left nothing of its batch
    with sessions_for(db_url)() as session:
        articles = list(session.scalars(select(Article)))
        (run,) = session.scalars(select(CrawlRun))
        claims = {
            a.id: session.scalar(select(func.count()).where(Claim.article_id == a.id))
            for a in articles
        }
    assert sorted(a.canonical_url.rsplit("/", 1)[-1] for a in articles) == [
        "alpha.html",
        "beta.html",
        "gamma.html",
    ]
    assert run.status == "ok"
    assert run.stats["crawl"].get("store/retried", 0) >= 1, run.stats["crawl"]
    for article in articles:  # whole rows: text, signature, their claims
        assert article.text and article.minhash is not None
        assert claims[article.id] == article.claim_count
    admin.dispose()
