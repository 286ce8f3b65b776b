"""A source's health, defined once: its failed streak (one query) and how that reads.

A source's *streak* is how many of its latest finished crawl runs failed in a row; a run still
``running`` counts neither way. The source is *failing* once the streak reaches ``failing_after``
(``schedule.failing_after`` in the config). ``claimwatch sources``, ``claimwatch status --check``,
the daemon's back-off and the digest's source table all read it from here.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import Schedule
from core.models import CrawlRun, Source

DEFAULT_FAILING_AFTER: int = Schedule.model_fields["failing_after"].default
STREAK_LIMIT = 50  # runs looked at; a longer streak reads as this many


class Streak(NamedTuple):
    failed: int  # finished runs failed in a row, latest first
    last_started: datetime | None  # when the latest finished run started


def failed_streak(
    session: Session,
    source: int | str,
    *,
    before: datetime | None = None,
    limit: int = STREAK_LIMIT,
) -> Streak:
    """The streak of a source (by id or by name), counting only runs started before ``before``."""
    query = select(CrawlRun.status, CrawlRun.started_at).where(CrawlRun.status != "running")
    if isinstance(source, str):
        query = query.join(Source, Source.id == CrawlRun.source_id).where(Source.name == source)
    else:
        query = query.where(CrawlRun.source_id == source)
    if before is not None:
        query = query.where(CrawlRun.started_at < before)
    runs = session.execute(
        query.order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc()).limit(limit)
    ).all()
    failed = 0
    for status, _started in runs:
        if status != "failed":
            break
        failed += 1
    return Streak(failed, runs[0][1] if runs else None)


def is_failing(failed_runs: int, failing_after: int) -> bool:
    return failed_runs >= failing_after


def health_label(last_status: str | None, failed_runs: int, failing_after: int) -> str:
    """``never crawled``, ``failing (N runs)``, ``healthy``, ``failed last run``, or the status
    of a run that has not finished."""
    if last_status is None:
        return "never crawled"
    if is_failing(failed_runs, failing_after):
        return f"failing ({failed_runs} runs)"
    return {"ok": "healthy", "failed": "failed last run"}.get(last_status, last_status)
