"""Housekeeping for the daemon: drop raw HTML past its retention, tidy the database."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, text, update
from sqlalchemy.orm import Session

from core.models import Article


def expire_raw_html(session: Session, now: datetime, keep_days: int) -> int:
    """Empty the raw HTML of articles fetched more than ``keep_days`` ago (0 keeps everything).
    Hashes, text and claims stay; only the evidence copy goes. Returns how many rows changed."""
    if keep_days <= 0:
        return 0
    cutoff = now - timedelta(days=keep_days)
    with session.begin():
        result = session.execute(
            update(Article)
            .where(Article.fetched_at < cutoff, Article.raw_html_gz != b"")
            .values(raw_html_gz=b"")
        )
    return int(getattr(result, "rowcount", 0) or 0)


def compact(engine: Engine) -> str:
    """Reclaim space: VACUUM and optimise on SQLite, ANALYZE on PostgreSQL."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(text("PRAGMA optimize"))
            conn.execute(text("VACUUM"))
        return "vacuumed"
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return "analyzed"
