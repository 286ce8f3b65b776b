"""A source's lock in Redis: at most one worker crawls a source at a time.

The lock is a Redis key with an expiry (redis-py's ``Lock``: a random token, set with ``NX`` and
``PX``; only the holder's token can renew or release it). While the crawl runs, a thread renews it
every third of its time to live. A worker that dies, even by ``kill -9``, stops renewing it, and
the key expires on its own within ``ttl_s``: no manual clean-up, and the crawl can run elsewhere.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import Any

from redis import Redis
from redis.exceptions import LockError

logger = logging.getLogger("claimwatch.worker")


def lock_key(namespace: str, source: str) -> str:
    return f"{namespace}:lock:source:{source}"


def job_lock_key(namespace: str, job: str) -> str:
    """The lock of the daemon's ``digest`` or ``housekeeping`` job run by a worker."""
    return f"{namespace}:lock:job:{job}"


class SourceLock:
    """``acquire()`` (non-blocking: ``False`` when another worker holds it), renewed while held,
    ``release()``. A lock whose renewal failed (it expired, and maybe another worker took it)
    says so: :attr:`lost`."""

    def __init__(
        self, client: Redis, namespace: str, source: str, ttl_s: float, key: str | None = None
    ) -> None:
        if ttl_s <= 0:
            raise ValueError("ttl_s must be more than 0")
        self.key = key or lock_key(namespace, source)
        self.ttl_s = ttl_s
        self._lock: Any = client.lock(self.key, timeout=ttl_s, blocking=False, thread_local=False)
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.lost = False

    def acquire(self) -> bool:
        if not self._lock.acquire(blocking=False):
            return False
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew, name=f"renew {self.key}", daemon=True)
        self._renewer.start()
        return True

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl_s / 3):
            try:
                self._lock.reacquire()
            except LockError:
                self.lost = True
                logger.error("lost %s: it expired before it was renewed", self.key)
                return
            except Exception as exc:  # Redis unreachable: try again until the lock expires
                logger.warning("could not renew %s: %s", self.key, exc)

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        try:
            self._lock.release()
        except LockError:
            pass  # expired already: nothing to free
        except Exception as exc:
            logger.warning("could not release %s (it expires on its own): %s", self.key, exc)

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._renewer is not None:
            self.release()
