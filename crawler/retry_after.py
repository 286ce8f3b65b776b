"""Downloader middleware that honours ``Retry-After`` on 429 and 503 answers, up to a cap.

Scrapy's ``RetryMiddleware`` retries at once. This middleware sits just outside it (it sees the
response first): with a ``Retry-After`` of at most ``RETRY_AFTER_MAX_S`` seconds it waits that long
(without holding up other requests) and lets the retry go; a longer wait (``Retry-After: 3600``)
is not honoured within this crawl: the page is given up on for this run, counted as
``retry_after/too_long``, so the server is not asked again before it said it would answer.

Stats: ``retry_after/waited``, ``retry_after/too_long``.
Settings read: ``CLAIMWATCH_RETRY_AFTER_MAX_S`` (default ``RETRY_AFTER_MAX_S``).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import IgnoreRequest

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector

RETRY_AFTER_MAX_S = 60.0
STATUSES = frozenset({429, 503})


class RetryAfterTooLong(IgnoreRequest):
    """The server asked for a longer wait than this crawl gives it."""

    reason = "retry_after_too_long"


def retry_after_s(value: str | bytes | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (a number or an HTTP date), or ``None``."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


class RetryAfter:
    def __init__(self, stats: StatsCollector, max_wait_s: float = RETRY_AFTER_MAX_S) -> None:
        self.stats = stats
        self.max_wait_s = max_wait_s

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfter:
        limit = crawler.settings.getfloat("CLAIMWATCH_RETRY_AFTER_MAX_S", RETRY_AFTER_MAX_S)
        return cls(crawler.stats, limit)

    async def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Response:
        if response.status not in STATUSES:
            return response
        wait = retry_after_s(response.headers.get("Retry-After"))
        if wait is None:
            return response
        if wait > self.max_wait_s:
            self.stats.inc_value("retry_after/too_long")
            raise RetryAfterTooLong(
                f"{response.status} with Retry-After {wait:.0f} s (more than "
                f"{self.max_wait_s:.0f} s): not asked again in this crawl: {request.url}"
            )
        self.stats.inc_value("retry_after/waited")
        await asyncio.sleep(wait)
        return response
