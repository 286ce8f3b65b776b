"""The digest e-mail: one ``EmailMessage`` (text and HTML alternatives) sent with ``smtplib``.

The subject is built from our own figures and the period key only, never from scraped text. Headers:
``Message-ID`` (chosen once per ledger row, so a retry resends the same message), ``Date``,
``List-Id`` (``<list-name.domain>``), ``Auto-Submitted: auto-generated`` and
``X-Auto-Response-Suppress`` so that auto-replies stay away.

Failures are classified as the ledger needs them: *transient* (connection refused or dropped,
timeouts, DNS, 4xx replies) are retried with backoff and then left pending; *permanent* (5xx
replies, TLS verification, a server without STARTTLS or AUTH) are reported and not retried.
"""

from __future__ import annotations

import secrets
import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol

from core.config import Mail
from reports.model import Digest


class SendError(Exception):
    """A failed delivery attempt: ``transient`` ones may succeed later."""

    def __init__(self, message: str, *, transient: bool, code: int | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.code = code


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str
    port: int
    security: str  # none | starttls | tls
    username: str | None
    password: str | None
    sender: str
    timeout_s: float
    ca_file: Path | None = None


def smtp_settings(mail: Mail) -> SmtpSettings:
    """The SMTP settings, with the password from the environment or the secrets file."""
    password = mail.password.get_secret_value() if mail.password else None
    if mail.password_file is not None:
        try:
            password = mail.password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SendError(
                f"cannot read mail.password_file {mail.password_file}: {exc.strerror or exc}",
                transient=False,
            ) from None
    return SmtpSettings(
        host=mail.host,
        port=mail.port,
        security=mail.security,
        username=mail.username,
        password=password,
        sender=mail.sender,
        timeout_s=mail.timeout_s,
        ca_file=mail.ca_file,
    )


def subject(digest: Digest) -> str:
    """Only our figures and the period key: nothing a scraped page could put there."""
    f = digest.figures
    shown = len(digest.articles)
    listed = f" ({shown} listed)" if digest.audience and shown != f.flagged else ""
    return (
        f"claimwatch digest {digest.period.key}: {f.priority} priority, "
        f"{f.flagged} flagged{listed}, {f.new_articles} new articles"
    )


def new_message_id(period_key: str, list_name: str, domain: str) -> str:
    """Unique, and short enough not to be folded: ``<digest.2026-W47.desk.<random>@domain>``."""
    return f"<digest.{period_key}.{list_name}.{secrets.token_hex(8)}@{domain}>"


def build_message(
    *,
    subject_line: str,
    sender: str,
    recipients: Sequence[str],
    text: str,
    html: str,
    message_id: str,
    list_name: str,
    list_domain: str,
    date: datetime,
) -> EmailMessage:
    message = EmailMessage(policy=SMTP)
    message["Subject"] = subject_line
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message["List-Id"] = f"claimwatch digest ({list_name}) <{list_name}.{list_domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message["Precedence"] = "bulk"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message


def classify(exc: BaseException) -> SendError:
    """Transient or permanent, with the SMTP code when there is one."""
    if isinstance(exc, SendError):
        return exc
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(
            f"{addr}: {code} {msg.decode(errors='replace')}"
            for addr, (code, msg) in exc.recipients.items()
        )
        transient = any(400 <= code < 500 for code in codes)
        return SendError(f"all recipients refused: {detail}", transient=transient)
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        raw = exc.smtp_error
        text = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw or "")
        return SendError(f"SMTP {code} {text}".strip(), transient=not 500 <= code < 600, code=code)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return SendError(f"server does not support it: {exc}", transient=False)
    if isinstance(exc, ssl.SSLError):
        return SendError(f"TLS failed: {exc}", transient=False)
    if isinstance(exc, smtplib.SMTPServerDisconnected | OSError):
        return SendError(f"{type(exc).__name__}: {exc}", transient=True)
    return SendError(f"{type(exc).__name__}: {exc}", transient=False)


class Transport(Protocol):
    def send(self, message: EmailMessage, recipients: Sequence[str]) -> dict[str, str]:
        """Deliver; return the refused recipients (when some, not all, were refused)."""


class SmtpTransport:
    """One SMTP connection per message: plain, STARTTLS or implicit TLS, then LOGIN if set."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def _context(self) -> ssl.SSLContext:
        ca = str(self.settings.ca_file) if self.settings.ca_file else None
        return ssl.create_default_context(cafile=ca)

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.security == "tls":
            return smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s, context=self._context())
        return smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)

    def send(self, message: EmailMessage, recipients: Sequence[str]) -> dict[str, str]:
        s = self.settings
        with self._connect() as smtp:
            smtp.ehlo()
            if s.security == "starttls":
                smtp.starttls(context=self._context())
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password or "")
            refused = smtp.send_message(message, from_addr=s.sender, to_addrs=list(recipients))
        return {
            addr: f"{code} {msg.decode(errors='replace')}" for addr, (code, msg) in refused.items()
        }


@dataclass(frozen=True, slots=True)
class Delivery:
    delivered: bool
    attempts: int
    error: SendError | None = None
    refused: tuple[str, ...] = ()


def deliver(
    transport: Transport,
    message: EmailMessage,
    recipients: Sequence[str],
    *,
    retries: int,
    backoff_s: float,
    sleep: Callable[[float], None] = time.sleep,
    on_attempt: Callable[[int], None] | None = None,
) -> Delivery:
    """Send, retrying transient failures ``retries`` times in all, after backoff, 2×, 4×..."""
    error: SendError | None = None
    for attempt in range(1, retries + 1):
        if on_attempt is not None:
            on_attempt(attempt)
        try:
            refused = transport.send(message, recipients)
        except Exception as exc:  # classified below: anything unexpected is permanent
            error = classify(exc)
            if not error.transient or attempt == retries:
                return Delivery(False, attempt, error)
            sleep(backoff_s * 2 ** (attempt - 1))
            continue
        notes = tuple(f"{addr}: {why}" for addr, why in sorted(refused.items()))
        return Delivery(True, attempt, None, notes)
    return Delivery(False, retries, error)
