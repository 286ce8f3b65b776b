"""``claimwatch crawl`` and ``claimwatch demo``: one crawl in this process, and its summary."""

from __future__ import annotations

import contextlib

import click

from claimwatch.cli.alerts_cmd import run_alert_check
from claimwatch.cli.common import Context, database, fail, pass_ctx
from core.config import Config
from crawler.runner import CrawlSummary


def demo_reviewer(config: Config) -> str:
    """A ``demo`` admin account in the demo's own database, with a new random password each run
    (the demo folder is made afresh; the configured database never gets this account)."""
    import secrets

    from review.users import add_user

    password = secrets.token_urlsafe(12)
    with database(config)() as session, session.begin():
        add_user(session, "demo", "admin", password)
    return password


def print_summary(summary: CrawlSummary) -> None:
    click.echo(f"crawl {summary.run_group} finished ({summary.finish_reason})")
    for name, state in summary.statuses.items():
        fig = summary.source_figure
        click.echo(
            f"  {name:<28} {state:<12} pages {fig(name, 'fetch/pages'):>5}"
            f"  new {fig(name, 'store/inserted'):>4}  changed {fig(name, 'store/updated'):>4}"
            f"  unchanged {fig(name, 'store/unchanged') + fig(name, 'store/not_modified'):>4}"
            f"  skipped {fig(name, 'discovery/lastmod_unchanged') + fig(name, 'discovery/recently_checked'):>4}"
            f"  errors {fig(name, 'errors/total') + fig(name, 'store/error'):>3}"
            + (f"  {summary.note(name)}" if state != "failed" else "")
        )
        failure = summary.stats.get(f"source/{name}/store/failure")
        if failure:
            click.echo(f"    {fig(name, 'store/error')} item(s) not stored: {failure}")
    for name in summary.failed:  # one line each, with the reason
        click.echo(f"{name}: {summary.statuses[name]}: {summary.note(name)}", err=True)


def print_dedup(summary: CrawlSummary) -> None:
    stats = summary.stats
    matched = {
        key.rsplit("/", 1)[-1]: value
        for key, value in stats.items()
        if key.startswith("dedup/template_match/")
    }
    click.echo(
        f"dedup: {stats.get('dedup/template_match', 0)} articles matched a seed template family"
        + (
            " (" + ", ".join(f"{k}: {v}" for k, v in sorted(matched.items())) + ")"
            if matched
            else ""
        )
        + f"; {stats.get('dedup/exact_repost', 0)} exact reposts;"
        f" {stats.get('dedup/near_seed', 0)} near-duplicates of a seed,"
        f" {stats.get('dedup/near_article', 0)} of another article"
    )
    bands = ", ".join(
        f"{stats.get(f'score/band/{band}', 0)} {band}"
        for band in ("priority", "review", "watch", "ignore")
    )
    click.echo(
        f"claims: {stats.get('score/claims', 0)} potential claims flagged; articles: {bands}"
    )


@click.command()
@click.argument("sources", nargs=-1)
@pass_ctx
def crawl(obj: Context, sources: tuple[str, ...]) -> None:
    """Crawl the configured sources once (all enabled ones, or those named).

    Fetches only what is new or changed since the last run, stores the articles, prints a summary,
    and exits non-zero when a source failed.
    """
    from crawler.runner import run_crawl

    config = obj.config
    if not config.sources:
        fail("no sources configured; add [[sources]] to the config (see `claimwatch init`)")
    unknown = set(sources) - {s.name for s in config.sources}
    if unknown:
        fail(f"unknown source(s): {', '.join(sorted(unknown))}")
    summary = run_crawl(config, list(sources) or None, log_level=obj.log_level)
    if summary.stats.get("claimwatch/run_not_recorded"):
        fail(
            "the crawl runs could not be recorded in the database "
            f"({summary.stats['claimwatch/run_not_recorded']}); nothing was crawled"
        )
    print_summary(summary)
    print_dedup(summary)
    for title in run_alert_check(config):
        click.echo(f"alert sent: {title}")
    if summary.failed:
        fail(f"source(s) failed: {', '.join(summary.failed)}")


@click.command()
@click.option(
    "--serve", is_flag=True, help="Keep serving the demo sites after the run (Ctrl-C ends)."
)
@pass_ctx
def demo(obj: Context, serve: bool) -> None:
    """Serve the bundled demo sites on 127.0.0.1 and run the pipeline over them.

    Every run starts from a fresh folder, <data_dir>/demo/ (default ./data/demo/), with its own
    SQLite database, digest and config file, so a second run gives the same result. The configured
    database is not touched.
    """
    import threading

    from claimwatch.cli.digest_cmd import write_week_digest
    from crawler.demo.config import (
        DemoFolderError,
        demo_config,
        demo_config_file,
        demo_folder,
        fresh_folder,
    )
    from crawler.demo.server import demo_site_roots, serving
    from crawler.runner import run_crawl

    try:
        folder = fresh_folder(demo_folder(obj.config))
    except DemoFolderError as exc:
        fail(str(exc))
    with serving(demo_site_roots()) as servers:
        urls = {name: server.url for name, server in servers.items()}
        for name, url in urls.items():
            click.echo(f"serving {name} at {url}")
        config = demo_config(obj.config, urls, folder)
        summary = run_crawl(config, log_level=obj.log_level)
        print_summary(summary)
        print_dedup(summary)
        config_file = demo_config_file(folder, config)
        click.echo(f"\nresults: {config.db_url}")
        click.echo(f"digest: {write_week_digest(config)} (page links go to the stored evidence)")
        click.echo(f"to look further: claimwatch --config {config_file} sources")
        click.echo("  (or families, articles --format csv, digest --week ...)")
        password = demo_reviewer(config)
        click.echo(
            f"review workspace: claimwatch --config {config_file} serve --dev, then open "
            f"http://{config.web.host}:{config.web.port}/ and log in as demo / {password}"
        )
        if serve:
            click.echo("serving the demo sites; Ctrl-C to stop")
            with contextlib.suppress(KeyboardInterrupt):
                threading.Event().wait()
    if summary.failed:
        fail(f"demo source(s) failed: {', '.join(summary.failed)}")
