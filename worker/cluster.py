"""What the cluster is doing, read from Redis for ``claimwatch status``: the workers, the queue, the
running crawls and the hosts' slots.

Each worker keeps its own heartbeat key, ``<namespace>:worker:<host>:<pid>``: a small JSON value
(host, pid, start time, crawls at a time, what it is running now) rewritten every
``BEAT_EVERY_S`` with an expiry of ``[cluster] heartbeat_timeout_s``, so a worker that died drops
out of the list on its own. (Dramatiq's own heartbeats name only a random broker id.) The running
crawls are the source locks held (worker/lock.py), the hosts' use their slot sets
(worker/slots.py), the queue Dramatiq's keys (waiting: the queue's list; taken: its messages not
yet acknowledged; delayed: the delay queue, e.g. crawls whose host was full).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from redis import Redis

from worker.broker import QUEUE
from worker.slots import slots_in_use

logger = logging.getLogger("claimwatch.worker")
BEAT_EVERY_S = 5.0  # at most; a third of the heartbeat timeout when that is shorter


def worker_key(namespace: str, worker_id: str) -> str:
    return f"{namespace}:worker:{worker_id}"


class Heartbeat:
    """This worker's heartbeat key, rewritten from a thread until :meth:`stop` deletes it."""

    def __init__(
        self, client: Redis, namespace: str, timeout_s: float, concurrency: int, now: float
    ) -> None:
        self.client = client
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.key = worker_key(namespace, self.worker_id)
        self.timeout_s = timeout_s
        self.every_s = min(BEAT_EVERY_S, timeout_s / 3)
        self.info: dict[str, Any] = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": now,
            "concurrency": concurrency,
        }
        self.running: set[str] = set()
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self.beat()
        self._thread.start()
        return self

    def doing(self, what: str, busy: bool) -> None:
        """Mark ``what`` (``crawl <source>``, ``digest``) as running, or done; beats at once."""
        with self._guard:
            (self.running.add if busy else self.running.discard)(what)
        try:
            self.beat()
        except Exception as exc:  # the next beat tries again
            logger.warning("heartbeat failed: %s", exc)

    def beat(self) -> None:
        with self._guard:
            value = {**self.info, "beat": time.time(), "running": sorted(self.running)}
        self.client.set(self.key, json.dumps(value), px=int(self.timeout_s * 1000))

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.beat()
            except Exception as exc:  # Redis away: the key expires if it stays away
                logger.warning("heartbeat failed: %s", exc)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        try:
            self.client.delete(self.key)
        except Exception as exc:
            logger.warning("could not remove the heartbeat %s (it expires): %s", self.key, exc)


@dataclass(frozen=True)
class WorkerInfo:
    worker_id: str
    started: float
    beat: float
    concurrency: int
    running: list[str]


@dataclass(frozen=True)
class ClusterView:
    workers: list[WorkerInfo] = field(default_factory=list)
    waiting: int = 0  # on the queue, not taken yet
    taken: int = 0  # taken by a worker, not acknowledged yet (running, or about to)
    delayed: int = 0  # on the delay queue (a crawl whose host was full waits there)
    running: dict[str, float] = field(default_factory=dict)  # source -> lock's seconds left
    jobs: list[str] = field(default_factory=list)  # digest / housekeeping running
    hosts: dict[str, int] = field(default_factory=dict)  # host -> slots in use


def _suffix(key: bytes, prefix: str) -> str:
    return key.decode()[len(prefix) :]


def cluster_view(client: Redis, namespace: str) -> ClusterView:
    """Everything :mod:`worker` keeps in Redis under ``namespace``, read once."""
    workers = []
    prefix = f"{namespace}:worker:"
    for key in sorted(client.scan_iter(f"{prefix}*", count=1000)):
        raw = client.get(key)
        if raw is None:
            continue  # expired between the scan and the read
        info = json.loads(raw)
        workers.append(
            WorkerInfo(
                _suffix(key, prefix),
                float(info["started"]),
                float(info["beat"]),
                int(info["concurrency"]),
                list(info["running"]),
            )
        )
    running = {}
    prefix = f"{namespace}:lock:source:"
    for key in client.scan_iter(f"{prefix}*", count=1000):
        left = client.pttl(key)
        if left > 0:
            running[_suffix(key, prefix)] = left / 1000
    prefix = f"{namespace}:lock:job:"
    jobs = sorted(_suffix(k, prefix) for k in client.scan_iter(f"{prefix}*", count=1000))
    hosts = {}
    prefix = f"{namespace}:slots:host:"
    for key in client.scan_iter(f"{prefix}*", count=1000):
        host = _suffix(key, prefix)
        used = slots_in_use(client, namespace, host)
        if used:
            hosts[host] = used
    waiting = int(client.llen(f"{namespace}:{QUEUE}"))
    messages = int(client.hlen(f"{namespace}:{QUEUE}.msgs"))
    return ClusterView(
        workers=workers,
        waiting=waiting,
        taken=max(messages - waiting, 0),
        delayed=int(client.hlen(f"{namespace}:{QUEUE}.DQ.msgs")),
        running=dict(sorted(running.items())),
        jobs=jobs,
        hosts=dict(sorted(hosts.items())),
    )
