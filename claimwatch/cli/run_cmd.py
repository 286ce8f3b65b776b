"""``claimwatch run`` (the daemon) and ``claimwatch status``."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click

from claimwatch.cli.common import (
    EX_FAILURE,
    EX_TEMPFAIL,
    Context,
    JsonFormatter,
    database,
    fail,
    pass_ctx,
)
from core.config import Config


def shown_url(db_url: str) -> str:
    """The database URL as logged: never with its password."""
    from sqlalchemy.engine import make_url

    return make_url(db_url).render_as_string(hide_password=True)


def setup_logging(fmt: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.INFO)
    logging.getLogger("alembic").setLevel(logging.WARNING)


def serve_metrics(config: Config, host: str, port: int, jobs: Callable[[], int]) -> None:
    """Serve the Prometheus metrics (reports/metrics.py) from a daemon thread."""
    from prometheus_client import start_http_server

    from reports.metrics import registry_for

    try:
        start_http_server(port, addr=host, registry=registry_for(database(config), jobs))
    except OSError as exc:
        fail(f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}")


@click.command()
@click.option("--once", is_flag=True, help="Run every job that is due now, then exit (for cron).")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default=None,
    help="Log lines on stdout as text or JSON (default: the global --log-format, else text).",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    help="Serve Prometheus metrics on this port (http://HOST:PORT/metrics).",
)
@click.option(
    "--metrics-host",
    default="127.0.0.1",
    show_default=True,
    help="Address the metrics are served on.",
)
@pass_ctx
def run(
    obj: Context, once: bool, log_format: str | None, metrics_port: int | None, metrics_host: str
) -> None:
    """Run the monitoring daemon: crawls on each source's schedule, the weekly digest, housekeeping.

    One daemon per database: a second one exits with an error naming the first. SIGTERM or
    Ctrl-C stops it cleanly: no new jobs, running crawls are asked to stop and keep what they
    stored.
    """
    from claimwatch.cli.lock import DaemonLock, LockHeld
    from scheduler import (
        JOB_EVENTS,
        build_scheduler,
        install_signal_handlers,
        log_job_event,
        run_due_now,
        stop_all,
        sync_jobs,
    )

    setup_logging(log_format or obj.log_format)
    config = obj.config
    lock = DaemonLock(config.db_url)
    try:
        lock.acquire()
    except LockHeld as exc:
        click.echo(f"claimwatch: {exc}", err=True)
        sys.exit(EX_TEMPFAIL)
    log = logging.getLogger("claimwatch.daemon")
    lost = False
    try:
        scheduler = build_scheduler(config, obj.config_file, blocking=False)
        scheduler.start(paused=True)
        removed = sync_jobs(scheduler)
        if removed:
            log.info("removed jobs no longer configured: %s", ", ".join(removed))
        if once:
            ran = run_due_now(scheduler, datetime.now(UTC))
            scheduler.shutdown(wait=True)
            log.info("ran %d due job(s): %s", len(ran), ", ".join(ran) or "none")
            return
        if metrics_port is not None:
            serve_metrics(config, metrics_host, metrics_port, lambda: len(scheduler.get_jobs()))
            log.info("metrics on http://%s:%d/metrics", metrics_host, metrics_port)
        stopped = install_signal_handlers(scheduler)
        scheduler.add_listener(log_job_event, JOB_EVENTS)
        log.info("daemon started (pid %d) on %s", os.getpid(), shown_url(config.db_url))
        for job in scheduler.get_jobs():
            log.info("job %s: next run %s", job.id, job.next_run_time)
        scheduler.resume()
        while not stopped.wait(config.schedule.lock_check_s):
            if not lock.held():
                log.error("lost the daemon lock on %s: stopping", shown_url(config.db_url))
                lost = True
                scheduler.pause()
                stop_all()
                break
        scheduler.shutdown(wait=True)
        log.info("daemon stopped")
    finally:
        lock.release()
    if lost:
        sys.exit(EX_FAILURE)


@click.command()
@click.option(
    "--check",
    is_flag=True,
    help="Exit 1 when a source has failed too often or a digest is overdue (for monitoring).",
)
@pass_ctx
def status(obj: Context, check: bool) -> None:
    """Jobs and their next run times, each source's last result, the digest ledger, the lock."""
    from claimwatch.cli.checks import problems
    from claimwatch.cli.lock import DaemonLock
    from reports.listings import source_health
    from scheduler import job_table

    config = obj.config
    holder = DaemonLock(config.db_url).holder()
    click.echo(f"daemon: {'running, ' + holder if holder else 'not running'}")
    if config.cluster.broker_url:
        _print_cluster(config)
    click.echo("jobs:")
    for job_id, next_run, trigger in job_table(config, obj.config_file):
        when = f"{next_run:%Y-%m-%d %H:%M %Z}" if next_run else "-"
        click.echo(f"  {job_id:<32} next {when}   ({trigger})")
    with obj.session() as session:
        click.echo("sources:")
        for row in source_health(session, config.schedule.failing_after):
            started = row.last_started.strftime("%Y-%m-%d %H:%M") if row.last_started else "-"
            click.echo(
                f"  {row.name:<28} last run {started:<16} {row.last_status or '-':<11} "
                f"items {row.last_items:>4}  errors {row.last_errors:>3}  {row.health}"
            )
        _print_ledger(session)
    found = problems(config)
    for problem in found:
        click.secho(f"problem: {problem.what}: {problem.detail}", fg="red", err=True)
    if check and found:
        sys.exit(EX_FAILURE)
    if check:
        click.echo("ok")


def _print_cluster(config: Config) -> None:
    from claimwatch.cli.cluster_status import print_cluster

    print_cluster(config)


def _print_ledger(session: Any) -> None:
    from reports.ledger import ledger

    rows = ledger(session)
    click.echo("digests:")
    if not rows:
        click.echo("  none sent yet")
    for row in rows[:10]:
        sent = row.sent_at.strftime("%Y-%m-%d %H:%M") if row.sent_at else "-"
        click.echo(
            f"  {row.period:<12} {row.list_name:<16} {row.status:<8} sent {sent}  "
            f"attempts {row.attempts}"
        )
