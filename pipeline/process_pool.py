"""CPU-bound stage work in worker processes: every core busy, not one under the GIL.

:class:`ProcessPool` runs a module-level function in a ``concurrent.futures.ProcessPoolExecutor``
with the ``spawn`` start method (no fork of a process that holds a reactor, threads and database
connections). A worker that dies (killed, a crash inside lxml) breaks the whole pool: the pool is
replaced once per breakage and each call that was in it is tried once more on the new pool; a call
whose second try breaks a pool too raises :class:`WorkerCrashed`. ``restarts`` counts the
replacements. Each caller awaits its own result, so items keep their order through the pipeline.
Workers start on the first call, so a crawl that extracts nothing starts none.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

logger = logging.getLogger(__name__)
TRIES = 2  # the first try and one retry on a fresh pool
T = TypeVar("T")


class WorkerCrashed(RuntimeError):
    """A call broke the worker pool on each of its tries."""


def default_processes() -> int:
    """One worker per CPU this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class ProcessPool:
    """A replaceable pool of spawned workers."""

    def __init__(self, processes: int) -> None:
        if processes < 1:
            raise ValueError(f"processes must be at least 1, not {processes}")
        self.processes = processes
        self.restarts = 0
        self._context = multiprocessing.get_context("spawn")
        self._executor = self._new()

    def _new(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.processes, mp_context=self._context)

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        if self._executor is broken:  # the first of its calls to notice replaces it
            self.restarts += 1
            logger.warning("a worker process died; starting a new pool")
            broken.shutdown(wait=False, cancel_futures=True)
            self._executor = self._new()

    async def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``function(*args, **kwargs)`` in a worker; :class:`WorkerCrashed` after two breakages."""
        for _ in range(TRIES):
            executor = self._executor
            try:
                return await asyncio.wrap_future(executor.submit(function, *args, **kwargs))
            except BrokenProcessPool:
                self._replace(executor)
        raise WorkerCrashed(
            f"{getattr(function, '__name__', function)} broke the pool {TRIES} times"
        )

    def pids(self) -> list[int]:
        """The live worker processes' ids (for tests and diagnostics)."""
        processes = getattr(self._executor, "_processes", None) or {}
        return [p.pid for p in processes.values() if p.pid is not None]

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True)
