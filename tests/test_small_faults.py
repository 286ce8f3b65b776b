"""The smaller faults of issue 16 (item 6): a digest writer out of room says so plainly; a source
that never yielded an article is not called healthy."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core.db import session_factory
from reports.listings import source_health
from tests.conftest import ROOT, postgres_url
from tests.test_health import runs

FILE_LIMIT = 512  # bytes: the digest page is larger, so its write fails as on a full disk


def _small_files() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))


@pytest.mark.slow
def test_a_digest_writer_out_of_room_fails_with_a_clear_error(tmp_path: Path) -> None:
    """Before: a raw OSError traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMWATCH_")}
    env["CLAIMWATCH_DATABASE_URL"] = postgres_url()  # a server: no local database file to grow
    env["CLAIMWATCH_DATA_DIR"] = str(tmp_path / "data")
    base = [sys.executable, "-m", "claimwatch", "digest", "--week", "2026-W47"]
    ready = subprocess.run(
        [sys.executable, "-m", "claimwatch", "db", "upgrade"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert ready.returncode == 0, ready.stderr
    out = tmp_path / "digests"
    result = subprocess.run(
        [*base, "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, preexec_fn=_small_files,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert "could not write the 2026-W47 digest" in result.stderr
    assert not list(out.glob(".*.html.*"))  # no temporary file left behind


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with session_factory(engine)() as session:
        yield session


def test_a_source_that_never_yielded_an_article_is_not_healthy(session: Session) -> None:
    """Before: a source whose runs all ended "ok" with nothing stored (a 429 storm, a bomb, an
    invalid sitemap) read "healthy"."""
    runs(session, "empty", ["ok", "ok"])
    [row] = source_health(session, 3)
    assert row.articles == 0 and row.last_items == 0
    assert row.health == "no articles yet"
