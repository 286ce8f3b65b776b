"""``claimwatch digest`` and ``claimwatch digests``: write the weekly digest, send it, show the
ledger. Registered in :mod:`claimwatch.cli` with ``main.add_command``.

Without ``--send`` the digest's files are written (page, text, CSV, JSON, evidence, index) and their
paths printed. With ``--send`` every due period is sent to every configured list, oldest first, each
exactly once (see :mod:`reports.ledger`); ``--week`` or ``--since``/``--until`` sends that period
only, and ``--force`` sends it again. ``--to`` sends a one-off copy to the addresses given, outside
the ledger. Exit codes: 0 done, 1 a digest failed for good (5xx), 75 one is left pending for the
next run (server down, 4xx), 78 configuration.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, NoReturn, Protocol
from zoneinfo import ZoneInfo

import click

from claimwatch.config import Config, MailList

logger = logging.getLogger(__name__)
EX_USAGE = 2
EX_CONFIG = 78


class _Obj(Protocol):
    @property
    def config(self) -> Config: ...


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"claimwatch: {message}", err=True)
    sys.exit(code)


def _period(
    config: Config, week: str | None, since: datetime | None, until: datetime | None
) -> Any:
    from reports.period import PeriodError, day_range, parse_period

    zone = config.digest.timezone
    if week and (since or until):
        _fail("give --week or --since/--until, not both", EX_USAGE)
    try:
        if week:
            return parse_period(week, zone)
        if since or until:
            if since is None:
                _fail("--until needs --since", EX_USAGE)
            last: date = until.date() if until else datetime.now(ZoneInfo(zone)).date()
            return day_range(since.date(), last, zone)
    except PeriodError as exc:
        _fail(str(exc), EX_USAGE)
    return None


def _rule_messages(config: Config) -> dict[str, str]:
    """Rule id -> message, to explain claims; empty when the rule file cannot be read."""
    try:
        from pipeline.claims import default_rules, load_rules

        rules = load_rules(config.rules.path) if config.rules.path else default_rules()
    except Exception as exc:  # the digest can explain claims without the messages
        logger.warning("rule messages unavailable: %s", exc)
        return {}
    return {rule.id: rule.message for rule in rules.rules}


def _factory(config: Config) -> Any:
    from pipeline.db import make_engine, session_factory, upgrade

    engine = make_engine(config.db_url)
    upgrade(engine)
    return session_factory(engine)


def _builder(
    config: Config, factory: Any, out_dir: Path, printed: list[Path]
) -> Callable[..., Any]:
    from reports.archive import write_archive
    from reports.digest import build_digest

    messages = _rule_messages(config)

    def build(period: Any) -> Any:
        with factory() as session:
            digest = build_digest(session, period, config.digest, rule_messages=messages)
            written = write_archive(session, digest, out_dir)
        printed.extend(written.paths)
        if written.evidence:
            click.echo(
                f"{period.key}: {len(written.evidence)} evidence pages in {out_dir / 'evidence'}"
            )
        return digest

    return build


def _transport(config: Config) -> Any:
    from reports.mail import SendError, SmtpTransport, smtp_settings

    try:
        return SmtpTransport(smtp_settings(config.mail))
    except SendError as exc:
        _fail(str(exc), EX_CONFIG)


@click.command("digest")
@click.option(
    "--week",
    metavar="YYYY-Www",
    help="An ISO week, e.g. 2026-W47 (default: the last complete week).",
)
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="First day of a custom period.")
@click.option(
    "--until", type=click.DateTime(["%Y-%m-%d"]), help="Last day (included; default today)."
)
@click.option("--send", is_flag=True, help="E-mail it: every due period to every list, once each.")
@click.option(
    "--to",
    "to",
    multiple=True,
    metavar="ADDRESS",
    help="Send a one-off copy here instead (no ledger).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Archive folder (default: <data_dir>/digests).",
)
@click.option(
    "--force", is_flag=True, help="With --send: send the period again even if it was sent."
)
@click.pass_obj
def digest(
    obj: _Obj,
    week: str | None,
    since: datetime | None,
    until: datetime | None,
    send: bool,
    to: tuple[str, ...],
    out: Path | None,
    force: bool,
) -> None:
    """Write the weekly digest (HTML page, text, CSV, JSON) and optionally e-mail it."""
    from reports.ledger import Job, due_periods
    from reports.period import last_complete_week
    from reports.sending import exit_code, send_jobs

    config = obj.config
    zone = config.digest.timezone
    period = _period(config, week, since, until)
    out_dir = out or config.data_dir / "digests"
    factory = _factory(config)
    printed: list[Path] = []
    build = _builder(config, factory, out_dir, printed)
    now = datetime.now(UTC)
    if (to or force) and not send:
        _fail("--to and --force go with --send", EX_USAGE)
    if not send:
        build(period or last_complete_week(now, zone))
        for path in printed:
            click.echo(str(path))
        return
    if to:
        lists = [_adhoc(to)]
    else:
        if not config.mail.enabled:
            _fail("mail is not enabled: set [mail] enabled = true (or use --to)", EX_CONFIG)
        lists = config.mail.recipient_lists
        if not lists:
            _fail("no recipients: set [mail] recipients or [[mail.lists]]", EX_CONFIG)
    transport = _transport(config)
    if to:
        outcomes = _send_copy(
            config, factory, transport, build, period or last_complete_week(now, zone), lists[0]
        )
    else:
        if period is None and not force:
            with factory() as session:
                jobs = due_periods(session, config.mail, now, zone)
        else:
            target = period or last_complete_week(now, zone)
            jobs = [Job(target, mail_list) for mail_list in lists]
        outcomes = send_jobs(
            factory,
            config.mail,
            jobs,
            transport,
            build,
            force=force,
            base_url=config.digest.base_url,
        )
    for path in dict.fromkeys(printed):
        click.echo(f"wrote {path}")
    if not outcomes:
        click.echo("nothing due: every complete week has been sent")
    for o in outcomes:
        line = f"{o.period}  {o.list_name:<16} {o.status:<8}"
        if o.attempts:
            line += f" attempts {o.attempts}"
        if o.message_id:
            line += f"  {o.message_id}"
        if o.detail:
            line += f"  ({o.detail})"
        click.echo(line, err=o.status in ("failed", "pending"))
    code = exit_code(outcomes)
    if code:
        sys.exit(code)


def _adhoc(addresses: tuple[str, ...]) -> MailList:
    try:
        return MailList(name="adhoc", recipients=list(addresses))
    except ValueError as exc:
        _fail(f"--to: {exc}", EX_USAGE)


def _send_copy(
    config: Config,
    factory: Any,
    transport: Any,
    build: Callable[..., Any],
    period: Any,
    mail_list: MailList,
) -> list[Any]:
    """A one-off copy to ``--to``: delivered with the same retries, not recorded in the ledger."""
    from reports import render
    from reports.mail import build_message, deliver, new_message_id, subject
    from reports.model import Audience
    from reports.sending import Outcome

    view = build(period).for_audience(Audience(mail_list.name))
    message_id = new_message_id(period.key, mail_list.name, config.mail.sender.rsplit("@", 1)[1])
    message = build_message(
        subject_line=subject(view),
        sender=config.mail.sender,
        recipients=mail_list.recipients,
        text=render.text(view, config.digest.base_url),
        html=render.mail_html(view, config.digest.base_url),
        message_id=message_id,
        list_name=mail_list.name,
        list_domain=config.mail.list_id_domain,
        date=datetime.now(UTC),
    )
    result = deliver(
        transport,
        message,
        mail_list.recipients,
        retries=config.mail.retries,
        backoff_s=config.mail.backoff_s,
    )
    if result.delivered:
        return [Outcome(period.key, mail_list.name, "sent", result.attempts, message_id)]
    error = result.error
    status = "pending" if error is not None and error.transient else "failed"
    return [Outcome(period.key, mail_list.name, status, result.attempts, message_id, str(error))]


@click.command("digests")
@click.pass_obj
def digests(obj: _Obj) -> None:
    """The digest ledger: what was sent to which list, what is pending or failed, what is due."""
    from reports.ledger import due_periods, ledger

    config = obj.config
    factory = _factory(config)
    now = datetime.now(UTC)
    with factory() as session:
        rows = ledger(session)
        due = (
            due_periods(session, config.mail, now, config.digest.timezone)
            if config.mail.enabled
            else []
        )
    known = {(r.period, r.list_name) for r in rows}
    click.echo(
        f"{'period':<22} {'list':<16} {'status':<8} {'tries':>5}  {'sent':<16}  message-id / last error"
    )
    for job in due:
        if (job.period.key, job.mail_list.name) not in known:
            click.echo(
                f"{job.period.key:<22} {job.mail_list.name:<16} {'due':<8} {0:>5}  {'-':<16}"
            )
    for r in rows:
        sent = r.sent_at.strftime("%Y-%m-%d %H:%M") if r.sent_at else "-"
        note = r.message_id + (f"  {r.last_error}" if r.last_error else "")
        click.echo(
            f"{r.period:<22} {r.list_name:<16} {r.status:<8} {r.attempts:>5}  {sent:<16}  {note}"
        )
    if not rows and not due:
        click.echo("no digests sent yet")


def write_week_digest(config: Config, when: datetime | None = None) -> Path:
    """Write the digest of the ISO week containing ``when`` (default: now) and return the page's
    path. For ``claimwatch demo``, whose articles are all from the current week."""
    from reports.period import week_of

    printed: list[Path] = []
    build = _builder(config, _factory(config), config.data_dir / "digests", printed)
    build(week_of(when or datetime.now(UTC), config.digest.timezone))
    return printed[0]
