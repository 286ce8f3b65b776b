"""Digest periods: ISO weeks in a time zone, day ranges, which weeks are due."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from reports.period import (
    PeriodError,
    day_range,
    due_weeks,
    last_complete_week,
    parse_period,
    week_period,
)

WEEK = parse_period("2026-W47")


def test_periods() -> None:
    assert (WEEK.first_day.isoformat(), WEEK.last_day.isoformat()) == ("2026-11-16", "2026-11-22")
    assert WEEK.label == "Week 47, 2026 (16–22 November 2026)"
    assert (
        WEEK.previous().key == "2026-W46" and parse_period("2027-W01").previous().key == "2026-W53"
    )
    paris = week_period(2026, 44, "Europe/Paris")  # 26 Oct - 1 Nov 2026: after the clocks go back
    assert paris.start == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)
    span = day_range(date(2026, 11, 1), date(2026, 11, 14))
    assert span.key == "2026-11-01_2026-11-14" and span.end - span.start == timedelta(days=14)
    assert span.previous().key == "2026-10-18_2026-10-31"
    assert parse_period(span.key) == span
    for bad in ("2026-W54", "2026-47", "2026-11-14_2026-11-01"):
        with pytest.raises(PeriodError):
            parse_period(bad)
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # a Wednesday in W48
    assert last_complete_week(now).key == "2026-W47"
    assert [p.key for p in due_weeks(parse_period("2026-W44"), now, 8)] == [
        "2026-W44",
        "2026-W45",
        "2026-W46",
        "2026-W47",
    ]
    assert [p.key for p in due_weeks(parse_period("2026-W44"), now, 2)] == ["2026-W46", "2026-W47"]
    assert due_weeks(parse_period("2026-W48"), now, 8) == []
