"""Schedules as APScheduler triggers: a duration (``6h``) or a cron expression.

Time arithmetic is done in UTC. Two aware datetimes that share a ``ZoneInfo`` subtract and compare
by wall clock in Python, so a local 03:30 EEST and the 03:30 EET an hour later are "0 apart": every
difference and every step here converts to UTC first.

A cron expression names wall-clock times, and at the autumn change some of them happen twice
(02:30 in Paris on the last Sunday of October). APScheduler 3's ``CronTrigger`` fires at both; the
:class:`WallClockCronTrigger` used here fires at the first only, as cron does. At the spring change
a time that does not exist (02:30 in Paris) fires once, an hour later by the clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from core.config import parse_every

MAX_STEPS = 10_000  # fires stepped over in one call: a minutely cron over one repeated hour is 60
MIN_PERIOD = timedelta(seconds=1)


def _repeated(fire: datetime) -> bool:
    """``fire`` is the second occurrence of a local time that the autumn change repeats."""
    return fire.fold == 1 and fire.replace(fold=0).utcoffset() != fire.utcoffset()


class WallClockCronTrigger(CronTrigger):  # type: ignore[misc]
    """A cron trigger that fires once per wall-clock time, also when the clock goes back."""

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> Any:
        fire = super().get_next_fire_time(previous_fire_time, now)
        for _ in range(MAX_STEPS):
            if fire is None:
                return None
            local = fire.astimezone(self.timezone)
            later = previous_fire_time is None or fire.astimezone(UTC) > previous_fire_time
            if later and not _repeated(local):
                return fire
            previous_fire_time = fire
            fire = super().get_next_fire_time(fire, fire)
        return None


def trigger_for(when: str, timezone: str) -> BaseTrigger:
    """An interval trigger for a duration (``6h``), a cron trigger for a cron expression."""
    seconds = parse_every(when)
    if seconds is not None:
        return IntervalTrigger(seconds=seconds, timezone=timezone)
    trigger: BaseTrigger = WallClockCronTrigger.from_crontab(when, timezone=timezone)
    return trigger


def period_of(trigger: BaseTrigger, now: datetime) -> timedelta:
    """The time between two fires, in UTC, at least a second (for the misfire grace time)."""
    first = trigger.get_next_fire_time(None, now)
    if first is None:
        return timedelta(days=1)
    second = trigger.get_next_fire_time(first, first.astimezone(UTC) + MIN_PERIOD)
    if second is None:
        return timedelta(days=1)
    period: timedelta = second.astimezone(UTC) - first.astimezone(UTC)
    return max(period, MIN_PERIOD)


def last_fire(trigger: BaseTrigger, now: datetime, lookback: timedelta) -> datetime | None:
    """The last fire at or before ``now`` within ``lookback``, or ``None``. Bounded: at most
    ``MAX_STEPS`` fires are looked at, and each step moves forward in UTC."""
    found: datetime | None = None
    probe = (now - lookback).astimezone(UTC)
    end = now.astimezone(UTC)
    for _ in range(MAX_STEPS):
        fire = trigger.get_next_fire_time(found, probe)
        if fire is None:
            break
        fire = fire.astimezone(UTC)
        if fire > end or (found is not None and fire <= found):
            break
        found, probe = fire, fire + MIN_PERIOD
    return found
