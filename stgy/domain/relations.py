"""Blocks and mutes: making and undoing them, and listing them."""

from __future__ import annotations

from stgy.domain.errors import Invalid
from stgy.domain.follows import AccountPage, Lister, active_account, known_account, remove_follow
from stgy.domain.jobs import outbox
from stgy.services import Services
from storage import deliveries as deliveries_sql
from storage import relations as relations_sql


def _not_self(account_id: int, target_id: int, what: str) -> None:
    if account_id == target_id:
        raise Invalid("id", f"you cannot {what} yourself")


async def block(services: Services, account_id: int, target_id: int) -> None:
    """Block an account: follows both ways end (each recording `follow.removed`), and
    neither sees the other's posts (stgy_can_see refuses across a block)."""
    _not_self(account_id, target_id, "block")
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            await active_account(conn, target_id)
            blocked = await relations_sql.insert_block(
                conn, account_id=account_id, target_id=target_id
            )
            events = [
                event
                for event in (
                    await remove_follow(conn, account_id, target_id),
                    await remove_follow(conn, target_id, account_id),
                )
                if event is not None
            ]
            if blocked:
                pair = {"account_id": account_id, "target_id": target_id}
                events.append(await outbox.record_event(conn, "account.blocked", pair))
    await outbox.enqueue_events(services.jobs, events)


async def unblock(services: Services, account_id: int, target_id: int) -> None:
    _not_self(account_id, target_id, "unblock")
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            await known_account(conn, target_id)
            block_ap_id = await deliveries_sql.block_ap_id(
                conn, account_id=account_id, target_id=target_id
            )
            if not await relations_sql.delete_block(
                conn, account_id=account_id, target_id=target_id
            ):
                return
            payload = {"account_id": account_id, "target_id": target_id, "block_ap_id": block_ap_id}
            event = await outbox.record_event(conn, "account.unblocked", payload)
    await outbox.enqueue_events(services.jobs, [event])


async def mute(services: Services, account_id: int, target_id: int) -> None:
    """Mute an account: its posts and shares leave the home timeline (filtered on read),
    its profile still shows them."""
    _not_self(account_id, target_id, "mute")
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            await active_account(conn, target_id)
            await relations_sql.insert_mute(conn, account_id=account_id, target_id=target_id)


async def unmute(services: Services, account_id: int, target_id: int) -> None:
    _not_self(account_id, target_id, "unmute")
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            await known_account(conn, target_id)
            await relations_sql.delete_mute(conn, account_id=account_id, target_id=target_id)


async def _page(
    services: Services,
    lister: Lister,
    account_id: int,
    until: int | None,
    limit: int,
    since: int | None = None,
    ascending: bool = False,
) -> AccountPage:
    """As stgy.domain.follows' pages, for the viewer's own lists."""
    async with services.pool.acquire() as conn:
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


async def blocked(
    services: Services,
    account_id: int,
    *,
    until: int | None,
    limit: int,
    since: int | None = None,
    ascending: bool = False,
) -> AccountPage:
    return await _page(
        services, relations_sql.list_blocked, account_id, until, limit, since, ascending
    )


async def muted(
    services: Services,
    account_id: int,
    *,
    until: int | None,
    limit: int,
    since: int | None = None,
    ascending: bool = False,
) -> AccountPage:
    return await _page(
        services, relations_sql.list_muted, account_id, until, limit, since, ascending
    )


async def relationship(
    services: Services, account_id: int, target_id: int
) -> relations_sql.Relationship:
    """Whether `account_id` follows (or asked to follow), blocks or mutes `target_id`,
    and whether it is followed back."""
    async with services.pool.acquire() as conn:
        return await relations_sql.relationship(conn, account_id=account_id, target_id=target_id)
