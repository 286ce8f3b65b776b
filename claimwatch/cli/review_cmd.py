"""``claimwatch serve`` (the review workspace), ``claimwatch users`` and ``claimwatch review``."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import click

from claimwatch.cli.common import EX_CONFIG, Context, fail, pass_ctx
from core.models import ROLES


@click.command()
@click.option("--host", default=None, help="Address to listen on (default: web.host, 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default: web.port, 8080).")
@click.option(
    "--dev",
    is_flag=True,
    help="Without a configured secret key, use a throwaway one (logins end when it stops).",
)
@pass_ctx
def serve(obj: Context, host: str | None, port: int | None, dev: bool) -> None:
    """Serve the review workspace (put a TLS reverse proxy in front to share it)."""
    import uvicorn

    from review.app import create_app

    config = obj.config
    try:
        key = config.web.read_secret_key()
    except (OSError, ValueError) as exc:
        fail(f"web secret key: {exc}", EX_CONFIG)
    if key is None:
        if not dev:
            fail(
                "no secret key: set CLAIMWATCH_WEB__SECRET_KEY or web.secret_key_file "
                "(or pass --dev on a machine of your own)",
                EX_CONFIG,
            )
        key = secrets.token_urlsafe(48)
    app = create_app(
        obj.sessions(),
        config.web,
        key,
        config.schedule.failing_after,
        config.warc_path,
        timezone=config.digest.timezone,
        seed_folders=config.seed_folders,
        archive_dir=config.data_dir / "digests",
        template_threshold=config.dedup.template_threshold,
    )
    host = host or config.web.host
    port = port or config.web.port
    click.echo(f"review workspace on http://{host}:{port}/ (Ctrl-C stops it)", err=True)
    uvicorn.run(app, host=host, port=port, proxy_headers=True, log_level="info", access_log=False)


@click.group()
def users() -> None:
    """Workspace accounts."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_ctx
def users_add(obj: Context, name: str, role: str, password_stdin: bool) -> None:
    """Add an account, or set the password and role of an existing one."""
    from review.users import add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with obj.session() as session:
        try:
            add_user(session, name, role, password)
        except ValueError as exc:
            fail(str(exc))
        session.commit()
    click.echo(f"user {name} ({role}) saved")


@users.command("list")
@pass_ctx
def users_list(obj: Context) -> None:
    """List the accounts."""
    from review.users import all_users

    with obj.session() as session:
        for user in all_users(session):
            state = "" if user.active else " (inactive)"
            click.echo(f"{user.name}\t{user.role}{state}")


@click.group()
def review() -> None:
    """The review decisions."""


@review.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="File (default: stdout).")
@pass_ctx
def review_export(obj: Context, fmt: str, output: Path | None) -> None:
    """Write the claim decisions as labelled units (the input of `claimwatch model train`)."""
    from review.export import write_jsonl

    with obj.session() as session:
        if output is None:
            count = write_jsonl(session, sys.stdout)
        else:
            with output.open("w", encoding="utf-8") as handle:
                count = write_jsonl(session, handle)
    click.echo(f"{count} labelled units", err=True)
