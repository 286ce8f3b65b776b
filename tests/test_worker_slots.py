"""Politeness across workers: the host slots in Redis (worker/slots.py) and the crawl task taking
them. Against the loopback Redis (skipped without it, failing when CI=true)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from redis import Redis

from core.config import Config, load_config
from tests.conftest import REDIS_URL
from worker.broker import QUEUE, build_broker, put_crawl
from worker.slots import HostSlots, host_weights, slots_in_use
from worker.tasks import crawl_task

SITE = "http://shared.test:8000"


def two_sources_on_one_host(
    tmp_path: Path, namespace: str, per_domain: int = 2, concurrency: int | None = None
) -> Config:
    """Sources ``a`` and ``b`` on one host, ``c`` on another; ``[cluster]`` on ``namespace``."""
    politeness = f"politeness = {{ concurrency = {concurrency} }}\n" if concurrency else ""
    text = f"""
[crawl]
concurrency_per_domain = {per_domain}
[cluster]
broker_url = "{REDIS_URL}"
namespace = "{namespace}"
lock_ttl_s = 2
heartbeat_timeout_s = 5
[[sources]]
name = "a"
kind = "sitemap"
start_urls = ["{SITE}/a/sitemap.xml"]
{politeness}
[[sources]]
name = "b"
kind = "sitemap"
start_urls = ["{SITE}/b/sitemap.xml"]
{politeness}
[[sources]]
name = "c"
kind = "sitemap"
start_urls = ["http://other.test/sitemap.xml"]
"""
    path = tmp_path / "claimwatch.toml"
    path.write_text(text)
    return load_config(path, env={})


def test_host_weights_follow_the_per_domain_limit(tmp_path: Path) -> None:
    config = two_sources_on_one_host(tmp_path, "x", per_domain=3)
    assert host_weights(config.source("a"), config.crawl) == {"shared.test": 3}
    config = two_sources_on_one_host(tmp_path, "x", per_domain=3, concurrency=1)
    assert host_weights(config.source("b"), config.crawl) == {"shared.test": 1}
    config = two_sources_on_one_host(tmp_path, "x", per_domain=2, concurrency=5)
    assert host_weights(config.source("a"), config.crawl) == {"shared.test": 2}  # capped
    with pytest.raises(ValueError, match="weight of 'h' must be in"):
        HostSlots(Redis.from_url(REDIS_URL), "x", {"h": 3}, limit=2, ttl_s=1)


def test_slots_of_one_host_are_shared_up_to_its_limit(redis_namespace: str) -> None:
    client = Redis.from_url(REDIS_URL)
    whole = HostSlots(client, redis_namespace, {"h.test": 2}, limit=2, ttl_s=5)
    half = [HostSlots(client, redis_namespace, {"h.test": 1}, limit=2, ttl_s=5) for _ in range(3)]
    assert whole.acquire()
    assert slots_in_use(client, redis_namespace, "h.test") == 2
    assert not half[0].acquire()
    whole.release()
    assert slots_in_use(client, redis_namespace, "h.test") == 0
    assert half[0].acquire()
    assert half[1].acquire()
    assert not half[2].acquire()
    assert not whole.acquire()
    half[0].release()
    assert half[2].acquire()
    for slots in (half[1], half[2]):
        slots.release()
    client.close()


def test_slots_on_several_hosts_are_taken_all_or_none(redis_namespace: str) -> None:
    client = Redis.from_url(REDIS_URL)
    second = HostSlots(client, redis_namespace, {"two.test": 1}, limit=1, ttl_s=5)
    both = HostSlots(client, redis_namespace, {"one.test": 1, "two.test": 1}, limit=1, ttl_s=5)
    assert second.acquire()
    assert not both.acquire()
    assert slots_in_use(client, redis_namespace, "one.test") == 0  # not half-taken
    second.release()
    assert both.acquire()
    assert slots_in_use(client, redis_namespace, "one.test") == 1
    assert slots_in_use(client, redis_namespace, "two.test") == 1
    both.release()
    client.close()


def test_slots_are_renewed_while_held_and_expire_when_the_holder_dies(
    redis_namespace: str,
) -> None:
    client = Redis.from_url(REDIS_URL)
    holder = HostSlots(client, redis_namespace, {"h.test": 1}, limit=1, ttl_s=1.5)
    other = HostSlots(client, redis_namespace, {"h.test": 1}, limit=1, ttl_s=1.5)
    assert holder.acquire()
    time.sleep(2.0)  # past the time to live, renewed meanwhile
    assert not other.acquire()
    assert not holder.lost
    # The holder dies (no renewal, no release): its slot frees itself within the time to live.
    holder._stop.set()
    assert holder._renewer is not None
    holder._renewer.join()
    time.sleep(1.7)
    assert other.acquire()
    assert not holder.renew()  # its slot is gone: it cannot renew one another worker took
    assert slots_in_use(client, redis_namespace, "h.test") == 1
    other.release()
    client.close()


def test_crawls_of_sources_sharing_a_host_wait_for_its_slots(
    tmp_path: Path, redis_namespace: str
) -> None:
    config = two_sources_on_one_host(tmp_path, redis_namespace)
    running: dict[str, int] = {}
    peak: dict[str, int] = {}
    guard = threading.Lock()
    start = threading.Barrier(3)

    def fake_crawl(_path: Path | None, source: str, _limit: float) -> int:
        host = config.source(source).domains[0]
        with guard:
            running[host] = running.get(host, 0) + 1
            peak[host] = max(peak.get(host, 0), running[host])
        time.sleep(1.0)
        with guard:
            running[host] -= 1
        return 0

    broker = build_broker(config)
    requeued: list[tuple[str, float]] = []

    def requeue(source: str, delay: float) -> None:
        requeued.append((source, delay))
        put_crawl(broker, source, delay)

    results: dict[str, str] = {}

    def one_worker(source: str) -> None:
        client = Redis.from_url(REDIS_URL)  # each worker its own connection
        start.wait()
        results[source] = crawl_task(config, None, client, source, fake_crawl, requeue)
        client.close()

    threads = [threading.Thread(target=one_worker, args=(name,)) for name in ("a", "b", "c")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results["c"] == "exit 0"  # another host: not held up
    assert sorted([results["a"], results["b"]]) == ["exit 0", "host busy"]
    assert peak == {"shared.test": 1, "other.test": 1}
    (busy,) = [name for name in ("a", "b") if results[name] == "host busy"]
    assert [name for name, _ in requeued] == [busy]
    assert 15 <= requeued[0][1] <= 22.5
    client = Redis.from_url(REDIS_URL)
    # Waiting on Dramatiq's delay queue, not dropped, and not on the queue yet.
    assert client.hlen(f"{redis_namespace}:{QUEUE}.DQ.msgs") == 1
    assert client.llen(f"{redis_namespace}:{QUEUE}") == 0
    assert broker.do_qsize(QUEUE) == 1
    broker.close()
    assert slots_in_use(client, redis_namespace, "shared.test") == 0  # freed after the crawl
    assert crawl_task(config, None, client, busy, fake_crawl, requeue) == "exit 0"
    client.close()


def test_sources_with_a_smaller_share_crawl_one_host_together(
    tmp_path: Path, redis_namespace: str
) -> None:
    config = two_sources_on_one_host(tmp_path, redis_namespace, per_domain=2, concurrency=1)
    client = Redis.from_url(REDIS_URL)
    inside: list[str] = []

    def nested(_path: Path | None, source: str, _limit: float) -> int:
        inside.append(source)
        if source == "a":  # while a holds its slot, b takes the other one
            other = Redis.from_url(REDIS_URL)
            assert crawl_task(config, None, other, "b", nested) == "exit 0"
            other.close()
        return 0

    assert crawl_task(config, None, client, "a", nested) == "exit 0"
    assert inside == ["a", "b"]
    client.close()
