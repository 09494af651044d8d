"""Admin use cases behind the CLI: users, emptying the instance, bulk test data, caches."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

from stgy.domain import account_actions, accounts, renderings, roles
from stgy.domain.auth import hash_password
from stgy.domain.errors import NotFound
from stgy.domain.keys import generate_key_pair
from stgy.services import Services
from storage import accounts as accounts_sql
from storage import cache, seed
from storage import sessions as sessions_sql
from storage.accounts import UserRow

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class SeedReport:
    users: int
    posts: int
    follows: int
    timeline_entries: int
    seconds: float


async def create_user(
    services: Services, *, handle: str, email: str, password: str, role: str
) -> int:
    """An approved user made by an admin (registration mode does not apply)."""
    mode_free = services.config.replace("instance", registrations="open")
    registration = await accounts.register(
        dataclasses.replace(services, config=mode_free),
        handle=handle,
        display_name=handle,
        password=password,
        email=email,
        check_mode=False,
    )
    async with services.pool.acquire() as conn:
        await accounts_sql.set_role(conn, account_id=registration.account.id, role=role)
    return registration.account.id


async def list_users(services: Services, *, limit: int, offset: int) -> list[UserRow]:
    async with services.pool.acquire() as conn:
        return await accounts_sql.list_users(conn, limit=limit, offset=offset)


async def _local_account_id(services: Services, handle: str) -> int:
    async with services.pool.acquire() as conn:
        account = await accounts_sql.find_by_handle(conn, handle=handle, domain=None)
    if account is None:
        raise NotFound(f"no local user {handle!r}")
    return account.id


async def set_suspended(services: Services, handle: str, *, suspended: bool) -> None:
    """Suspend or lift, as the CLI (the account actions, with their audit rows)."""
    account_id = await _local_account_id(services, handle)
    action = "suspend" if suspended else "unsuspend"
    await account_actions.act(services, roles.CLI, account_id, action)


async def reset_password(services: Services, handle: str, password: str) -> None:
    accounts.check_password(password, handle=handle)
    account_id = await _local_account_id(services, handle)
    password_hash = await hash_password(services.config.auth, password)
    async with services.pool.acquire() as conn, conn.transaction():
        await accounts_sql.set_password_hash(
            conn, account_id=account_id, password_hash=password_hash
        )
        await sessions_sql.revoke_all_sessions(conn, account_id=account_id)


async def delete_user(services: Services, handle: str, *, comment: str = "") -> None:
    """Delete as the account owner would, without the password (an admin decision, in
    the audit log as the account action `delete`)."""
    account_id = await _local_account_id(services, handle)
    await account_actions.act(services, roles.CLI, account_id, "delete", comment=comment)


async def reset_cache(services: Services) -> int:
    """Drop the rendered posts and profiles timeline pages are made of (PostgreSQL) and
    the rate counters (Redis); never the job queue."""
    prefix = services.config.namespace
    dropped = await renderings.drop_all(services)
    dropped += await cache.drop_prefix(services.redis, prefix=f"{prefix}:rate:")
    return dropped


async def reset_data(services: Services) -> None:
    """Empty the instance: every account, post and relation; schema and secrets stay."""
    async with services.pool.acquire() as conn:
        await seed.truncate_all(conn)
    await reset_cache(services)


async def reset_test_data(
    services: Services,
    *,
    users: int,
    posts_per_user: int,
    follows_per_user: int,
    progress: Progress,
    batch: int = 500,
) -> SeedReport:
    """Empty the instance, then bulk-insert realistic data with set-based statements.

    Test users are user1..userN, all with the password "test-password" (so one
    argon2 hash serves) and one shared RSA key pair: generating 10,000 keys
    would take minutes, and test data needs none of their secrecy.
    """
    started = time.monotonic()
    await reset_data(services)
    keys = await generate_key_pair()
    password_hash = await hash_password(services.config.auth, "test-password")
    base_url = services.config.instance.base_url
    async with services.pool.acquire() as conn:
        for first in range(1, users + 1, batch):
            last = min(users, first + batch - 1)
            async with conn.transaction():
                await seed.insert_accounts(
                    conn,
                    first=first,
                    last=last,
                    base_url=base_url,
                    public_key_pem=keys.public_pem,
                )
                await seed.insert_users(
                    conn,
                    first=first,
                    last=last,
                    password_hash=password_hash,
                    private_key_pem=keys.private_pem,
                )
            progress("users", last, users)
        ids = await seed.seeded_account_ids(conn)
        step = max(1, batch * 100 // max(1, posts_per_user))
        for i in range(0, len(ids), step):
            chunk = ids[i : i + step]
            await seed.insert_posts(
                conn, account_ids=chunk, per_account=posts_per_user, base_url=base_url, days=30
            )
            progress("posts", min(len(ids), i + step), len(ids))
        for i in range(0, len(ids), batch * 4):
            await seed.insert_follows(
                conn, account_ids=ids[i : i + batch * 4], per_account=follows_per_user
            )
            progress("follows", min(len(ids), i + batch * 4), len(ids))
        # Posts are spread over 30 days: fill each home timeline with the window
        # that holds about its newest 1,000 entries (the trim cron keeps 800).
        candidates = max(1, follows_per_user * posts_per_user)
        since_id = await seed.id_days_ago(conn, days=min(30.0, 30.0 * 1000 / candidates))
        for i in range(0, len(ids), batch):
            await seed.fill_home_timelines(conn, account_ids=ids[i : i + batch], since_id=since_id)
            progress("timelines", min(len(ids), i + batch), len(ids))
        await seed.recount(conn)
        posts, follows, entries = await seed.totals(conn)
    return SeedReport(len(ids), posts, follows, entries, time.monotonic() - started)
