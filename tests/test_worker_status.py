"""``claimwatch status`` with [cluster]: the workers (their heartbeat keys), the queue, the running
crawls and the hosts' slots, read from the loopback Redis while a real worker crawls."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis

from claimwatch.cli.cluster_status import cluster_lines
from core.config import load_config
from tests.conftest import REDIS_URL, ROOT, run_cli, serve
from tests.sites import write_site
from tests.test_worker import cluster_config
from worker.broker import enqueue_crawl
from worker.cluster import ClusterView, Heartbeat, WorkerInfo, cluster_view


def test_cluster_lines_show_workers_queue_crawls_and_hosts() -> None:
    view = ClusterView(
        workers=[WorkerInfo("box:41", 1_764_590_400.0, 1_764_590_470.0, 2, ["crawl weekly"])],
        waiting=3,
        taken=1,
        delayed=2,
        running={"weekly": 25.0},
        jobs=["digest"],
        hosts={"news.test": 2},
    )
    assert cluster_lines(view, now=1_764_590_472.0) == [
        "  queue: 3 waiting, 1 taken, 2 delayed",
        "  workers: 1",
        "    box:41                           up since 2025-12-01 12:00 UTC, 2 at a time, "
        "beat 2 s ago: crawl weekly",
        "  running crawls: weekly",
        "  running jobs: digest",
        "  host slots in use: news.test 2",
    ]
    assert cluster_lines(ClusterView(), now=0.0) == [
        "  queue: 0 waiting, 0 taken, 0 delayed",
        "  workers: 0",
        "  running crawls: none",
    ]


def test_a_heartbeat_key_expires_when_its_worker_stops_beating(redis_namespace: str) -> None:
    client = Redis.from_url(REDIS_URL)
    beat = Heartbeat(client, redis_namespace, timeout_s=1.5, concurrency=1, now=time.time())
    beat.start()
    beat.doing("crawl weekly", True)
    (seen,) = cluster_view(client, redis_namespace).workers
    assert seen.worker_id == beat.worker_id and seen.running == ["crawl weekly"]
    time.sleep(2.0)  # past the timeout, beaten meanwhile
    assert len(cluster_view(client, redis_namespace).workers) == 1
    beat._stop.set()  # dies: no more beats, no clean-up
    beat._thread.join()
    time.sleep(1.7)
    assert cluster_view(client, redis_namespace).workers == []
    client.close()


@pytest.mark.slow
def test_status_lists_a_running_worker_and_its_crawl(tmp_path: Path, redis_namespace: str) -> None:
    served = serve(write_site(tmp_path / "site"), delay=1.0)  # each page takes a second
    try:
        path = cluster_config(
            tmp_path, served.url, redis_namespace, lock_ttl_s=2, heartbeat_timeout_s=5
        )
        assert run_cli("--config", str(path), "db", "upgrade").returncode == 0
        config = load_config(path, env={})
        worker = subprocess.Popen(
            [sys.executable, "-m", "claimwatch", "--config", str(path), "worker"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        client = Redis.from_url(REDIS_URL)
        try:
            enqueue_crawl(config, "weekly")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not cluster_view(client, redis_namespace).running:
                time.sleep(0.2)
            shown = run_cli("--config", str(path), "status", timeout=60)
            assert shown.returncode == 0, shown.stderr
            lines = shown.stdout.splitlines()
            assert "cluster: redis://127.0.0.1:6379/0, 1 message(s) queued or running" in lines
            assert "  queue: 0 waiting, 1 taken, 0 delayed" in lines
            assert "  workers: 1" in lines
            (line,) = [x for x in lines if f":{worker.pid} " in x]
            assert line.endswith(": crawl weekly"), line
            assert "1 at a time" in line
            assert "  running crawls: weekly" in lines
            assert "  host slots in use: 127.0.0.1 2" in lines
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=60)
        view = cluster_view(client, redis_namespace)
        assert view.workers == [] and view.running == {} and view.hosts == {}
        client.close()
    finally:
        served.process.kill()
        served.process.wait()
