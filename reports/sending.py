"""Sending digests: the one compose-and-deliver path (:func:`compose_and_deliver`), through the
ledger (see :mod:`reports.ledger` for the rules) or as a one-off copy outside it.

:func:`send_jobs` takes the jobs oldest first, builds each period's digest once (``build`` also
writes the archive), filters it for each recipient list, and delivers it. After a transient failure
it stops trying: the remaining rows stay ``pending`` for the next run. A row taken over from a run
that died while sending is sent again with the same Message-ID, and its outcome says it may have
arrived twice. :func:`send_copy` sends one period to one list the same way, with the same retries,
and records nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from core.config import Mail, MailList
from reports import render
from reports.ledger import (
    Job,
    claim,
    ensure_row,
    finish,
    interrupted_at,
    possibly_twice,
    record_attempt,
    status_of,
)
from reports.mail import Delivery, Transport, build_message, deliver, new_message_id, subject
from reports.model import Audience, Digest
from reports.period import Period


@dataclass(frozen=True, slots=True)
class Outcome:
    period: str
    list_name: str
    status: str  # sent | pending | failed | skipped
    attempts: int = 0
    message_id: str | None = None
    detail: str | None = None


def compose_and_deliver(
    digest: Digest,
    mail_list: MailList,
    mail: Mail,
    transport: Transport,
    *,
    message_id: str,
    base_url: str | None,
    now: Callable[[], datetime],
    sleep: Callable[[float], None] = time.sleep,
    on_attempt: Callable[[int], None] | None = None,
) -> tuple[str, Delivery]:
    """Filter the digest for the list, render it as a message and deliver it with retries.
    Returns the subject line and the delivery's result."""
    view = digest.for_audience(
        Audience(mail_list.name, mail_list.min_band, tuple(mail_list.substances))
    )
    subject_line = subject(view)
    message = build_message(
        subject_line=subject_line,
        sender=mail.sender,
        recipients=mail_list.recipients,
        text=render.text(view, base_url),
        html=render.mail_html(view, base_url),
        message_id=message_id,
        list_name=mail_list.name,
        list_domain=mail.list_id_domain,
        date=now(),
    )
    delivery = deliver(
        transport,
        message,
        mail_list.recipients,
        retries=mail.retries,
        backoff_s=mail.backoff_s,
        sleep=sleep,
        on_attempt=on_attempt,
    )
    return subject_line, delivery


def _message_domain(mail: Mail) -> str:
    return mail.sender.rsplit("@", 1)[1]


def send_copy(
    mail: Mail,
    mail_list: MailList,
    period: Period,
    transport: Transport,
    build: Callable[[Period], Digest],
    *,
    base_url: str | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """One period to one list (``digest --send --to``): same path and retries, no ledger."""
    key, name = period.key, mail_list.name
    message_id = new_message_id(key, name, _message_domain(mail))
    _, delivery = compose_and_deliver(
        build(period),
        mail_list,
        mail,
        transport,
        message_id=message_id,
        base_url=base_url,
        now=now,
        sleep=sleep,
    )
    if delivery.delivered:
        return Outcome(key, name, "sent", delivery.attempts, message_id)
    error = delivery.error
    status = "pending" if error is not None and error.transient else "failed"
    return Outcome(key, name, status, delivery.attempts, message_id, str(error))


def send_jobs(
    factory: sessionmaker[Session],
    mail: Mail,
    jobs: Sequence[Job],
    transport: Transport,
    build: Callable[[Period], Digest],
    *,
    force: bool = False,
    base_url: str | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    digests: dict[str, Digest] = {}
    stopped: str | None = None
    msgid_domain = _message_domain(mail)
    for job in jobs:
        key, name = job.period.key, job.mail_list.name

        def make_id(key: str = key, name: str = name) -> str:
            return new_message_id(key, name, msgid_domain)

        row_id = ensure_row(factory, job, make_id, now())

        def attempted(_attempt: int, row_id: int = row_id) -> None:
            record_attempt(factory, row_id, now())

        if stopped is not None:
            outcomes.append(Outcome(key, name, "pending", detail=f"not tried: {stopped}"))
            continue
        row = claim(
            factory,
            row_id,
            now(),
            force=force,
            recipients=job.mail_list.recipients,
            message_id=make_id,
        )
        if row is None:
            state = status_of(factory, key, name)
            outcomes.append(Outcome(key, name, "skipped", detail=f"already {state}"))
            continue
        interrupted = interrupted_at(row)
        twice = possibly_twice(interrupted) if interrupted is not None else None
        try:
            if key not in digests:
                digests[key] = build(job.period)
            subject_line, delivery = compose_and_deliver(
                digests[key],
                job.mail_list,
                mail,
                transport,
                message_id=row.message_id,
                base_url=base_url,
                now=now,
                sleep=sleep,
                on_attempt=attempted,
            )
        except BaseException as exc:
            finish(factory, row_id, "pending", now(), error=f"interrupted: {exc!r}"[:2000])
            raise
        attempts = delivery.attempts
        if delivery.delivered:
            refused = "; ".join(delivery.refused)
            note = "; ".join(filter(None, [twice, refused and f"refused: {refused}"])) or None
            finish(factory, row_id, "sent", now(), subject=subject_line, error=note)
            outcomes.append(Outcome(key, name, "sent", attempts, row.message_id, note))
            continue
        error = delivery.error
        text = str(error)[:2000]
        if interrupted is not None:  # the earlier try may still have delivered it
            text = f"{text}; a send was interrupted at {interrupted} (it may have arrived)"
        if error is not None and error.transient:
            finish(factory, row_id, "pending", now(), subject=subject_line, error=text)
            stopped = text
            outcomes.append(Outcome(key, name, "pending", attempts, row.message_id, text))
        else:
            finish(factory, row_id, "failed", now(), subject=subject_line, error=text)
            outcomes.append(Outcome(key, name, "failed", attempts, row.message_id, text))
    return outcomes
