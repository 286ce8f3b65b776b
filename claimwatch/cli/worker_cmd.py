"""``claimwatch worker``: take crawls from the ``[cluster]`` queue and run them."""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Any

import click

from claimwatch.cli.common import EX_CONFIG, EX_TEMPFAIL, Context, fail, pass_ctx
from claimwatch.cli.run_cmd import setup_logging


@click.command()
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Crawls this worker runs at a time (each in its own process).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default=None,
    help="Log lines on stdout as text or JSON (default: the global --log-format, else text).",
)
@pass_ctx
def worker(obj: Context, concurrency: int, log_format: str | None) -> None:
    """Run a crawl worker: crawls the daemon enqueued on the Redis at [cluster] broker_url.

    Each crawl runs in its own process, under its source's lock in Redis, so one source is never
    crawled by two workers at once. SIGTERM or Ctrl-C stops it: running crawls are asked to stop
    and keep what they stored. Exits 75 when Redis cannot be reached.
    """
    from worker.broker import BrokerUnreachable
    from worker.run import run_worker

    config = obj.config
    if not config.cluster.broker_url:
        fail(
            "[cluster] broker_url is not set: set it (or CLAIMWATCH_CLUSTER__BROKER_URL) to the "
            "Redis the daemon enqueues crawls on, like redis://127.0.0.1:6379/0",
            EX_CONFIG,
        )
    setup_logging(log_format or obj.log_format)
    stopped = threading.Event()

    def handle(signum: int, _frame: Any) -> None:
        logging.getLogger("claimwatch.worker").info(
            "received %s: stopping", signal.Signals(signum).name
        )
        stopped.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    logging.getLogger("claimwatch.worker").info("worker pid %d", os.getpid())
    try:
        run_worker(config, obj.config_file, stopped, concurrency)
    except BrokerUnreachable as exc:
        fail(str(exc), EX_TEMPFAIL)
