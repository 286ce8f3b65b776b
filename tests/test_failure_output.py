"""Clear failure output: one line per failing source with its reason (tracebacks only with -v),
the reason in `sources` and in both digest forms, and "0 new of N listed" for a source that found
nothing new. Crawls through the CLI against a local site and a closed port."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.health import failure_reason, listed_note, run_note
from reports.period import week_of
from tests.conftest import Served, run_cli, write_config


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_failure_reason_ranks_the_errors_and_shows_one_sample() -> None:
    own = {"errors/total": 5, "errors/start_failed": 1, "errors/http_500": 3, "errors/timeout": 2}
    samples = [{"url": "https://a.example/x", "reason": "http_500", "detail": "HTTP 500\n  boom"}]
    assert failure_reason(own, samples) == (
        "3 http_500, 2 timeout; e.g. https://a.example/x: HTTP 500 boom"
    )
    assert failure_reason({}) == "no page fetched"


def test_listed_note_counts_what_was_offered() -> None:
    own = {"fetch/pages": 2, "discovery/lastmod_unchanged": 10, "store/inserted": 0}
    assert listed_note(own) == "0 new of 12 listed"
    assert listed_note({}).startswith("0 new of 0 listed (nothing offered")
    assert (
        run_note("ok", {"source": {"fetch/pages": 3, "store/inserted": 3}}) == "3 new of 3 listed"
    )
    assert run_note(None, None) == "" and run_note("running", {"source": {}}) == ""


@pytest.mark.slow
def test_a_failing_source_gets_one_line_and_its_reason_everywhere(
    site: Served, tmp_path: Path
) -> None:
    down = f"http://127.0.0.1:{closed_port()}/robots.txt"
    config = write_config(
        tmp_path / "claimwatch.toml",
        [
            {"name": "weekly", "kind": "sitemap", "start_urls": [site.url + "/robots.txt"]},
            {"name": "down", "kind": "sitemap", "start_urls": [down]},
        ],
    )
    first = run_cli("--config", str(config), "crawl")
    assert first.returncode == 1
    assert "Traceback" not in first.stderr and "scrapy" not in first.stderr.lower()
    reason = f"down: failed: 1 connection_refused; e.g. {down}: Connection was refused"
    lines = [line for line in first.stderr.splitlines() if line.startswith("down: ")]
    assert len(lines) == 1 and lines[0].startswith(reason)
    assert "3 new of 3 listed" in first.stdout

    again = run_cli("--config", str(config), "crawl", "weekly")
    assert again.returncode == 0, again.stderr
    assert "0 new of 3 listed" in again.stdout  # the sitemap's lastmods are unchanged

    verbose = run_cli("--config", str(config), "-v", "crawl", "down")
    assert verbose.returncode == 1
    assert "Traceback" in verbose.stderr

    listed = run_cli("--config", str(config), "sources")
    assert "failed last run: 1 connection_refused; e.g. " + down in listed.stdout
    assert "healthy: 0 new of 3 listed" in listed.stdout

    week = week_of(datetime.now(UTC)).key
    digest = run_cli("--config", str(config), "digest", "--week", week)
    assert digest.returncode == 0, digest.stderr
    folder = tmp_path / "data" / "digests"
    text = (folder / f"{week}.txt").read_text(encoding="utf-8")
    assert f"last run: 1 connection_refused; e.g. {down}" in text
    html = (folder / f"{week}.html").read_text(encoding="utf-8")
    assert f"last run: 1 connection_refused; e.g. {down}" in html


@pytest.mark.slow
def test_log_format_json_for_any_command(tmp_path: Path) -> None:
    import json

    down = f"http://127.0.0.1:{closed_port()}/robots.txt"
    config = write_config(
        tmp_path / "claimwatch.toml", [{"name": "down", "kind": "sitemap", "start_urls": [down]}]
    )
    result = run_cli("--config", str(config), "-v", "--log-format", "json", "crawl")
    assert result.returncode == 1
    records = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert any("ConnectionRefusedError" in r.get("exception", "") for r in records)
    others = [line for line in result.stderr.splitlines() if not line.startswith("{")]
    # Outside the JSON records, only the summary's own lines (a traceback is inside its record).
    assert all(line.startswith(("down: failed:", "claimwatch: ")) for line in others), others
