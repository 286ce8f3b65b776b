"""What the commands share: the context (the config, loaded once and lazily; the database), error
exits and the exit codes (sysexits.h where one fits)."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from core.config import Config, ConfigError, find_config_path, load_config

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

EX_OK = 0
EX_FAILURE = 1  # a source failed, an input could not be read, a digest failed for good
EX_USAGE = 2  # click's own code for bad options
EX_TEMPFAIL = 75  # try again later: mail server unreachable, another daemon holds the database
EX_CONFIG = 78  # invalid configuration


def fail(message: str, code: int = EX_FAILURE) -> NoReturn:
    click.echo(f"claimwatch: {message}", err=True)
    sys.exit(code)


class Context:
    """The click context object: the options of the ``claimwatch`` group, and the config they
    name, read once and only by the commands that need it."""

    def __init__(self, config_path: Path | None, verbose: int, log_format: str = "text") -> None:
        self.config_path = config_path
        self.verbose = verbose
        self.log_format = log_format
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            try:
                self._config = load_config(self.config_path)
            except ConfigError as exc:
                fail(str(exc), EX_CONFIG)
        return self._config

    @property
    def config_file(self) -> Path | None:
        """The file the configuration was read from (``None``: built-in defaults)."""
        return find_config_path(self.config_path)

    @property
    def log_level(self) -> str:
        return ["WARNING", "INFO", "DEBUG"][min(self.verbose, 2)]

    def sessions(self) -> sessionmaker[Session]:
        """The session factory of the configured database, its schema brought up to date."""
        return database(self.config)

    def session(self) -> Session:
        return self.sessions()()


def database(config: Config) -> sessionmaker[Session]:
    """The process's session factory for the configured database, migrated to the latest schema."""
    from core.db import engine_for, sessions_for, upgrade

    upgrade(engine_for(config.db_url))
    return sessions_for(config.db_url)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message (and the exception, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class Quiet(logging.Filter):
    """The default verbosity: a command's own summary says what failed, one line per source, so
    Scrapy's and Twisted's error records (each a traceback) are left out, and any other record
    keeps its message but not its traceback. ``-v`` shows everything."""

    FRAMEWORKS = ("scrapy", "twisted", "py.warnings")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.split(".", 1)[0] in self.FRAMEWORKS and record.levelno < logging.CRITICAL:
            return False
        if record.exc_info or record.exc_text or record.stack_info:
            record.exc_info, record.exc_text, record.stack_info = None, None, None
            record.msg = f"{record.getMessage()} (-v for the traceback)"
            record.args = None
        return True


pass_ctx = click.make_pass_decorator(Context)
