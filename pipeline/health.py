"""A source's health, defined once: its failed streak (one query) and how that reads.

A source's *streak* is how many of its latest finished crawl runs failed in a row; a run still
``running`` counts neither way. The source is *failing* once the streak reaches ``failing_after``
(``schedule.failing_after`` in the config). ``claimwatch sources``, ``claimwatch status --check``,
the daemon's back-off and the digest's source table all read it from here, and the words for what a run did:
:func:`failure_reason` (error counts and a sample) and :func:`listed_note` ("0 new of 12 listed").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

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


# -- what a run did, in words ----------------------------------------------------------------------

# what makes up "listed": the pages fetched (304s included) and those skipped as known or over budget
LISTED = (
    "fetch/pages",
    "discovery/lastmod_unchanged",
    "discovery/recently_checked",
    "discovery/over_budget",
)


def failure_reason(own: Mapping[str, Any], samples: Sequence[Mapping[str, str]] = ()) -> str:
    """Why a run failed, in one line: its error counts by reason, most frequent first, and one
    sample (``own``: the run's per-source stats, without the ``source/<name>/`` prefix)."""
    counts = {
        key.removeprefix("errors/"): int(value)
        for key, value in own.items()
        if key.startswith("errors/") and key not in ("errors/total", "errors/start_failed")
    }
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{count} {reason}" for reason, count in ranked[:4]) or "no page fetched"
    if len(ranked) > 4:
        text += f", {sum(c for _, c in ranked[4:])} other"
    if samples:
        sample = samples[0]
        detail = " ".join(str(sample.get("detail", "")).split())[:160]
        text += f"; e.g. {sample.get('url', '')}: {detail}"
    return text


def listed_note(own: Mapping[str, Any]) -> str:
    """``"0 new of 12 listed"``: the articles stored as new against the pages the sitemaps, feeds
    or links offered: fetched, or skipped as known and unchanged or over the page budget. (A
    ``site`` source counts a known page once per link to it.)"""
    listed = sum(int(own.get(key, 0)) for key in LISTED)
    new = int(own.get("store/inserted", 0))
    note = f"{new} new of {listed} listed"
    if listed == 0 and not own.get("errors/total", 0):
        note += " (nothing offered: check the start URLs, allow/deny and allowed_domains)"
    return note


def run_note(status: str | None, stats: Mapping[str, Any] | None) -> str:
    """What a finished run says beside its status: the failure reason of a failed run, else how
    many articles were new of those listed (``stats``: the run's stored ``stats`` column)."""
    if status is None or not stats:
        return ""
    own = stats.get("source") or {}
    if status == "failed":
        return failure_reason(own, stats.get("error_samples") or ())
    if status == "running":
        return ""
    return listed_note(own)
