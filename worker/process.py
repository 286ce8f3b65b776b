"""Run a ``claimwatch`` command in its own process, with a time limit (asked to stop, then killed).

The daemon's jobs (scheduler/jobs.py) and the cluster worker's tasks (worker/tasks.py) share it: a
crawl is one ``claimwatch crawl SOURCE`` process either way (Twisted's reactor cannot restart in
one process, and the crawl records its own run).
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
from pathlib import Path

logger = logging.getLogger("claimwatch.scheduler")
STOP_GRACE_S = 30.0  # a crawl asked to stop gets this long to flush before it is killed
_running: set[subprocess.Popen[bytes]] = set()
_running_lock = threading.Lock()


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
    """Linux: the child gets SIGTERM if its parent dies (even by kill -9), so no crawl is
    orphaned; it then stops like any Scrapy crawl, keeping its committed batches."""
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
