"""What a person's apps read of their own account on start-up: the profile, with the
follow requests waiting and the date of their last post."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from stgy.domain.errors import NotFound
from stgy.services import Services
from storage import accounts as accounts_sql
from storage import follows as follows_sql
from storage import posts as posts_sql
from storage.accounts import Account


@dataclass(frozen=True)
class OwnAccount:
    account: Account
    role: str
    language: str | None
    follow_requests: int
    last_post_at: datetime | None


async def own_account(
    services: Services, account_id: int, *, role: str, language: str | None
) -> OwnAccount:
    async with services.pool.acquire() as conn:
        account = await accounts_sql.get_account(conn, account_id=account_id)
        if account is None or not account.active:
            raise NotFound("Record not found")
        requests = await follows_sql.pending_follow_requests(conn, account_id=account_id)
        last = await posts_sql.last_post_at(conn, account_id=account_id)
    return OwnAccount(account, role, language, requests, last)
