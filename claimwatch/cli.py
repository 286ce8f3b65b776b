"""The ``claimwatch`` command line. Each command is a thin shell over a library function."""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import sys
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import click

from claimwatch.config import Config, ConfigError, load_config

EX_CONFIG = 78  # sysexits.h: configuration error
EX_FAILURE = 1


def _fail(message: str, code: int = EX_FAILURE) -> NoReturn:
    click.echo(f"claimwatch: {message}", err=True)
    sys.exit(code)


class Context:
    def __init__(self, config_path: Path | None, verbose: int) -> None:
        self.config_path = config_path
        self.verbose = verbose
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            try:
                self._config = load_config(self.config_path)
            except ConfigError as exc:
                _fail(str(exc), EX_CONFIG)
        return self._config

    @property
    def config_file(self) -> Path | None:
        """The file the configuration was read from (``None``: built-in defaults)."""
        from claimwatch.config import find_config_path

        return find_config_path(self.config_path)

    @property
    def log_level(self) -> str:
        return ["WARNING", "INFO", "DEBUG"][min(self.verbose, 2)]

    def session(self) -> Any:
        from pipeline.db import make_engine, session_factory, upgrade

        engine = make_engine(self.config.db_url)
        upgrade(engine)
        return session_factory(engine)()


pass_ctx = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    help="Config file (default: $CLAIMWATCH_CONFIG, else ./claimwatch.toml, else built-in defaults).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="claimwatch")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, verbose: int) -> None:
    """claimwatch: watch the web for content-farm supplement articles and risky health claims.

    Configure sources in claimwatch.toml (`claimwatch init`), crawl them (`claimwatch crawl`), and
    inspect what was stored (`claimwatch sources`, `claimwatch articles`). `claimwatch demo` runs the
    whole pipeline on a bundled demo corpus served on 127.0.0.1.
    """
    ctx.obj = Context(config_path, verbose)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.root.handlers:
        handler.setLevel(ctx.obj.log_level)


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
        _fail(f"{path} exists; use --force to overwrite it")
    path.write_text(resources.files("claimwatch").joinpath("starter.toml").read_text("utf-8"))
    try:
        load_config(path, env={})
    except ConfigError as exc:  # the starter must always be valid
        _fail(f"internal error, starter config invalid: {exc}")
    click.echo(f"wrote {path}; edit its [[sources]] and run `claimwatch crawl`")


def _print_summary(summary: Any) -> None:
    click.echo(f"crawl {summary.run_group} finished ({summary.finish_reason})")
    for name, state in summary.statuses.items():
        fig = summary.source_figure
        click.echo(
            f"  {name:<28} {state:<12} pages {fig(name, 'fetch/pages'):>5}"
            f"  new {fig(name, 'store/inserted'):>4}  changed {fig(name, 'store/updated'):>4}"
            f"  unchanged {fig(name, 'store/unchanged') + fig(name, 'store/not_modified'):>4}"
            f"  skipped {fig(name, 'discovery/lastmod_unchanged') + fig(name, 'discovery/recently_checked'):>4}"
            f"  errors {fig(name, 'errors/total'):>3}"
        )


def _print_dedup(summary: Any) -> None:
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


@main.command()
@click.argument("sources", nargs=-1)
@pass_ctx
def crawl(obj: Context, sources: tuple[str, ...]) -> None:
    """Crawl the configured sources once (all enabled ones, or those named).

    Fetches only what is new or changed since the last run, stores the articles, prints a summary,
    and exits non-zero when a source failed.
    """
    from claimwatch.crawl import run_crawl

    config = obj.config
    if not config.sources:
        _fail("no sources configured; add [[sources]] to the config (see `claimwatch init`)")
    unknown = set(sources) - {s.name for s in config.sources}
    if unknown:
        _fail(f"unknown source(s): {', '.join(sorted(unknown))}")
    summary = run_crawl(config, list(sources) or None, log_level=obj.log_level)
    _print_summary(summary)
    _print_dedup(summary)
    if summary.failed:
        _fail(f"source(s) failed: {', '.join(summary.failed)}")


@main.command()
@pass_ctx
def sources(obj: Context) -> None:
    """Each source's last crawl run and health."""
    from reports.listings import source_health

    with obj.session() as session:
        rows = source_health(session)
    configured = {s.name for s in obj.config.sources}
    click.echo(
        f"{'source':<28} {'kind':<8} {'articles':>8}  {'last run':<20} {'pages':>5} "
        f"{'items':>5} {'errors':>6}  health"
    )
    for row in rows:
        started = row.last_started.strftime("%Y-%m-%d %H:%M") if row.last_started else "-"
        note = "" if row.name in configured else "  (not in config)"
        click.echo(
            f"{row.name:<28} {row.kind:<8} {row.articles:>8}  {started:<20} "
            f"{row.last_pages:>5} {row.last_items:>5} {row.last_errors:>6}  {row.health}{note}"
        )
    for name in sorted(configured - {r.name for r in rows}):
        click.echo(f"{name:<28} {'':<8} {0:>8}  {'-':<20} {0:>5} {0:>5} {0:>6}  never crawled")


@main.command()
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
    from reports.listings import ARTICLE_FIELDS, iter_articles

    since_utc = since.replace(tzinfo=UTC) if since and since.tzinfo is None else since
    with obj.session() as session:
        rows = iter_articles(session, source=source, since=since_utc, limit=limit)
        if fmt == "csv":
            writer = csv.DictWriter(output, fieldnames=ARTICLE_FIELDS)
            writer.writeheader()
            writer.writerows(rows)
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


@main.command()
@pass_ctx
def families(obj: Context) -> None:
    """Template families: their seeds, and the articles and sites matched to each, by week."""
    from pipeline.dedup.seeds import SeedError, load_families
    from reports.listings import family_weeks

    try:
        seeds = load_families(obj.config.seed_folders)
    except SeedError as exc:
        _fail(f"seeds: {exc}", EX_CONFIG)
    with obj.session() as session:
        weeks = family_weeks(session)
    for name, members in seeds.items():
        click.secho(f"{name}  ({len(members)} seeds)", bold=True)
        for seed_id in members:
            click.echo(f"  seed {seed_id}")
        rows = [w for w in weeks if w.family == name]
        if not rows:
            click.echo("  no articles matched yet")
        for row in rows:
            click.echo(
                f"  {row.week}  {row.articles:>4} articles  {row.reposts:>3} reposts  "
                f"{len(row.sites)} sites: {', '.join(row.sites)}"
            )


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@pass_ctx
def db_upgrade(obj: Context) -> None:
    """Create or migrate the database schema to the latest version."""
    from pipeline.db import current_revision, make_engine, upgrade

    engine = make_engine(obj.config.db_url)
    upgrade(engine)
    click.echo(f"database at revision {current_revision(engine)}: {engine.url.render_as_string()}")


@main.command()
@click.option(
    "--serve", is_flag=True, help="Keep serving the demo sites after the run (Ctrl-C ends)."
)
@pass_ctx
def demo(obj: Context, serve: bool) -> None:
    """Serve the bundled demo sites on 127.0.0.1 and run the pipeline over them.

    Uses the configured data directory and database (default: ./data/claimwatch.db).
    """
    import threading

    from claimwatch.crawl import run_crawl
    from claimwatch.demo import demo_config
    from crawler.demo.server import demo_site_roots, serving

    with serving(demo_site_roots()) as servers:
        urls = {name: server.url for name, server in servers.items()}
        for name, url in urls.items():
            click.echo(f"serving {name} at {url}")
        config = demo_config(obj.config, urls)
        summary = run_crawl(config, log_level=obj.log_level)
        _print_summary(summary)
        _print_dedup(summary)
        from claimwatch.digest_cmd import write_week_digest

        click.echo(f"\nresults: {config.db_url}")
        click.echo(f"digest: {write_week_digest(config)}")
        click.echo(
            "  claimwatch sources  |  claimwatch families  |  claimwatch articles --format csv"
        )
        if serve:
            click.echo("serving the demo sites; Ctrl-C to stop")
            with contextlib.suppress(KeyboardInterrupt):
                threading.Event().wait()
    if summary.failed:
        _fail(f"demo source(s) failed: {', '.join(summary.failed)}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per input, one per line.")
@click.option(
    "--excerpt",
    is_flag=True,
    help="The inputs are excerpts that may stop mid-article (a list at the end may be cut short).",
)
@click.argument("inputs", nargs=-1, required=True)
@pass_ctx
def analyze(obj: Context, as_json: bool, excerpt: bool, inputs: tuple[str, ...]) -> None:
    """Run documents through the pipeline without storing them.

    Each input is a file (.html/.htm as HTML, anything else as plain text: one block per line,
    "- " bullets, short unpunctuated lines as headings) or an http(s) URL. Each is compared with the
    seed templates and the stored articles. Exits non-zero when an input could not be read.
    """
    from claimwatch.analyze import run_analyze
    from pipeline.dedup.seeds import SeedError

    try:
        code = run_analyze(obj.config, inputs, as_json=as_json, excerpt=excerpt)
    except SeedError as exc:
        _fail(f"seeds: {exc}", EX_CONFIG)
    sys.exit(code)


@main.group()
def rules() -> None:
    """Claim-scoring rules: check them, or see which fire on a sentence."""


@rules.command("check")
@pass_ctx
def rules_check(obj: Context) -> None:
    """Validate the rule file (and config extras) and run every rule's examples."""
    from pipeline.claims import RuleError, check_rules
    from pipeline.claims.pipeline import rules_from_config

    try:
        ruleset = rules_from_config(obj.config)
    except RuleError as exc:
        _fail(str(exc), EX_CONFIG)
    failures = check_rules(ruleset)
    for failure in failures:
        click.echo(f"FAIL {failure}")
    click.echo(f"{len(failures)} failing example(s); rules sha256 {ruleset.sha256}")
    if failures:
        sys.exit(EX_FAILURE)


@rules.command("explain")
@click.argument("sentence")
@pass_ctx
def rules_explain(obj: Context, sentence: str) -> None:
    """Show which rules fire on SENTENCE, and why."""
    from pipeline.claims import RuleError, explain
    from pipeline.claims.pipeline import rules_from_config

    try:
        ruleset = rules_from_config(obj.config)
    except RuleError as exc:
        _fail(str(exc), EX_CONFIG)
    click.echo(explain(sentence, ruleset))


from claimwatch.digest_cmd import digest, digests  # noqa: E402
from claimwatch.run_cmd import run, status  # noqa: E402

main.add_command(digest)
main.add_command(digests)
main.add_command(run)
main.add_command(status)
