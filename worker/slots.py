"""Host slots in Redis: sources that share a host never exceed that host's limit together.

Each host has ``limit`` slots (``crawl.concurrency_per_domain``, the most requests claimwatch has
in flight to one host). A crawl takes, on every host its source crawls (:func:`host_weights`), as
many slots as it may have requests in flight there, all hosts at once or none (one Lua script, so
two workers never each hold half of what the other needs). The slots of a host are one sorted set,
``<namespace>:slots:host:<host>``: a member per slot, scored with its expiry in Redis's own clock
(``TIME``, so the workers' clocks do not matter). Every take first drops the expired members, so
the slots of a worker killed with -9 free themselves within ``ttl_s``; a live holder renews its
slots every third of ``ttl_s``. A holder whose slots expired before it renewed them says so
(:attr:`HostSlots.lost`).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Mapping

from redis import Redis

from core.config import Crawl, Source

logger = logging.getLogger("claimwatch.worker")

# KEYS: the hosts' slot sets. ARGV: token, ttl in ms, limit, then one weight per key.
_NOW = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"
_TAKE = (
    _NOW
    + """
local ttl = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if redis.call('ZCARD', key) + tonumber(ARGV[3 + i]) > limit then return 0 end
end
for i, key in ipairs(KEYS) do
  for n = 1, tonumber(ARGV[3 + i]) do
    redis.call('ZADD', key, now + ttl, ARGV[1] .. ':' .. n)
  end
  redis.call('PEXPIRE', key, 2 * ttl)
end
return 1
"""
)
# Renew: every member still there and unexpired, or 0 (lost; whatever is left is dropped).
_RENEW = (
    _NOW
    + """
local ttl = tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  for n = 1, tonumber(ARGV[3 + i]) do
    local score = redis.call('ZSCORE', key, ARGV[1] .. ':' .. n)
    if not score or tonumber(score) <= now then
      for j, other in ipairs(KEYS) do
        for m = 1, tonumber(ARGV[3 + j]) do redis.call('ZREM', other, ARGV[1] .. ':' .. m) end
      end
      return 0
    end
  end
end
for i, key in ipairs(KEYS) do
  for n = 1, tonumber(ARGV[3 + i]) do
    redis.call('ZADD', key, 'XX', now + ttl, ARGV[1] .. ':' .. n)
  end
  redis.call('PEXPIRE', key, 2 * ttl)
end
return 1
"""
)
_FREE = """
for i, key in ipairs(KEYS) do
  for n = 1, tonumber(ARGV[3 + i]) do redis.call('ZREM', key, ARGV[1] .. ':' .. n) end
end
return 1
"""


def slots_key(namespace: str, host: str) -> str:
    return f"{namespace}:slots:host:{host}"


def host_weights(source: Source, crawl: Crawl) -> dict[str, int]:
    """Host -> slots a crawl of ``source`` takes there: its requests in flight per host (the
    source's own ``politeness.concurrency``, else ``crawl.concurrency_per_domain``), at most the
    host's limit (a source allowed more than the limit takes the whole host)."""
    limit = crawl.concurrency_per_domain
    weight = min(source.politeness.concurrency or limit, limit)
    return {host: weight for host in source.domains if host}


def slots_in_use(client: Redis, namespace: str, host: str) -> int:
    """Slots of ``host`` taken and not expired (as Redis's clock tells)."""
    seconds, micros = client.time()
    now_ms = seconds * 1000 + micros // 1000
    return int(client.zcount(slots_key(namespace, host), f"({now_ms}", "+inf"))


class HostSlots:
    """``acquire()`` (non-blocking: ``False`` when a host has too few free slots), renewed while
    held, ``release()``."""

    def __init__(
        self,
        client: Redis,
        namespace: str,
        weights: Mapping[str, int],
        limit: int,
        ttl_s: float,
    ) -> None:
        if ttl_s <= 0:
            raise ValueError("ttl_s must be more than 0")
        if limit < 1:
            raise ValueError("limit must be at least 1")
        for host, weight in weights.items():
            if not 1 <= weight <= limit:
                raise ValueError(f"the weight of {host!r} must be in [1, {limit}], not {weight}")
        self.client = client
        self.hosts = sorted(weights)
        self.keys = [slots_key(namespace, host) for host in self.hosts]
        self.weights = [weights[host] for host in self.hosts]
        self.limit = limit
        self.ttl_s = ttl_s
        self.token = secrets.token_hex(8)
        self._take = client.register_script(_TAKE)
        self._renew_script = client.register_script(_RENEW)
        self._free = client.register_script(_FREE)
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.lost = False

    def _args(self) -> list[str | int]:
        return [self.token, int(self.ttl_s * 1000), self.limit, *self.weights]

    def acquire(self) -> bool:
        if not self.keys:
            return True  # nothing to share
        if not self._take(keys=self.keys, args=self._args()):
            return False
        self.lost = False
        self._stop.clear()
        self._renewer = threading.Thread(
            target=self._renew, name=f"renew slots {self.token}", daemon=True
        )
        self._renewer.start()
        return True

    def renew(self) -> bool:
        """Push the expiry out by ``ttl_s``; ``False`` if the slots had expired meanwhile."""
        return bool(self._renew_script(keys=self.keys, args=self._args()))

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl_s / 3):
            try:
                if not self.renew():
                    self.lost = True
                    logger.error("lost the slots on %s: they expired", ", ".join(self.hosts))
                    return
            except Exception as exc:  # Redis unreachable: try again until they expire
                logger.warning("could not renew the slots on %s: %s", ", ".join(self.hosts), exc)

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        if not self.keys:
            return
        try:
            self._free(keys=self.keys, args=self._args())
        except Exception as exc:
            logger.warning("could not free the slots (they expire on their own): %s", exc)
