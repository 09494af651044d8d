"""Finding people through people: who among those one follows also follows an account."""

from __future__ import annotations

from stgy.services import Services
from storage import accounts as accounts_sql
from storage import discovery as discovery_sql
from storage.accounts import Account

FAMILIAR_PER_ACCOUNT = 10


async def familiar_followers(
    services: Services, viewer_id: int, target_ids: list[int]
) -> dict[int, list[Account]]:
    """For each target (in the order given), accounts the viewer follows that follow it."""
    async with services.pool.acquire() as conn:
        found = await discovery_sql.familiar_followers(
            conn, viewer_id=viewer_id, target_ids=target_ids, per_target=FAMILIAR_PER_ACCOUNT
        )
        wanted = sorted({i for ids in found.values() for i in ids})
        accounts = await accounts_sql.get_accounts(conn, account_ids=wanted)
    return {
        target: [accounts[i] for i in found.get(target, []) if i in accounts]
        for target in target_ids
    }
