"""Digest periods: ISO weeks in the digest's time zone, or any range of whole days.

A period is ``[start, end)`` in UTC. An ISO week runs from Monday 00:00 to the next Monday 00:00 in
``digest.timezone``; its key is ``2026-W47``. A range given as ``--since 2026-11-01 --until
2026-11-14`` includes both days; its key is ``2026-11-01_2026-11-14``.

Which weeks are *due* for sending: every complete week from the first one (the ledger's first period
for the list, else the week of the first stored article) up to the last complete week, at most
``catch_up_weeks`` of the most recent ones, oldest first (see :func:`due_weeks`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEK_KEY = re.compile(r"^(\d{4})-W(\d{2})$")
RANGE_KEY = re.compile(r"^(\d{4}-\d{2}-\d{2})_(\d{4}-\d{2}-\d{2})$")


class PeriodError(ValueError):
    """A period that cannot be parsed or makes no sense (end before start, week 54...)."""


@dataclass(frozen=True, slots=True)
class Period:
    key: str  # "2026-W47" or "2026-11-01_2026-11-14": file names and the ledger use it
    start: datetime  # aware, UTC
    end: datetime  # aware, UTC, exclusive
    first_day: date  # in the digest's time zone
    last_day: date  # inclusive
    timezone: str

    @property
    def is_week(self) -> bool:
        return WEEK_KEY.match(self.key) is not None

    @property
    def label(self) -> str:
        """``Week 47, 2026 (16–22 November 2026)`` or ``1–14 November 2026``."""
        span = day_span(self.first_day, self.last_day)
        if self.is_week:
            year, week, _ = self.first_day.isocalendar()
            return f"Week {week}, {year} ({span})"
        return span

    @property
    def short(self) -> str:
        """A column label for charts: ``W47`` or the first day."""
        if self.is_week:
            return "W" + self.key[-2:]
        return f"{self.first_day.day}/{self.first_day.month}"

    def previous(self, count: int = 1) -> Period:
        """The period of the same length ``count`` periods earlier."""
        days = (self.last_day - self.first_day).days + 1
        first = self.first_day - timedelta(days=days * count)
        if self.is_week:
            year, week, _ = first.isocalendar()
            return week_period(year, week, self.timezone)
        return day_range(first, first + timedelta(days=days - 1), self.timezone)

    def history(self, count: int) -> list[Period]:
        """The ``count`` periods before this one, oldest first."""
        return [self.previous(n) for n in range(count, 0, -1)]


def day_span(first: date, last: date) -> str:
    if first == last:
        return f"{first.day} {first:%B %Y}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {last:%B %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%B} – {last.day} {last:%B %Y}"
    return f"{first.day} {first:%B %Y} – {last.day} {last:%B %Y}"


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def week_period(year: int, week: int, timezone: str = "UTC") -> Period:
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        raise PeriodError(f"{year}-W{week:02d} is not an ISO week") from None
    zone = ZoneInfo(timezone)
    sunday = monday + timedelta(days=6)
    return Period(
        key=f"{year}-W{week:02d}",
        start=_midnight(monday, zone),
        end=_midnight(monday + timedelta(days=7), zone),
        first_day=monday,
        last_day=sunday,
        timezone=timezone,
    )


def day_range(first: date, last: date, timezone: str = "UTC") -> Period:
    """Whole days ``first`` to ``last``, both included."""
    if last < first:
        raise PeriodError(f"the period ends ({last}) before it starts ({first})")
    zone = ZoneInfo(timezone)
    return Period(
        key=f"{first.isoformat()}_{last.isoformat()}",
        start=_midnight(first, zone),
        end=_midnight(last + timedelta(days=1), zone),
        first_day=first,
        last_day=last,
        timezone=timezone,
    )


def parse_period(key: str, timezone: str = "UTC") -> Period:
    """``2026-W47`` or ``2026-11-01_2026-11-14``."""
    if match := WEEK_KEY.match(key):
        return week_period(int(match[1]), int(match[2]), timezone)
    if match := RANGE_KEY.match(key):
        try:
            first, last = date.fromisoformat(match[1]), date.fromisoformat(match[2])
        except ValueError as exc:
            raise PeriodError(f"{key!r}: {exc}") from None
        return day_range(first, last, timezone)
    raise PeriodError(f"{key!r} is not an ISO week like 2026-W47")


def week_of(moment: datetime, timezone: str = "UTC") -> Period:
    """The ISO week that contains ``moment``."""
    local = moment.astimezone(ZoneInfo(timezone)).date()
    year, week, _ = local.isocalendar()
    return week_period(year, week, timezone)


def last_complete_week(now: datetime, timezone: str = "UTC") -> Period:
    return week_of(now, timezone).previous()


def due_weeks(first: Period, now: datetime, limit: int) -> list[Period]:
    """Complete weeks from ``first`` to the last complete one, the ``limit`` most recent, oldest
    first."""
    last = last_complete_week(now, first.timezone)
    weeks: list[Period] = []
    current = last
    while current.start >= first.start and len(weeks) < limit:
        weeks.append(current)
        current = current.previous()
    return weeks[::-1]
