"""The ``[cluster]`` part of ``claimwatch status``: the queue, the workers, what runs where."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import click

from core.config import Config
from worker.cluster import ClusterView


def cluster_lines(view: ClusterView, now: float) -> list[str]:
    """The indented lines under ``cluster:``, from one :func:`worker.cluster.cluster_view`."""
    lines = [f"  queue: {view.waiting} waiting, {view.taken} taken, {view.delayed} delayed"]
    lines.append(f"  workers: {len(view.workers)}")
    for w in view.workers:
        started = datetime.fromtimestamp(w.started, UTC)
        doing = ", ".join(w.running) if w.running else "idle"
        lines.append(
            f"    {w.worker_id:<32} up since {started:%Y-%m-%d %H:%M} UTC, {w.concurrency} at a "
            f"time, beat {max(now - w.beat, 0):.0f} s ago: {doing}"
        )
    running = ", ".join(view.running) if view.running else "none"
    lines.append(f"  running crawls: {running}")
    if view.jobs:
        lines.append(f"  running jobs: {', '.join(view.jobs)}")
    if view.hosts:
        used = ", ".join(f"{host} {n}" for host, n in view.hosts.items())
        lines.append(f"  host slots in use: {used}")
    return lines


def print_cluster(config: Config) -> None:
    from worker.broker import BrokerUnreachable, check_reachable, queue_depth, redis_client, shown
    from worker.cluster import cluster_view

    url = shown(str(config.cluster.broker_url))
    client = redis_client(config)
    try:
        check_reachable(client, str(config.cluster.broker_url))
        depth = queue_depth(config)
        view = cluster_view(client, config.cluster.namespace)
    except BrokerUnreachable as exc:
        click.secho(f"cluster: {exc}", fg="red")
        return
    finally:
        client.close()
    click.echo(f"cluster: {url}, {depth} message(s) queued or running")
    for line in cluster_lines(view, time.time()):
        click.echo(line)
