"""Sending the digest to a real SMTP server (aiosmtpd on loopback) through the ledger: the message,
exactly once, retries, permanent failures, a server that is down, missed weeks, recipient lists,
STARTTLS/TLS with login, and the CLI's exit codes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from claimwatch.cli.common import EX_TEMPFAIL
from claimwatch.cli.digest_cmd import exit_code
from core.config import Config, MailList, load_config
from core.db import make_engine, session_factory, upgrade
from core.models import DigestSend
from reports.archive import write_archive
from reports.digest import build_digest
from reports.ledger import Job, due_periods
from reports.mail import SmtpTransport, smtp_settings
from reports.period import Period, last_complete_week
from reports.sending import Outcome, send_copy, send_jobs
from tests.conftest import ROOT, run_cli
from tests.smtp_server import Server, closed_port, self_signed, smtp_server
from tests.test_digest_model import WEEK, ClaimSpec, World, at, flagged_world

NOW = at(WEEK, 9)  # Wednesday of the following week: W47 is the last complete one
TOP_TITLES = [
    "Stop taking insulin: this root does it all",
    "Mushroom tea shrinks tumours",
    "Kratom for opioid withdrawal: the complete guide",
]


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    world = World(engine)
    yield world
    world.session.close()


def make_config(tmp_path: Path, port: int, **mail: Any) -> Config:
    settings = {
        "enabled": True,
        "host": "127.0.0.1",
        "port": port,
        "sender": "claimwatch@example.org",
        "lists": [{"name": "desk", "recipients": ["desk@example.org"]}],
        "retries": 2,
        "backoff_s": 0.01,
        "timeout_s": 5,
        **mail,
    }
    return Config.model_validate({"data_dir": str(tmp_path / "data"), "mail": settings})


def send(
    world: World,
    config: Config,
    tmp_path: Path,
    *,
    period: Period | None = None,
    force: bool = False,
    now: datetime = NOW,
) -> list[Outcome]:
    """What ``claimwatch digest --send`` does, with the clock and the database given."""
    factory = world.factory

    def build(p: Period) -> Any:
        with factory() as session:
            digest = build_digest(session, p, config.digest, now=now)
            write_archive(session, digest, tmp_path / "digests")
            return digest

    if period is None and not force:
        with factory() as session:
            jobs = due_periods(session, config.mail, now, "UTC")
    else:
        target = period or last_complete_week(now)
        jobs = [Job(target, mail_list) for mail_list in config.mail.recipient_lists]
    transport = SmtpTransport(smtp_settings(config.mail))
    return send_jobs(factory, config.mail, jobs, transport, build, force=force, now=lambda: now)


def ledger_rows(world: World) -> list[tuple[str, str, str, int]]:
    with world.factory() as session:
        rows = session.scalars(select(DigestSend).order_by(DigestSend.period_start, DigestSend.id))
        return [(r.period, r.list_name, r.status, r.attempts) for r in rows]


def parts(server: Server, index: int = 0) -> tuple[Any, str, str]:
    message = server.messages[index].message
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    return message, plain.get_content(), html.get_content()


def test_digest_arrives_as_multipart_with_ranked_articles(world: World, tmp_path: Path) -> None:
    flagged_world(world)
    with smtp_server() as server:
        outcomes = send(world, make_config(tmp_path, server.port), tmp_path, period=WEEK)
    assert [(o.period, o.list_name, o.status, o.attempts) for o in outcomes] == [
        ("2026-W47", "desk", "sent", 1)
    ]
    [received] = server.messages
    assert received.rcpt_tos == ["desk@example.org"]
    message, text, html = parts(server)
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == (
        "claimwatch digest 2026-W47: 1 priority, 4 flagged, 5 new articles"
    )
    assert message["Message-ID"] == outcomes[0].message_id
    assert message["Message-ID"].endswith("@example.org>")
    assert message["List-Id"] == "claimwatch digest (desk) <desk.example.org>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["From"] == "claimwatch@example.org" and message["Date"]
    for body in (text, html):
        positions = [body.find(title) for title in TOP_TITLES]
        assert -1 not in positions and positions == sorted(positions), positions
    assert "<mark" in html and "style=" in html  # highlighted, CSS inlined
    assert "**Kratom eases opioid withdrawal in days.**" in text
    assert ledger_rows(world) == [("2026-W47", "desk", "sent", 1)]
    assert (tmp_path / "digests" / "2026-W47.html").exists()


def test_exactly_once_unless_forced(world: World, tmp_path: Path) -> None:
    flagged_world(world)
    with smtp_server() as server:
        config = make_config(tmp_path, server.port)
        first = send(world, config, tmp_path)  # W46 (the first article's week) and W47
        again = send(world, config, tmp_path)
        same_week = send(world, config, tmp_path, period=WEEK)
        forced = send(world, config, tmp_path, period=WEEK, force=True)
    assert [(o.period, o.status) for o in first] == [("2026-W46", "sent"), ("2026-W47", "sent")]
    assert again == []  # nothing due
    assert [(o.status, o.detail) for o in same_week] == [("skipped", "already sent")]
    assert [o.status for o in forced] == ["sent"]
    assert len(server.messages) == 3
    ids = [r.message["Message-ID"] for r in server.messages]
    assert ids[1] != ids[2]  # a deliberate resend is a new message
    assert ledger_rows(world) == [("2026-W46", "desk", "sent", 1), ("2026-W47", "desk", "sent", 2)]


def test_a_copy_goes_the_same_way_and_outside_the_ledger(world: World, tmp_path: Path) -> None:
    flagged_world(world)
    with smtp_server(script=["451 4.3.0 try again later"]) as server:
        config = make_config(tmp_path, server.port)
        copy_to = MailList(name="adhoc", recipients=["me@example.org"])

        def build(p: Period) -> Any:
            with world.factory() as session:
                return build_digest(session, p, config.digest, now=NOW)

        outcome = send_copy(
            config.mail, copy_to, WEEK, SmtpTransport(smtp_settings(config.mail)), build
        )
    assert (outcome.period, outcome.list_name, outcome.status, outcome.attempts) == (
        "2026-W47",
        "adhoc",
        "sent",
        2,  # retried like a ledger send
    )
    [received] = server.messages
    assert received.rcpt_tos == ["me@example.org"]
    assert received.message["Message-ID"] == outcome.message_id
    assert received.message["List-Id"] == "claimwatch digest (adhoc) <adhoc.example.org>"
    assert ledger_rows(world) == []


def test_transient_reply_is_retried_within_the_run(world: World, tmp_path: Path) -> None:
    flagged_world(world)
    with smtp_server(script=["451 4.3.0 try again later"]) as server:
        outcomes = send(world, make_config(tmp_path, server.port), tmp_path, period=WEEK)
    assert [(o.status, o.attempts) for o in outcomes] == [("sent", 2)]
    assert server.handler.data_commands == 2 and len(server.messages) == 1
    assert ledger_rows(world) == [("2026-W47", "desk", "sent", 2)]
    assert exit_code(outcomes) == 0


def test_permanent_reply_fails_and_is_not_retried(world: World, tmp_path: Path) -> None:
    flagged_world(world)
    with smtp_server(script=["550 5.7.1 message refused"]) as server:
        config = make_config(tmp_path, server.port)
        outcomes = send(world, config, tmp_path, period=WEEK)
        later = send(world, config, tmp_path, period=WEEK)
    [outcome] = outcomes
    assert (outcome.status, outcome.attempts) == ("failed", 1)
    assert outcome.detail is not None and "550" in outcome.detail
    assert exit_code(outcomes) == 1
    assert server.messages == []
    assert [(o.status, o.detail) for o in later] == [("skipped", "already failed")]
    assert ledger_rows(world) == [("2026-W47", "desk", "failed", 1)]


def test_server_down_leaves_pending_then_sends_on_the_next_run(
    world: World, tmp_path: Path
) -> None:
    flagged_world(world)
    outcomes = send(world, make_config(tmp_path, closed_port()), tmp_path, period=WEEK)
    assert [(o.status, o.attempts) for o in outcomes] == [("pending", 2)]
    assert exit_code(outcomes) == EX_TEMPFAIL
    assert ledger_rows(world) == [("2026-W47", "desk", "pending", 2)]
    with smtp_server() as server:  # the next scheduled run: the pending row is due
        retry = send(world, make_config(tmp_path, server.port), tmp_path)
    assert [(o.period, o.status) for o in retry] == [("2026-W47", "sent")]
    assert len(server.messages) == 1
    assert ledger_rows(world) == [("2026-W47", "desk", "sent", 3)]


def test_missed_weeks_are_sent_oldest_first(world: World, tmp_path: Path) -> None:
    for back in (0, 1, 2):
        week = WEEK.previous(back)
        world.article(f"Flagged in {week.key}", at(week), band="review", score=50.0)
    world.session.add(
        DigestSend(
            period="2026-W45",
            period_start=WEEK.previous(2).start,
            period_end=WEEK.previous(2).end,
            list_name="desk",
            recipients=["desk@example.org"],
            status="sent",
            message_id="<old@example.org>",
            attempts=1,
        )
    )
    world.commit()
    with smtp_server() as server:
        outcomes = send(world, make_config(tmp_path, server.port), tmp_path)
    assert [(o.period, o.status) for o in outcomes] == [("2026-W46", "sent"), ("2026-W47", "sent")]
    subjects = [r.message["Subject"] for r in server.messages]
    assert [s.split()[2].rstrip(":") for s in subjects] == ["2026-W46", "2026-W47"]


@pytest.mark.parametrize("missed", [1, 2, 3])
def test_downtime_over_one_to_three_digest_dates_sends_each_week_once_oldest_first(
    world: World, tmp_path: Path, missed: int
) -> None:
    """Nothing sent since the first article, ``missed`` digest dates gone by: the next run sends
    each of those weeks once, oldest first, and the run after it sends nothing."""
    weeks = [WEEK.previous(back) for back in reversed(range(missed))]
    for week in weeks:
        world.article(f"Flagged in {week.key}", at(week), band="review", score=50.0)
    world.commit()
    with smtp_server() as server:
        config = make_config(tmp_path, server.port)
        outcomes = send(world, config, tmp_path)
        again = send(world, config, tmp_path)
    assert [(o.period, o.status) for o in outcomes] == [(w.key, "sent") for w in weeks]
    assert [r.message["Subject"].split()[2].rstrip(":") for r in server.messages] == [
        w.key for w in weeks
    ]
    assert again == []
    assert ledger_rows(world) == [(w.key, "desk", "sent", 1) for w in weeks]


def test_down_server_stops_the_run_and_keeps_the_order(world: World, tmp_path: Path) -> None:
    world.article("First week", at(WEEK.previous()), band="review", score=50.0)
    world.article("Second week", at(WEEK), band="review", score=50.0)
    world.commit()
    outcomes = send(world, make_config(tmp_path, closed_port(), retries=1), tmp_path)
    assert [(o.period, o.status, o.attempts) for o in outcomes] == [
        ("2026-W46", "pending", 1),
        ("2026-W47", "pending", 0),  # not tried once the server was found down
    ]
    with smtp_server() as server:
        send(world, make_config(tmp_path, server.port), tmp_path)
    assert [r.message["Subject"].split()[2] for r in server.messages] == ["2026-W46:", "2026-W47:"]


def test_each_list_gets_its_own_selection(world: World, tmp_path: Path) -> None:
    flagged_world(world)
    lists = [
        {"name": "priority", "recipients": ["boss@example.org"], "min_band": "priority"},
        {
            "name": "mushrooms",
            "recipients": ["a@example.org", "b@example.org"],
            "substances": ["mushrooms"],
        },
    ]
    with smtp_server() as server:
        outcomes = send(
            world, make_config(tmp_path, server.port, lists=lists), tmp_path, period=WEEK
        )
    assert [(o.list_name, o.status) for o in outcomes] == [
        ("priority", "sent"),
        ("mushrooms", "sent"),
    ]
    by_list = {r.message["List-Id"]: r for r in server.messages}
    priority = by_list["claimwatch digest (priority) <priority.example.org>"]
    mushrooms = by_list["claimwatch digest (mushrooms) <mushrooms.example.org>"]
    assert mushrooms.rcpt_tos == ["a@example.org", "b@example.org"]
    text = priority.message.get_body(("plain",)).get_content()
    assert TOP_TITLES[0] in text and TOP_TITLES[1] not in text
    assert "(1 listed)" in priority.message["Subject"]
    text = mushrooms.message.get_body(("plain",)).get_content()
    assert TOP_TITLES[1] in text and TOP_TITLES[0] not in text


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_tls_and_login_with_the_password_from_the_environment(
    world: World, tmp_path: Path, security: str
) -> None:
    flagged_world(world)
    cert = self_signed(tmp_path)
    with smtp_server(tls=security, cert=cert, login=("claimwatch", "s3cret")) as server:
        path = tmp_path / "claimwatch.toml"
        path.write_text(
            f'data_dir = "{tmp_path / "data"}"\n[mail]\nenabled = true\nhost = "127.0.0.1"\n'
            f'port = {server.port}\nsecurity = "{security}"\nusername = "claimwatch"\n'
            f'ca_file = "{cert[0]}"\nsender = "claimwatch@example.org"\n'
            'recipients = ["desk@example.org"]\nretries = 1\n'
        )
        config = load_config(path, env={"CLAIMWATCH_MAIL__PASSWORD": "s3cret"})
        outcomes = send(world, config, tmp_path, period=WEEK)
        wrong = load_config(path, env={"CLAIMWATCH_MAIL__PASSWORD": "wrong"})
        refused = send(world, wrong, tmp_path, period=WEEK, force=True)
    assert [(o.status, o.detail) for o in outcomes] == [("sent", None)]
    assert len(server.messages) == 1
    assert [o.status for o in refused] == ["failed"]
    assert refused[0].detail is not None and "535" in refused[0].detail


def test_password_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    config = make_config(tmp_path, 25, username="u", password_file=str(secret))
    assert smtp_settings(config.mail).password == "from-a-file"


# --- the command line ----------------------------------------------------------------------------


def claimwatch(*args: str, config: Path) -> Any:
    """``claimwatch --config CONFIG ARGS`` in a subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMWATCH_")}
    return subprocess.run(
        [sys.executable, "-m", "claimwatch", "--config", str(config), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_commands_are_registered() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    assert re.search(r"^\s+digest\s", result.stdout, re.M), "register claimwatch.cli.digest_cmd"
    assert re.search(r"^\s+digests\s", result.stdout, re.M)


def cli_world(tmp_path: Path, port: int) -> Path:
    """A SQLite database with flagged articles in the last complete week, and its config."""
    db = tmp_path / "data" / "claimwatch.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    week = last_complete_week(datetime.now(UTC))
    world = World(engine)
    world.article(
        "Kratom ends withdrawal",
        week.start + timedelta(days=1),
        band="priority",
        score=80.0,
        claims=[ClaimSpec("Kratom ends withdrawal.", score=80.0)],
    )
    world.commit()
    world.session.close()
    engine.dispose()
    path = tmp_path / "claimwatch.toml"
    path.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[mail]\nenabled = true\nhost = "127.0.0.1"\n'
        f'port = {port}\nsender = "claimwatch@example.org"\nrecipients = ["desk@example.org"]\n'
        "retries = 2\nbackoff_s = 0.01\ntimeout_s = 5\n"
    )
    return path


@pytest.mark.slow
def test_cli_writes_files_without_sending(tmp_path: Path) -> None:
    config = cli_world(tmp_path, closed_port())
    result = claimwatch("digest", config=config)
    assert result.returncode == 0, result.stderr
    paths = [Path(line) for line in result.stdout.splitlines() if line.startswith("/")]
    week = last_complete_week(datetime.now(UTC)).key
    assert {p.name for p in paths} >= {f"{week}.html", f"{week}.csv", f"{week}.json", "index.html"}
    assert all(p.exists() for p in paths)
    assert (
        not session_factory(make_engine(f"sqlite:///{tmp_path / 'data' / 'claimwatch.db'}"))()
        .scalars(select(DigestSend))
        .all()
    )


@pytest.mark.slow
def test_cli_send_down_then_up(tmp_path: Path) -> None:
    config = cli_world(tmp_path, closed_port())
    down = claimwatch("digest", "--send", config=config)
    assert down.returncode == EX_TEMPFAIL, down.stderr
    assert "pending" in down.stderr and "Connection" in down.stderr
    with smtp_server() as server:
        text = config.read_text()
        config.write_text(re.sub(r"port = \d+", f"port = {server.port}", text))
        up = claimwatch("digest", "--send", config=config)
        again = claimwatch("digest", "--send", config=config)
    assert up.returncode == 0, up.stderr
    assert len(server.messages) == 1 and "sent" in up.stdout
    assert again.returncode == 0 and "nothing due" in again.stdout
    ledger = claimwatch("digests", config=config)
    week = last_complete_week(datetime.now(UTC)).key
    assert re.search(rf"^{week}\s+digest\s+sent\s+3\s", ledger.stdout, re.M), ledger.stdout


@pytest.mark.slow
def test_cli_rejects_a_bad_week_and_disabled_mail(tmp_path: Path) -> None:
    config = cli_world(tmp_path, closed_port())
    bad = claimwatch("digest", "--week", "2026-W60", config=config)
    assert bad.returncode == 2 and "not an ISO week" in bad.stderr
    config.write_text(config.read_text().replace("enabled = true", "enabled = false"))
    off = claimwatch("digest", "--send", config=config)
    assert off.returncode == 78 and "mail is not enabled" in off.stderr


@pytest.mark.slow
def test_a_send_killed_mid_delivery_is_sent_again_and_the_ledger_says_possibly_twice(
    tmp_path: Path,
) -> None:
    """kill -9 while the server holds the delivered message's reply: within 30 minutes nothing is
    sent again; after them the digest goes again with the same Message-ID, and ``digests`` says
    it may have arrived twice."""
    import signal
    import time

    with smtp_server(script=["hold"]) as server:
        config = cli_world(tmp_path, server.port)
        config.write_text(config.read_text().replace("timeout_s = 5", "timeout_s = 120"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMWATCH_")}
        sender = subprocess.Popen(
            [sys.executable, "-m", "claimwatch", "--config", str(config), "digest", "--send"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while not server.messages and time.monotonic() < deadline and sender.poll() is None:
            time.sleep(0.05)
        assert len(server.messages) == 1, "the message never reached the server"
        sender.send_signal(signal.SIGKILL)
        sender.wait(timeout=30)

        engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'claimwatch.db'}")
        factory = session_factory(engine)
        with factory() as session:
            [row] = session.scalars(select(DigestSend)).all()
            assert (row.status, row.attempts) == ("sending", 1)
            assert (row.last_error or "").startswith("sending since ")

        soon = claimwatch("digest", "--send", config=config)  # within the 30 minutes
        assert soon.returncode == 0, soon.stderr
        assert "skipped" in soon.stdout and "already sending" in soon.stdout
        assert len(server.messages) == 1

        with factory() as session, session.begin():  # 31 minutes pass
            row = session.scalars(select(DigestSend)).one()
            row.updated_at = row.updated_at - timedelta(minutes=31)
        engine.dispose()
        later = claimwatch("digest", "--send", config=config)
        assert later.returncode == 0, later.stderr
        assert "possibly twice" in later.stdout
        ledger = claimwatch("digests", config=config)

    first, second = server.messages
    assert first.message["Message-ID"] == second.message["Message-ID"]
    week = last_complete_week(datetime.now(UTC)).key
    assert re.search(
        rf"^{week}\s+digest\s+sent\s+2\s.*{re.escape(first.message['Message-ID'])}"
        r"\s+possibly twice: a send was interrupted at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC",
        ledger.stdout,
        re.M,
    ), ledger.stdout
