"""Alerts through the CLI against local servers: a webhook receiver (Apprise ``json://``) and the
SMTP server (``mail_to`` through ``[mail]``). A source failing ``failing_after`` crawls in a row is
told once, its recovery once; a digest that could not be sent is told once; no successful crawl
for a day is told once (checked on a database with an old run)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from core.config import load_config
from core.db import session_factory
from core.models import CrawlRun, Source
from reports.alerts import check_alerts, mail_url
from reports.mail import SmtpSettings
from reports.period import week_of
from tests.conftest import Served, run_cli, write_config
from tests.smtp_server import closed_port, smtp_server


class Receiver:
    """A plain HTTP server on loopback that keeps every JSON body posted to it."""

    def __init__(self) -> None:
        received: list[dict[str, Any]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                received.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self.received = received
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.httpd.server_address[1]}/hook"

    def titles(self) -> list[str]:
        return [str(body.get("title")) for body in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    yield hook
    hook.httpd.shutdown()
    hook.httpd.server_close()


def alert_config(path: Path, start_url: str, hook: str, smtp_port: int) -> Path:
    write_config(path, [{"name": "blog", "kind": "sitemap", "start_urls": [start_url]}])
    with path.open("a") as out:
        out.write(
            "[schedule]\nfailing_after = 2\n"
            f'[mail]\nhost = "127.0.0.1"\nport = {smtp_port}\nsender = "claimwatch@example.org"\n'
            "retries = 1\nbackoff_s = 0\n"
            f'[alerts]\nurls = ["{hook}"]\nmail_to = ["ops@example.org"]\n'
        )
    load_config(path, env={})
    return path


@pytest.mark.slow
def test_a_failing_source_is_told_once_and_its_recovery_once(
    site: Served, receiver: Receiver, tmp_path: Path
) -> None:
    down = f"http://127.0.0.1:{closed_port()}/robots.txt"
    with smtp_server() as smtp:
        config = alert_config(tmp_path / "claimwatch.toml", down, receiver.url, smtp.port)
        first = run_cli("--config", str(config), "crawl")
        assert first.returncode == 1 and receiver.received == []  # one failure is not failing
        for _ in range(2):  # the second failure opens the condition, the third says nothing new
            again = run_cli("--config", str(config), "crawl")
            assert again.returncode == 1
        assert receiver.titles() == ["claimwatch: source blog is failing"]
        body = receiver.received[0]["message"]
        assert "failed 2 crawls in a row" in body and "connection_refused" in body and down in body
        assert len(smtp.messages) == 1
        mail = smtp.messages[0]
        assert mail.rcpt_tos == ["ops@example.org"]
        assert mail.message["Subject"] == "claimwatch: source blog is failing"
        assert "connection_refused" in mail.message.get_body().get_content()  # type: ignore[union-attr]

        listed = run_cli("--config", str(config), "alerts")
        assert "source_failing:blog" in listed.stdout and "notified" in listed.stdout

        text = config.read_text().replace(down, site.url + "/robots.txt")
        config.write_text(text)
        fixed = run_cli("--config", str(config), "crawl")
        assert fixed.returncode == 0, fixed.stderr
        assert "alert sent: claimwatch: source blog recovered" in fixed.stdout
        assert receiver.titles()[-1] == "claimwatch: source blog recovered"
        assert "3 new of 3 listed" in receiver.received[-1]["message"]
        assert len(smtp.messages) == 2
        quiet = run_cli("--config", str(config), "alerts", "check")
        assert quiet.returncode == 0 and "nothing new to tell" in quiet.stdout
        assert len(receiver.received) == 2
        assert "no open alerts" in run_cli("--config", str(config), "alerts").stdout


@pytest.mark.slow
def test_a_digest_that_could_not_be_sent_is_told_once(
    site: Served, receiver: Receiver, tmp_path: Path
) -> None:
    config = alert_config(tmp_path / "claimwatch.toml", site.url + "/robots.txt", receiver.url, 1)
    # The mail server is down: the webhook is told, the mail_to copy cannot be (same server).
    text = config.read_text().replace("port = 1\n", f"port = {closed_port()}\nenabled = true\n")
    text = text.replace('mail_to = ["ops@example.org"]', "mail_to = []")
    config.write_text(text + '[[mail.lists]]\nname = "desk"\nrecipients = ["desk@example.org"]\n')
    assert run_cli("--config", str(config), "crawl").returncode == 0
    week = week_of(datetime.now(UTC)).key
    for _ in range(2):
        sent = run_cli("--config", str(config), "digest", "--send", "--week", week)
        assert sent.returncode == 75
    assert receiver.titles() == [f"claimwatch: digest {week} to desk could not be sent"]
    assert "pending after 1 attempt(s)" in receiver.received[0]["message"]


def test_no_successful_crawl_for_a_day_is_told_once(engine: Engine) -> None:
    now = datetime.now(UTC)
    factory = session_factory(engine)
    with factory() as session:
        source = Source(name="blog", kind="feed", start_urls=["https://blog.example/feed"])
        session.add(source)
        session.flush()
        started = now - timedelta(hours=30)
        session.add(
            CrawlRun(
                run_group="g1",
                source_id=source.id,
                status="ok",
                started_at=started,
                finished_at=started + timedelta(minutes=5),
            )
        )
        session.commit()
    told: list[tuple[str, str]] = []

    def notify(title: str, body: str) -> bool:
        told.append((title, body))
        return True

    config = load_config(None, env={})
    assert check_alerts(factory, config, notify, now) == [
        "claimwatch: no successful crawl for 24 hours"
    ]
    assert "the last successful crawl finished" in told[0][1]
    assert check_alerts(factory, config, notify, now + timedelta(hours=1)) == []
    with factory() as session:
        session.add(
            CrawlRun(run_group="g2", source_id=1, status="ok", started_at=now, finished_at=now)
        )
        session.commit()
    assert check_alerts(factory, config, notify, now) == ["claimwatch: crawls succeed again"]


def test_a_failed_notification_is_retried_on_the_next_check(engine: Engine) -> None:
    now = datetime.now(UTC)
    factory = session_factory(engine)
    with factory() as session:
        source = Source(name="blog", kind="feed", start_urls=["https://blog.example/feed"])
        session.add(source)
        session.flush()
        session.add(
            CrawlRun(
                run_group="g", source_id=source.id, status="ok", started_at=now - timedelta(days=2)
            )
        )
        session.commit()
    config = load_config(None, env={})
    assert check_alerts(factory, config, lambda title, body: False, now) == []
    assert check_alerts(factory, config, lambda title, body: True, now) == [
        "claimwatch: no successful crawl for 24 hours"
    ]


def test_mail_url_goes_through_the_configured_server() -> None:
    plain = SmtpSettings("127.0.0.1", 2525, "none", None, None, "cw@example.org", 10.0)
    assert mail_url(plain, ["a@example.org", "b@example.org"]) == (
        "mailto://127.0.0.1:2525/?to=a%40example.org%2Cb%40example.org&from=cw%40example.org"
        "&smtp=127.0.0.1&name=claimwatch"
    )
    secure = SmtpSettings(
        "smtp.example.org", 587, "starttls", "cw", "p@ss:w", "cw@example.org", 10.0
    )
    url = mail_url(secure, ["a@example.org"])
    assert (
        url.startswith("mailtos://cw:p%40ss%3Aw@smtp.example.org:587/?") and "mode=starttls" in url
    )
