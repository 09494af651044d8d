"""Accounts: registration, lookup, profile changes, deletion."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

import asyncpg

from stgy.domain import instance_settings
from stgy.domain.auth import hash_password, password_matches
from stgy.domain.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from stgy.domain.jobs import outbox
from stgy.domain.keys import generate_key_pair
from stgy.domain.media import uploads
from stgy.domain.text import render_post
from stgy.services import Services
from storage import accounts as accounts_sql
from storage import lists as lists_sql
from storage import sessions as sessions_sql
from storage.accounts import Account as Account  # re-exported: the web face types with it
from storage.db import Conn
from storage.outbox import OutboxEvent

HANDLE_RE = re.compile(r"^[A-Za-z0-9_]{1,30}$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
EMAIL_LOCAL_RE = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$")
MIN_PASSWORD = 8
MAX_PASSWORD = 256
_COMMON_PASSWORDS = {
    "password",
    "password1",
    "12345678",
    "123456789",
    "1234567890",
    "qwertyui",
    "qwerty123",
    "iloveyou",
    "11111111",
    "00000000",
    "abcdefgh",
    "abc12345",
    "letmein1",
    "passw0rd",
    "sunshine",
    "football",
    "baseball",
    "welcome1",
    "admin123",
    "trustno1",
}
MAX_DISPLAY_NAME = 100
MAX_BIO = 2000
MAX_FIELDS = 4
MAX_FIELD_TEXT = 255
MAX_REGISTRATION_REASON = 1000


@dataclass(frozen=True)
class Registration:
    account: Account
    pending: bool


def check_handle(handle: str, field: str = "handle") -> None:
    if not HANDLE_RE.match(handle):
        raise Invalid(field, "1 to 30 letters, digits or underscores")


def check_password(password: str, *, handle: str = "", email: str = "") -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid("password", f"must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise Invalid("password", f"must be at most {MAX_PASSWORD} characters")
    lowered = password.lower()
    if lowered in _COMMON_PASSWORDS or len(set(password)) < 4:
        raise Invalid("password", "too easy to guess")
    if handle and handle.lower() in lowered or email and email.lower() == lowered:
        raise Invalid("password", "must not contain the handle or be the email")


def random_password(*, handle: str, email: str = "") -> str:
    """A random password (16 characters) that check_password takes for this account: a
    draw that happens to contain the handle (1 in 70 for a two-letter one) is drawn again."""
    while True:
        password = secrets.token_urlsafe(12)
        try:
            check_password(password, handle=handle, email=email)
        except Invalid:
            continue
        return password


def check_email(email: str, *, single_label: bool = False) -> None:
    """An address with a dotted domain; `single_label` also takes `name@localhost` and
    other one-label hosts (an instance on localhost or loopback, where mail stays local)."""
    pattern = EMAIL_LOCAL_RE if single_label else EMAIL_RE
    if len(email) > 254 or not pattern.match(email):
        raise Invalid("email", "not an email address")


async def register(
    services: Services,
    *,
    handle: str,
    display_name: str,
    password: str,
    email: str,
    reason: str = "",
    check_mode: bool = True,
) -> Registration:
    """A new local account; `reason` is what the person tells the moderators when
    registrations need approval (kept with the account for them to read). The
    registrations mode is the one admins set live (stgy.domain.instance_settings);
    `check_mode=False` (an admin making an account) leaves it aside."""
    mode = (
        (await instance_settings.effective_instance(services)).registrations
        if check_mode
        else "open"
    )
    if mode == "closed":
        raise Forbidden("registrations are closed on this instance")
    check_handle(handle)
    check_email(email, single_label=services.config.instance.is_local_only)
    check_password(password, handle=handle, email=email)
    if len(display_name) > MAX_DISPLAY_NAME:
        raise Invalid("display_name", f"at most {MAX_DISPLAY_NAME} characters")
    if len(reason) > MAX_REGISTRATION_REASON:
        raise Invalid("reason", f"at most {MAX_REGISTRATION_REASON} characters")
    password_hash = await hash_password(services.config.auth, password)
    keys = await generate_key_pair()
    async with services.pool.acquire() as conn:
        try:
            async with conn.transaction():
                if await accounts_sql.handle_taken(conn, handle=handle):
                    raise Conflict({"field": "handle", "reason": "already taken"})
                if await accounts_sql.email_taken(conn, email=email):
                    raise Conflict({"field": "email", "reason": "already registered"})
                account = await accounts_sql.insert_local_account(
                    conn,
                    handle=handle,
                    display_name=display_name or handle,
                    base_url=services.config.instance.base_url,
                    public_key_pem=keys.public_pem,
                )
                await accounts_sql.insert_user(
                    conn,
                    account_id=account.id,
                    email=email,
                    password_hash=password_hash,
                    private_key_pem=keys.private_pem,
                    approved=mode == "open",
                    registration_reason=reason if mode == "approval" else "",
                )
                event = await outbox.record_event(
                    conn, "account.created", {"account_id": account.id}
                )
        except asyncpg.UniqueViolationError as exc:
            # Two registrations raced for the same handle or email.
            field = "email" if "email" in str(exc) else "handle"
            raise Conflict({"field": field, "reason": "already taken"}) from None
    await outbox.enqueue_events(services.jobs, [event])
    return Registration(account, pending=mode == "approval")


def split_acct(acct: str) -> tuple[str, str | None]:
    """`handle` or `handle@domain` (a leading @ allowed) into handle and domain."""
    acct = acct.removeprefix("@")
    handle, _, domain = acct.partition("@")
    return handle, (domain.lower() or None)


async def get_account(services: Services, account_id: int) -> Account:
    async with services.pool.acquire() as conn:
        account = await accounts_sql.get_account(conn, account_id=account_id)
    if account is None or not account.active:
        raise NotFound("no such account")
    return account


async def find_account(services: Services, acct: str) -> Account:
    """A local or known remote account by `handle[@domain]`; old local handles redirect."""
    handle, domain = split_acct(acct)
    if domain == services.config.instance.domain.lower():
        domain = None
    if not handle:
        raise NotFound("no such account")
    async with services.pool.acquire() as conn:
        account = await accounts_sql.find_by_handle(conn, handle=handle, domain=domain)
        if account is None and domain is None:
            account = await accounts_sql.find_by_reserved_handle(conn, handle=handle)
    if account is None or not account.active:
        raise NotFound("no such account")
    return account


def _check_fields(fields: list[dict[str, str]]) -> list[dict[str, str]]:
    if len(fields) > MAX_FIELDS:
        raise Invalid("fields", f"at most {MAX_FIELDS} fields")
    clean = []
    for i, item in enumerate(fields):
        name, value = item.get("name", ""), item.get("value", "")
        if not name or len(name) > MAX_FIELD_TEXT or len(value) > MAX_FIELD_TEXT:
            raise Invalid(f"fields.{i}", f"name (1-{MAX_FIELD_TEXT}) and value (<= 255)")
        clean.append({"name": name, "value": value})
    return clean


async def update_profile(services: Services, account_id: int, changes: dict[str, Any]) -> Account:
    """Apply profile changes; a new handle keeps the old one reserved for this account."""
    columns: dict[str, Any] = {}
    if "display_name" in changes:
        if len(changes["display_name"]) > MAX_DISPLAY_NAME:
            raise Invalid("display_name", f"at most {MAX_DISPLAY_NAME} characters")
        columns["display_name"] = changes["display_name"]
    if "bio" in changes:
        if len(changes["bio"]) > MAX_BIO:
            raise Invalid("bio", f"at most {MAX_BIO} characters")
        columns["bio_source"] = changes["bio"]
        # Hashtags are linked as in posts; mentions stay text (a bio notifies nobody).
        columns["bio_html"] = render_post(
            changes["bio"],
            mention_url=lambda mention: None,
            tags_url=services.config.instance.base_url + "/tags",
        )
    if "fields" in changes:
        columns["fields"] = _check_fields(changes["fields"])
    for flag in ("locked", "bot"):
        if flag in changes:
            columns[flag] = bool(changes[flag])
    async with services.pool.acquire() as conn, conn.transaction():
        current = await accounts_sql.get_account(conn, account_id=account_id)
        if current is None or not current.active:
            raise NotFound("no such account")
        new_handle = changes.get("handle")
        if new_handle is not None and new_handle != current.handle:
            check_handle(new_handle)
            same_person = new_handle.lower() == current.handle.lower()
            if not same_person and await accounts_sql.handle_taken(conn, handle=new_handle):
                owner = await accounts_sql.find_by_reserved_handle(conn, handle=new_handle)
                if owner is None or owner.id != account_id:
                    raise Conflict({"field": "handle", "reason": "already taken"})
            await accounts_sql.reserve_handle(conn, account_id=account_id, handle=current.handle)
            columns["handle"] = new_handle
        for which in ("avatar", "header"):
            if f"{which}_media_id" in changes:
                raw_id = changes[f"{which}_media_id"]
                await uploads.set_profile_media(conn, account_id, which, raw_id)
        account = await accounts_sql.update_profile(conn, account_id=account_id, changes=columns)
        event = await outbox.record_event(conn, "account.updated", {"account_id": account_id})
    await outbox.enqueue_events(services.jobs, [event])
    return account


async def delete_account(services: Services, account_id: int, password: str) -> None:
    async with services.pool.acquire() as conn:
        creds = await accounts_sql.get_credentials(conn, account_id=account_id)
    if creds is None or not await password_matches(creds.password_hash, password):
        raise Unauthorized("wrong password")
    async with services.pool.acquire() as conn, conn.transaction():
        await accounts_sql.mark_deleted(conn, account_id=account_id)
        await sessions_sql.revoke_all_sessions(conn, account_id=account_id)
        event = await outbox.record_event(conn, "account.deleted", {"account_id": account_id})
    await outbox.enqueue_events(services.jobs, [event])


@outbox.handles("account.deleted")
async def _account_deleted(conn: Conn, event: OutboxEvent, services: Services) -> None:
    await accounts_sql.purge_content(conn, account_id=event.payload["account_id"])
    # Its lists too (others' lists lost it with its follows: migration 0029).
    await lists_sql.delete_owned(conn, owner_id=event.payload["account_id"])
