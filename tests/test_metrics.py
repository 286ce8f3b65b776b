"""Prometheus metrics: ``claimwatch run --metrics-port N`` scraped on loopback after a real crawl
of a local site; the collector on a database directly."""

from __future__ import annotations

import re
import signal
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from core.db import session_factory
from core.models import Alert, DigestSend
from reports.metrics import registry_for
from tests.conftest import Served, run_cli
from tests.smtp_server import closed_port
from tests.test_crawl import last_runs
from tests.test_scheduler import config_file, daemon, wait_for_line


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.mark.slow
def test_the_daemon_serves_metrics_on_loopback(site: Served, tmp_path: Path) -> None:
    path = config_file(tmp_path, site.url, crawl="1d", housekeeping="1d")
    crawled = run_cli("--config", str(path), "crawl")
    assert crawled.returncode == 0, crawled.stderr
    port = closed_port()
    process = daemon(path, "--metrics-port", str(port))
    try:
        wait_for_line(process, f"metrics on http://127.0.0.1:{port}/metrics")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            assert response.status == 200
            body = response.read().decode()
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
    found = samples(body)
    weekly = (("source", "weekly"),)
    last = last_runs(f"sqlite:///{tmp_path / 'cw.db'}")["weekly"]
    assert last.items >= 2
    assert found[("claimwatch_source_last_run_items", weekly)] == last.items
    assert found[("claimwatch_source_last_run_pages", weekly)] == last.pages
    assert found[("claimwatch_source_last_run_errors", weekly)] == 0
    assert found[("claimwatch_source_last_run_ok", weekly)] == 1
    assert found[("claimwatch_source_failed_streak", weekly)] == 0
    last_success = found[("claimwatch_source_last_success_timestamp_seconds", weekly)]
    assert abs(last_success - datetime.now(UTC).timestamp()) < 600
    assert found[("claimwatch_crawls_running", ())] == 0
    assert found[("claimwatch_jobs_scheduled", ())] >= 3
    assert re.search(r"^# HELP claimwatch_digest_last_sent_timestamp_seconds ", body, re.M)


def test_the_collector_reports_digests_and_alerts(engine: Engine) -> None:
    factory = session_factory(engine)
    sent_at = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    with factory() as session:
        session.add(
            DigestSend(
                period="2026-W48",
                period_start=datetime(2026, 11, 23, tzinfo=UTC),
                period_end=datetime(2026, 11, 30, tzinfo=UTC),
                list_name="desk",
                status="sent",
                message_id="<m@x>",
                sent_at=sent_at,
            )
        )
        session.add(Alert(key="no_crawl", kind="no_crawl", detail="", opened_at=sent_at))
        session.commit()
    from prometheus_client import generate_latest

    found = samples(generate_latest(registry_for(factory)).decode())
    assert found[("claimwatch_digest_last_sent_timestamp_seconds", (("list", "desk"),))] == (
        sent_at.timestamp()
    )
    assert found[("claimwatch_alerts_open", (("kind", "no_crawl"),))] == 1
    assert ("claimwatch_jobs_scheduled", ()) not in found  # only the daemon knows its jobs
