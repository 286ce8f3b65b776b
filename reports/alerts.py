"""Alerts: tell someone when a source breaks, when it recovers, when a digest could not be sent,
and when no crawl has succeeded for a while, each condition once until it clears.

:func:`conditions` reads what holds now from the database (pure queries); :func:`check_alerts`
compares it with the open conditions in the ``alerts`` table, notifies the new ones (and retries
those whose notification did not get through), and announces and forgets the ones that cleared.
Notifications go through Apprise (:func:`apprise_notifier`): the ``[alerts] urls``, plus e-mail to
``[alerts] mail_to`` through the ``[mail]`` server. ``claimwatch crawl``, ``claimwatch digest
--send`` (so the daemon's jobs too) and ``claimwatch alerts check`` (for cron) run the check.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode, urlsplit

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.config import Config
from core.models import Alert, CrawlRun, DigestSend, Source
from pipeline.health import failed_streak, failure_reason, is_failing, run_note
from reports.mail import SmtpSettings

logger = logging.getLogger(__name__)
Notify = Callable[[str, str], bool]  # (title, body) -> delivered


class AlertError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Condition:
    key: str  # "source_failing:<name>", "digest_unsent:<period>:<list>", "no_crawl"
    kind: str
    title: str
    body: str


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _failing_sources(session: Session, failing_after: int) -> list[Condition]:
    out = []
    for source in session.scalars(select(Source).order_by(Source.name)):
        streak = failed_streak(session, source.id).failed
        if not is_failing(streak, failing_after):
            continue
        last = session.scalars(
            select(CrawlRun)
            .where(CrawlRun.source_id == source.id, CrawlRun.status == "failed")
            .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
            .limit(1)
        ).first()
        stats = last.stats if last else {}
        reason = failure_reason(stats.get("source") or {}, stats.get("error_samples") or ())
        out.append(
            Condition(
                f"source_failing:{source.name}",
                "source_failing",
                f"claimwatch: source {source.name} is failing",
                f"Source {source.name} failed {streak} crawls in a row. Last run: {reason}",
            )
        )
    return out


def _unsent_digests(session: Session) -> list[Condition]:
    rows = session.scalars(
        select(DigestSend)
        .where(
            (DigestSend.status == "failed")
            | ((DigestSend.status == "pending") & (DigestSend.attempts > 0))
        )
        .order_by(DigestSend.period_start, DigestSend.list_name)
    )
    return [
        Condition(
            f"digest_unsent:{row.period}:{row.list_name}",
            "digest_unsent",
            f"claimwatch: digest {row.period} to {row.list_name} could not be sent",
            f"The digest {row.period} to the list {row.list_name} is {row.status} after"
            f" {row.attempts} attempt(s): {row.last_error or 'no error recorded'}"
            + (" (retried on the next run)" if row.status == "pending" else ""),
        )
        for row in rows
    ]


def _no_crawl(session: Session, now: datetime, hours: float) -> list[Condition]:
    first = session.scalar(select(func.min(CrawlRun.started_at)))
    if first is None:
        return []  # never crawled: nothing has stopped working
    last_ok = session.scalar(select(func.max(CrawlRun.finished_at)).where(CrawlRun.status == "ok"))
    since = _aware(last_ok or first)
    if now - since < timedelta(hours=hours):
        return []
    what = (
        f"the last successful crawl finished {since:%Y-%m-%d %H:%M} UTC"
        if last_ok
        else (f"no crawl has succeeded since the first one started {since:%Y-%m-%d %H:%M} UTC")
    )
    return [
        Condition(
            "no_crawl",
            "no_crawl",
            f"claimwatch: no successful crawl for {hours:g} hours",
            f"No crawl succeeded in the last {hours:g} hours: {what}.",
        )
    ]


def conditions(session: Session, config: Config, now: datetime) -> list[Condition]:
    """Every alert condition that holds now."""
    return (
        _failing_sources(session, config.schedule.failing_after)
        + _unsent_digests(session)
        + _no_crawl(session, now, config.alerts.no_crawl_hours)
    )


def _cleared(session: Session, row: Alert) -> tuple[str, str]:
    """The title and body announcing that ``row``'s condition cleared."""
    if row.kind == "source_failing":
        name = row.key.split(":", 1)[1]
        last = session.scalars(
            select(CrawlRun)
            .join(Source, Source.id == CrawlRun.source_id)
            .where(Source.name == name, CrawlRun.status != "running")
            .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
            .limit(1)
        ).first()
        note = run_note(last.status, last.stats) if last else ""
        body = f"Source {name} recovered: its last crawl succeeded" + (
            f" ({note})." if note else "."
        )
        return f"claimwatch: source {name} recovered", body
    if row.kind == "digest_unsent":
        _, period, list_name = row.key.split(":", 2)
        title = f"claimwatch: digest {period} to {list_name} is no longer failing"
        return title, f"The digest {period} to the list {list_name} was sent, or is no longer due."
    return "claimwatch: crawls succeed again", "A crawl succeeded again."


def check_alerts(
    factory: sessionmaker[Session], config: Config, notify: Notify, now: datetime | None = None
) -> list[str]:
    """Notify each new condition once, and each cleared one; return the titles sent."""
    now = now or datetime.now(UTC)
    sent: list[str] = []
    with factory() as session:
        active = {c.key: c for c in conditions(session, config, now)}
        open_rows = {row.key: row for row in session.scalars(select(Alert))}
        for key, condition in active.items():
            row = open_rows.get(key)
            if row is None:
                row = Alert(key=key, kind=condition.kind, detail=condition.body, opened_at=now)
                session.add(row)
            if row.notified_at is None and notify(condition.title, condition.body):
                row.notified_at = now
                sent.append(condition.title)
        for key, row in open_rows.items():
            if key in active:
                continue
            if row.notified_at is not None:
                title, body = _cleared(session, row)
                if notify(title, body):
                    sent.append(title)
            session.delete(row)
        try:
            session.commit()
        except IntegrityError:  # another process opened the same condition at the same time
            session.rollback()
    return sent


def mail_url(smtp: SmtpSettings, to: list[str]) -> str:
    """The Apprise ``mailto://`` URL that sends through the configured ``[mail]`` server."""
    scheme = "mailto" if smtp.security == "none" else "mailtos"
    auth = ""
    if smtp.username:
        auth = quote(smtp.username, safe="")
        if smtp.password:
            auth += ":" + quote(smtp.password, safe="")
        auth += "@"
    params = {"to": ",".join(to), "from": smtp.sender, "smtp": smtp.host, "name": "claimwatch"}
    if smtp.security != "none":
        params["mode"] = "starttls" if smtp.security == "starttls" else "ssl"
    return f"{scheme}://{auth}{smtp.host}:{smtp.port}/?{urlencode(params)}"


def apprise_notifier(config: Config) -> Notify:
    """A notifier for ``[alerts]``: every Apprise URL, and ``mail_to`` through ``[mail]``."""
    import apprise

    from reports.mail import smtp_settings

    hub = apprise.Apprise()
    for url in config.alerts.urls:
        if not hub.add(url):  # the URL may hold a token: name only its scheme
            raise AlertError(
                f"alerts.urls: not a usable Apprise URL ({urlsplit(url).scheme}://...)"
            )
    mail_to = config.alerts.mail_to
    if mail_to and not hub.add(mail_url(smtp_settings(config.mail), mail_to)):
        raise AlertError("alerts.mail_to: the [mail] settings do not make an Apprise mailto URL")

    def notify(title: str, body: str) -> bool:
        delivered = bool(hub.notify(title=title, body=body))
        if not delivered:
            logger.warning("alert not delivered to every target (retried next check): %s", title)
        return delivered

    return notify
