"""The worker's tasks: crawl one source, under that source's lock; the daemon's digest and
housekeeping, each under its own lock.

The crawl itself runs as the daemon runs it, ``claimwatch crawl SOURCE`` in its own process with
``schedule.crawl_time_limit_s`` (worker/process.py). A source whose lock another worker holds is
not crawled twice at once: the message is acknowledged and dropped (the next turn of the schedule
enqueues it again). A source whose hosts have too few free slots (worker/slots.py: other sources
on the same host are being crawled) is put back on the queue ``HOST_RETRY_S`` later, with some
jitter, rather than dropped or waited for in a worker thread another source could use. The daemon
has already decided whether a failing source's turn is skipped.

The digest runs as ``claimwatch digest [--send]`` in its own process, as the daemon runs it: the
digest ledger sends each period once, so a digest message redelivered after its worker died sends
nothing twice. Housekeeping is idempotent. Their locks only keep two workers from running the same
job side by side (a second one handed it meanwhile drops it: the first is doing that work).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from pathlib import Path

from redis import Redis

from core.config import Config
from worker.lock import SourceLock, job_lock_key
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


def run_digest(config: Config, config_path: Path | None) -> int:
    """``claimwatch digest --send`` (without ``--send`` when mail is off) in its own process."""
    args = ["digest", "--send"] if config.mail.enabled else ["digest"]
    return run_process(cli_command(config_path, *args), config.schedule.crawl_time_limit_s)


def run_housekeeping(config: Config) -> str:
    """Drop raw HTML past its retention and compact the database; returns what was done."""
    from datetime import UTC, datetime

    from core.db import engine_for, sessions_for
    from pipeline.housekeeping import compact, expire_raw_html

    with sessions_for(config.db_url)() as session:
        expired = expire_raw_html(session, datetime.now(UTC), config.schedule.raw_html_days)
    done = compact(engine_for(config.db_url))
    logger.info("housekeeping: raw HTML dropped from %d articles; database %s", expired, done)
    return done


def job_task(
    config: Config,
    config_path: Path | None,
    client: Redis,
    job: str,
    digest: Callable[[Config, Path | None], int] = run_digest,
    housekeeping: Callable[[Config], str] = run_housekeeping,
) -> str:
    """Run the daemon's ``digest`` or ``housekeeping`` job unless another worker is running it."""
    if job not in ("digest", "housekeeping"):
        raise ValueError(f"no such job: {job!r}")
    namespace = config.cluster.namespace
    lock = SourceLock(
        client, namespace, job, config.cluster.lock_ttl_s, key=job_lock_key(namespace, job)
    )
    if not lock.acquire():
        logger.info("%s: another worker is running it; this one is dropped", job)
        return "busy"
    try:
        if job == "digest":
            code = digest(config, config_path)
            logger.info("digest finished with exit code %s", code)
            return f"exit {code}"
        return housekeeping(config)
    finally:
        lock.release()


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
