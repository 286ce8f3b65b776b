"""``claimwatch sources`` and ``articles``: read-only listings of what was stored."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from typing import Any

import click

from claimwatch.cli.common import Context, pass_ctx


@click.command()
@pass_ctx
def sources(obj: Context) -> None:
    """Each source's last crawl run and health, with why it failed or what it found new."""
    from reports.listings import source_health

    with obj.session() as session:
        rows = source_health(session, obj.config.schedule.failing_after)
    configured = {s.name for s in obj.config.sources}
    click.echo(
        f"{'source':<28} {'kind':<8} {'articles':>8}  {'last run':<20} {'pages':>5} "
        f"{'items':>5} {'errors':>6}  health"
    )
    for row in rows:
        started = row.last_started.strftime("%Y-%m-%d %H:%M") if row.last_started else "-"
        note = f": {row.note}" if row.note else ""
        note += "" if row.name in configured else "  (not in config)"
        click.echo(
            f"{row.name:<28} {row.kind:<8} {row.articles:>8}  {started:<20} "
            f"{row.last_pages:>5} {row.last_items:>5} {row.last_errors:>6}  {row.health}{note}"
        )
        if row.last_failure:
            click.echo(f"  {'':<26} last run failed: {row.last_failure}")
    for name in sorted(configured - {r.name for r in rows}):
        click.echo(f"{name:<28} {'':<8} {0:>8}  {'-':<20} {0:>5} {0:>5} {0:>6}  never crawled")


@click.command()
@click.option("--source", help="Only this source.")
@click.option("--since", type=click.DateTime(), help="First seen on or after this date.")
@click.option("--limit", type=int, help="At most this many (newest first).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "jsonl"]),
    default="table",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="Write here instead of stdout.",
)
@pass_ctx
def articles(
    obj: Context,
    source: str | None,
    since: datetime | None,
    limit: int | None,
    fmt: str,
    output: Any,
) -> None:
    """List stored articles, or export them as CSV or JSON Lines."""
    from reports.listings import ARTICLE_FIELDS, csv_row, iter_articles

    since_utc = since.replace(tzinfo=UTC) if since and since.tzinfo is None else since
    with obj.session() as session:
        rows = iter_articles(session, source=source, since=since_utc, limit=limit)
        if fmt == "csv":
            writer = csv.DictWriter(output, fieldnames=ARTICLE_FIELDS)
            writer.writeheader()
            writer.writerows(csv_row(row) for row in rows)
        elif fmt == "jsonl":
            for row in rows:
                output.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            for row in rows:
                title = (row["title"] or "(untitled)")[:60]
                output.write(
                    f"{row['first_seen_at'][:16]}  {row['source'] or '-':<22} "
                    f"{title:<60}  {row['canonical_url']}\n"
                )
