"""Lists: a person's named sets of accounts they follow (Mastodon's lists), their rules
and their members. The list timeline is read in stgy/domain/timelines.py."""

from __future__ import annotations

from dataclasses import dataclass

from stgy.domain.errors import Invalid, NotFound
from stgy.services import Services
from storage import accounts as accounts_sql
from storage import list_timelines as list_timelines_sql
from storage import lists as lists_sql
from storage.accounts import Account
from storage.lists import ListRow

REPLIES_POLICIES = ("followed", "list", "none")
MAX_TITLE = 200  # characters (the table's check says the same)
# Mastodon allows 50 lists per account; members are bounded so that a list's timeline,
# read from each member's newest posts, stays as cheap as a home page
# (docs/mastodon-api.md gives the figure).
MAX_LISTS = 50
MAX_MEMBERS = 500
# Posts brought into a list's entries when accounts join it (older ones are read from
# the members' posts).
BACKFILL = 40


@dataclass(frozen=True)
class MemberPage:
    accounts: list[Account]
    ids: list[int]  # the members' ids, newest first: the page's cursors


def check_title(title: str | None) -> str:
    text = (title or "").strip()
    if not text:
        raise Invalid("Title", "can't be blank")
    if len(text) > MAX_TITLE or not text.isprintable():
        raise Invalid("Title", f"must be at most {MAX_TITLE} printable characters")
    return text


def check_policy(policy: str | None) -> str | None:
    if policy is None or policy in REPLIES_POLICIES:
        return policy
    raise Invalid("Replies policy", "must be one of followed, list, none")


def _found(row: ListRow | None) -> ListRow:
    if row is None:
        raise NotFound("no such list")
    return row


async def lists_of(services: Services, owner_id: int) -> list[ListRow]:
    async with services.pool.acquire() as conn:
        return await lists_sql.owned_lists(conn, owner_id=owner_id)


async def get_list(services: Services, owner_id: int, list_id: int) -> ListRow:
    """The owner's list; NotFound for a list of someone else's, as for none."""
    async with services.pool.acquire() as conn:
        return _found(await lists_sql.get_list(conn, list_id=list_id, owner_id=owner_id))


async def create_list(
    services: Services,
    owner_id: int,
    *,
    title: str | None,
    replies_policy: str | None,
    exclusive: bool | None,
) -> ListRow:
    text = check_title(title)
    policy = check_policy(replies_policy) or "list"
    async with services.pool.acquire() as conn:
        made = await lists_sql.insert_list(
            conn,
            owner_id=owner_id,
            title=text,
            replies_policy=policy,
            exclusive=bool(exclusive),
            most=MAX_LISTS,
        )
    if made is None:
        raise Invalid("Lists", f"are at most {MAX_LISTS} per account")
    return made


async def update_list(
    services: Services,
    owner_id: int,
    list_id: int,
    *,
    title: str | None,
    replies_policy: str | None,
    exclusive: bool | None,
) -> ListRow:
    """Change what is given; a title given must not be blank."""
    text = check_title(title) if title is not None else None
    policy = check_policy(replies_policy)
    async with services.pool.acquire() as conn:
        return _found(
            await lists_sql.update_list(
                conn,
                list_id=list_id,
                owner_id=owner_id,
                title=text,
                replies_policy=policy,
                exclusive=exclusive,
            )
        )


async def delete_list(services: Services, owner_id: int, list_id: int) -> None:
    async with services.pool.acquire() as conn:
        if not await lists_sql.delete_list(conn, list_id=list_id, owner_id=owner_id):
            raise NotFound("no such list")


async def members(
    services: Services,
    owner_id: int,
    list_id: int,
    *,
    since: int | None,
    until: int | None,
    limit: int | None,
) -> MemberPage:
    """A page of the list's members, newest account first; all of them when `limit` is
    None (Mastodon's limit=0)."""
    async with services.pool.acquire() as conn:
        _found(await lists_sql.get_list(conn, list_id=list_id, owner_id=owner_id))
        found = await lists_sql.list_members(
            conn, list_id=list_id, since=since, until=until, limit=limit
        )
    return MemberPage(found, [a.id for a in found])


async def add_members(
    services: Services, owner_id: int, list_id: int, account_ids: list[int]
) -> None:
    """Add accounts the owner follows (or asked to follow), all or none: NotFound when one
    is not followed, as Mastodon answers; Invalid when one is a member already or the
    list would pass MAX_MEMBERS."""
    wanted = list(dict.fromkeys(account_ids))
    async with services.pool.acquire() as conn, conn.transaction():
        if not await lists_sql.lock_list(conn, list_id=list_id, owner_id=owner_id):
            raise NotFound("no such list")
        if not wanted:
            return
        followed = await lists_sql.followed_among(conn, owner_id=owner_id, account_ids=wanted)
        if len(followed) < len(wanted):
            raise NotFound("you do not follow one of these accounts")
        if await lists_sql.members_among(conn, list_id=list_id, account_ids=wanted):
            raise Invalid("Account", "has already been taken")
        if await lists_sql.member_count(conn, list_id=list_id) + len(wanted) > MAX_MEMBERS:
            raise Invalid("Accounts", f"are at most {MAX_MEMBERS} per list")
        await lists_sql.add_members(conn, list_id=list_id, owner_id=owner_id, account_ids=wanted)
        await list_timelines_sql.backfill_members(
            conn, list_id=list_id, account_ids=wanted, keep=BACKFILL
        )
    # Once more now that the members are committed: a post committed after the backfill
    # above began, whose fan-out ran before this commit, saw neither (idempotent).
    async with services.pool.acquire() as conn:
        await list_timelines_sql.backfill_members(
            conn, list_id=list_id, account_ids=wanted, keep=BACKFILL
        )


async def remove_members(
    services: Services, owner_id: int, list_id: int, account_ids: list[int]
) -> None:
    """Remove the accounts (those not in the list are no matter, as in Mastodon)."""
    async with services.pool.acquire() as conn, conn.transaction():
        if not await lists_sql.lock_list(conn, list_id=list_id, owner_id=owner_id):
            raise NotFound("no such list")
        await lists_sql.remove_members(
            conn, list_id=list_id, owner_id=owner_id, account_ids=account_ids
        )
        await list_timelines_sql.remove_members_entries(
            conn, list_id=list_id, account_ids=account_ids
        )


async def lists_with(services: Services, owner_id: int, account_id: int) -> list[ListRow]:
    """The owner's lists the account is in; NotFound for an unknown account."""
    async with services.pool.acquire() as conn:
        if await accounts_sql.get_account(conn, account_id=account_id) is None:
            raise NotFound("no such account")
        return await lists_sql.lists_with_member(conn, owner_id=owner_id, account_id=account_id)
