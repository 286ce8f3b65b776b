"""The daemon lock (issue 16, item 5): a lost lock is noticed and the daemon stops; the SQLite lock
file is on the database's resolved path, so a symlink does not let a second daemon in; the daemon
never logs the database password."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from claimwatch.cli.lock import DaemonLock, LockHeld
from tests.conftest import ROOT, postgres_url, write_config
from tests.test_scheduler import wait_for_line


def terminate_daemon_sessions(url: str, pid: int) -> int:
    """What an operator's ``pg_terminate_backend`` does to the daemon's session."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            killed = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name LIKE :name"
                ),
                {"name": f"claimwatch-daemon pid={pid} %"},
            ).scalar()
    finally:
        admin.dispose()
    return int(killed or 0)


def test_a_symlinked_sqlite_path_shares_the_lock(tmp_path: Path) -> None:
    """Before: the lock file was `<path as written>.lock`, one per spelling of the path."""
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "cw.db"
    real.touch()
    link = tmp_path / "link.db"
    link.symlink_to(real)
    first, second = DaemonLock(f"sqlite:///{real}"), DaemonLock(f"sqlite:///{link}")
    first.acquire()
    try:
        with pytest.raises(LockHeld, match="another claimwatch daemon"):
            second.acquire()
    finally:
        first.release()
    assert first.path == second.path == Path(f"{real.resolve()}.lock")


def test_a_deleted_lock_file_is_noticed(tmp_path: Path) -> None:
    lock = DaemonLock(f"sqlite:///{tmp_path / 'cw.db'}")
    lock.acquire()
    assert lock.held()
    assert lock.path is not None
    lock.path.unlink()  # a new daemon would now lock a new file
    assert not lock.held()
    lock.release()


def test_a_terminated_postgresql_session_loses_the_lock() -> None:
    url = postgres_url()
    lock = DaemonLock(url)
    lock.acquire()
    try:
        assert lock.held()
        assert terminate_daemon_sessions(url, os.getpid()) == 1
        assert not lock.held()
        other = DaemonLock(url)
        other.acquire()  # the server released it with the session
        other.release()
    finally:
        lock.release()


@pytest.mark.slow
def test_the_daemon_stops_when_its_postgresql_lock_is_lost(tmp_path: Path) -> None:
    """Before: the first daemon ran on without its lock, and a second one could start."""
    url = postgres_url().replace("//postgres@", "//postgres:s3cret-pw@")  # trust: any password
    assert "s3cret-pw" in url
    config = write_config(
        tmp_path / "claimwatch.toml",
        [{"name": "weekly", "kind": "sitemap", "start_urls": ["http://127.0.0.1:9/sitemap.xml"]}],
        url,
    )
    config.write_text(
        config.read_text() + '[schedule]\ncrawl = "1d"\nhousekeeping = "1d"\nlock_check_s = 0.5\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMWATCH_")}
    daemon = subprocess.Popen(
        [sys.executable, "-m", "claimwatch", "--config", str(config), "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        seen = wait_for_line(daemon, "daemon started")
        assert terminate_daemon_sessions(postgres_url(), daemon.pid) == 1
        seen += wait_for_line(daemon, "lost the daemon lock", timeout=30)
        rest, _ = daemon.communicate(timeout=60)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
    output = "".join(seen) + rest
    assert daemon.returncode == 1, output
    assert "daemon stopped" in output
    assert "s3cret-pw" not in output and "***" in output
