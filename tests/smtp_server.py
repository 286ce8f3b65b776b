"""A real SMTP server for the digest tests: aiosmtpd on 127.0.0.1, an ephemeral port, in a thread.

``script`` holds the replies to the next DATA commands (``"451 4.3.0 try later"``, ``"550 5.7.1
no"``, or ``"hold"``: take the message but never answer, as a server would whose client dies
before the reply); once it is empty every message is accepted. Accepted messages are parsed into ``messages``.
Optionally: STARTTLS or implicit TLS with a throw-away self-signed certificate, and AUTH LOGIN/PLAIN.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Handler:
    script: list[str] = field(default_factory=list)
    messages: list[Received] = field(default_factory=list)
    data_commands: int = 0

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.data_commands += 1
        reply = self.script.pop(0) if self.script else "250 2.0.0 accepted"
        if reply.startswith(("250", "hold")):
            raw = envelope.original_content or b""
            message = message_from_bytes(raw, policy=policy.default)
            assert isinstance(message, EmailMessage)
            self.messages.append(
                Received(str(envelope.mail_from), [str(r) for r in envelope.rcpt_tos], message)
            )
        if reply == "hold":
            await asyncio.sleep(3600)  # cancelled when the server stops
        return reply


class _Controller(Controller):
    """Binds port 0 and learns the port the OS chose before aiosmtpd's self-check connects."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class Server:
    controller: _Controller
    handler: Handler

    @property
    def port(self) -> int:
        return int(self.controller.port)

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    @property
    def script(self) -> list[str]:
        return self.handler.script


def _authenticator(username: str, password: str) -> Any:
    def check(
        server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            username.encode(),
            password.encode(),
        )
        return AuthResult(success=ok, handled=False)

    return check


@contextmanager
def smtp_server(
    *,
    script: list[str] | None = None,
    tls: str = "none",
    cert: tuple[Path, Path] | None = None,
    login: tuple[str, str] | None = None,
) -> Iterator[Server]:
    """Serve SMTP on 127.0.0.1 until the block ends. ``tls``: none, starttls or tls."""
    handler = Handler(script=list(script or []))
    kwargs: dict[str, Any] = {}
    server_context = None
    if tls != "none":
        assert cert is not None
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_context.load_cert_chain(str(cert[0]), str(cert[1]))
    if tls == "starttls":
        kwargs.update(tls_context=server_context, require_starttls=True)
    if login is not None:
        # aiosmtpd knows TLS only from STARTTLS; with implicit TLS the whole session is TLS
        kwargs.update(
            authenticator=_authenticator(*login),
            auth_required=True,
            auth_require_tls=tls != "tls",
        )
    controller = _Controller(
        handler,
        hostname="127.0.0.1",
        port=0,
        ssl_context=server_context if tls == "tls" else None,
        **kwargs,
    )
    controller.start()
    try:
        yield Server(controller, handler)
    finally:
        controller.stop()


def closed_port() -> int:
    """A loopback port with nothing listening: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A throw-away certificate for 127.0.0.1 (and localhost): (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
