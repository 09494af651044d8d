"""Composing mails from the template files, single-use tokens, and sending through a job.

A mail is rendered where it is asked for (so its Message-ID is fixed once) and
handed to the `send_mail` job, which sends it through the configured backend and
is retried with backoff when the server is unavailable. The job is recorded in the
asking transaction and enqueued after its commit (stgy/domain/jobs/durable_jobs.py).

The message travels sealed (Fernet, with a key kept in PostgreSQL): it holds
tokens, and job arguments end up in Redis, in SAQ's own log lines and dashboard.
"""

from __future__ import annotations

import email
import email.policy
import functools
import hashlib
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet, InvalidToken

from stgy.config import Config
from stgy.domain.errors import RateLimited
from stgy.domain.jobs import durable_jobs
from stgy.jobs import SEND_MAIL, mail_job_key
from stgy.logs import quote
from stgy.mailer import MailRefused, make_backend
from stgy.services import Services
from storage import cache
from storage import sessions as sessions_sql
from storage.db import Conn

log = logging.getLogger("stgy.mail")

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates" / "mail"
# How long a token in a mail works: as long as people need to open their mail, no longer.
LIFETIMES = {
    "confirm_email": timedelta(days=2),
    "change_email": timedelta(days=1),
    "reset_password": timedelta(hours=1),
}
MAX_TOKEN = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


if TYPE_CHECKING:
    from jinja2 import Environment


@functools.cache
def _templates() -> Environment:
    # Jinja2 loads with the first mail rendered, not with every process.
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default_for_string=False, default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def one_line(text: str, limit: int = 80) -> str:
    """Text for a header or a subject: no control characters, not too long."""
    flat = " ".join(_CONTROL.sub(" ", text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(template: str, context: dict[str, Any]) -> Rendered:
    """`<template>.txt` (its first line `Subject: ...`) and `<template>.html`."""
    env = _templates()
    text = env.get_template(f"{template}.txt").render(context)
    first, _, body = text.partition("\n")
    if not first.startswith("Subject:"):
        raise ValueError(f"{template}.txt must start with a 'Subject:' line")
    html = env.get_template(f"{template}.html").render(context)
    return Rendered(one_line(first.removeprefix("Subject:"), 200), body.lstrip("\n"), html)


def compose(
    config: Config,
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    unsubscribe_url: str | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    """A plain-text mail with an HTML alternative, from the instance to `to`."""
    instance = config.instance
    values = {
        "instance_name": instance.name,
        "base_url": instance.base_url,
        "domain": instance.domain,
        **context,
    }
    rendered = render(template, values)
    message = EmailMessage(policy=email.policy.default)
    message["Subject"] = rendered.subject
    message["From"] = formataddr((one_line(instance.name), config.mail.from_address))
    message["To"] = to
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id or make_msgid(domain=instance.host)
    # Tells vacation responders and the like not to answer (RFC 3834).
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url is not None:
        # One-click unsubscribe (RFC 8058): the mail client POSTs to the link.
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


def new_token() -> tuple[str, bytes]:
    """A token for a mail, and the hash of it that is stored."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def expiry(purpose: str) -> datetime:
    return datetime.now(UTC) + LIFETIMES[purpose]


async def count_mail(services: Services, keys: list[str], limit: int) -> None:
    """Count one mail against each `keys` counter (an hour each); over `limit` is 429."""
    prefix = f"{services.config.namespace}:rate:mail"
    counts = await cache.count_hits(
        services.redis, keys=[f"{prefix}:{key}" for key in keys], window_seconds=3600
    )
    hits, retry_after = max(counts)
    if hits > limit:
        raise RateLimited({"reason": "too many mails asked for", "retry_after": retry_after})


# Per database and name: secrets never change once made.
_SECRETS: dict[tuple[str, str], str] = {}


async def instance_secret(
    services: Services, name: str, make: Callable[[], str], conn: Conn | None = None
) -> str:
    """A secret kept in PostgreSQL, made on first use and then read once per process.
    Outbox handlers pass their connection: taking a second one from the pool while
    holding one could wait forever when every connection is held so."""
    cache_key = (services.config.database.url, name)
    value = _SECRETS.get(cache_key)
    if value is None:
        if conn is None:
            async with services.pool.acquire() as own:
                value = await sessions_sql.get_or_create_secret(own, name=name, new_value=make())
        else:
            value = await sessions_sql.get_or_create_secret(conn, name=name, new_value=make())
        _SECRETS[cache_key] = value
    return value


async def _sealer(services: Services, conn: Conn | None = None) -> Fernet:
    key = await instance_secret(
        services, "mail_job_key", lambda: Fernet.generate_key().decode(), conn
    )
    return Fernet(key.encode())


async def enqueue(services: Services, message: EmailMessage, conn: Conn | None = None) -> None:
    """Record a mail for the `send_mail` job, sealed (the message text carries any token),
    in the caller's transaction when given one: it is sent after the commit, once, and
    kept in PostgreSQL until sent, so losing Redis loses no mail (stgy.domain.jobs.durable_jobs)."""
    sealed = (await _sealer(services, conn)).encrypt(message.as_bytes()).decode()
    key = mail_job_key(str(message["Message-ID"]))
    if conn is None:
        async with services.pool.acquire() as own:
            await durable_jobs.record(own, SEND_MAIL, [key], [{"sealed": sealed}])
    else:
        await durable_jobs.record(conn, SEND_MAIL, [key], [{"sealed": sealed}])


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)  # noqa: S101 - the policy makes EmailMessages
    return message


async def send_sealed(services: Services, sealed: str) -> str:
    """The `send_mail` job: unseal the message and send it (see `send`)."""
    try:
        raw = (await _sealer(services)).decrypt(sealed.encode())
    except InvalidToken:
        # Sealed with another key (the database was reset): it can never be opened.
        log.warning("mail outcome=unreadable")
        return "unreadable"
    return await send(services, parse(raw))


async def send(services: Services, message: EmailMessage) -> str:
    """One attempt at sending: 'sent', or 'refused' for good; raises when worth retrying."""
    backend = make_backend(services.config)
    message_id = quote(str(message["Message-ID"]))
    try:
        await backend.send(message)
    except MailRefused as exc:
        log.warning(
            "mail backend=%s message_id=%s outcome=refused error=%s",
            backend.name,
            message_id,
            quote(str(exc)[:200]),
        )
        return "refused"
    log.info("mail backend=%s message_id=%s outcome=sent", backend.name, message_id)
    return "sent"
