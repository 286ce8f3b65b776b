"""Dates as listings give them: sitemaps and Atom (W3C/ISO 8601) and RSS (RFC 822), read once here
for the spider's fetch decisions (:func:`parse_date`) and for an article's date when the page
gives none (:func:`listed_date`)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def parse_date(value: str | None) -> datetime | None:
    """W3C/ISO 8601 (sitemaps, Atom) or RFC 822 (RSS) dates; naive dates are taken as UTC."""
    if not value:
        return None
    value = value.strip()
    parsed: datetime | None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def listed_date(value: str | None) -> str | None:
    """A sitemap (W3C/ISO 8601) or feed (RFC 822) date as ``YYYY-MM-DD`` (UTC), or ``None``."""
    parsed = parse_date(value)
    if parsed is None:
        return None
    parsed = parsed.astimezone(UTC)
    if parsed.year < 1995:  # htmldate's own lower bound: older is an error in the listing
        return None
    return parsed.date().isoformat()
