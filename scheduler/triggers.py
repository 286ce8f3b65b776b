"""Schedules as APScheduler triggers: a duration (``6h``) or a cron expression."""

from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from core.config import parse_every


def trigger_for(when: str, timezone: str) -> BaseTrigger:
    """An interval trigger for a duration (``6h``), a cron trigger for a cron expression."""
    seconds = parse_every(when)
    if seconds is not None:
        return IntervalTrigger(seconds=seconds, timezone=timezone)
    return CronTrigger.from_crontab(when, timezone=timezone)


def period_of(trigger: BaseTrigger, now: datetime) -> timedelta:
    """The time between two fires (for the misfire grace time)."""
    first = trigger.get_next_fire_time(None, now)
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1)) if first else None
    if first is None or second is None:
        return timedelta(days=1)
    period: timedelta = second - first
    return period
