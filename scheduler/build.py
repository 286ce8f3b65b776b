"""The composition root: ``build_scheduler(config)``, its job store, and the daemon's controls."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from core.config import Config
from scheduler.jobs import stop_all
from scheduler.triggers import MAX_STEPS, period_of, trigger_for

logger = logging.getLogger("claimwatch.scheduler")
JOBS_TABLE = "apscheduler_jobs"


def job_specs(config: Config, config_path: Path | None) -> list[dict[str, Any]]:
    """The jobs the configuration asks for: id, function, trigger, arguments."""
    tz = config.schedule.timezone
    path = str(config_path.resolve()) if config_path else None
    specs = []
    for source in config.sources:
        if not source.enabled:
            continue
        specs.append(
            {
                "id": f"crawl:{source.name}",
                "func": "scheduler:crawl_job",
                "trigger": trigger_for(source.schedule or config.schedule.crawl, tz),
                "args": [path, source.name],
                "name": f"crawl {source.name}",
            }
        )
    specs.append(
        {
            "id": "digest",
            "func": "scheduler:digest_job",
            "trigger": trigger_for(config.schedule.digest, tz),
            "args": [path],
            "name": "weekly digest",
        }
    )
    specs.append(
        {
            "id": "housekeeping",
            "func": "scheduler:housekeeping_job",
            "trigger": trigger_for(config.schedule.housekeeping, tz),
            "args": [path],
            "name": "housekeeping",
        }
    )
    return specs


def build_scheduler(
    config: Config,
    config_path: Path | None = None,
    *,
    blocking: bool = True,
    now: Callable[[], datetime] | None = None,
) -> BaseScheduler:
    """A scheduler with one job per source crawl, the digest and housekeeping, stored in the
    project database. Not started: call ``start()``, or inspect ``get_jobs()`` after
    ``start(paused=True)``."""
    from core.db import engine_for, upgrade

    engine = engine_for(config.db_url)
    upgrade(engine)
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBS_TABLE)},
        executors={"default": {"type": "threadpool", "max_workers": 2}},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=config.schedule.timezone,
    )
    current = (now or (lambda: datetime.now(UTC)))()
    specs = job_specs(config, config_path)
    scheduler.claimwatch_specs = specs
    stored = stored_jobs(engine)
    for spec in specs:
        grace = period_of(spec["trigger"], current)
        extra: dict[str, Any] = {}
        previous = stored.get(spec["id"])
        if previous and previous[1] == str(spec["trigger"]) and previous[2] == spec["args"]:
            # Same job as before the restart: keep its due time, so a run missed while the
            # daemon was down happens once now (coalesced, within the grace time).
            extra["next_run_time"] = previous[0]
        scheduler.add_job(
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(grace.total_seconds()),
            **spec,
            **extra,
        )
    return scheduler


def job_table(config: Config, config_path: Path | None) -> list[tuple[str, datetime | None, str]]:
    """(id, next run time, trigger) of every configured job, read without starting a scheduler:
    a started-then-stopped APScheduler 3 scheduler moves due jobs past their due time, which
    would lose a run missed while the daemon was down."""
    from core.db import engine_for

    stored = stored_jobs(engine_for(config.db_url))
    now = datetime.now(UTC)
    table = []
    for spec in job_specs(config, config_path):
        previous = stored.get(spec["id"])
        when = previous[0] if previous else spec["trigger"].get_next_fire_time(None, now)
        table.append((spec["id"], when, str(spec["trigger"])))
    return sorted(table)


def stored_jobs(engine: Any) -> dict[str, tuple[datetime | None, str, list[Any]]]:
    """Jobs already in the job store: id -> (next run time, trigger description, arguments)."""
    import pickle

    from sqlalchemy import inspect, text

    if not inspect(engine).has_table(JOBS_TABLE):
        return {}
    found = {}
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT id, next_run_time, job_state FROM {JOBS_TABLE}"))
        for job_id, next_run, state_blob in rows:
            try:
                state = pickle.loads(state_blob)  # our own job store, written by APScheduler
            except Exception:
                continue
            when = datetime.fromtimestamp(next_run, UTC) if next_run is not None else None
            found[job_id] = (when, str(state.get("trigger")), list(state.get("args", ())))
    return found


def sync_jobs(scheduler: BaseScheduler) -> list[str]:
    """After ``start``: delete stored jobs the configuration no longer has. Returns their ids."""
    wanted = {spec["id"] for spec in scheduler.claimwatch_specs}
    removed = [job.id for job in scheduler.get_jobs() if job.id not in wanted]
    for job_id in removed:
        scheduler.remove_job(job_id)
    return removed


def install_signal_handlers(scheduler: BaseScheduler) -> threading.Event:
    """SIGTERM/SIGINT: no new jobs; running crawls are asked to stop (their committed items stay).
    Returns the event set once a signal came."""
    stopped = threading.Event()

    def handle(signum: int, _frame: Any) -> None:
        logger.info("received %s: stopping", signal.Signals(signum).name)
        scheduler.pause()
        threading.Thread(target=stop_all, daemon=True).start()
        stopped.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stopped


JOB_EVENTS = EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED


def log_job_event(event: Any) -> None:
    if event.code == EVENT_JOB_ERROR:
        logger.error("job %s failed: %r", event.job_id, event.exception)
    elif event.code == EVENT_JOB_MISSED:
        logger.warning("job %s missed its run at %s", event.job_id, event.scheduled_run_time)
    else:
        logger.info("job %s done: %r", event.job_id, event.retval)


def run_due_now(scheduler: BaseScheduler, now: datetime) -> list[str]:
    """Run every job whose next run time has come (for cron users), then move each to its next
    fire time. The scheduler must be started paused."""
    from apscheduler.job import Job

    ran: list[str] = []
    for job in scheduler.get_jobs():
        assert isinstance(job, Job)
        if job.next_run_time is None or job.next_run_time > now:
            continue
        logger.info("running %s (due %s)", job.id, job.next_run_time)
        try:
            job.func(*job.args, **job.kwargs)
        except Exception:
            logger.exception("job %s failed", job.id)
        ran.append(job.id)
        following = job.trigger.get_next_fire_time(job.next_run_time, now)
        for _ in range(MAX_STEPS):  # coalesced: one run for the backlog; bounded
            if following is None or following > now:
                break
            following = job.trigger.get_next_fire_time(following, now)
        scheduler.modify_job(job.id, next_run_time=following)
    return ran
