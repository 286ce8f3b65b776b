"""Shared fixtures: a local web server in a subprocess, databases (SQLite and PostgreSQL), configs.

A test that needs a service skips with a reason where the service is absent, and fails when
``CI=true``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from pipeline.db import make_engine, upgrade
from pipeline.models import Base
from tests.sites import write_site

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
IN_CI = os.environ.get("CI", "").lower() == "true"


def require(available: bool, reason: str) -> None:
    """Skip when a service is missing, but fail in CI where it must be present."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class Served:
    url: str
    root: Path
    process: subprocess.Popen[str]

    @property
    def requests(self) -> list[str]:
        log = self.root.parent / "access.log"
        return log.read_text().split() if log.exists() else []

    def clear_log(self) -> None:
        (self.root.parent / "access.log").unlink(missing_ok=True)


def serve(root: Path, delay: float = 0.0) -> Served:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.mockserver", str(root), str(delay)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), f"mock server did not start: {url!r}"
    return Served(url, root, process)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Served]:
    """The standard test site (tests/sites.py) served from a subprocess on an ephemeral port."""
    served = serve(write_site(tmp_path / "site"))
    yield served
    served.process.kill()
    served.process.wait()


def _postgres_engine() -> Engine:
    require(port_open("127.0.0.1", 5432), "PostgreSQL is not running on 127.0.0.1:5432")
    engine = make_engine(POSTGRES_URL)
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    return engine


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: SQLite in a temp folder, or the PostgreSQL test database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'claimwatch.db'}"
        return
    engine = _postgres_engine()
    yield POSTGRES_URL
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return str(value)


def write_config(
    path: Path,
    sources: list[dict[str, Any]],
    db_url: str | None = None,
    crawl: dict[str, Any] | None = None,
) -> Path:
    """A config file for a test crawl: loopback allowed, no politeness delays."""
    lines = [f"data_dir = {toml_value(str(path.parent / 'data'))}"]
    if db_url:
        lines.append(f"database_url = {toml_value(db_url)}")
    settings = {
        "allow_addresses": ["127.0.0.1/32"],
        "download_delay": 0,
        "autothrottle": False,
        "retry_times": 0,
        "download_timeout": 10,
        **(crawl or {}),
    }
    lines.append("[crawl]")
    lines += [f"{key} = {toml_value(value)}" for key, value in settings.items()]
    for source in sources:
        lines.append("[[sources]]")
        lines += [f"{key} = {toml_value(value)}" for key, value in source.items()]
    text_ = "\n".join(lines) + "\n"
    tomllib.loads(text_)
    path.write_text(text_)
    return path


def run_cli(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """Run ``claimwatch ARGS`` in a subprocess (each crawl needs a fresh Twisted reactor)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMWATCH_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "claimwatch", *args],
        cwd=cwd or ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
