"""Accounts named in the native API's paths: by id, or by `@handle` / `@user@host`."""

from __future__ import annotations

from stgy.domain import accounts
from stgy.domain.remote import resolve
from stgy.domain.text import check_storable
from stgy.http.context import client_ip, services
from stgy.http.validation import parse_id


async def account_id_of(value: str, what: str = "account", *, look_up: bool = False) -> int:
    """The id of the account a path names: its id, `@handle` (a local account; a handle it
    had before still finds it) or `@user@host` (a remote account we know). With
    `look_up`, a remote account we do not know yet is looked up on its server (WebFinger,
    then its actor), which counts as a write for the caller's rate limit. Invalid for
    a malformed `@…`, NotFound when there is no such account."""
    if not value.startswith("@"):
        return parse_id(value, what)
    check_storable("acct", value)
    user, host = resolve.parse_acct(value)  # Invalid("acct") when malformed: 400
    if look_up:
        return (await resolve.find_account(services(), value, client=client_ip())).id
    return (await accounts.find_account(services(), f"{user}@{host}" if host else user)).id
