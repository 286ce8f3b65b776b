"""The daemon's jobs: module-level functions, referenced by name in the job store.

Each starts work elsewhere: a crawl or a digest runs as a ``claimwatch`` command in its own process
(with a time limit; asked to stop, then killed), housekeeping calls the pipeline's functions. A
source that keeps failing is crawled less often (:func:`backoff`, :func:`should_skip`). With
``[cluster] broker_url`` set, each job enqueues its work for the workers (worker/) instead.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.config import Config, load_config
from scheduler.triggers import period_of, trigger_for
from worker.process import cli_command, run_process
from worker.process import stop_all as stop_all  # the daemon's signal handling stops them
from worker.tasks import run_digest, run_housekeeping

logger = logging.getLogger("claimwatch.scheduler")
MAX_BACKOFF_FACTOR = 16


def backoff(failures: int, failing_after: int) -> int:
    """Crawl every n-th turn: 1 while healthy, then 2, 4, 8, 16 as failures go on."""
    if failures < failing_after:
        return 1
    return int(min(2 ** (failures - failing_after + 1), MAX_BACKOFF_FACTOR))


def should_skip(config: Config, source: str, now: datetime | None = None) -> str | None:
    """Why this turn of a failing source's crawl is skipped, or ``None`` to crawl."""
    from sqlalchemy import inspect

    from core.db import engine_for, sessions_for
    from pipeline.health import failed_streak

    now = now or datetime.now(UTC)
    if not inspect(engine_for(config.db_url)).has_table("crawl_runs"):
        return None
    with sessions_for(config.db_url)() as session:
        failures, last = failed_streak(session, source)
    factor = backoff(failures, config.schedule.failing_after)
    if factor == 1 or last is None:
        return None
    spec = config.source(source).schedule or config.schedule.crawl
    period = period_of(trigger_for(spec, config.schedule.timezone), now)
    wait = period * factor - timedelta(seconds=1)
    if now - last < wait:
        return f"failed {failures} runs in a row; next try after {last + wait:%Y-%m-%d %H:%M} UTC"
    return None


def crawl_job(config_path: str | None, source: str) -> int:
    config = load_config(Path(config_path) if config_path else None)
    skip = should_skip(config, source)
    if skip:
        logger.warning("crawl %s skipped: %s", source, skip)
        return 0
    if config.cluster.broker_url:
        # [cluster]: a worker runs the crawl (worker/tasks.py), under the source's Redis lock.
        from worker.broker import enqueue_crawl, until_sent

        limit = config.schedule.crawl_time_limit_s
        message_id = until_sent(lambda: enqueue_crawl(config, source), limit)
        logger.info("crawl %s enqueued for the workers (message %s)", source, message_id)
        return 0
    path = Path(config_path) if config_path else None
    code = run_process(cli_command(path, "crawl", source), config.schedule.crawl_time_limit_s)
    logger.info("crawl %s finished with exit code %s", source, code)
    return code


def _enqueued(config: Config, job: str) -> bool:
    """With ``[cluster]``: ``job`` is put on the queue for a worker (worker/tasks.py), tried
    again while Redis is unreachable, up to the crawl time limit."""
    if not config.cluster.broker_url:
        return False
    from worker.broker import enqueue_job, until_sent

    limit = config.schedule.crawl_time_limit_s
    message_id = until_sent(lambda: enqueue_job(config, job), limit)
    logger.info("%s enqueued for the workers (message %s)", job, message_id)
    return True


def digest_job(config_path: str | None) -> int:
    config = load_config(Path(config_path) if config_path else None)
    if _enqueued(config, "digest"):
        return 0
    code = run_digest(config, Path(config_path) if config_path else None)
    logger.info("digest finished with exit code %s", code)
    return code


def housekeeping_job(config_path: str | None) -> str:
    config = load_config(Path(config_path) if config_path else None)
    if _enqueued(config, "housekeeping"):
        return "enqueued"
    return run_housekeeping(config)
