"""Follows: follow and unfollow, approving requests, and the following/followers lists."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from stgy.domain.errors import Forbidden, Invalid, NotFound
from stgy.domain.jobs import outbox
from stgy.services import Services
from storage import accounts as accounts_sql
from storage import deliveries as deliveries_sql
from storage import follows as follows_sql
from storage import relations as relations_sql
from storage.accounts import Account
from storage.db import Conn

ACCEPTED = "accepted"
PENDING = "pending"


@dataclass(frozen=True)
class AccountPage:
    accounts: list[Account]
    next: int | None  # pass as `until` for the next page; None at the end


async def active_account(conn: Conn, account_id: int) -> Account:
    account = await accounts_sql.get_account(conn, account_id=account_id)
    if account is None or not account.active:
        raise NotFound("no such account")
    return account


async def known_account(conn: Conn, account_id: int) -> None:
    """Undoing (unfollow, unblock, unmute) works on suspended accounts too: nothing sticks."""
    if await accounts_sql.get_account(conn, account_id=account_id) is None:
        raise NotFound("no such account")


def _not_self(viewer_id: int, target_id: int, what: str) -> None:
    if viewer_id == target_id:
        raise Invalid("id", f"you cannot {what} yourself")


def _pair(follower_id: int, followee_id: int) -> dict[str, int]:
    return {"follower_id": follower_id, "followee_id": followee_id}


async def follow(
    services: Services,
    follower_id: int,
    target_id: int,
    *,
    also: Callable[[Conn], Awaitable[None]] | None = None,
) -> str:
    """Follow an account: 'accepted' at once for an unlocked local account, else 'pending'
    (a locked account approves; a remote one answers the Follow the federation sends).
    Following again answers the current state and changes nothing. `also(conn)` writes
    more in the same transaction when the follow is new (an AI agent's memory)."""
    _not_self(follower_id, target_id, "follow")
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            target = await active_account(conn, target_id)
            if await relations_sql.blocked_either_way(
                conn, account_id=follower_id, other_id=target_id
            ):
                raise Forbidden("a block stands between these accounts")
            state = ACCEPTED if target.is_local and not target.locked else PENDING
            created = await follows_sql.insert_follow(
                conn, follower_id=follower_id, followee_id=target_id, state=state
            )
            if created is None:
                # Already following or requested (perhaps by a concurrent request).
                existing = await follows_sql.get_follow(
                    conn, follower_id=follower_id, followee_id=target_id
                )
                return existing.state if existing else state
            kind = "follow.accepted" if state == ACCEPTED else "follow.requested"
            event = await outbox.record_event(conn, kind, _pair(follower_id, target_id))
            if also is not None:
                await also(conn)
    await outbox.enqueue_events(services.jobs, [event])
    return state


async def remove_follow(conn: Conn, follower_id: int, followee_id: int) -> int | None:
    """Remove a follow in the caller's transaction, recording `follow.removed` with the
    state it had; the event id to enqueue after commit, None when there was no follow."""
    ap_id = await deliveries_sql.follow_ap_id(
        conn, follower_id=follower_id, followee_id=followee_id
    )
    state = await follows_sql.delete_follow(conn, follower_id=follower_id, followee_id=followee_id)
    if state is None:
        return None
    payload = {**_pair(follower_id, followee_id), "state": state, "ap_id": ap_id}
    return await outbox.record_event(conn, "follow.removed", payload)


async def unfollow(services: Services, follower_id: int, target_id: int) -> None:
    """Stop following, or withdraw a pending request; nothing to remove is fine."""
    _not_self(follower_id, target_id, "unfollow")
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            await known_account(conn, target_id)
            event = await remove_follow(conn, follower_id, target_id)
    if event is not None:
        await outbox.enqueue_events(services.jobs, [event])


async def accept_request(services: Services, account_id: int, follower_id: int) -> None:
    """Approve a pending follow request to `account_id`; accepting twice is fine."""
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            accepted = await follows_sql.accept_follow(
                conn, follower_id=follower_id, followee_id=account_id
            )
            if not accepted:
                existing = await follows_sql.get_follow(
                    conn, follower_id=follower_id, followee_id=account_id
                )
                if existing is None:
                    raise NotFound("no such follow request")
                return
            event = await outbox.record_event(
                conn, "follow.accepted", _pair(follower_id, account_id)
            )
    await outbox.enqueue_events(services.jobs, [event])


async def reject_request(services: Services, account_id: int, follower_id: int) -> None:
    """Refuse a pending follow request to `account_id` (an accepted follow is left alone)."""
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            state = await follows_sql.delete_follow(
                conn, follower_id=follower_id, followee_id=account_id, only_pending=True
            )
            if state is None:
                raise NotFound("no such follow request")
            # `rejected` tells a refusal from the follower's own withdrawal (a remote
            # follower is sent a Reject only for this one).
            payload = {**_pair(follower_id, account_id), "state": state, "rejected": True}
            event = await outbox.record_event(conn, "follow.removed", payload)
    await outbox.enqueue_events(services.jobs, [event])


Lister = Callable[..., Awaitable[list[Account]]]


async def _page(
    services: Services,
    lister: Lister,
    account_id: int,
    until: int | None,
    limit: int,
    since: int | None = None,
    ascending: bool = False,
) -> AccountPage:
    """A page of accounts, newest first; `ascending`: the `limit` just above `since`
    (Mastodon's min_id), whose `next` is left to the caller (older ones exist below)."""
    async with services.pool.acquire() as conn:
        await active_account(conn, account_id)
        # One more than asked tells whether another page exists.
        found = await lister(
            conn,
            account_id=account_id,
            until=until,
            limit=limit + 1,
            since=since,
            ascending=ascending,
        )
    page = found[:limit]
    if ascending:
        return AccountPage(page[::-1], None)
    return AccountPage(page, page[-1].id if len(found) > limit else None)


async def following(
    services: Services,
    account_id: int,
    *,
    until: int | None,
    limit: int,
    since: int | None = None,
    ascending: bool = False,
) -> AccountPage:
    return await _page(
        services, follows_sql.list_following, account_id, until, limit, since, ascending
    )


async def followers(
    services: Services,
    account_id: int,
    *,
    until: int | None,
    limit: int,
    since: int | None = None,
    ascending: bool = False,
) -> AccountPage:
    return await _page(
        services, follows_sql.list_followers, account_id, until, limit, since, ascending
    )


async def requests(
    services: Services,
    account_id: int,
    *,
    until: int | None,
    limit: int,
    since: int | None = None,
    ascending: bool = False,
) -> AccountPage:
    return await _page(
        services, follows_sql.list_requests, account_id, until, limit, since, ascending
    )
