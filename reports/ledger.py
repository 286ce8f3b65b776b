"""The send ledger: each period's digest goes to each recipient list exactly once.

One ``digest_sends`` row per (period, list) moves ``pending`` → ``sending`` → ``sent`` or
``failed``. A run claims a row with a conditional UPDATE (only one process can move it to
``sending``), so two runs at once do not both send. A transient failure (connection refused, 4xx)
is retried with backoff within the run, then the row goes back to ``pending`` and the run stops
sending (the server is likely down); the next run picks it up, oldest period first. A permanent
failure (5xx) marks the row ``failed``; only ``--force`` sends it again. A row left ``sending`` by a
crashed run for longer than :data:`STALE_SENDING` is sent again with the same Message-ID, so a
duplicate can be recognised.

Each try of a send first writes ``sending since <time>`` into ``last_error``. When a run takes over
a row left ``sending`` with that note, the crashed run may have delivered the message before it
died: :func:`interrupted_at` says when it tried, and the row, once sent, keeps ``possibly twice: a
send was interrupted at <time>`` in ``last_error`` (``claimwatch digests`` shows it). A run killed
before its first try leaves no such note, and its period is simply sent.

Due periods (:func:`due_periods`): for each list, every complete ISO week from the ledger's first
week for that list (else the week of the first stored article) up to the last complete week, at
most ``mail.catch_up_weeks`` of them, plus any row still pending; minus the sent and failed ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.config import Mail, MailList
from core.models import Article, DigestSend
from reports.period import Period, due_weeks, parse_period, week_of

STALE_SENDING = timedelta(minutes=30)
DONE = ("sent", "failed")
SENDING_NOTE = "sending since "  # last_error while a try is in flight


def _stamp(moment: datetime) -> str:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


_INTERRUPTED = re.compile(r"a send was interrupted at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC)")


def interrupted_at(row: DigestSend) -> str | None:
    """When a send of ``row`` was tried by a run that did not finish it (``None``: none was): the
    note of a try in flight, or of an earlier interrupted send the row still carries."""
    note = row.last_error or ""
    if note.startswith(SENDING_NOTE):
        return note.removeprefix(SENDING_NOTE)
    found = _INTERRUPTED.search(note)
    return found.group(1) if found else None


def possibly_twice(interrupted: str) -> str:
    """The ledger's note on a period sent again after an interrupted send."""
    return (
        f"possibly twice: a send was interrupted at {interrupted}"
        " and the digest was sent again with the same Message-ID"
    )


@dataclass(frozen=True, slots=True)
class Job:
    period: Period
    mail_list: MailList


def _first_week(session: Session, list_name: str, timezone: str) -> Period | None:
    first_row = session.scalar(
        select(func.min(DigestSend.period_start)).where(
            DigestSend.list_name == list_name, DigestSend.period.like("____-W__")
        )
    )
    first_article = session.scalar(select(func.min(Article.first_seen_at)))
    moment = first_row if first_row is not None else first_article
    return week_of(moment, timezone) if moment is not None else None


def due_periods(session: Session, mail: Mail, now: datetime, timezone: str) -> list[Job]:
    """What is due for every list, oldest period first (see the module docstring)."""
    jobs: dict[tuple[str, str], Job] = {}
    for mail_list in mail.recipient_lists:
        rows = {
            period: status
            for period, status in session.execute(
                select(DigestSend.period, DigestSend.status).where(
                    DigestSend.list_name == mail_list.name
                )
            )
        }
        first = _first_week(session, mail_list.name, timezone)
        weeks = due_weeks(first, now, mail.catch_up_weeks) if first else []
        for week in weeks:
            if rows.get(week.key) not in DONE:
                jobs[(week.key, mail_list.name)] = Job(week, mail_list)
        for key, status in rows.items():
            if status in ("pending", "sending") and (key, mail_list.name) not in jobs:
                jobs[(key, mail_list.name)] = Job(parse_period(key, timezone), mail_list)
    order = {m.name: i for i, m in enumerate(mail.recipient_lists)}
    return sorted(jobs.values(), key=lambda j: (j.period.start, order[j.mail_list.name]))


def first_article_week(session: Session, timezone: str) -> Period | None:
    """The ISO week the first article was stored in (``None``: nothing stored yet)."""
    first = session.scalar(select(func.min(Article.first_seen_at)))
    return week_of(first, timezone) if first is not None else None


def nothing_due_reason(session: Session, now: datetime, timezone: str) -> str:
    """Why no digest is due, in words that agree with the ledger (``claimwatch digests``)."""
    current = week_of(now, timezone)
    first = first_article_week(session, timezone)
    if first is None:
        return "no articles stored yet; crawl first (`claimwatch crawl`)"
    if first.start >= current.start:
        return (
            f"no complete week since the first article was stored ({first.key} is still running);"
            f" {first.key} is due once it ends, or send it now with --week {first.key}"
        )
    if session.scalar(select(func.count()).select_from(DigestSend)) == 0:
        return (
            f"no complete week to send within the catch-up window"
            f" (the last complete week is {current.previous().key})"
        )
    return (
        f"every complete week up to {current.previous().key} has been sent or has failed"
        " (see `claimwatch digests`)"
    )


def ensure_row(
    factory: sessionmaker[Session],
    job: Job,
    message_id: Callable[[], str],
    now: datetime,
) -> int:
    """The ledger row of ``job``, created ``pending`` when missing; returns its id."""
    key, name = job.period.key, job.mail_list.name
    with factory() as session:
        found = session.scalar(
            select(DigestSend.id).where(DigestSend.period == key, DigestSend.list_name == name)
        )
        if found is not None:
            return found
        row = DigestSend(
            period=key,
            period_start=job.period.start,
            period_end=job.period.end,
            list_name=name,
            recipients=list(job.mail_list.recipients),
            status="pending",
            message_id=message_id(),
            attempts=0,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        try:
            session.commit()
        except IntegrityError:  # another run created it first
            session.rollback()
            return session.scalars(
                select(DigestSend.id).where(DigestSend.period == key, DigestSend.list_name == name)
            ).one()
        return row.id


def claim(
    factory: sessionmaker[Session],
    row_id: int,
    now: datetime,
    *,
    force: bool,
    recipients: Sequence[str],
    message_id: Callable[[], str],
) -> DigestSend | None:
    """Move the row to ``sending`` if it is ours to send; ``None`` when it is not."""
    allowed = ["pending", *(DONE if force else ())]
    with factory() as session, session.begin():
        values: dict[str, object] = {
            "status": "sending",
            "updated_at": now,
            "recipients": list(recipients),
        }
        if force:
            values["message_id"] = message_id()  # a deliberate resend is a new message
            values["last_error"] = None  # so no note of an earlier send applies to it
        stale = (DigestSend.status == "sending") & (DigestSend.updated_at < now - STALE_SENDING)
        result = session.execute(
            update(DigestSend)
            .where(DigestSend.id == row_id, DigestSend.status.in_(allowed) | stale)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            return None
        return session.get(DigestSend, row_id)


def record_attempt(factory: sessionmaker[Session], row_id: int, now: datetime) -> None:
    """Count a try, and note that it is in flight (see :func:`interrupted_at`)."""
    with factory() as session, session.begin():
        session.execute(
            update(DigestSend)
            .where(DigestSend.id == row_id)
            .values(
                attempts=DigestSend.attempts + 1,
                updated_at=now,
                last_error=SENDING_NOTE + _stamp(now),
            )
        )


def finish(
    factory: sessionmaker[Session],
    row_id: int,
    status: str,
    now: datetime,
    *,
    subject: str | None = None,
    error: str | None = None,
) -> None:
    values: dict[str, object] = {"status": status, "updated_at": now, "last_error": error}
    if status == "sent":
        values["sent_at"] = now
    if subject is not None:
        values["subject"] = subject
    with factory() as session, session.begin():
        session.execute(update(DigestSend).where(DigestSend.id == row_id).values(**values))


def status_of(factory: sessionmaker[Session], period_key: str, list_name: str) -> str | None:
    with factory() as session:
        return session.scalar(
            select(DigestSend.status).where(
                DigestSend.period == period_key, DigestSend.list_name == list_name
            )
        )


def ledger(session: Session) -> list[DigestSend]:
    """Every row, newest period first."""
    return list(
        session.scalars(
            select(DigestSend).order_by(DigestSend.period_start.desc(), DigestSend.list_name)
        )
    )
