"""pipeline/health.py: one failed-streak query and one threshold for `sources`, `status --check`,
the daemon's back-off and the digest."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from claimwatch.cli.checks import problems
from core.config import load_config
from core.db import session_factory
from core.models import CrawlRun, Source
from pipeline.health import DEFAULT_FAILING_AFTER, failed_streak, health_label, is_failing
from reports.listings import source_health
from reports.period import week_of
from reports.sections import source_rows

T0 = datetime(2026, 11, 16, 6, tzinfo=UTC)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session


def runs(session: Session, name: str, statuses: list[str], items: int = 0) -> Source:
    """A source whose runs, oldest first, ended with ``statuses``, six hours apart, each with
    ``items`` articles."""
    source = Source(name=name, kind="feed", start_urls=[f"https://{name}.test/feed"])
    session.add(source)
    session.flush()
    for i, status in enumerate(statuses):
        session.add(
            CrawlRun(
                run_group=f"{name}-{i}",
                source_id=source.id,
                started_at=T0 + timedelta(hours=6 * i),
                status=status,
                items=items,
            )
        )
    session.commit()
    return source


def test_streak_counts_the_latest_finished_failures(session: Session) -> None:
    source = runs(session, "news", ["failed", "ok", "failed", "failed", "running"])
    assert failed_streak(session, source.id) == (2, T0 + timedelta(hours=18))
    assert failed_streak(session, "news").failed == 2  # by name, the same query
    assert failed_streak(session, source.id, before=T0 + timedelta(hours=13)).failed == 1
    assert failed_streak(session, source.id, before=T0 + timedelta(hours=11)).failed == 0
    assert failed_streak(session, "nowhere") == (0, None)


def test_one_threshold_and_one_label() -> None:
    assert load_config(None, env={}).schedule.failing_after == DEFAULT_FAILING_AFTER
    assert not is_failing(2, 3) and is_failing(3, 3)
    assert health_label(None, 0, 3) == "never crawled"
    assert health_label("failed", 2, 3) == "failed last run"
    assert health_label("failed", 3, 3) == "failing (3 runs)"
    assert health_label("ok", 0, 3) == "healthy"


def test_listing_check_and_digest_agree(engine: Engine, session: Session, tmp_path) -> None:
    runs(session, "news", ["ok", "failed", "failed"])
    runs(session, "hub", ["ok", "ok"], items=2)
    url = engine.url.render_as_string(hide_password=False)
    for failing_after, failing in ((2, True), (3, False)):
        [hub, news] = source_health(session, failing_after)
        assert (hub.health, is_failing(news.failing_runs, failing_after)) == ("healthy", failing)
        period = week_of(T0, "UTC")
        digest_rows = {r.name: r for r in source_rows(session, period, failing_after)}
        assert digest_rows["news"].failing is failing
        config = load_config(
            None,
            env={
                "CLAIMWATCH_DATABASE_URL": url,
                "CLAIMWATCH_DATA_DIR": str(tmp_path),
                "CLAIMWATCH_SCHEDULE__FAILING_AFTER": str(failing_after),
            },
        )
        found = [p.detail for p in problems(config, now=T0 + timedelta(days=1))]
        assert found == (["news: 2 failed runs in a row"] if failing else [])
