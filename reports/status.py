"""How a source's health reads, shared by the CLI listings and the digest."""

from __future__ import annotations

FAILING_AFTER = 2  # failed runs in a row before a source reads as failing


def health_label(last_status: str | None, failing_runs: int) -> str:
    if last_status is None:
        return "never crawled"
    if failing_runs >= FAILING_AFTER:
        return f"failing ({failing_runs} runs)"
    return {"ok": "healthy", "failed": "failed last run"}.get(last_status, last_status)
