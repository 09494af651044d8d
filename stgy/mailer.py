"""Mail transports behind one small interface: a spool folder of `.eml` files, or SMTP."""

from __future__ import annotations

import asyncio
import hashlib
import os
import ssl
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from stgy.config import Config, MailConfig

if TYPE_CHECKING:
    import aiosmtplib


class MailRefused(Exception):
    """The server refused the message for good (a 5xx answer): retrying cannot help."""


class MailBackend(Protocol):
    name: str

    async def send(self, message: EmailMessage) -> None:
        """Hand the message on; raise MailRefused for a permanent refusal, anything else
        (OSError, aiosmtplib.SMTPException) when a later attempt may succeed."""


def spool_file_name(message: EmailMessage) -> str:
    """A file name made from the Message-ID, so sending one message twice writes one file."""
    digest = hashlib.sha256(str(message["Message-ID"]).encode()).hexdigest()[:24]
    return f"{digest}.eml"


class SpoolBackend:
    """Writes each message to `<spool_path>/<hash of its Message-ID>.eml` (atomically)."""

    name = "spool"

    def __init__(self, path: Path) -> None:
        self.path = path

    def _write(self, message: EmailMessage) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        target = self.path / spool_file_name(message)
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(message.as_bytes())
        partial.replace(target)

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._write, message)


class SmtpBackend:
    """One SMTP connection per message (aiosmtplib), plain, STARTTLS or implicit TLS."""

    name = "smtp"

    def __init__(self, config: MailConfig, ca_file: Path | None) -> None:
        self.config = config
        self.tls_context: ssl.SSLContext | None = None
        if config.smtp_security != "none":
            context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
            if not config.smtp_verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self.tls_context = context

    async def send(self, message: EmailMessage) -> None:
        # Imported with the first mail: an idle process needs no SMTP client.
        import aiosmtplib

        config = self.config
        _, sender = parseaddr(str(message["From"]))
        try:
            await aiosmtplib.send(
                message,
                sender=sender,
                hostname=config.smtp_host,
                port=config.smtp_port,
                username=config.smtp_user or None,
                password=config.smtp_password or None,
                use_tls=config.smtp_security == "tls",
                start_tls=config.smtp_security == "starttls",
                tls_context=self.tls_context,
                timeout=config.smtp_timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            if all(error.code >= 500 for error in exc.recipients):
                raise MailRefused(_codes(exc.recipients)) from None
            raise
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code >= 500 and not isinstance(exc, aiosmtplib.SMTPAuthenticationError):
                raise MailRefused(f"{exc.code} {exc.message}") from None
            raise


def _codes(errors: list[aiosmtplib.SMTPRecipientRefused]) -> str:
    return ", ".join(f"{error.code} {error.message}" for error in errors)


def make_backend(config: Config) -> MailBackend:
    mail = config.mail
    if mail.backend == "smtp":
        return SmtpBackend(mail, config.path(mail.smtp_ca_file) if mail.smtp_ca_file else None)
    return SpoolBackend(config.mail_spool_path)
