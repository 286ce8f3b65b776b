"""Shared fixtures: a local web server in a subprocess, databases (SQLite and PostgreSQL), configs.

A test that needs a service skips with a reason where the service is absent, and fails when
``CI=true``.

PostgreSQL: each test run creates a database of its own (``test_<random>``, on first use) and drops
it when the run ends, so two runs on one machine never share tables. Tests marked ``slow`` (crawls,
daemons and other subprocesses, megabyte inputs) are left out by ``make test-fast``.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text

from core.db import dispose_all, make_engine, upgrade
from core.models import Base
from tests.sites import write_site

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
POSTGRES_DB = f"test_{os.getpid()}_{secrets.token_hex(4)}"  # this run's own database
POSTGRES_URL = f"{POSTGRES_SERVER}/{POSTGRES_DB}"
_postgres_created = False
IN_CI = os.environ.get("CI", "").lower() == "true"
REDIS_URL = "redis://127.0.0.1:6379/0"


# Modules whose tests are all slow, marked here because their files belong to other work in
# progress (claim scoring): hostile megabyte inputs.
SLOW_MODULES = {"test_claims_hostile.py"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


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


def _admin(statement: str) -> list[Any]:
    """Run one statement on the server's ``postgres`` database, outside a transaction."""
    admin = create_engine(f"{POSTGRES_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            result = conn.execute(text(statement))
            return list(result) if result.returns_rows else []
    finally:
        admin.dispose()


def _drop_abandoned() -> None:
    """Drop the databases of earlier runs on this machine whose process is gone (killed runs)."""
    for (name,) in _admin("SELECT datname FROM pg_database WHERE datname LIKE 'test\\_%'"):
        match = re.fullmatch(r"test_(\d+)_[0-9a-f]{8}", name)
        if match and not Path(f"/proc/{match.group(1)}").exists():
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_url() -> str:
    """This run's PostgreSQL database (created on first use), or a skip when there is no server."""
    global _postgres_created
    require(port_open("127.0.0.1", 5432), "PostgreSQL is not running on 127.0.0.1:5432")
    if not _postgres_created:
        if sys.platform == "linux":
            _drop_abandoned()
        _admin(f'CREATE DATABASE "{POSTGRES_DB}"')
        _postgres_created = True
    return POSTGRES_URL


def redis_url() -> str:
    """The loopback Redis, or a skip when there is none (a failure when ``CI=true``)."""
    require(port_open("127.0.0.1", 6379), "Redis is not running on 127.0.0.1:6379")
    return REDIS_URL


@pytest.fixture
def redis_namespace() -> Iterator[str]:
    """A Redis key prefix of this test's own (``[cluster] namespace``), its keys deleted after."""
    from redis import Redis

    url = redis_url()
    namespace = f"test_{os.getpid()}_{secrets.token_hex(4)}"
    yield namespace
    client = Redis.from_url(url)
    try:
        keys = list(client.scan_iter(f"{namespace}:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    dispose_all()
    if _postgres_created:
        _admin(f'DROP DATABASE IF EXISTS "{POSTGRES_DB}" WITH (FORCE)')


@pytest.fixture(autouse=True)
def _fresh_shared_engines() -> Iterator[None]:
    """Each test starts without the engines earlier tests left in :func:`core.db.engine_for`."""
    yield
    dispose_all()


def _postgres_engine() -> Engine:
    engine = make_engine(postgres_url())
    with engine.begin() as conn:
        Base.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    return engine


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: SQLite in a temp folder, or this run's PostgreSQL database."""
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
