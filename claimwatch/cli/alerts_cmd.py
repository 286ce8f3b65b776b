"""``claimwatch alerts``: the open alert conditions, and ``alerts check`` to notify (for cron).
``crawl`` and ``digest --send`` run the same check when ``[alerts]`` is configured."""

from __future__ import annotations

import logging

import click

from claimwatch.cli.common import EX_CONFIG, Context, database, fail, pass_ctx
from core.config import Config

logger = logging.getLogger(__name__)


def run_alert_check(config: Config) -> list[str]:
    """Check and notify when ``[alerts]`` is configured; never raises (a command's own outcome
    must not depend on its alerts), and returns the titles sent."""
    if not config.alerts.enabled:
        return []
    from reports.alerts import apprise_notifier, check_alerts

    try:
        return check_alerts(database(config), config, apprise_notifier(config))
    except Exception as exc:
        logger.warning("alerts not checked: %s", exc)
        return []


@click.group("alerts", invoke_without_command=True)
@click.pass_context
def alerts(ctx: click.Context) -> None:
    """Open alert conditions (failing sources, unsent digests, no successful crawl)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(alerts_list)


@alerts.command("list")
@pass_ctx
def alerts_list(obj: Context) -> None:
    """The conditions that are open, since when, and whether they were notified."""
    from sqlalchemy import select

    from core.models import Alert

    with obj.session() as session:
        rows = list(session.scalars(select(Alert).order_by(Alert.opened_at)))
        if not rows:
            click.echo("no open alerts")
        for row in rows:
            told = (
                f"notified {row.notified_at:%Y-%m-%d %H:%M}"
                if row.notified_at
                else "not notified yet"
            )
            click.echo(f"{row.key:<40} since {row.opened_at:%Y-%m-%d %H:%M}  {told}  {row.detail}")


@alerts.command("check")
@pass_ctx
def alerts_check(obj: Context) -> None:
    """Notify new and cleared conditions now (``crawl`` and ``digest --send`` do this too)."""
    from reports.alerts import AlertError, apprise_notifier, check_alerts

    config = obj.config
    if not config.alerts.enabled:
        fail("no alert targets: set [alerts] urls or mail_to", EX_CONFIG)
    try:
        notify = apprise_notifier(config)
    except AlertError as exc:
        fail(str(exc), EX_CONFIG)
    sent = check_alerts(obj.sessions(), config, notify)
    for title in sent:
        click.echo(f"sent: {title}")
    if not sent:
        click.echo("nothing new to tell")
