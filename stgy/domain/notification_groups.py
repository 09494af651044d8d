"""Grouped notifications (Mastodon 4.3): a page of notifications gathered by group (likes
and shares of one post, and follows, within twelve hours: migration 0033), each group
with its totals; one group's members; dismissing a group; unread counts after the
person's notifications marker."""

from __future__ import annotations

from dataclasses import dataclass

from stgy.domain import notifications
from stgy.domain.errors import NotFound
from stgy.domain.notifications import NotificationView
from stgy.services import Services
from storage import accounts as accounts_sql
from storage import markers as markers_sql
from storage import notification_groups as groups_sql
from storage.accounts import Account

MAX_GROUP_ACCOUNTS = 80
UNREAD_CAP = 1000


@dataclass(frozen=True)
class NotificationGroup:
    key: str
    latest: NotificationView  # the group's newest notification on this page
    count: int  # all of the group's notifications, on this page or not
    most_recent_id: int
    page_min_id: int
    page_max_id: int
    sample_account_ids: list[int]


@dataclass(frozen=True)
class GroupedPage:
    groups: list[NotificationGroup]
    accounts: dict[int, Account]  # every account a group names
    notification_ids: list[int]  # the page's notifications, newest first (for its links)


def _key(view: NotificationView, ungrouped: frozenset[str] | None) -> str:
    """The stored group key, or a group of its own for a type the client will not group."""
    n = view.notification
    if ungrouped is not None and n.type in ungrouped:
        return f"ungrouped-{n.id}"
    return n.group_key or f"ungrouped-{n.id}"


async def grouped(
    services: Services,
    viewer_id: int,
    views: list[NotificationView],
    ungrouped: frozenset[str] | None = None,
) -> GroupedPage:
    """The notifications of a page (newest first) gathered by group, in the order of each
    group's newest notification on the page. `ungrouped`: our types the client asked not
    to group (Mastodon's `grouped_types[]` leaves them out)."""
    by_key: dict[str, list[NotificationView]] = {}
    for view in views:
        by_key.setdefault(_key(view, ungrouped), []).append(view)
    stored = [key for key in by_key if not key.startswith("ungrouped-")]
    async with services.pool.acquire() as conn:
        totals = await groups_sql.totals(conn, account_id=viewer_id, keys=stored)
        groups = []
        for key, members in by_key.items():
            total = totals.get(key)
            sample = total.sample_account_ids if total else [members[0].account.id]
            groups.append(
                NotificationGroup(
                    key=key,
                    latest=members[0],
                    count=total.count if total else len(members),
                    most_recent_id=total.newest_id if total else members[0].notification.id,
                    page_min_id=members[-1].notification.id,
                    page_max_id=members[0].notification.id,
                    sample_account_ids=sample,
                )
            )
        wanted = sorted({i for g in groups for i in g.sample_account_ids})
        accounts = await accounts_sql.get_accounts(conn, account_ids=wanted)
    for view in views:
        accounts.setdefault(view.account.id, view.account)
    return GroupedPage(groups, accounts, [v.notification.id for v in views])


async def group(services: Services, viewer_id: int, key: str) -> GroupedPage:
    """One group, as its own page (404 when the viewer has no such group)."""
    async with services.pool.acquire() as conn:
        members = await groups_sql.members(conn, account_id=viewer_id, key=key, limit=1)
    views = [
        view
        for n in members
        if (view := await notifications.view_of(services, viewer_id, n)) is not None
    ]
    if not views:
        raise NotFound("no such notification group")
    return await grouped(services, viewer_id, views)


async def group_accounts(services: Services, viewer_id: int, key: str) -> list[Account]:
    """The accounts of the group's notifications, latest first, each once."""
    async with services.pool.acquire() as conn:
        members = await groups_sql.members(
            conn, account_id=viewer_id, key=key, limit=MAX_GROUP_ACCOUNTS
        )
        if not members:
            raise NotFound("no such notification group")
        ids = list(dict.fromkeys(n.from_account_id for n in members))
        found = await accounts_sql.get_accounts(conn, account_ids=ids)
    return [found[i] for i in ids if i in found]


async def dismiss(services: Services, viewer_id: int, key: str) -> None:
    async with services.pool.acquire() as conn:
        await groups_sql.dismiss(conn, account_id=viewer_id, key=key)


async def unread_count(
    services: Services,
    viewer_id: int,
    *,
    types: list[str] | None,
    exclude_types: list[str] | None,
    grouped: bool,
    cap: int = UNREAD_CAP,
) -> int:
    """Notifications (or groups) newer than the person's notifications marker, at most
    `cap` (all of them count when there is no marker yet)."""
    async with services.pool.acquire() as conn:
        marker = await markers_sql.get_markers(
            conn, account_id=viewer_id, timelines=["notifications"]
        )
        after = 0
        if marker and marker[0].last_read_id.isdigit() and len(marker[0].last_read_id) <= 18:
            after = int(marker[0].last_read_id)
        return await groups_sql.unread_count(
            conn,
            account_id=viewer_id,
            after=after,
            types=types,
            exclude_types=exclude_types,
            grouped=grouped,
            cap=max(1, min(cap, UNREAD_CAP)),
        )
