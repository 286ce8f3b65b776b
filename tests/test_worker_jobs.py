"""The daemon's digest and housekeeping as worker tasks ([cluster]): enqueued by the daemon's jobs,
run once by a worker, never two at a time. Against the loopback Redis (skipped without it,
failing when CI=true)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from dramatiq import Message
from redis import Redis

from core.config import load_config
from tests.conftest import REDIS_URL, ROOT, Served, run_cli
from tests.test_worker import cluster_config
from worker.broker import QUEUE, enqueue_job, queue_depth
from worker.tasks import job_task


def queued_actors(namespace: str) -> list[str]:
    client = Redis.from_url(REDIS_URL)
    try:
        blobs = client.hvals(f"{namespace}:{QUEUE}.msgs")
    finally:
        client.close()
    return sorted(Message.decode(blob).actor_name for blob in blobs)


def test_the_daemons_digest_and_housekeeping_are_enqueued_with_cluster(
    site: Served, tmp_path: Path, redis_namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scheduler.jobs

    def not_here(*_args: object) -> object:
        raise AssertionError("with [cluster] the daemon must not run the job itself")

    monkeypatch.setattr(scheduler.jobs, "run_digest", not_here)
    monkeypatch.setattr(scheduler.jobs, "run_housekeeping", not_here)
    path = cluster_config(tmp_path, site.url, redis_namespace)
    assert scheduler.jobs.digest_job(str(path)) == 0
    assert scheduler.jobs.housekeeping_job(str(path)) == "enqueued"
    assert queued_actors(redis_namespace) == ["digest", "housekeeping"]
    with pytest.raises(ValueError, match="no such job: 'crawl'"):
        enqueue_job(load_config(path, env={}), "crawl")


def test_two_workers_never_run_one_job_at_once(
    site: Served, tmp_path: Path, redis_namespace: str
) -> None:
    config = load_config(cluster_config(tmp_path, site.url, redis_namespace), env={})
    start = threading.Barrier(2)
    ran: list[str] = []

    def slow_digest(_config: object, _path: Path | None) -> int:
        ran.append("digest")
        time.sleep(1.0)
        return 0

    results: list[str] = []

    def one_worker() -> None:
        client = Redis.from_url(REDIS_URL)
        start.wait()
        results.append(job_task(config, None, client, "digest", digest=slow_digest))
        client.close()

    threads = [threading.Thread(target=one_worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["busy", "exit 0"]
    assert ran == ["digest"]
    client = Redis.from_url(REDIS_URL)
    assert job_task(config, None, client, "digest", digest=slow_digest) == "exit 0"  # freed
    client.close()


@pytest.mark.slow
def test_a_worker_runs_an_enqueued_digest_and_housekeeping_once(
    site: Served, tmp_path: Path, redis_namespace: str
) -> None:
    path = cluster_config(tmp_path, site.url, redis_namespace)
    assert run_cli("--config", str(path), "db", "upgrade").returncode == 0
    config = load_config(path, env={})
    enqueue_job(config, "digest")
    enqueue_job(config, "housekeeping")
    worker = subprocess.Popen(
        [sys.executable, "-m", "claimwatch", "--config", str(path), "worker"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while queue_depth(config) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert queue_depth(config) == 0
    finally:
        worker.send_signal(signal.SIGTERM)
        out, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, out
    assert out.count("digest finished with exit code 0") == 1, out
    assert out.count("housekeeping: raw HTML dropped from 0 articles") == 1, out
    assert list((tmp_path / "data").glob("digests/**/*.html")), out
