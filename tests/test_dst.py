"""Daylight saving time: the scheduler's arithmetic in UTC, one fire per wall-clock time at the
autumn change, no zero grace time, and a bounded ``status --check`` (issue 16, item 3).

The dates are the 2027 changes: Europe (Helsinki, Paris) 28 March and 31 October, New York
14 March and 7 November.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from claimwatch.cli.checks import problems
from core.config import load_config
from core.db import engine_for, upgrade
from scheduler import build_scheduler, last_fire, period_of, run_due_now, trigger_for

ZONES = ["Europe/Helsinki", "Europe/Paris", "America/New_York"]
CHANGES = {  # zone -> (spring day, autumn day, the local hour that is skipped / repeated)
    "Europe/Helsinki": (date(2027, 3, 28), date(2027, 10, 31), 3),
    "Europe/Paris": (date(2027, 3, 28), date(2027, 10, 31), 2),
    "America/New_York": (date(2027, 3, 14), date(2027, 11, 7), 1),
}


def fires(spec: str, zone: str, start: datetime, end: datetime) -> list[datetime]:
    """Every fire in ``[start, end)``, stepped like the daemon does: previous fire, then now."""
    trigger = trigger_for(spec, zone)
    found: list[datetime] = []
    previous, now = None, start
    while True:
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None or fire >= end:
            return found
        assert not found or fire.astimezone(UTC) > found[-1].astimezone(UTC)
        found.append(fire)
        previous, now = fire, fire.astimezone(UTC) + timedelta(seconds=1)


def around(day: date) -> tuple[datetime, datetime]:
    """Two days before to two days after ``day``, in UTC."""
    start = datetime.combine(day - timedelta(days=2), datetime.min.time(), tzinfo=UTC)
    return start, start + timedelta(days=5)


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("season", ["spring", "autumn"])
def test_a_daily_job_in_the_changing_hour_fires_once_a_day(zone: str, season: str) -> None:
    spring, autumn, hour = CHANGES[zone]
    day = spring if season == "spring" else autumn
    start, end = around(day)
    found = fires(f"30 {hour} * * *", zone, start, end)
    days = [f.astimezone(ZoneInfo(zone)).date() for f in found]
    assert len(days) == len(set(days)) == 5, found  # no day twice, none skipped


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("season", ["spring", "autumn"])
def test_period_of_is_the_real_time_between_fires(zone: str, season: str) -> None:
    spring, autumn, hour = CHANGES[zone]
    day = spring if season == "spring" else autumn
    start, _ = around(day)
    for spec in ["1h", "6h", f"30 {hour} * * *", f"30 {hour} * * sun", "*/15 * * * *"]:
        trigger = trigger_for(spec, zone)
        for step in range(0, 5 * 24):
            now = start + timedelta(hours=step)
            period = period_of(trigger, now)
            assert period >= timedelta(seconds=1), (spec, now)
    # An hourly interval across the repeated hour is an hour of real time, not "0 apart".
    autumn_night = datetime.combine(autumn, datetime.min.time(), tzinfo=UTC)
    for step in range(0, 24 * 60, 10):
        now = autumn_night + timedelta(minutes=step)
        assert period_of(trigger_for("1h", zone), now) == timedelta(hours=1)


def config_for(tmp_path: Path, zone: str, **schedule: str) -> Path:
    path = tmp_path / "claimwatch.toml"
    lines = [
        f'data_dir = "{tmp_path / "data"}"',
        f'database_url = "sqlite:///{tmp_path / "cw.db"}"',
        "[schedule]",
        f'timezone = "{zone}"',
    ]
    lines += [f'{key} = "{value}"' for key, value in schedule.items()]
    lines += ["[mail]", "enabled = true", 'recipients = ["desk@example.org"]']
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("zone", ZONES)
def test_the_scheduler_builds_and_runs_in_the_week_of_each_change(
    tmp_path: Path, zone: str
) -> None:
    """Before: `period_of` got 0 across the autumn change and APScheduler refused the job
    (`misfire_grace_time must be a positive integer`): `run --once` exited 1."""
    spring, autumn, hour = CHANGES[zone]
    path = config_for(
        tmp_path, zone, crawl="1h", digest=f"30 {hour} * * sun", housekeeping=f"30 {hour} * * *"
    )
    config = load_config(path, env={})
    for day in (spring, autumn):
        for offset in range(-7, 2):
            moment = datetime.combine(day + timedelta(days=offset), datetime.min.time(), UTC)
            with time_machine.travel(moment, tick=False):
                scheduler = build_scheduler(config, path, blocking=False)
                for job in scheduler.get_jobs():
                    assert job.misfire_grace_time >= 1, (job.id, moment)


@pytest.mark.parametrize("zone", ZONES)
def test_run_once_does_not_repeat_a_job_in_the_repeated_hour(tmp_path: Path, zone: str) -> None:
    """Before: a job at 02:30 in Paris ran at 02:30 CEST and again at 02:30 CET."""
    _, autumn, hour = CHANGES[zone]
    path = config_for(tmp_path, zone, crawl="7d", housekeeping=f"30 {hour} * * *")
    config = load_config(path, env={})
    local = ZoneInfo(zone)
    before = datetime.combine(autumn, datetime.min.time(), local).replace(hour=hour - 1)
    first = datetime.combine(autumn, datetime.min.time(), local).replace(hour=hour, minute=31)
    again = first.replace(fold=1)  # the same wall-clock time, an hour later
    assert again.astimezone(UTC) - first.astimezone(UTC) == timedelta(hours=1)
    ran: list[list[str]] = []
    with time_machine.travel(before.astimezone(UTC), tick=False):
        scheduler = build_scheduler(config, path, blocking=False)
        scheduler.start(paused=True)
    for moment in (first, again, again + timedelta(hours=2)):
        with time_machine.travel(moment.astimezone(UTC), tick=False):
            ran.append(run_due_now(scheduler, datetime.now(UTC)))
    scheduler.shutdown(wait=False)
    assert ran == [["housekeeping"], [], []]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("zone", ZONES)
def test_status_check_is_bounded_across_the_changes(tmp_path: Path, zone: str) -> None:
    """Before: `_overdue_digest` stepped by `fire + 1s` in local time and, on the repeated
    hour, got the same fire back forever."""
    spring, autumn, hour = CHANGES[zone]
    path = config_for(tmp_path, zone, digest=f"30 {hour} * * *")
    config = load_config(path, env={})
    upgrade(engine_for(config.db_url))
    for day in (spring, autumn):
        for hours in range(0, 72, 3):
            now = datetime.combine(day - timedelta(days=1), datetime.min.time(), UTC)
            now += timedelta(hours=hours)
            assert problems(config, now) == []  # nothing stored, nothing due
            fired = last_fire(trigger_for(config.schedule.digest, zone), now, timedelta(days=8))
            assert fired is not None and fired <= now
            assert now - fired <= timedelta(days=1, hours=1)
