"""One daemon per database: a lock file beside SQLite, a PostgreSQL advisory lock otherwise.

The lock is held for the life of the daemon and released by the operating system (file lock) or
the server (session advisory lock) when the process dies, even by ``kill -9``.

The lock file sits beside the database's resolved path, so two daemons reaching one database
through a symlink share it. A lock can be lost while the daemon runs (its PostgreSQL session
terminated, its lock file deleted): :meth:`DaemonLock.held` says so, and the daemon checks it
every ``schedule.lock_check_s`` and stops.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from core.db import engine_for

ADVISORY_KEY = 0x436C6D77  # "Clmw": a 32-bit key, so pg_locks.objid shows it whole
APP_NAME = "claimwatch-daemon"


class LockHeld(RuntimeError):
    """Another daemon holds the lock; the message says which."""


def _holder_text(info: dict[str, Any]) -> str:
    return f"pid {info.get('pid')} on {info.get('host')}, since {info.get('since')}"


class DaemonLock:
    def __init__(self, db_url: str) -> None:
        self.db_url = db_url
        url = make_url(db_url)
        self.sqlite = url.get_backend_name() == "sqlite"
        self.path = Path(f"{Path(url.database or '').resolve()}.lock") if self.sqlite else None
        self._file: Any = None
        self._conn: Connection | None = None

    def acquire(self) -> None:
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("a+")
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                raise LockHeld(
                    f"another claimwatch daemon runs on this database "
                    f"({self.holder() or 'unknown holder'}); lock file {self.path}"
                ) from None
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(info))
            handle.flush()
            self._file = handle
            return
        conn = engine_for(self.db_url).connect()
        conn.execute(
            text("SELECT set_config('application_name', :name, false)"),
            {"name": f"{APP_NAME} pid={info['pid']} host={info['host']}"},
        )
        got = conn.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}
        ).scalar()
        conn.commit()
        if not got:
            holder = self.holder()
            conn.close()
            raise LockHeld(
                f"another claimwatch daemon runs on this database ({holder or 'unknown holder'})"
            )
        self._conn = conn

    def release(self) -> None:
        if self._file is not None:
            self._file.seek(0)
            self._file.truncate()
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
                self._conn.commit()
            except Exception:
                pass  # the session is gone already, and its lock with it
            try:
                self._conn.close()
            finally:
                self._conn = None

    def held(self) -> bool:
        """Whether this process still holds the lock it acquired."""
        if self._file is not None:
            assert self.path is not None
            try:
                return os.stat(self.path).st_ino == os.fstat(self._file.fileno()).st_ino
            except OSError:
                return False  # the lock file is gone: another daemon could lock a new one
        if self._conn is not None:
            try:
                found = self._conn.execute(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                        "AND objid = :key AND pid = pg_backend_pid() AND granted"
                    ),
                    {"key": ADVISORY_KEY},
                ).scalar()
                self._conn.commit()
            except Exception:
                return False  # the session is gone, and its advisory lock with it
            return bool(found)
        return False

    def holder(self) -> str | None:
        """Who holds the lock now, or ``None`` when nobody does."""
        if self.path is not None:
            if not self.path.exists():
                return None
            with self.path.open() as handle:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
                except BlockingIOError:
                    content = self.path.read_text().strip()
                    try:
                        return _holder_text(json.loads(content))
                    except ValueError:
                        return "unknown holder"
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            return None
        with engine_for(self.db_url).connect() as conn:
            row = conn.execute(
                text(
                    "SELECT a.application_name, a.backend_start FROM pg_locks l "
                    "JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.objid = :key AND l.granted "
                    "AND l.database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database())"
                ),
                {"key": ADVISORY_KEY},
            ).first()
        return f"{row[0]}, since {row[1]:%Y-%m-%d %H:%M:%S}" if row else None

    def __enter__(self) -> DaemonLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
