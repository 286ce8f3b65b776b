"""CPU-bound stage work in worker processes: every core busy, not one under the GIL.

:class:`ProcessPool` runs a module-level function in a ``concurrent.futures.ProcessPoolExecutor``
with the ``spawn`` start method (no fork of a process that holds a reactor, threads and database
connections). A worker that dies (killed, a crash inside lxml) breaks the whole pool: the pool is
replaced once per breakage and each call that was in it is tried once more on the new pool; a call
whose second try breaks a pool too raises :class:`WorkerCrashed`. ``restarts`` counts the
replacements. Each caller awaits its own result, so items keep their order through the pipeline.
Workers start on the first call, so a crawl that extracts nothing starts none.

With ``time_limit_s``, a call that runs longer than that in its worker (counted from the moment
the worker starts it, so neither the wait for a free worker nor a new worker's start-up counts;
``warm``, a module-level function and its arguments, runs in each new worker before its first
call, so what a first call would load (rules, a model, a parser's tables) does not count either)
has its worker killed (SIGKILL) and raises :class:`WorkerTimedOut`; it is not tried again. Killing
a worker breaks the pool like any other death: the pool is replaced and the other calls that were
in it are tried again on the new one. At most two calls per worker are handed to the pool at
once (one running, one waiting), so the workers never wait for work and a waiting call's time
does not count.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

logger = logging.getLogger(__name__)
TRIES = 2  # the first try and one retry on a fresh pool
CALLS_PER_WORKER = 2  # handed to the pool at once: one running and one waiting
WATCH_S = 0.1  # how often a call that has not started yet is looked at
T = TypeVar("T")
Warm = tuple[Callable[..., object], tuple[Any, ...]]

# In a worker: the shared slots its calls report their start in (set by _init_worker).
_slots: Any = None


class WorkerCrashed(RuntimeError):
    """A call broke the worker pool on each of its tries."""


class WorkerTimedOut(RuntimeError):
    """A call ran past the pool's time limit; its worker was killed."""


def default_processes() -> int:
    """One worker per CPU this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _init_worker(slots: Any, warm: Warm | None) -> None:
    global _slots
    _slots = slots
    if warm is not None:
        function, args = warm
        try:
            function(*args)
        except Exception:  # the calls themselves will fail, and say why, where they are counted
            logger.exception("warming up a worker process failed")


def _started(slot: int, function: Callable[..., T], args: Any, kwargs: Any) -> T:
    """In a worker: note when and where the call starts (pid, monotonic time), then run it."""
    _slots[2 * slot] = float(os.getpid())
    _slots[2 * slot + 1] = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process
    return function(*args, **kwargs)


class ProcessPool:
    """A replaceable pool of spawned workers, with an optional time limit per call."""

    def __init__(
        self, processes: int, time_limit_s: float | None = None, warm: Warm | None = None
    ) -> None:
        if processes < 1:
            raise ValueError(f"processes must be at least 1, not {processes}")
        if time_limit_s is not None and time_limit_s <= 0:
            raise ValueError(f"time_limit_s must be positive, not {time_limit_s}")
        self.processes = processes
        self.time_limit_s = time_limit_s
        self.warm = warm
        self.restarts = 0
        self.timeouts = 0
        self._context = multiprocessing.get_context("spawn")
        # Per slot (a call handed to the pool): the pid of the worker running it and when it
        # started (0: not yet).
        self._calls = CALLS_PER_WORKER * processes
        self._slots = self._context.Array("d", 2 * self._calls, lock=False)
        self._free: asyncio.Queue[int] | None = None
        self._executor = self._new()

    def _new(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.processes,
            mp_context=self._context,
            initializer=_init_worker,
            initargs=(self._slots, self.warm),
        )

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        if self._executor is broken:  # the first of its calls to notice replaces it
            self.restarts += 1
            logger.warning("a worker process died; starting a new pool")
            broken.shutdown(wait=False)
            self._executor = self._new()

    async def _slot(self) -> int:
        if self._free is None:
            self._free = asyncio.Queue()
            for slot in range(self._calls):
                self._free.put_nowait(slot)
        return await self._free.get()

    async def _await(self, future: asyncio.Future[T], slot: int, limit: float) -> T:
        """The call's result, or :class:`WorkerTimedOut` once it ran ``limit`` seconds."""
        while True:
            started = self._slots[2 * slot + 1]
            wait = WATCH_S if not started else started + limit - time.monotonic()
            if wait > 0:
                done, _ = await asyncio.wait({future}, timeout=wait)
                if done:
                    return future.result()
                continue
            pid = int(self._slots[2 * slot])
            self.timeouts += 1
            logger.warning("a call ran past %.1f s; killing its worker %d", limit, pid)
            if pid > 0:  # written before the start time; never 0 (the whole process group)
                with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
                    os.kill(pid, signal.SIGKILL)
            raise WorkerTimedOut(f"ran past the {limit:g} s limit; its worker was killed")

    async def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``function(*args, **kwargs)`` in a worker; :class:`WorkerCrashed` after two breakages,
        :class:`WorkerTimedOut` past the time limit."""
        slot = await self._slot()
        try:
            for _ in range(TRIES):
                executor = self._executor
                self._slots[2 * slot] = self._slots[2 * slot + 1] = 0.0
                try:
                    future = asyncio.wrap_future(
                        executor.submit(_started, slot, function, args, kwargs)
                    )
                    if self.time_limit_s is None:
                        return await future
                    try:
                        return await self._await(future, slot, self.time_limit_s)
                    except WorkerTimedOut:
                        future.cancel()
                        self._replace(executor)
                        raise
                except BrokenProcessPool:
                    self._replace(executor)
            raise WorkerCrashed(
                f"{getattr(function, '__name__', function)} broke the pool {TRIES} times"
            )
        finally:
            assert self._free is not None
            self._free.put_nowait(slot)

    def pids(self) -> list[int]:
        """The live worker processes' ids (for tests and diagnostics)."""
        processes = getattr(self._executor, "_processes", None) or {}
        return [p.pid for p in processes.values() if p.pid is not None]

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)
