"""The monitoring daemon's composition root: ``build_scheduler(config)`` and the jobs it runs.

It holds no business logic. Every job starts work elsewhere:

* ``crawl:<source>`` runs ``claimwatch crawl <source>`` in its own process (Twisted's reactor
  cannot restart in one process) with a time limit; the crawl records its own run, and success or
  failure comes from the crawl's stats, through its exit code and its crawl-run row;
* ``digest`` runs ``claimwatch digest --send`` (or without ``--send`` when mail is off): the digest
  ledger, not the scheduler, guarantees each period is sent exactly once, so a crash, a restart or
  a week of downtime never skips or repeats one;
* ``housekeeping`` drops raw HTML past its retention and compacts the database.

Jobs live in an APScheduler 3 ``SQLAlchemyJobStore`` on the project database and are replaced by
id from the configuration at every start (jobs of removed sources are deleted). ``coalesce`` and
``max_instances=1`` hold for all; the misfire grace time of each job is its own period, so a job
missed during downtime runs once after it, and never a backlog of copies.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from claimwatch.config import Config, parse_every

logger = logging.getLogger("claimwatch.scheduler")
JOBS_TABLE = "apscheduler_jobs"
STOP_GRACE_S = 30.0  # a crawl asked to stop gets this long to flush before it is killed
_running: set[subprocess.Popen[bytes]] = set()
_running_lock = threading.Lock()


def trigger_for(when: str, timezone: str) -> BaseTrigger:
    """An interval trigger for a duration (``6h``), a cron trigger for a cron expression."""
    seconds = parse_every(when)
    if seconds is not None:
        return IntervalTrigger(seconds=seconds, timezone=timezone)
    return CronTrigger.from_crontab(when, timezone=timezone)


def period_of(trigger: BaseTrigger, now: datetime) -> timedelta:
    """The time between two fires (for the misfire grace time)."""
    first = trigger.get_next_fire_time(None, now)
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1)) if first else None
    if first is None or second is None:
        return timedelta(days=1)
    period: timedelta = second - first
    return period


def cli_command(config_path: Path | None, *args: str) -> list[str]:
    command = [sys.executable, "-m", "claimwatch"]
    if config_path is not None:
        command += ["--config", str(config_path)]
    return [*command, *args]


def run_process(command: list[str], time_limit: float) -> int:
    """Run a claimwatch command in its own process; ask it to stop at the time limit, then kill."""
    label = " ".join(
        command[command.index("--config") + 2 :] if "--config" in command else command[3:]
    )
    logger.info("starting: %s", label)
    process = subprocess.Popen(command, start_new_session=True, preexec_fn=_die_with_parent)
    with _running_lock:
        _running.add(process)
    try:
        return process.wait(timeout=time_limit)
    except subprocess.TimeoutExpired:
        logger.warning("time limit reached, stopping: %s", label)
        stop_process(process)
        return process.wait()
    finally:
        with _running_lock:
            _running.discard(process)


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM if the daemon dies (even by kill -9), so no crawl is orphaned;
    it then stops like any Scrapy crawl, keeping its committed batches."""
    if sys.platform != "linux":
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def stop_process(process: subprocess.Popen[bytes], grace: float = STOP_GRACE_S) -> None:
    """SIGTERM (Scrapy closes the spider and flushes what it has), then SIGKILL after ``grace``."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()


def stop_all(grace: float = STOP_GRACE_S) -> None:
    with _running_lock:
        processes = list(_running)
    for process in processes:
        stop_process(process, grace)


# -- jobs: module-level functions, referenced by name in the job store --------------------------


def crawl_job(config_path: str | None, source: str) -> int:
    from claimwatch.config import load_config
    from claimwatch.health import should_skip

    config = load_config(Path(config_path) if config_path else None)
    skip = should_skip(config, source)
    if skip:
        logger.warning("crawl %s skipped: %s", source, skip)
        return 0
    path = Path(config_path) if config_path else None
    code = run_process(cli_command(path, "crawl", source), config.schedule.crawl_time_limit_s)
    logger.info("crawl %s finished with exit code %s", source, code)
    return code


def digest_job(config_path: str | None) -> int:
    from claimwatch.config import load_config

    config = load_config(Path(config_path) if config_path else None)
    args = ["digest", "--send"] if config.mail.enabled else ["digest"]
    path = Path(config_path) if config_path else None
    code = run_process(cli_command(path, *args), config.schedule.crawl_time_limit_s)
    logger.info("digest finished with exit code %s", code)
    return code


def housekeeping_job(config_path: str | None) -> str:
    from claimwatch.config import load_config
    from pipeline.db import make_engine, session_factory
    from pipeline.housekeeping import compact, expire_raw_html

    config = load_config(Path(config_path) if config_path else None)
    engine = make_engine(config.db_url)
    try:
        with session_factory(engine)() as session:
            expired = expire_raw_html(session, datetime.now(UTC), config.schedule.raw_html_days)
        done = compact(engine)
    finally:
        engine.dispose()
    logger.info("housekeeping: raw HTML dropped from %d articles; database %s", expired, done)
    return done


# -- composition ----------------------------------------------------------------------------------


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
    from pipeline.db import make_engine, upgrade

    engine = make_engine(config.db_url)
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
    from pipeline.db import make_engine

    engine = make_engine(config.db_url)
    try:
        stored = stored_jobs(engine)
    finally:
        engine.dispose()
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
        while following is not None and following <= now:  # coalesced: one run for the backlog
            following = job.trigger.get_next_fire_time(following, now)
        scheduler.modify_job(job.id, next_run_time=following)
    return ran
