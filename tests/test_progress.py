"""The crawl's progress display (rich): per source, pages done of those discovered, the rate and
the errors; driven by the crawl's stats."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace
from typing import Any

from rich.console import Console

from crawler.extensions import Progress


class Stats:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get_value(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


def test_progress_shows_each_source_done_of_discovered_with_rate_and_errors() -> None:
    stats = Stats()
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120, color_system=None)
    progress = Progress(SimpleNamespace(stats=stats), interval=0, console=console)  # type: ignore[arg-type]
    spider = SimpleNamespace(sources=[SimpleNamespace(name="weekly"), SimpleNamespace(name="feed")])
    progress.spider_opened(spider)
    stats.values.update(
        {
            "source/weekly/fetch/pages": 3,
            "source/weekly/discovery/new": 4,
            "source/weekly/discovery/conditional": 1,
            "source/feed/fetch/pages": 2,
            "source/feed/errors/total": 1,
        }
    )
    progress.show()
    progress.spider_closed(spider)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "\n", out.getvalue())
    assert progress.figures("weekly") == (3, 5, 0)
    assert progress.figures("feed") == (2, 2, 1)
    last = {line.split()[0]: line for line in text.replace("\r", "\n").splitlines() if line.strip()}
    assert "3/5" in last["weekly"] and "errors 0" in last["weekly"] and "/s" in last["weekly"]
    assert "2/2" in last["feed"] and "errors 1" in last["feed"]
