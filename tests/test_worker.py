"""Crawl workers on a Redis queue ([cluster]): the source lock, the daemon enqueueing, a worker
crawling into PostgreSQL, a worker without Redis. Against the loopback Redis (skipped without it,
failing when CI=true)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import func, select

from core.config import ConfigError, load_config
from core.db import sessions_for
from core.models import Article, CrawlRun
from tests.conftest import (
    REDIS_URL,
    ROOT,
    Served,
    postgres_url,
    run_cli,
    serve,
    toml_value,
    write_config,
)
from tests.sites import write_site
from worker.broker import QUEUE, build_broker, enqueue_crawl, queue_depth
from worker.lock import SourceLock
from worker.tasks import crawl_task


@pytest.fixture
def fresh_postgres() -> str:
    """This run's PostgreSQL database with no tables (earlier tests' rows gone)."""
    from tests.conftest import _postgres_engine

    _postgres_engine().dispose()
    return postgres_url()


def cluster_config(
    tmp_path: Path, site_url: str, namespace: str, db_url: str | None = None, **cluster: object
) -> Path:
    path = write_config(
        tmp_path / "claimwatch.toml",
        [{"name": "weekly", "kind": "sitemap", "start_urls": [site_url + "/sitemap.xml"]}],
        db_url=db_url,
    )
    settings = {"broker_url": REDIS_URL, "namespace": namespace, **cluster}
    lines = ["[cluster]", *(f"{k} = {toml_value(v)}" for k, v in settings.items())]
    path.write_text(path.read_text() + "\n".join(lines) + "\n")
    return path


def test_cluster_is_off_by_default_and_checked(tmp_path: Path) -> None:
    assert load_config(None, env={}).cluster.broker_url is None
    bad = tmp_path / "bad.toml"
    bad.write_text('[cluster]\nbroker_url = "http://127.0.0.1:6379"\n')
    with pytest.raises(ConfigError, match="not a Redis URL"):
        load_config(bad, env={})
    bad.write_text('[cluster]\nbroker_url = "redis://h/0"\nlock_ttl_s = 90\n')
    with pytest.raises(ConfigError, match="lock_ttl_s must be below heartbeat_timeout_s"):
        load_config(bad, env={})


def test_source_lock_is_exclusive_and_expires(redis_namespace: str) -> None:
    client = Redis.from_url(REDIS_URL)
    first = SourceLock(client, redis_namespace, "weekly", ttl_s=1.5)
    second = SourceLock(client, redis_namespace, "weekly", ttl_s=1.5)
    assert first.acquire()
    assert not second.acquire()
    time.sleep(2.0)  # renewed while held: still taken after its time to live
    assert not second.acquire()
    assert not first.lost
    first.release()
    assert second.acquire()
    # A worker that dies stops renewing: its lock frees itself within the time to live.
    second._stop.set()
    assert second._renewer is not None
    second._renewer.join()
    third = SourceLock(client, redis_namespace, "weekly", ttl_s=1.5)
    assert not third.acquire()
    time.sleep(1.7)
    assert third.acquire()
    third.release()
    client.close()


def test_two_workers_never_crawl_one_source_at_once(
    site: Served, tmp_path: Path, redis_namespace: str
) -> None:
    config = load_config(cluster_config(tmp_path, site.url, redis_namespace), env={})
    running: list[int] = []
    peak: list[int] = []
    guard = threading.Lock()
    start = threading.Barrier(2)

    def fake_crawl(_path: Path | None, source: str, _limit: float) -> int:
        with guard:
            running.append(1)
            peak.append(len(running))
        time.sleep(1.0)
        with guard:
            running.pop()
        return 0

    results: list[str] = []

    def one_worker() -> None:
        client = Redis.from_url(REDIS_URL)  # each worker its own connection, as on two machines
        start.wait()
        results.append(crawl_task(config, None, client, "weekly", run=fake_crawl))
        client.close()

    threads = [threading.Thread(target=one_worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["busy", "exit 0"]
    assert max(peak) == 1
    client = Redis.from_url(REDIS_URL)
    assert crawl_task(config, None, client, "weekly", run=fake_crawl) == "exit 0"  # lock freed
    client.close()


def test_daemon_crawl_job_enqueues_with_cluster(
    site: Served, tmp_path: Path, redis_namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scheduler.jobs

    def no_local_crawl(*_args: object) -> int:
        raise AssertionError("with [cluster] the daemon must not crawl itself")

    monkeypatch.setattr(scheduler.jobs, "run_process", no_local_crawl)
    path = cluster_config(tmp_path, site.url, redis_namespace)
    assert scheduler.jobs.crawl_job(str(path), "weekly") == 0
    config = load_config(path, env={})
    assert queue_depth(config) == 1
    broker = build_broker(config)
    assert broker.do_qsize(QUEUE) == 1
    broker.close()
    shown = run_cli("--config", str(path), "status", timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert "cluster: redis://127.0.0.1:6379/0, 1 message(s) queued or running" in shown.stdout


@pytest.mark.slow
@pytest.mark.postgres
def test_worker_crawls_an_enqueued_source_into_postgres(
    site: Served, tmp_path: Path, redis_namespace: str, fresh_postgres: str
) -> None:
    db_url = fresh_postgres
    path = cluster_config(tmp_path, site.url, redis_namespace, db_url=db_url)
    assert run_cli("--config", str(path), "db", "upgrade").returncode == 0
    config = load_config(path, env={})
    with sessions_for(db_url)() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 0
    enqueue_crawl(config, "weekly")
    worker = subprocess.Popen(
        [sys.executable, "-m", "claimwatch", "--config", str(path), "worker"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        statuses: list[str] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and statuses != ["ok"]:
            time.sleep(1)
            with sessions_for(db_url)() as session:
                statuses = list(session.scalars(select(CrawlRun.status)))
        assert statuses == ["ok"]
        with sessions_for(db_url)() as session:
            urls = sorted(session.scalars(select(Article.canonical_url)))
        assert [u.rsplit("/", 1)[-1] for u in urls] == ["alpha.html", "beta.html", "gamma.html"]
        deadline = time.monotonic() + 30  # acknowledged once the crawl process has exited
        while queue_depth(config) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert queue_depth(config) == 0
    finally:
        worker.send_signal(signal.SIGTERM)
        out, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, out
    assert "worker started on redis://127.0.0.1:6379/0" in out
    assert "crawl weekly finished with exit code 0" in out


@pytest.mark.slow
@pytest.mark.postgres
def test_a_worker_killed_mid_crawl_has_its_crawl_rerun_by_another(
    tmp_path: Path, redis_namespace: str, fresh_postgres: str
) -> None:
    db_url = fresh_postgres
    served = serve(write_site(tmp_path / "site"), delay=1.0)  # each page takes a second
    try:
        path = cluster_config(
            tmp_path,
            served.url,
            redis_namespace,
            db_url=db_url,
            lock_ttl_s=2,
            heartbeat_timeout_s=5,
        )
        assert run_cli("--config", str(path), "db", "upgrade").returncode == 0
        config = load_config(path, env={})
        enqueue_crawl(config, "weekly")
        command = [sys.executable, "-m", "claimwatch", "--config", str(path), "worker"]
        first = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        statuses: list[str] = []
        while time.monotonic() < deadline and not statuses:
            time.sleep(0.2)
            with sessions_for(db_url)() as session:
                statuses = list(session.scalars(select(CrawlRun.status)))
        assert statuses == ["running"]
        time.sleep(1.0)
        first.kill()  # kill -9: no acknowledgement, no lock release
        first.wait()
        killed_at = time.monotonic()
        second = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and "ok" not in statuses:
                time.sleep(1)
                with sessions_for(db_url)() as session:
                    statuses = list(session.scalars(select(CrawlRun.status)))
            assert "ok" in statuses, statuses
            # Redelivered once the dead worker's heartbeat is 5 s old, not after an hour.
            assert time.monotonic() - killed_at < 45
            assert len(statuses) == 2  # the killed run and the rerun, nothing more
            with sessions_for(db_url)() as session:
                urls = [
                    u.rsplit("/", 1)[-1] for u in session.scalars(select(Article.canonical_url))
                ]
            assert sorted(urls) == [
                "alpha.html",
                "beta.html",
                "gamma.html",
            ]  # none twice, none lost
            deadline = time.monotonic() + 30  # acknowledged once the crawl process has exited
            while queue_depth(config) and time.monotonic() < deadline:
                time.sleep(0.5)
            assert queue_depth(config) == 0
        finally:
            second.send_signal(signal.SIGTERM)
            out, _ = second.communicate(timeout=60)
        assert "crawl weekly finished with exit code 0" in out, out
    finally:
        served.process.kill()
        served.process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_worker_without_redis_exits_with_a_clear_message(tmp_path: Path) -> None:
    port = free_port()
    path = tmp_path / "claimwatch.toml"
    path.write_text(f'[cluster]\nbroker_url = "redis://127.0.0.1:{port}/0"\n')
    result = run_cli("--config", str(path), "worker", timeout=60)
    assert result.returncode == 75, result.stderr
    assert f"claimwatch: cannot reach Redis at redis://127.0.0.1:{port}/0" in result.stderr
    unset = tmp_path / "plain.toml"
    unset.write_text("")
    result = run_cli("--config", str(unset), "worker", timeout=60)
    assert result.returncode == 78
    assert "[cluster] broker_url is not set" in result.stderr
