"""What ``claimwatch status --check`` fails on: failing sources and an overdue digest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from core.config import Config
from core.db import engine_for, sessions_for
from pipeline.health import is_failing
from reports.ledger import due_periods
from reports.listings import source_health
from scheduler import last_fire, trigger_for


@dataclass(frozen=True)
class Problem:
    what: str
    detail: str


def problems(config: Config, now: datetime | None = None) -> list[Problem]:
    """Sources failing ``schedule.failing_after`` runs in a row, and digests past their time."""
    now = now or datetime.now(UTC)
    found: list[Problem] = []
    if not inspect(engine_for(config.db_url)).has_table("sources"):
        return found
    failing_after = config.schedule.failing_after
    with sessions_for(config.db_url)() as session:
        for row in source_health(session, failing_after):
            if is_failing(row.failing_runs, failing_after):
                found.append(
                    Problem(
                        "source failing", f"{row.name}: {row.failing_runs} failed runs in a row"
                    )
                )
        found += _overdue_digest(session, config, now)
    return found


def _overdue_digest(session: Session, config: Config, now: datetime) -> list[Problem]:
    """The last digest time has passed (plus a grace) and its period is not sent."""
    if not config.mail.enabled:
        return []
    trigger = trigger_for(config.schedule.digest, config.schedule.timezone)
    fired = last_fire(trigger, now, timedelta(days=8))
    if fired is None or now - fired < timedelta(hours=config.schedule.digest_grace_h):
        return []
    overdue = [
        job
        for job in due_periods(session, config.mail, now, config.digest.timezone)
        if job.period.end <= fired
    ]
    return [
        Problem("digest overdue", f"{job.period.key} not sent to list {job.mail_list.name}")
        for job in overdue
    ]
