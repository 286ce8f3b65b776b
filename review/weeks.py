"""The digest's weeks, as the queue filters by them: ISO weeks in ``digest.timezone``.

A week ``2026-W48`` runs from Monday 00:00 to the next Monday 00:00 in the digest's time zone (the
same definition as ``reports.period``; review cannot import reports, and a test holds the two
equal). An article belongs to a week, as in that week's digest, when it was first seen in it or its
text changed in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from core.models import Article

WEEK_KEY = re.compile(r"^(\d{4})-W(\d{2})$")
MAX_WEEKS = 520  # the week menu covers at most ten years of flagged articles


@dataclass(frozen=True, slots=True)
class Week:
    key: str  # 2026-W48
    start: datetime  # aware, UTC
    end: datetime  # aware, UTC, exclusive
    monday: date

    @property
    def label(self) -> str:
        """``2026-W48 (23–29 Nov)``."""
        sunday = self.monday + timedelta(days=6)
        if self.monday.month == sunday.month:
            span = f"{self.monday.day}–{sunday.day} {sunday:%b}"
        else:
            span = f"{self.monday.day} {self.monday:%b} – {sunday.day} {sunday:%b}"
        return f"{self.key} ({span})"

    def next(self, timezone: str) -> Week:
        year, number, _ = (self.monday + timedelta(days=7)).isocalendar()
        return week(year, number, timezone)


def week(year: int, number: int, timezone: str = "UTC") -> Week:
    monday = date.fromisocalendar(year, number, 1)  # ValueError for week 54 and the like
    zone = ZoneInfo(timezone)

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)

    return Week(f"{year}-W{number:02d}", midnight(monday), midnight(monday + timedelta(7)), monday)


def parse_week(key: str, timezone: str = "UTC") -> Week | None:
    """The week ``2026-W48``, or ``None`` when ``key`` is not an ISO week."""
    match = WEEK_KEY.match(key)
    if match is None:
        return None
    try:
        return week(int(match[1]), int(match[2]), timezone)
    except ValueError:
        return None


def week_of(moment: datetime, timezone: str = "UTC") -> Week:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # stored naive moments are UTC
    year, number, _ = moment.astimezone(ZoneInfo(timezone)).date().isocalendar()
    return week(year, number, timezone)


def in_week(w: Week) -> ColumnElement[bool]:
    """First seen in the week, or its text changed in it (the digest's period membership)."""
    return or_(
        and_(Article.first_seen_at >= w.start, Article.first_seen_at < w.end),
        and_(Article.changed_at >= w.start, Article.changed_at < w.end),
    )


def flagged_weeks(session: Session, flagged: ColumnElement[bool], timezone: str) -> list[Week]:
    """The weeks that hold a flagged article (first seen or changed in them), newest first.

    One scan: each article's two moments are mapped to a week number by a CASE over the weeks'
    ends (ascending, so the first true branch is the moment's week), grouped in SQL."""
    bounds = session.execute(
        select(
            func.min(Article.first_seen_at),
            func.min(Article.changed_at),
            func.max(Article.first_seen_at),
            func.max(Article.changed_at),
        ).where(flagged)
    ).one()
    known = [m for m in bounds if m is not None]
    if not known:
        return []
    low, high = min(known), max(known)
    weeks = [week_of(low, timezone)]
    last = week_of(high, timezone)
    while weeks[-1].start < last.start and len(weeks) < MAX_WEEKS:
        weeks.append(weeks[-1].next(timezone))

    def bucket(column: Any) -> Any:
        return case(*((column < w.end, n) for n, w in enumerate(weeks)), else_=-1)

    moments = (
        select(
            bucket(Article.first_seen_at).label("first"),
            bucket(Article.changed_at).label("changed"),
        )
        .where(flagged)
        .subquery()  # grouped outside: PostgreSQL sees a CASE with parameters as two expressions
    )
    used: set[int] = set()
    pairs = select(moments.c.first, moments.c.changed).group_by(moments.c.first, moments.c.changed)
    for a, b in session.execute(pairs):
        used.update(n for n in (a, b) if n is not None and n >= 0)
    return [weeks[n] for n in sorted(used, reverse=True)]
