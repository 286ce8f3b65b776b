"""The ``claimwatch`` group, ``init`` and ``db upgrade``; every other command lives in a module of
its own and is registered here."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

import click

from claimwatch.cli.alerts_cmd import alerts
from claimwatch.cli.analyze import analyze
from claimwatch.cli.common import Context, JsonFormatter, Quiet, fail, pass_ctx
from claimwatch.cli.crawl_cmd import crawl, demo
from claimwatch.cli.digest_cmd import digest, digests
from claimwatch.cli.families_cmd import families
from claimwatch.cli.listing_cmd import articles, sources
from claimwatch.cli.model_cmd import model
from claimwatch.cli.review_cmd import review, serve, users
from claimwatch.cli.rules_cmd import rules
from claimwatch.cli.run_cmd import run, status
from claimwatch.cli.worker_cmd import worker
from core.config import ConfigError, load_config


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    help="Config file (default: $CLAIMWATCH_CONFIG, else ./claimwatch.toml, else built-in defaults).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log records on stderr as text or as JSON lines (the daemon's on stdout).",
)
@click.version_option(package_name="claimwatch")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, verbose: int, log_format: str) -> None:
    """claimwatch: watch the web for content-farm supplement articles and risky health claims.

    Configure sources in claimwatch.toml (`claimwatch init`), crawl them (`claimwatch crawl`), and
    inspect what was stored (`claimwatch sources`, `claimwatch articles`). `claimwatch demo` runs the
    whole pipeline on a bundled demo corpus served on 127.0.0.1.
    """
    ctx.obj = Context(config_path, verbose, log_format)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.root.handlers:
        handler.setLevel(ctx.obj.log_level)
        if log_format == "json":
            handler.setFormatter(JsonFormatter())
        if not verbose:
            handler.addFilter(Quiet())


@main.command()
@click.option(
    "--path",
    type=click.Path(path_type=Path),
    default=Path("claimwatch.toml"),
    show_default=True,
    help="Where to write the starter config.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(path: Path, force: bool) -> None:
    """Write a commented starter configuration file."""
    if path.exists() and not force:
        fail(f"{path} exists; use --force to overwrite it")
    path.write_text(resources.files("claimwatch").joinpath("starter.toml").read_text("utf-8"))
    try:
        load_config(path, env={})
    except ConfigError as exc:  # the starter must always be valid
        fail(f"internal error, starter config invalid: {exc}")
    click.echo(f"wrote {path}; edit its [[sources]] and run `claimwatch crawl`")


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@pass_ctx
def db_upgrade(obj: Context) -> None:
    """Create or migrate the database schema to the latest version."""
    from core.db import current_revision, engine_for, upgrade

    engine = engine_for(obj.config.db_url)
    upgrade(engine)
    click.echo(f"database at revision {current_revision(engine)}: {engine.url.render_as_string()}")


for command in (crawl, sources, articles, families, demo, analyze, rules, model):
    main.add_command(command)
for command in (digest, digests, run, status, alerts, worker):
    main.add_command(command)
for command in (serve, users, review):
    main.add_command(command)
