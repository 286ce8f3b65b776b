"""The daemon's jobs: module-level functions, referenced by name in the job store.

Each starts work elsewhere: a crawl or a digest runs as a ``claimwatch`` command in its own process
(with a time limit; asked to stop, then killed), housekeeping calls the pipeline's functions. A
source that keeps failing is crawled less often (:func:`backoff`, :func:`should_skip`).
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.config import Config, load_config
from scheduler.triggers import period_of, trigger_for

logger = logging.getLogger("claimwatch.scheduler")
STOP_GRACE_S = 30.0  # a crawl asked to stop gets this long to flush before it is killed
MAX_BACKOFF_FACTOR = 16
_running: set[subprocess.Popen[bytes]] = set()
_running_lock = threading.Lock()


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


def cli_command(config_path: Path | None, *args: str) -> list[str]:
    command = [sys.executable, "-m", "claimwatch"]
    if config_path is not None:
        command += ["--config", str(config_path)]
    return [*command, *args]


def run_process(command: list[str], time_limit: float) -> int:
    """Run a claimwatch command in its own process; ask it to stop at the time limit, then kill."""
    label = " ".join(
        command[command.index("--config") + 2 :] if "--config" in command else command[3:]
    )
    logger.info("starting: %s", label)
    process = subprocess.Popen(command, start_new_session=True, preexec_fn=_die_with_parent)
    with _running_lock:
        _running.add(process)
    try:
        return process.wait(timeout=time_limit)
    except subprocess.TimeoutExpired:
        logger.warning("time limit reached, stopping: %s", label)
        stop_process(process)
        return process.wait()
    finally:
        with _running_lock:
            _running.discard(process)


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM if the daemon dies (even by kill -9), so no crawl is orphaned;
    it then stops like any Scrapy crawl, keeping its committed batches."""
    if sys.platform != "linux":
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def stop_process(process: subprocess.Popen[bytes], grace: float = STOP_GRACE_S) -> None:
    """SIGTERM (Scrapy closes the spider and flushes what it has), then SIGKILL after ``grace``."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()


def stop_all(grace: float = STOP_GRACE_S) -> None:
    with _running_lock:
        processes = list(_running)
    for process in processes:
        stop_process(process, grace)


def crawl_job(config_path: str | None, source: str) -> int:
    config = load_config(Path(config_path) if config_path else None)
    skip = should_skip(config, source)
    if skip:
        logger.warning("crawl %s skipped: %s", source, skip)
        return 0
    path = Path(config_path) if config_path else None
    code = run_process(cli_command(path, "crawl", source), config.schedule.crawl_time_limit_s)
    logger.info("crawl %s finished with exit code %s", source, code)
    return code


def digest_job(config_path: str | None) -> int:
    config = load_config(Path(config_path) if config_path else None)
    args = ["digest", "--send"] if config.mail.enabled else ["digest"]
    path = Path(config_path) if config_path else None
    code = run_process(cli_command(path, *args), config.schedule.crawl_time_limit_s)
    logger.info("digest finished with exit code %s", code)
    return code


def housekeeping_job(config_path: str | None) -> str:
    from core.db import engine_for, sessions_for
    from pipeline.housekeeping import compact, expire_raw_html

    config = load_config(Path(config_path) if config_path else None)
    with sessions_for(config.db_url)() as session:
        expired = expire_raw_html(session, datetime.now(UTC), config.schedule.raw_html_days)
    done = compact(engine_for(config.db_url))
    logger.info("housekeeping: raw HTML dropped from %d articles; database %s", expired, done)
    return done
