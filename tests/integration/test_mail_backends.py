"""Composed messages, the spool backend, and the SMTP backend against a real loopback server."""

from __future__ import annotations

import dataclasses
import ssl
from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import aiosmtplib
import pytest

from stgy.config import Config, load_config
from stgy.domain.mail import messages
from stgy.mailer import SpoolBackend, make_backend, spool_file_name
from stgy.services import Services
from tests.conftest import config_env
from tests.integration.mail_support import (
    SMTP_USER,
    html_of,
    read_spool,
    smtp_server,
    text_of,
)


def reset_mail(
    config: Config, to: str = "bob@example.com", name: str = "Bob"
) -> messages.EmailMessage:
    return messages.compose(
        config,
        to=to,
        template="reset_password",
        context={
            "handle": "bob",
            "display_name": name,
            "link": "http://localhost:8000/auth/reset-password?token=abc",
            "minutes": 60,
        },
    )


def test_message_has_text_and_html_and_the_headers(config: Config) -> None:
    message = reset_mail(config, name="<b>Bob</b> & co")
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    assert message["To"] == "bob@example.com"
    assert message["From"] == f"{config.instance.name} <{config.mail.from_address}>"
    assert message["Subject"] == f"Reset your {config.instance.name} password"
    assert parsedate_to_datetime(message["Date"]).utcoffset() == timedelta(0)
    assert message["Message-ID"].endswith(f"@{config.instance.host}>")
    assert message["Auto-Submitted"] == "auto-generated"
    # Not a notification: nothing to unsubscribe from.
    assert message["List-Unsubscribe"] is None
    assert "Hello <b>Bob</b> & co," in text_of(message)
    # In HTML, what people wrote is escaped; the link is there as a link.
    html = html_of(message)
    assert "&lt;b&gt;Bob&lt;/b&gt; &amp; co" in html and "<b>Bob</b>" not in html
    assert 'href="http://localhost:8000/auth/reset-password?token=abc"' in html


def test_notification_mail_has_one_click_unsubscribe_and_a_fixed_message_id(
    config: Config,
) -> None:
    message = messages.compose(
        config,
        to="ann@example.com",
        template="new_follower",
        context={
            "handle": "ann",
            "display_name": "Ann",
            "follower_name": "Bob",
            "follower_acct": "bob",
            "follower_link": "http://localhost:8000/@bob",
            "settings_link": "http://localhost:8000/settings/notifications",
            "unsubscribe_link": "http://localhost:8000/mail/unsubscribe?token=t",
        },
        unsubscribe_url="http://localhost:8000/api/mail/unsubscribe?token=t",
        message_id="<notification.1@localhost>",
    )
    assert message["List-Unsubscribe"] == "<http://localhost:8000/api/mail/unsubscribe?token=t>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"] == "<notification.1@localhost>"
    assert message["Subject"] == "Bob now follows you on stgy"
    # The body links the page a person opens; the header, the one-click endpoint.
    for part in message.iter_parts():
        assert "http://localhost:8000/mail/unsubscribe?token=t" in part.get_content()


def test_subjects_hold_no_line_breaks() -> None:
    assert messages.one_line("Bob\r\nBcc: everyone@example.com") == "Bob Bcc: everyone@example.com"
    assert len(messages.one_line("x" * 500)) == 80


async def test_spool_writes_one_eml_file_per_message(config: Config, tmp_path: Path) -> None:
    backend = SpoolBackend(tmp_path / "spool")
    message = reset_mail(config)
    await backend.send(message)
    await backend.send(message)  # a retried job: the same file again
    [stored] = read_spool(tmp_path / "spool")
    assert stored["Message-ID"] == message["Message-ID"]
    assert text_of(stored) == text_of(message)
    assert (tmp_path / "spool" / spool_file_name(message)).exists()
    assert not list((tmp_path / "spool").glob("*.tmp"))


async def test_the_default_backend_is_the_configured_spool(
    config: Config, services: Services
) -> None:
    assert make_backend(config).name == "spool"
    message = reset_mail(config, to="spooled@example.com")
    assert await messages.send(services, message) == "sent"
    spooled = [
        m for m in read_spool(config.path(config.mail.spool_path)) if m["To"] == message["To"]
    ]
    assert [m["Message-ID"] for m in spooled] == [message["Message-ID"]]


def smtp_config(database_url: str, tmp: Path, server_env: dict[str, str]) -> Config:
    return load_config(environ=config_env(database_url, tmp, queue="smtp", **server_env))


@pytest.mark.parametrize("security", ["none", "starttls", "tls"])
async def test_smtp_delivers_with_login_over_each_security(
    security: str, database_url: str, tmp_path: Path
) -> None:
    with smtp_server(security, tmp_path) as server:
        config = smtp_config(database_url, tmp_path, server.env())
        message = reset_mail(config, to="carol@example.com")
        await make_backend(config).send(message)
        [received] = server.inbox.received
    assert received.recipients == ["carol@example.com"]
    assert received.sender == config.mail.from_address
    assert received.authenticated_as == SMTP_USER
    assert received.message["Message-ID"] == message["Message-ID"]
    assert text_of(received.message) == text_of(message)
    assert html_of(received.message) == html_of(message)


async def test_smtp_checks_the_certificate_unless_told_not_to(
    database_url: str, tmp_path: Path
) -> None:
    with smtp_server("tls", tmp_path) as server:
        # The system's CAs do not know the self-signed certificate.
        untrusting = smtp_config(database_url, tmp_path, server.env(STGY_MAIL_SMTP_CA_FILE=""))
        with pytest.raises((ssl.SSLError, aiosmtplib.SMTPException)):
            await make_backend(untrusting).send(reset_mail(untrusting))
        assert server.inbox.count() == 0
        lenient = smtp_config(
            database_url,
            tmp_path,
            server.env(STGY_MAIL_SMTP_CA_FILE="", STGY_MAIL_SMTP_VERIFY="false"),
        )
        await make_backend(lenient).send(reset_mail(lenient))
        assert server.inbox.count() == 1


async def test_a_refused_recipient_is_not_retried_and_an_absent_server_is(
    database_url: str, tmp_path: Path, services: Services
) -> None:
    with smtp_server("none") as server:
        server.inbox.refuse.add("gone@example.com")
        config = smtp_config(database_url, tmp_path, server.env())
        smtp_services = dataclasses.replace(services, config=config)
        refused = reset_mail(config, to="gone@example.com")
        assert await messages.send(smtp_services, refused) == "refused"
        assert server.inbox.count() == 0
        port = server.port
    # The server is gone: the attempt raises, so SAQ retries the job with backoff.
    config = smtp_config(database_url, tmp_path, {**server.env(), "STGY_MAIL_SMTP_PORT": str(port)})
    smtp_services = dataclasses.replace(services, config=config)
    with pytest.raises((OSError, aiosmtplib.SMTPException)):
        await messages.send(smtp_services, reset_mail(config))


def test_mail_config_keys_default_and_override() -> None:
    defaults = load_config(environ={})
    assert defaults.mail.smtp_verify is True and defaults.mail.smtp_ca_file == ""
    assert defaults.mail.require_confirmation is False and defaults.mail.rate_limit_per_hour == 5
    config = load_config(
        environ={
            "STGY_MAIL_SMTP_VERIFY": "false",
            "STGY_MAIL_SMTP_TIMEOUT": "2.5",
            "STGY_MAIL_REQUIRE_CONFIRMATION": "yes",
            "STGY_MAIL_RATE_LIMIT_PER_HOUR": "20",
        }
    )
    assert config.mail.smtp_verify is False and config.mail.smtp_timeout == 2.5
    assert config.mail.require_confirmation is True and config.mail.rate_limit_per_hour == 20
