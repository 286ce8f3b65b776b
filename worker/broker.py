"""The Dramatiq Redis broker both sides share: the daemon enqueues, ``claimwatch worker`` consumes.

One queue, ``crawl``; one message per source crawl, carrying only the source's name (each machine
reads the source from its own config), and one per digest or housekeeping run the daemon
enqueues (actors ``digest`` and ``housekeeping``, no arguments). The broker has no Dramatiq middleware: no retries (the
schedule is the retry, and a crawl records its own failure), no Dramatiq time limit (the crawl
process has its own, ``schedule.crawl_time_limit_s``). Settings read, from ``[cluster]``:
``broker_url``, ``namespace``, ``heartbeat_timeout_s``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from redis import Redis

from core.config import Config

QUEUE = "crawl"
ACTOR = "crawl"
JOB_ACTORS = ("digest", "housekeeping")  # the daemon's other jobs, run by a worker with [cluster]
#: Out of a million broker commands, how many also run the queue maintenance that puts a dead
#: worker's unacknowledged messages back on the queue (Dramatiq's default is 1,000). Every one
#: here: only a command on the crawl queue restores that queue's messages, and an idle worker sends
#: one at most every 5 s, so at Dramatiq's default a dead worker's crawl would wait tens of minutes
#: past its heartbeat timeout. The maintenance is two sorted-set range queries when nobody died.
MAINTENANCE_CHANCE = 1_000_000
CONNECT_TIMEOUT_S = 5.0
#: Waits between tries of an enqueue while Redis is unreachable (restarting, failing over); the
#: last one repeats until the caller's limit.
ENQUEUE_WAITS_S = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
logger = logging.getLogger("claimwatch.scheduler")


class BrokerUnreachable(RuntimeError):
    """Redis at ``[cluster] broker_url`` did not answer; the message says where and why."""


def redis_client(config: Config) -> Redis:
    url = config.cluster.broker_url
    if not url:
        raise ValueError("[cluster] broker_url is not set")
    return Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        socket_keepalive=True,
        health_check_interval=30,
    )


def shown(url: str) -> str:
    """The broker URL as shown to people: never with its password."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (
        f":{parts.port}" if parts.port else ""
    )
    return urlunsplit(parts._replace(netloc=netloc))


def check_reachable(client: Redis, url: str) -> None:
    from redis.exceptions import RedisError

    try:
        client.ping()
    except RedisError as exc:
        raise BrokerUnreachable(f"cannot reach Redis at {shown(url)}: {exc}") from None


def build_broker(config: Config, client: Redis | None = None) -> Any:
    """A Dramatiq ``RedisBroker`` on ``[cluster] broker_url`` with the ``crawl`` queue declared."""
    from dramatiq.brokers.redis import RedisBroker

    broker = RedisBroker(  # type: ignore[no-untyped-call]
        client=client or redis_client(config),
        namespace=config.cluster.namespace,
        heartbeat_timeout=int(config.cluster.heartbeat_timeout_s * 1000),
        maintenance_chance=MAINTENANCE_CHANCE,
        middleware=[],
    )
    broker.declare_queue(QUEUE)
    return broker


def enqueue_crawl(config: Config, source: str) -> str:
    """Put one crawl of ``source`` on the queue; returns the message id."""
    return enqueue(config, ACTOR, source)


def enqueue_job(config: Config, actor: str) -> str:
    """Put one run of the daemon's ``digest`` or ``housekeeping`` job on the queue."""
    if actor not in JOB_ACTORS:
        raise ValueError(f"no such job: {actor!r} (one of {', '.join(JOB_ACTORS)})")
    return enqueue(config, actor)


def enqueue(config: Config, actor: str, *args: str) -> str:
    from redis.exceptions import RedisError

    client = redis_client(config)
    try:
        check_reachable(client, str(config.cluster.broker_url))
        try:
            return put_message(build_broker(config, client), actor, *args)
        except RedisError as exc:  # gone between the ping and the enqueue
            url = shown(str(config.cluster.broker_url))
            raise BrokerUnreachable(f"cannot reach Redis at {url}: {exc}") from None
    finally:
        client.close()


def until_sent(
    send: Callable[[], str],
    give_up_after_s: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """``send()``, tried again while Redis is unreachable (:data:`ENQUEUE_WAITS_S` apart) until
    it works or ``give_up_after_s`` has passed; then the last :class:`BrokerUnreachable` is
    raised. So a crawl that falls due while Redis restarts is enqueued once it is back."""
    deadline = clock() + give_up_after_s
    for attempt in range(1_000_000):
        try:
            return send()
        except BrokerUnreachable as exc:
            wait = ENQUEUE_WAITS_S[min(attempt, len(ENQUEUE_WAITS_S) - 1)]
            if clock() + wait > deadline:
                raise
            logger.warning("%s; trying again in %.0f s", exc, wait)
            sleep(wait)
    raise AssertionError("unreachable")


def put_crawl(broker: Any, source: str, delay_s: float | None = None) -> str:
    """Put one crawl of ``source`` on ``broker``'s queue, after ``delay_s`` if given (Dramatiq's
    delay queue, which a worker moves to the crawl queue when the time has come)."""
    return put_message(broker, ACTOR, source, delay_s=delay_s)


def put_message(broker: Any, actor: str, *args: str, delay_s: float | None = None) -> str:
    from dramatiq import Message

    message: Message[Any] = Message(
        queue_name=QUEUE, actor_name=actor, args=args, kwargs={}, options={}
    )
    delay = int(delay_s * 1000) if delay_s else None
    return str(broker.enqueue(message, delay=delay).message_id)


def queue_depth(config: Config) -> int:
    """Messages on the queue (crawls, digests, housekeeping): waiting, delayed, or taken by a
    worker and not yet done (Dramatiq's qsize)."""
    client = redis_client(config)
    try:
        check_reachable(client, str(config.cluster.broker_url))
        return int(build_broker(config, client).do_qsize(QUEUE))
    finally:
        client.close()
