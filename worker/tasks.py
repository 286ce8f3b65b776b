"""The worker's one task: crawl one source, under that source's lock.

The crawl itself runs as the daemon runs it, ``claimwatch crawl SOURCE`` in its own process with
``schedule.crawl_time_limit_s`` (worker/process.py). A source whose lock another worker holds is
not crawled twice at once: the message is acknowledged and dropped (the next turn of the schedule
enqueues it again). The daemon has already decided whether a failing source's turn is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from redis import Redis

from core.config import Config
from worker.lock import SourceLock
from worker.process import cli_command, run_process

logger = logging.getLogger("claimwatch.worker")
#: (config path, source, time limit in seconds) -> the crawl's exit code
Runner = Callable[[Path | None, str, float], int]


def run_crawl_process(config_path: Path | None, source: str, time_limit: float) -> int:
    return run_process(cli_command(config_path, "crawl", source), time_limit)


def crawl_task(
    config: Config,
    config_path: Path | None,
    client: Redis,
    source: str,
    run: Runner = run_crawl_process,
) -> str:
    """Crawl ``source`` unless another worker is crawling it. Returns what happened."""
    names = {s.name for s in config.sources if s.enabled}
    if source not in names:
        logger.warning("crawl %s: no such enabled source in this worker's config; dropped", source)
        return "unknown source"
    lock = SourceLock(client, config.cluster.namespace, source, config.cluster.lock_ttl_s)
    if not lock.acquire():
        logger.info("crawl %s: another worker is crawling it; this one is dropped", source)
        return "busy"
    try:
        code = run(config_path, source, config.schedule.crawl_time_limit_s)
    finally:
        lock.release()
    logger.info("crawl %s finished with exit code %s", source, code)
    return f"exit {code}"
