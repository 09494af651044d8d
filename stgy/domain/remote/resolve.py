"""Resolving remote accounts: `user@host` by WebFinger and actor URLs, fetched as the
instance actor through the SSRF guard and stored as remote accounts.

A known account is answered from the database; one fetched more than `ACTOR_TTL` ago
is refreshed by a job. An unknown one is looked up at once (that counts as a write for
the rate limit), and its outbox is backfilled by a job (stgy.domain.remote.backfill).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import asyncpg
from redis.exceptions import RedisError

from federation import fetch, lookup
from federation import webfinger as wf
from stgy.domain import accounts, ratelimit
from stgy.domain.errors import Invalid, NotFound
from stgy.domain.remote.activitypub import instance_key
from stgy.domain.remote.remote_keys import actor_row, host_of, is_blocked, tags_url
from stgy.jobs import BACKFILL_OUTBOX, REFRESH_REMOTE_ACCOUNT, fetch_job_key
from stgy.logs import quote
from stgy.services import Services
from storage import accounts as accounts_sql
from storage import fetched as fetched_sql
from storage import remote_accounts as remote_sql
from storage.accounts import Account

log = logging.getLogger("stgy.fetch")

# A remote actor fetched this recently is not fetched again for a lookup.
ACTOR_TTL = timedelta(hours=24)


async def enqueue_fetch(services: Services, function: str, object_id: int, **kwargs: int) -> None:
    """Enqueue a fetch job, one per account or post (see stgy.jobs); when Redis is down
    the fetch is skipped: the next lookup or page view asks again."""
    try:
        await services.jobs.enqueue(function, key=fetch_job_key(function, object_id), **kwargs)
    except (RedisError, OSError) as exc:
        log.warning("fetch_enqueue_failed job=%s id=%d error=%r", function, object_id, str(exc))


async def signer(services: Services) -> fetch.Signer:
    key = await instance_key(services)
    return fetch.Signer(key.key_id, key.private_pem)


def parse_acct(acct: str) -> tuple[str, str | None]:
    """`user`, `@user`, `user@host` or `@user@host` into user and lowercased host (None
    when absent); Invalid("acct") for anything else (`@x@`, `a@b@c`, a bad host)."""
    text = acct.removeprefix("@")
    if text.count("@") > 1 or text.endswith("@") or text.startswith("@") or not text:
        raise Invalid("acct", "expected user or user@host")
    user, _, host = text.partition("@")
    if not host:
        return user, None
    try:
        resource = wf.parse_resource(f"acct:{user}@{host}")
    except wf.WebFingerError as exc:
        raise Invalid("acct", str(exc)) from None
    return resource.user or user, resource.host


async def find_account(services: Services, acct: str, *, client: str | None) -> Account:
    """A local account, or a remote one: from the database, else by WebFinger."""
    user, host = parse_acct(acct)
    if host is None or host == services.config.instance.domain.lower():
        return await accounts.find_account(services, user)
    async with services.pool.acquire() as conn:
        known = await accounts_sql.find_by_handle(conn, handle=user, domain=host)
    if known is not None:
        return await _known(services, known)
    if not services.config.federation.enabled:
        raise NotFound("no such account (federation is disabled here)")
    if await is_blocked(services, host):
        raise NotFound(f"no such account: {host} is blocked here")
    if client is not None:
        await ratelimit.count_write(services, client)
    try:
        jrd = await lookup.webfinger(
            services.http,
            user,
            host,
            allow_private=services.config.address_scope,
        )
    except fetch.FetchError as exc:
        log.info("webfinger_failed acct=%s reason=%s", quote(f"{user}@{host}"), quote(exc.reason))
        raise NotFound(f"no such account: {user}@{host} could not be looked up ({exc})") from None
    except wf.WebFingerError as exc:
        raise NotFound(f"no such account: {user}@{host} has no usable WebFinger ({exc})") from None
    return await fetch_actor_account(services, jrd.actor_url, client=None)


async def find_by_url(services: Services, url: str, *, client: str | None) -> Account:
    """The account an actor URL names: ours, a known remote one, or one fetched now."""
    async with services.pool.acquire() as conn:
        known = await remote_sql.find_by_ap_id(conn, ap_id=url)
    if known is not None:
        if known.is_local:
            if not known.active:
                raise NotFound("no such account")
            return known
        return await _known(services, known)
    host = host_of(url)
    if host is None:
        raise Invalid("url", "not an http(s) URL")
    if host == services.config.instance.domain.lower() or not services.config.federation.enabled:
        raise NotFound("no such account")
    return await fetch_actor_account(services, url, client=client)


async def _known(services: Services, account: Account) -> Account:
    """A stored remote account, refreshed in a job when its document is old."""
    if not account.active:
        raise NotFound("no such account")
    async with services.pool.acquire() as conn:
        state = await fetched_sql.remote_state(conn, account_id=account.id)
    if state is not None and services.config.federation.enabled:
        if state.fetched_at is None or state.fetched_at < datetime.now(UTC) - ACTOR_TTL:
            await enqueue_fetch(services, REFRESH_REMOTE_ACCOUNT, account.id, account_id=account.id)
    return account


async def fetch_actor_account(
    services: Services, url: str, *, client: str | None, backfill: bool = True
) -> Account:
    """Fetch an actor document (signed as the instance actor) and store it as a remote
    account; with `backfill`, its outbox is backfilled by a job the first time.
    NotFound when that fails."""
    host = host_of(url)
    if host is None or await is_blocked(services, host):
        raise NotFound("no such account")
    if client is not None:
        await ratelimit.count_write(services, client)
    try:
        actor = await fetch.fetch_actor(
            services.http,
            url,
            signer=await signer(services),
            allow_private=services.config.address_scope,
        )
    except fetch.FetchError as exc:
        log.info("actor_fetch_failed url=%s reason=%s", quote(url), quote(exc.reason))
        raise NotFound(f"no such account: {url} could not be fetched ({exc})") from None
    actor_host = host_of(actor.id)
    if actor_host is None or await is_blocked(services, actor_host):
        raise NotFound("no such account")
    account = await store_actor(services, actor, actor_host)
    async with services.pool.acquire() as conn:
        state = await fetched_sql.remote_state(conn, account_id=account.id)
    if backfill and state is not None and state.outbox_fetched_at is None:
        await enqueue_fetch(services, BACKFILL_OUTBOX, account.id, account_id=account.id)
    return account


async def store_actor(services: Services, actor: fetch.RemoteActor, host: str) -> Account:
    try:
        async with services.pool.acquire() as conn:
            row = actor_row(actor, host, tags_url(services))
            stored = await remote_sql.upsert_remote_account(conn, row)
    except asyncpg.UniqueViolationError:
        # Another actor id already holds this handle on this host (an account made again).
        raise NotFound(
            f"no such account: {actor.preferred_username}@{host} is another actor here"
        ) from None
    if stored is None or not stored.active:
        raise NotFound("no such account")
    return stored


async def refresh_account(services: Services, account_id: int) -> str:
    """The refresh job: fetch a remote account's actor document again and store it."""
    async with services.pool.acquire() as conn:
        state = await fetched_sql.remote_state(conn, account_id=account_id)
    if state is None or not state.active:
        return "skipped"
    if state.fetched_at is not None and state.fetched_at >= datetime.now(UTC) - ACTOR_TTL:
        return "fresh"
    try:
        await fetch_actor_account(services, state.ap_id, client=None, backfill=False)
    except NotFound as exc:
        log.info("actor_refresh_failed account=%d detail=%r", account_id, exc.detail)
        return "failed"
    return "refreshed"
