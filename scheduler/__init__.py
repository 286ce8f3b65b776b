"""The monitoring daemon's composition root: ``build_scheduler(config)`` and the jobs it runs.

It holds no business logic. Every job starts work elsewhere:

* ``crawl:<source>`` runs ``claimwatch crawl <source>`` in its own process (Twisted's reactor
  cannot restart in one process) with a time limit; the crawl records its own run, and success or
  failure comes from the crawl's stats, through its exit code and its crawl-run row;
* ``digest`` runs ``claimwatch digest --send`` (or without ``--send`` when mail is off): the digest
  ledger, not the scheduler, guarantees each period is sent exactly once, so a crash, a restart or
  a week of downtime never skips or repeats one;
* ``housekeeping`` drops raw HTML past its retention and compacts the database.

With ``[cluster] broker_url`` set, each job puts its work on the Redis queue for the workers
(worker/) instead of doing it, and tries the enqueue again while Redis is unreachable.

Jobs live in an APScheduler 3 ``SQLAlchemyJobStore`` on the project database and are replaced by
id from the configuration at every start (jobs of removed sources are deleted). ``coalesce`` and
``max_instances=1`` hold for all; the misfire grace time of each job is its own period, so a job
missed during downtime runs once after it, and never a backlog of copies.

The package: :mod:`scheduler.triggers` (durations and cron expressions as triggers),
:mod:`scheduler.jobs` (the job functions, the crawl back-off, the subprocesses they start) and
:mod:`scheduler.build` (the scheduler, its job store and the daemon's signal handling). The job
store refers to the jobs by name as ``scheduler:crawl_job`` and so on, so they are exported here.
"""

from scheduler.build import (
    JOB_EVENTS,
    JOBS_TABLE,
    build_scheduler,
    install_signal_handlers,
    job_specs,
    job_table,
    log_job_event,
    run_due_now,
    stored_jobs,
    sync_jobs,
)
from scheduler.jobs import (
    backoff,
    crawl_job,
    digest_job,
    housekeeping_job,
    should_skip,
    stop_all,
)
from scheduler.triggers import WallClockCronTrigger, last_fire, period_of, trigger_for

__all__ = [
    "JOBS_TABLE",
    "JOB_EVENTS",
    "WallClockCronTrigger",
    "backoff",
    "build_scheduler",
    "crawl_job",
    "digest_job",
    "housekeeping_job",
    "install_signal_handlers",
    "job_specs",
    "job_table",
    "last_fire",
    "log_job_event",
    "period_of",
    "run_due_now",
    "should_skip",
    "stop_all",
    "stored_jobs",
    "sync_jobs",
    "trigger_for",
]
