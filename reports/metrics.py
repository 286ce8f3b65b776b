"""Prometheus metrics for ``claimwatch run --metrics-port N``, read from the database at each
scrape (so they are right whichever process crawled or sent), through prometheus-client.

Metric names (README, "Metrics"):

- ``claimwatch_source_last_success_timestamp_seconds{source}``: end of the last successful crawl
- ``claimwatch_source_last_run_pages{source}``, ``..._items{source}``, ``..._errors{source}``:
  the figures of the source's last finished crawl
- ``claimwatch_source_last_run_ok{source}``: 1 when that crawl succeeded, else 0
- ``claimwatch_source_failed_streak{source}``: finished crawls failed in a row
- ``claimwatch_digest_last_sent_timestamp_seconds{list}``: when a digest last went to the list
- ``claimwatch_crawls_running``: crawls in progress (crawl runs still ``running``)
- ``claimwatch_jobs_scheduled``: the daemon's jobs (given by the daemon)
- ``claimwatch_alerts_open{kind}``: alert conditions that are open
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.models import Alert, CrawlRun, DigestSend, Source
from pipeline.health import failed_streak


def _seconds(moment: datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class ClaimwatchCollector(Collector):
    def __init__(
        self, factory: sessionmaker[Session], jobs: Callable[[], int] | None = None
    ) -> None:
        self.factory = factory
        self.jobs = jobs

    def collect(self) -> Iterator[GaugeMetricFamily]:
        def gauge(name: str, doc: str, labels: list[str] | None = None) -> GaugeMetricFamily:
            return GaugeMetricFamily(f"claimwatch_{name}", doc, labels=labels)

        success = gauge(
            "source_last_success_timestamp_seconds",
            "End of the source's last successful crawl (Unix time).",
            ["source"],
        )
        pages = gauge(
            "source_last_run_pages", "Pages fetched by the last finished crawl.", ["source"]
        )
        items = gauge("source_last_run_items", "Items of the last finished crawl.", ["source"])
        errors = gauge("source_last_run_errors", "Errors of the last finished crawl.", ["source"])
        ok = gauge("source_last_run_ok", "1 when the last finished crawl succeeded.", ["source"])
        streak = gauge("source_failed_streak", "Finished crawls failed in a row.", ["source"])
        sent = gauge(
            "digest_last_sent_timestamp_seconds",
            "When a digest was last sent to the list (Unix time).",
            ["list"],
        )
        running = gauge("crawls_running", "Crawls in progress.")
        alerts = gauge("alerts_open", "Alert conditions that are open.", ["kind"])
        with self.factory() as session:
            for source in session.scalars(select(Source).order_by(Source.name)):
                last_ok = session.scalar(
                    select(func.max(CrawlRun.finished_at)).where(
                        CrawlRun.source_id == source.id, CrawlRun.status == "ok"
                    )
                )
                if last_ok is not None:
                    success.add_metric([source.name], _seconds(last_ok))
                last = session.scalars(
                    select(CrawlRun)
                    .where(CrawlRun.source_id == source.id, CrawlRun.status != "running")
                    .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
                    .limit(1)
                ).first()
                if last is not None:
                    pages.add_metric([source.name], last.pages)
                    items.add_metric([source.name], last.items)
                    errors.add_metric([source.name], last.errors)
                    ok.add_metric([source.name], 1.0 if last.status == "ok" else 0.0)
                streak.add_metric([source.name], failed_streak(session, source.id).failed)
            for list_name, moment in session.execute(
                select(DigestSend.list_name, func.max(DigestSend.sent_at))
                .where(DigestSend.status == "sent")
                .group_by(DigestSend.list_name)
            ):
                if moment is not None:
                    sent.add_metric([list_name], _seconds(moment))
            running.add_metric(
                [],
                session.scalar(
                    select(func.count()).select_from(CrawlRun).where(CrawlRun.status == "running")
                )
                or 0,
            )
            for kind, count in session.execute(
                select(Alert.kind, func.count()).group_by(Alert.kind)
            ):
                alerts.add_metric([kind], count)
        yield from (success, pages, items, errors, ok, streak, sent, running, alerts)
        if self.jobs is not None:
            scheduled = gauge("jobs_scheduled", "The daemon's scheduled jobs.")
            scheduled.add_metric([], self.jobs())
            yield scheduled


def registry_for(
    factory: sessionmaker[Session], jobs: Callable[[], int] | None = None
) -> CollectorRegistry:
    """A registry of its own (not the process-wide default) holding the claimwatch metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ClaimwatchCollector(factory, jobs))
    return registry
