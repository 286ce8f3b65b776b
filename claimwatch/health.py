"""Health of the monitoring: failing sources, overdue digests, and the back-off for a source that
keeps failing (it is reported, not retried in a tight loop)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from claimwatch.config import Config
from pipeline.db import make_engine, session_factory
from pipeline.models import CrawlRun, Source

MAX_BACKOFF_FACTOR = 16


def consecutive_failures(
    session: Session, source: str, limit: int = 50
) -> tuple[int, datetime | None]:
    """How many of the source's latest runs failed in a row, and when the latest started."""
    runs = session.execute(
        select(CrawlRun.status, CrawlRun.started_at)
        .join(Source, Source.id == CrawlRun.source_id)
        .where(Source.name == source, CrawlRun.status != "running")
        .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
        .limit(limit)
    ).all()
    failed = 0
    for status, _started in runs:
        if status != "failed":
            break
        failed += 1
    return failed, runs[0][1] if runs else None


def backoff(failures: int, failing_after: int) -> int:
    """Crawl every n-th turn: 1 while healthy, then 2, 4, 8, 16 as failures go on."""
    if failures < failing_after:
        return 1
    return int(min(2 ** (failures - failing_after + 1), MAX_BACKOFF_FACTOR))


def should_skip(config: Config, source: str, now: datetime | None = None) -> str | None:
    """Why this turn of a failing source's crawl is skipped, or ``None`` to crawl."""
    from scheduler import period_of, trigger_for

    now = now or datetime.now(UTC)
    engine = make_engine(config.db_url)
    try:
        if not inspect(engine).has_table("crawl_runs"):
            return None
        with session_factory(engine)() as session:
            failures, last = consecutive_failures(session, source)
    finally:
        engine.dispose()
    factor = backoff(failures, config.schedule.failing_after)
    if factor == 1 or last is None:
        return None
    spec = config.source(source).schedule or config.schedule.crawl
    period = period_of(trigger_for(spec, config.schedule.timezone), now)
    wait = period * factor - timedelta(seconds=1)
    if now - last < wait:
        return f"failed {failures} runs in a row; next try after {last + wait:%Y-%m-%d %H:%M} UTC"
    return None


@dataclass(frozen=True)
class Problem:
    what: str
    detail: str


def problems(config: Config, now: datetime | None = None) -> list[Problem]:
    """What ``claimwatch status --check`` fails on: failing sources and an overdue digest."""
    from reports.listings import source_health

    now = now or datetime.now(UTC)
    engine = make_engine(config.db_url)
    found: list[Problem] = []
    try:
        if not inspect(engine).has_table("sources"):
            return found
        with session_factory(engine)() as session:
            for row in source_health(session):
                if row.failing_runs >= config.schedule.failing_after:
                    found.append(
                        Problem(
                            "source failing", f"{row.name}: {row.failing_runs} failed runs in a row"
                        )
                    )
            found += _overdue_digest(session, config, now)
    finally:
        engine.dispose()
    return found


def _overdue_digest(session: Session, config: Config, now: datetime) -> list[Problem]:
    """The last digest time has passed (plus a grace) and its period is not sent."""
    from reports.ledger import due_periods
    from scheduler import trigger_for

    if not config.mail.enabled:
        return []
    trigger = trigger_for(config.schedule.digest, config.schedule.timezone)
    last_fire = None
    probe = now - timedelta(days=8)
    while True:
        fire = trigger.get_next_fire_time(last_fire, probe)
        if fire is None or fire > now:
            break
        last_fire, probe = fire, fire + timedelta(seconds=1)
    if last_fire is None or now - last_fire < timedelta(hours=config.schedule.digest_grace_h):
        return []
    overdue = [
        job
        for job in due_periods(session, config.mail, now, config.digest.timezone)
        if job.period.end <= last_fire
    ]
    return [
        Problem("digest overdue", f"{job.period.key} not sent to list {job.mail_list.name}")
        for job in overdue
    ]
