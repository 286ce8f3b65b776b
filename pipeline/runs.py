"""Crawl-run bookkeeping: one row per source per crawl process, opened at the start and closed with
the crawl's stats. Success or failure is decided here, from the stats, never from an exit code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.models import CrawlRun, Source


@dataclass(frozen=True, slots=True)
class SourceSpec:
    name: str
    kind: str
    start_urls: list[str]


def ensure_sources(session: Session, specs: list[SourceSpec]) -> dict[str, int]:
    """Create or refresh the source rows; return name -> id."""
    ids: dict[str, int] = {}
    for spec in specs:
        row = session.scalar(select(Source).where(Source.name == spec.name))
        if row is None:
            row = Source(name=spec.name, kind=spec.kind, start_urls=spec.start_urls)
            session.add(row)
            session.flush()
        else:
            row.kind, row.start_urls = spec.kind, spec.start_urls
        ids[spec.name] = row.id
    return ids


def open_runs(
    session: Session, specs: list[SourceSpec], run_group: str, pid: int | None
) -> dict[str, int]:
    """Mark runs left 'running' by a dead process as interrupted, then open one run per source."""
    with session.begin():
        session.execute(
            update(CrawlRun)
            .where(CrawlRun.status == "running", CrawlRun.run_group != run_group)
            .where(CrawlRun.pid.is_not(None))
            .where(CrawlRun.pid.not_in(_live_pids(session)))
            .values(status="interrupted", finish_reason="process died")
        )
        ids = ensure_sources(session, specs)
        runs = {}
        for name, source_id in ids.items():
            run = CrawlRun(run_group=run_group, source_id=source_id, pid=pid, status="running")
            session.add(run)
            session.flush()
            runs[name] = run.id
    return runs


def _live_pids(session: Session) -> list[int]:
    import os

    live = []
    for pid in session.scalars(select(CrawlRun.pid).where(CrawlRun.status == "running")):
        if pid is None:
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        except PermissionError:
            pass
        live.append(pid)
    return live


def source_stats(stats: dict[str, Any], name: str) -> dict[str, Any]:
    prefix = f"source/{name}/"
    return {key[len(prefix) :]: value for key, value in stats.items() if key.startswith(prefix)}


def failure_of(own: dict[str, Any]) -> str | None:
    """Why a source's run failed when fetching worked: articles that could not be stored."""
    lost = int(own.get("store/error", 0))
    if lost:
        reason = own.get("store/failure") or "unknown error"
        return f"store: {lost} item(s) not stored ({reason})"
    return None


def source_status(own: dict[str, Any], start_urls: int, finish_reason: str) -> str:
    """``ok``, ``failed`` (no start URL could be fetched, nothing worked at all, or articles could
    not be stored) or ``interrupted`` (the crawl stopped before finishing)."""
    if failure_of(own):
        return "failed"
    if own.get("errors/start_failed", 0) >= start_urls:
        return "failed"
    if (
        own.get("errors/total", 0)
        and not own.get("fetch/pages", 0)
        and not any(key.startswith("discovery/") and key.endswith("_fetched") for key in own)
    ):
        return "failed"
    if finish_reason not in ("finished", "closespider_pagecount", "closespider_itemcount"):
        return "interrupted"
    return "ok"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


def close_runs(
    session: Session,
    runs: dict[str, int],
    start_urls: dict[str, int],
    stats: dict[str, Any],
    finish_reason: str,
    samples: dict[str, list[dict[str, str]]],
) -> dict[str, str]:
    """Write each source's figures and status; return name -> status."""
    statuses: dict[str, str] = {}
    crawl_wide = {k: _jsonable(v) for k, v in stats.items() if not k.startswith("source/")}
    with session.begin():
        for name, run_id in runs.items():
            own = source_stats(stats, name)
            status = source_status(own, start_urls.get(name, 1), finish_reason)
            statuses[name] = status
            session.execute(
                update(CrawlRun)
                .where(CrawlRun.id == run_id)
                .values(
                    finished_at=datetime.now(UTC),
                    status=status,
                    finish_reason=finish_reason,
                    pages=int(own.get("fetch/pages", 0)),
                    items=int(own.get("items", 0)),
                    errors=int(own.get("errors/total", 0)) + int(own.get("store/error", 0)),
                    stats={
                        "failure": failure_of(own),
                        "source": {k: _jsonable(v) for k, v in own.items()},
                        "crawl": crawl_wide,
                        "error_samples": samples.get(name, []),
                    },
                )
            )
    return statuses
