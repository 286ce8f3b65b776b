"""The daemon: jobs built from the config, restarts that keep due times, one daemon per database,
real crawls in subprocesses, kill -9 mid-crawl, downtime catch-up through the ledger, DST."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select, text

from claimwatch.cli.lock import DaemonLock, LockHeld
from core.config import load_config
from core.db import make_engine, session_factory
from core.models import Article, CrawlRun
from scheduler import backoff, build_scheduler, run_due_now, sync_jobs, trigger_for
from tests.conftest import ROOT, Served, postgres_url, serve, write_config
from tests.sites import write_site


def config_file(tmp_path: Path, site_url: str = "http://127.0.0.1:9", **schedule: str) -> Path:
    path = write_config(
        tmp_path / "claimwatch.toml",
        [
            {"name": "weekly", "kind": "sitemap", "start_urls": [site_url + "/sitemap.xml"]},
            {
                "name": "feed",
                "kind": "feed",
                "start_urls": [site_url + "/feed.xml"],
                "schedule": "0 */4 * * *",
            },
        ],
        f"sqlite:///{tmp_path / 'cw.db'}",
    )
    lines = ["[schedule]", 'timezone = "Europe/Paris"']
    lines += [f'{key} = "{value}"' for key, value in schedule.items()]
    path.write_text(path.read_text() + "\n".join(lines) + "\n")
    return path


def daemon(config: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMWATCH_")}
    return subprocess.Popen(
        [sys.executable, "-m", "claimwatch", "--config", str(config), "run", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_line(process: subprocess.Popen[str], needle: str, timeout: float = 60) -> list[str]:
    assert process.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if needle in line:
            return seen
    raise AssertionError(f"{needle!r} not seen in: {''.join(seen)}")


def runs(db: Path) -> list[CrawlRun]:
    engine = make_engine(f"sqlite:///{db}")
    with session_factory(engine)() as session:
        found = list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))
    engine.dispose()
    return found


def test_build_scheduler_jobs_and_triggers(tmp_path: Path) -> None:
    config = load_config(config_file(tmp_path, crawl="6h", digest="0 8 * * mon"), env={})
    scheduler = build_scheduler(config, tmp_path / "claimwatch.toml", blocking=False)
    jobs = {job.id: job for job in scheduler.get_jobs()}  # inspected without starting
    assert set(jobs) == {"crawl:weekly", "crawl:feed", "digest", "housekeeping"}
    weekly, feed, digest = jobs["crawl:weekly"], jobs["crawl:feed"], jobs["digest"]
    assert isinstance(weekly.trigger, IntervalTrigger)
    assert weekly.trigger.interval == timedelta(hours=6)
    assert isinstance(feed.trigger, CronTrigger)  # the source's own schedule wins
    assert isinstance(digest.trigger, CronTrigger)
    assert str(digest.trigger.timezone) == "Europe/Paris"
    assert "day_of_week='mon'" in str(digest.trigger) and "hour='8'" in str(digest.trigger)
    for job in jobs.values():
        assert job.coalesce is True and job.max_instances == 1
    assert weekly.misfire_grace_time == 6 * 3600
    assert digest.misfire_grace_time == 7 * 24 * 3600
    assert list(weekly.args) == [str((tmp_path / "claimwatch.toml").resolve()), "weekly"]


@pytest.mark.slow
def test_restart_keeps_due_times_and_drops_removed_sources(tmp_path: Path) -> None:
    path = config_file(tmp_path, digest="0 8 * * mon", housekeeping="1d")
    config = load_config(path, env={})
    first = build_scheduler(config, path, blocking=False)
    first.start(paused=True)
    first.shutdown(wait=False)
    # The daemon was down when the digest was due three days ago.
    past = datetime.now(UTC) - timedelta(days=3)
    set_next_run(tmp_path / "cw.db", "digest", past)
    # Looking at the status while the daemon is down must not use up that due run.
    subprocess.run(
        [sys.executable, "-m", "claimwatch", "--config", str(path), "status"],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        check=True,
    )

    # Same config: the digest's past due time survives the restart, so it runs once now.
    second = build_scheduler(config, path, blocking=False)
    second.start(paused=True)
    assert abs(second.get_job("digest").next_run_time - past) < timedelta(seconds=1)
    second.shutdown(wait=False)

    # A config without the feed source: its job is removed at start-up.
    path.write_text(
        path.read_text().split('[[sources]]\nname = "feed"')[0]
        + ('[schedule]\ntimezone = "Europe/Paris"\nhousekeeping = "1d"\n')
    )
    third = build_scheduler(load_config(path, env={}), path, blocking=False)
    third.start(paused=True)
    assert sync_jobs(third) == ["crawl:feed"]
    assert {job.id for job in third.get_jobs()} == {"crawl:weekly", "digest", "housekeeping"}
    third.shutdown(wait=False)


def set_next_run(db: Path, job_id: str, when: datetime) -> None:
    engine = make_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE apscheduler_jobs SET next_run_time = :t WHERE id = :id"),
            {"t": when.timestamp(), "id": job_id},
        )
    engine.dispose()


def test_run_due_now_runs_each_due_job_once(tmp_path: Path) -> None:
    path = config_file(tmp_path, housekeeping="1d")
    config = load_config(path, env={})
    first = build_scheduler(config, path, blocking=False)
    first.start(paused=True)
    first.shutdown(wait=False)
    now = datetime.now(UTC)
    set_next_run(tmp_path / "cw.db", "housekeeping", now - timedelta(days=3))
    scheduler = build_scheduler(config, path, blocking=False)
    scheduler.start(paused=True)
    assert run_due_now(scheduler, now) == ["housekeeping"]  # three missed days: one run
    assert scheduler.get_job("housekeeping").next_run_time > now
    assert run_due_now(scheduler, now) == []
    scheduler.shutdown(wait=False)


def test_weekly_digest_across_dst_changes_fires_once_a_week() -> None:
    trigger = trigger_for("0 8 * * mon", "Europe/Paris")
    zone = ZoneInfo("Europe/Paris")
    for start in (datetime(2026, 3, 16, tzinfo=zone), datetime(2026, 10, 12, tzinfo=zone)):
        fires, previous, now = [], None, start
        while now < start + timedelta(weeks=4):
            fire = trigger.get_next_fire_time(previous, now)
            fires.append(fire)
            previous, now = fire, fire + timedelta(seconds=1)
        weeks = [f.isocalendar()[:2] for f in fires[:-1]]
        assert len(weeks) == len(set(weeks)) == 4
        assert all(f.astimezone(zone).hour == 8 for f in fires)


def test_failing_source_backs_off() -> None:
    assert [backoff(n, 3) for n in range(8)] == [1, 1, 1, 2, 4, 8, 16, 16]


@pytest.mark.slow
def test_one_daemon_per_sqlite_database(tmp_path: Path) -> None:
    path = config_file(tmp_path, crawl="1d", housekeeping="1d")
    first = daemon(path)
    try:  # the daemon is stopped whatever happens, so no test leaves one running
        wait_for_line(first, "daemon started")
        second = daemon(path)
        output, _ = second.communicate(timeout=60)
        assert second.returncode == 75
        assert "another claimwatch daemon" in output and f"pid {first.pid}" in output
        status = subprocess.run(
            [sys.executable, "-m", "claimwatch", "--config", str(path), "status"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert f"running, pid {first.pid}" in status.stdout
        assert "crawl:weekly" in status.stdout and "digest" in status.stdout
    finally:
        first.send_signal(signal.SIGTERM)
        output, _ = first.communicate(timeout=60)
    assert first.returncode == 0 and "daemon stopped" in output


def test_one_daemon_per_postgresql_database() -> None:
    first, second = DaemonLock(postgres_url()), DaemonLock(postgres_url())
    first.acquire()
    try:
        with pytest.raises(LockHeld, match="another claimwatch daemon"):
            second.acquire()
        assert "claimwatch-daemon" in (second.holder() or "")
    finally:
        first.release()
    second.acquire()
    second.release()


@pytest.mark.slow
def test_daemon_crawls_on_schedule_and_survives_kill_9(tmp_path: Path) -> None:
    root = write_site(tmp_path / "site")
    for n in range(20):
        page = (root / "articles" / "beta.html").read_text().replace("Walking groups", f"Walk {n}")
        (root / "articles" / f"slow-{n}.html").write_text(
            page.replace("articles/beta.html", f"articles/slow-{n}.html")
        )
    entries = "".join(
        f"<url><loc>__BASE_URL__/articles/slow-{n}.html</loc></url>" for n in range(20)
    )
    (root / "sitemap.xml").write_text(
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{entries}</urlset>"
    )
    site: Served = serve(root, delay=0.3)
    db = tmp_path / "cw.db"
    try:
        path = config_file(tmp_path, site.url, crawl="3s", housekeeping="1d")
        path.write_text(
            path.read_text()
            .replace('"0 */4 * * *"', '"3s"')
            .replace("[crawl]", "[crawl]\nbatch_size = 2\nconcurrency_per_domain = 1")
        )
        first = daemon(path)
        try:
            wait_for_line(first, "starting: crawl")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not _count(db):
                time.sleep(0.2)
        finally:
            os.kill(first.pid, signal.SIGKILL)  # mid-crawl: some batches committed, not all
            first.wait()
        partial = _count(db)
        assert 0 < partial < 22
        engine = make_engine(f"sqlite:///{db}")
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        engine.dispose()

        second = daemon(path)  # the lock died with the first daemon
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                statuses = [r.status for r in runs(db)]
                if _count(db) == 22 and statuses.count("ok") >= 2:
                    break
                time.sleep(0.5)
        finally:
            second.send_signal(signal.SIGTERM)
            log, _ = second.communicate(timeout=90)
        assert _count(db) == 22, log[-3000:]  # 20 sitemap + 2 feed articles, each once
        statuses = [r.status for r in runs(db)]
        assert "interrupted" in statuses or "failed" in statuses  # the killed crawl
        assert statuses.count("ok") >= 2  # the feed and sitemap sources, on schedule
    finally:
        site.process.kill()
        site.process.wait()


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    engine = make_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(Article)).scalar() or 0)
    except Exception:
        return 0
    finally:
        engine.dispose()


@pytest.mark.slow
def test_downtime_over_two_digest_times_sends_each_missed_week_once(tmp_path: Path) -> None:
    from reports.period import last_complete_week
    from tests.smtp_server import smtp_server
    from tests.test_digest_model import ClaimSpec, World

    db = tmp_path / "cw.db"
    engine = make_engine(f"sqlite:///{db}")
    from core.db import upgrade

    upgrade(engine)
    newest = last_complete_week(datetime.now(UTC))
    world = World(engine)
    for weeks_ago in (2, 1, 0):  # articles in each of the last three complete weeks
        world.article(
            f"Kratom cures week -{weeks_ago}",
            newest.start - timedelta(weeks=weeks_ago) + timedelta(days=1),
            band="priority",
            score=90.0,
            claims=[ClaimSpec("Kratom cures opioid withdrawal.", score=90.0)],
        )
    world.commit()
    world.session.close()
    engine.dispose()
    with smtp_server() as server:
        path = config_file(tmp_path, crawl="1d", housekeeping="1d", digest="0 8 * * mon")
        path.write_text(
            path.read_text()
            + (
                f'[mail]\nenabled = true\nhost = "127.0.0.1"\nport = {server.port}\n'
                'sender = "claimwatch@example.org"\nrecipients = ["desk@example.org"]\n'
                "retries = 1\nbackoff_s = 0.01\ntimeout_s = 10\n"
            )
        )
        config = load_config(path, env={})
        first = build_scheduler(config, path, blocking=False)
        first.start(paused=True)
        first.shutdown(wait=False)
        # The daemon was down over the last two digest times.
        set_next_run(db, "digest", datetime.now(UTC) - timedelta(days=9))
        once = daemon(path, "--once")
        output, _ = once.communicate(timeout=180)
        assert once.returncode == 0, output
        assert "ran 1 due job(s): digest" in output
        subjects = [m.message["Subject"] for m in server.messages]
        weeks = [newest.start - timedelta(weeks=n) for n in (2, 1, 0)]
        expected = [f"{w.isocalendar()[0]}-W{w.isocalendar()[1]:02d}" for w in weeks]
        assert [next(k for k in expected if k in s) for s in subjects] == expected  # oldest first
        # Next start: the digest is not due again, and nothing is sent twice.
        again = daemon(path, "--once")
        again.communicate(timeout=180)
        assert len(server.messages) == 3
