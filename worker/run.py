"""``run_worker``: a Dramatiq worker on the ``crawl`` queue until told to stop.

Its actors: ``crawl`` (a source's crawl), ``digest`` and ``housekeeping`` (the daemon's other
jobs, enqueued by it with ``[cluster]``), all in worker/tasks.py.

It takes one crawl per thread (``concurrency`` threads) and prefetches no more than it runs, so a
waiting crawl stays on the queue for an idle worker rather than in a busy one's memory. Its
heartbeat (every broker command it sends) tells the others it is alive, and its own heartbeat
key (worker/cluster.py) tells ``claimwatch status`` what it is running; when it dies, the crawls
it had taken go back on the queue after ``[cluster] heartbeat_timeout_s``.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from core.config import Config
from worker.broker import (
    ACTOR,
    JOB_ACTORS,
    QUEUE,
    build_broker,
    check_reachable,
    put_crawl,
    redis_client,
    shown,
)
from worker.cluster import Heartbeat
from worker.process import stop_all
from worker.tasks import crawl_task, job_task

logger = logging.getLogger("claimwatch.worker")


def run_worker(
    config: Config, config_path: Path | None, stopped: threading.Event, concurrency: int = 1
) -> None:
    """Consume crawls until ``stopped`` is set; then stop the running crawls (they keep what they
    stored) and return. Raises :class:`worker.broker.BrokerUnreachable` when Redis does not answer
    at start."""
    import dramatiq
    from dramatiq import Worker

    url = str(config.cluster.broker_url)
    client = redis_client(config)
    check_reachable(client, url)
    broker = build_broker(config, client)
    beat = Heartbeat(
        client,
        config.cluster.namespace,
        config.cluster.heartbeat_timeout_s,
        concurrency,
        time.time(),
    ).start()

    def crawl(source: str) -> None:
        beat.doing(f"crawl {source}", True)
        try:
            crawl_task(
                config,
                config_path,
                client,
                source,
                requeue=lambda name, delay: put_crawl(broker, name, delay),
            )
        finally:
            beat.doing(f"crawl {source}", False)

    dramatiq.actor(broker=broker, actor_name=ACTOR, queue_name=QUEUE)(crawl)
    for job in JOB_ACTORS:

        def run_job(job: str = job) -> None:
            beat.doing(job, True)
            try:
                job_task(config, config_path, client, job)
            finally:
                beat.doing(job, False)

        dramatiq.actor(broker=broker, actor_name=job, queue_name=QUEUE)(run_job)
    consumer = Worker(broker, worker_threads=concurrency, worker_timeout=1000)
    consumer.queue_prefetch = concurrency
    consumer.start()
    logger.info(
        "worker started on %s (queue %s:%s, %d at a time)",
        shown(url),
        config.cluster.namespace,
        QUEUE,
        concurrency,
    )
    stopped.wait()
    logger.info("stopping: running crawls are asked to stop")
    threading.Thread(target=stop_all, daemon=True).start()
    consumer.stop()
    beat.stop()
    broker.close()
    logger.info("worker stopped")
