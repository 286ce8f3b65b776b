"""Engine and session factory; schema upgrades through Alembic.

SQLite (the default) runs in WAL mode with a busy timeout and foreign keys on, so a crawl writing and
a report reading can share the file; PostgreSQL is used when the URL says so.

A process has one engine and one session factory per database URL: :func:`engine_for` and
:func:`sessions_for` build them on first use and hand out the same ones after that (a crawl's
spider, pipelines and extension share one connection pool). :func:`make_engine` builds a new,
unshared engine; only code that owns its engine's whole life (tests, say) calls it.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; for a SQLite file, its folder is created and the pragmas set."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


_engines: dict[str, Engine] = {}
_sessions: dict[str, sessionmaker[Session]] = {}
_lock = threading.Lock()


def engine_for(url: str) -> Engine:
    """This process's engine for ``url``, built on first use (thread-safe)."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url)
        return engine


def sessions_for(url: str) -> sessionmaker[Session]:
    """This process's session factory for ``url``, on :func:`engine_for`'s engine."""
    engine = engine_for(url)
    with _lock:
        factory = _sessions.get(url)
        if factory is None:
            factory = _sessions[url] = session_factory(engine)
        return factory


def dispose_all() -> None:
    """Close and forget the shared engines (the next :func:`engine_for` builds new ones)."""
    with _lock:
        engines = list(_engines.values())
        _engines.clear()
        _sessions.clear()
    for engine in engines:
        engine.dispose()


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent)."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table("articles")
