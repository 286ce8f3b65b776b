"""The worker's one task: crawl one source, under that source's lock.

The crawl itself runs as the daemon runs it, ``claimwatch crawl SOURCE`` in its own process with
``schedule.crawl_time_limit_s`` (worker/process.py). A source whose lock another worker holds is
not crawled twice at once: the message is acknowledged and dropped (the next turn of the schedule
enqueues it again). A source whose hosts have too few free slots (worker/slots.py: other sources
on the same host are being crawled) is put back on the queue ``HOST_RETRY_S`` later, with some
jitter, rather than dropped or waited for in a worker thread another source could use. The daemon
has already decided whether a failing source's turn is skipped.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from pathlib import Path

from redis import Redis

from core.config import Config
from worker.lock import SourceLock
from worker.process import cli_command, run_process
from worker.slots import HostSlots, host_weights

logger = logging.getLogger("claimwatch.worker")
#: (config path, source, time limit in seconds) -> the crawl's exit code
Runner = Callable[[Path | None, str, float], int]
#: (source, delay in seconds) -> None: put the crawl back on the queue for later
Requeue = Callable[[str, float], object]
HOST_RETRY_S = 15.0  # a crawl whose host is full is tried again this long after (plus jitter)


def run_crawl_process(config_path: Path | None, source: str, time_limit: float) -> int:
    return run_process(cli_command(config_path, "crawl", source), time_limit)


def crawl_task(
    config: Config,
    config_path: Path | None,
    client: Redis,
    source: str,
    run: Runner = run_crawl_process,
    requeue: Requeue | None = None,
) -> str:
    """Crawl ``source`` unless another worker is crawling it, or put it back on the queue (with
    ``requeue``) while its hosts are full. Returns what happened."""
    names = {s.name for s in config.sources if s.enabled}
    if source not in names:
        logger.warning("crawl %s: no such enabled source in this worker's config; dropped", source)
        return "unknown source"
    lock = SourceLock(client, config.cluster.namespace, source, config.cluster.lock_ttl_s)
    if not lock.acquire():
        logger.info("crawl %s: another worker is crawling it; this one is dropped", source)
        return "busy"
    slots = HostSlots(
        client,
        config.cluster.namespace,
        host_weights(config.source(source), config.crawl),
        config.crawl.concurrency_per_domain,
        config.cluster.lock_ttl_s,
    )
    try:
        taken = slots.acquire()
    except BaseException:
        lock.release()
        raise
    if not taken:
        lock.release()
        delay = HOST_RETRY_S * random.uniform(1.0, 1.5)
        if requeue is not None:
            requeue(source, delay)
        logger.info(
            "crawl %s: its host is at its limit of %d requests in flight; again in %.0f s",
            source,
            config.crawl.concurrency_per_domain,
            delay,
        )
        return "host busy"
    try:
        code = run(config_path, source, config.schedule.crawl_time_limit_s)
    finally:
        slots.release()
        lock.release()
    logger.info("crawl %s finished with exit code %s", source, code)
    return f"exit {code}"
