"""``claimwatch digest`` and ``claimwatch digests``: write the weekly digest, send it, show the
ledger.

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
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click

from claimwatch.cli.common import (
    EX_CONFIG,
    EX_FAILURE,
    EX_OK,
    EX_TEMPFAIL,
    EX_USAGE,
    Context,
    database,
    fail,
    pass_ctx,
)
from core.config import Config, MailList

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from pipeline.dedup.template import TemplateMatcher
    from reports.model import Digest
    from reports.period import Period
    from reports.sending import Outcome

logger = logging.getLogger(__name__)


def exit_code(outcomes: Sequence[Outcome]) -> int:
    """1 when a digest failed for good, 75 when one is left pending, else 0."""
    if any(o.status == "failed" for o in outcomes):
        return EX_FAILURE
    if any(o.status == "pending" for o in outcomes):
        return EX_TEMPFAIL
    return EX_OK


def _period(
    config: Config, week: str | None, since: datetime | None, until: datetime | None
) -> Any:
    from reports.period import PeriodError, day_range, parse_period

    zone = config.digest.timezone
    if week and (since or until):
        fail("give --week or --since/--until, not both", EX_USAGE)
    try:
        if week:
            return parse_period(week, zone)
        if since or until:
            if since is None:
                fail("--until needs --since", EX_USAGE)
            last: date = until.date() if until else datetime.now(ZoneInfo(zone)).date()
            return day_range(since.date(), last, zone)
    except PeriodError as exc:
        fail(str(exc), EX_USAGE)
    return None


def _rule_messages(config: Config) -> dict[str, str]:
    """Rule id -> message, to explain claims; empty when the rule file cannot be read."""
    from pipeline.claims.pipeline import rules_from_config

    try:
        rules = rules_from_config(config)
    except Exception as exc:  # the digest can explain claims without the messages
        logger.warning("rule messages unavailable: %s", exc)
        return {}
    return {rule.id: rule.message for rule in rules.rules}


def _matcher(config: Config) -> TemplateMatcher | None:
    """The seed families in use, so the digest proposes no candidate they already match; without
    them (the seeds do not load) every candidate is shown."""
    from pipeline.dedup.seeds import SeedError, load_families
    from pipeline.dedup.template import Family, TemplateMatcher

    try:
        seeds = load_families(config.seed_folders)
    except SeedError as exc:
        click.echo(f"claimwatch: seeds: {exc} (candidate families are not checked)", err=True)
        return None
    families = [Family.learn(name, members) for name, members in seeds.items()]
    return TemplateMatcher(families, config.dedup.template_threshold)


def _builder(
    config: Config,
    factory: sessionmaker[Session],
    out_dir: Path,
    printed: list[Path],
    *,
    evidence_links: bool = False,
) -> Callable[[Period], Digest]:
    from reports.archive import link_pages_to_evidence, write_archive
    from reports.digest import build_digest

    messages = _rule_messages(config)
    matcher = _matcher(config)

    def build(period: Period) -> Digest:
        with factory() as session:
            digest = build_digest(
                session,
                period,
                config.digest,
                rule_messages=messages,
                failing_after=config.schedule.failing_after,
                matcher=matcher,
            )
            if evidence_links:
                digest = link_pages_to_evidence(digest)
            try:
                written = write_archive(session, digest, out_dir)
            except OSError as exc:  # a full disk, a read-only folder: say so, no traceback
                where = exc.filename or out_dir
                fail(f"could not write the {period.key} digest to {where}: {exc.strerror or exc}")
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
        fail(str(exc), EX_CONFIG)


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
@pass_ctx
def digest(
    obj: Context,
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
    from reports.sending import send_copy, send_jobs

    config = obj.config
    zone = config.digest.timezone
    period = _period(config, week, since, until)
    out_dir = out or config.data_dir / "digests"
    factory = database(config)
    printed: list[Path] = []
    build = _builder(config, factory, out_dir, printed)
    now = datetime.now(UTC)
    if (to or force) and not send:
        fail("--to and --force go with --send", EX_USAGE)
    if not send:
        built = build(period or last_complete_week(now, zone))
        for path in printed:
            click.echo(str(path))
        if period is None:
            _explain_empty(factory, built, now, zone)
        return
    if to:
        lists = [_adhoc(to)]
    else:
        if not config.mail.enabled:
            fail("mail is not enabled: set [mail] enabled = true (or use --to)", EX_CONFIG)
        lists = config.mail.recipient_lists
        if not lists:
            fail("no recipients: set [mail] recipients or [[mail.lists]]", EX_CONFIG)
    transport = _transport(config)
    if to:
        target = period or last_complete_week(now, zone)
        copy = send_copy(
            config.mail, lists[0], target, transport, build, base_url=config.digest.base_url
        )
        outcomes = [copy]
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
        from reports.ledger import nothing_due_reason

        with factory() as session:
            click.echo(f"nothing due: {nothing_due_reason(session, now, zone)}")
    for o in outcomes:
        line = f"{o.period}  {o.list_name:<16} {o.status:<8}"
        if o.attempts:
            line += f" attempts {o.attempts}"
        if o.message_id:
            line += f"  {o.message_id}"
        if o.detail:
            line += f"  ({o.detail})"
        click.echo(line, err=o.status in ("failed", "pending"))
    if not to:
        from claimwatch.cli.alerts_cmd import run_alert_check

        for title in run_alert_check(config):
            click.echo(f"alert sent: {title}")
    code = exit_code(outcomes)
    if code:
        sys.exit(code)


def _explain_empty(factory: sessionmaker[Session], built: Digest, now: datetime, zone: str) -> None:
    """Say why the default period's digest is empty, and how to pick the current week."""
    from reports.ledger import first_article_week
    from reports.period import week_of

    fig = built.figures
    if fig.new_articles or fig.changed_articles:
        return
    with factory() as session:
        first = first_article_week(session, zone)
    key, current = built.period.key, week_of(now, zone).key
    if first is None:
        click.echo(f"{key} is empty: no articles stored yet; crawl first (`claimwatch crawl`)")
        return
    click.echo(
        f"{key} is empty: no new or changed articles in the last complete week"
        f" (the first article was stored in {first.key});"
        f" for the current week: claimwatch digest --week {current}"
    )


def _adhoc(addresses: tuple[str, ...]) -> MailList:
    try:
        return MailList(name="adhoc", recipients=list(addresses))
    except ValueError as exc:
        fail(f"--to: {exc}", EX_USAGE)


@click.command("digests")
@pass_ctx
def digests(obj: Context) -> None:
    """The digest ledger: what was sent to which list, what is pending or failed, what is due."""
    from reports.ledger import due_periods, ledger

    config = obj.config
    now = datetime.now(UTC)
    with obj.session() as session:
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
        from reports.ledger import nothing_due_reason

        if not config.mail.enabled:
            reason = "mail is not enabled ([mail] enabled = true)"
        else:
            with obj.session() as session:
                reason = nothing_due_reason(session, now, config.digest.timezone)
        click.echo(f"no digests sent yet: {reason}")


def write_week_digest(config: Config, when: datetime | None = None) -> Path:
    """Write the digest of the ISO week containing ``when`` (default: now) and return the page's
    path. For ``claimwatch demo``, whose articles are all from the current week and whose sites are
    gone after the run: its page links go to the stored evidence."""
    from reports.period import week_of

    printed: list[Path] = []
    build = _builder(
        config, database(config), config.data_dir / "digests", printed, evidence_links=True
    )
    build(week_of(when or datetime.now(UTC), config.digest.timezone))
    return printed[0]
