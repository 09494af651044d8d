"""A real SMTP server on loopback (aiosmtpd) for tests and benchmarks, plus mail helpers."""

from __future__ import annotations

import asyncio
import datetime
import email
import email.policy
import ipaddress
import logging
import re
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from stgy.devservices import free_port

# aiosmtpd logs a warning about its own deprecated attribute on every login.
logging.getLogger("mail.log").setLevel(logging.ERROR)

SMTP_USER = "stgy-relay"
SMTP_PASSWORD = "relay secret 42"  # noqa: S105 - the loopback test server's


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    authenticated_as: str | None


@dataclass
class Inbox:
    """What the server took in; the server runs in a thread of its own, hence the lock."""

    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # recipients answered 550
    delay: float = 0.0  # seconds to wait before taking a message (a slow relay)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if session.authenticated else None
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), message, login)
            )
        return "250 OK queued"

    def messages_to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [r.message for r in self.received if address in r.recipients]

    def count(self) -> int:
        with self.lock:
            return len(self.received)


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == SMTP_USER.encode()
        and auth_data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=ok, auth_data=auth_data if ok else None)


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert PEM, key PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: Inbox
    security: str
    cert: Path | None

    def env(self, **extra: str) -> dict[str, str]:
        """Config overrides that point stgy's SMTP backend at this server."""
        values = {
            "STGY_MAIL_BACKEND": "smtp",
            "STGY_MAIL_SMTP_HOST": self.host,
            "STGY_MAIL_SMTP_PORT": str(self.port),
            "STGY_MAIL_SMTP_SECURITY": self.security,
            "STGY_MAIL_SMTP_USER": SMTP_USER,
            "STGY_MAIL_SMTP_PASSWORD": SMTP_PASSWORD,
            "STGY_MAIL_SMTP_CA_FILE": str(self.cert) if self.cert else "",
        }
        return {**values, **extra}


@contextmanager
def smtp_server(
    security: str = "none", folder: Path | None = None, delay: float = 0.0
) -> Iterator[SmtpServer]:
    """Run an SMTP server on a free loopback port: plain, STARTTLS or implicit TLS.

    Authentication is offered (and, with TLS, only after it); a sender who does not
    log in may still send, so tests see whether the client logged in.
    """
    inbox = Inbox(delay=delay)
    port = free_port()
    cert: Path | None = None
    kwargs: dict[str, Any] = {"authenticator": _authenticate, "auth_require_tls": False}
    if security != "none":
        assert folder is not None, "TLS needs a folder for the certificate"
        cert, key = make_certificate(folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        if security == "tls":
            kwargs["ssl_context"] = context
        else:
            kwargs["tls_context"] = context
            kwargs["require_starttls"] = True
            kwargs["auth_require_tls"] = True
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, inbox, security, cert)
    finally:
        controller.stop()


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    # Mail on the wire ends lines with CRLF; compare it with what was composed (LF).
    return str(part.get_content()).replace("\r\n", "\n")


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


_TOKEN = re.compile(r"[?&]token=([A-Za-z0-9_\-.%]+)")


def token_in(message: EmailMessage) -> str:
    """The token of the first link in the mail's text."""
    found = _TOKEN.search(text_of(message))
    assert found is not None, text_of(message)
    return found.group(1)


def read_spool(folder: Path) -> list[EmailMessage]:
    messages = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        messages.append(message)
    return messages
