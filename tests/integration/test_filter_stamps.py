"""A person's filter stamp (migration 0035) moves with every change to their filters,
keywords and posts; page statements return it; the filters kept in the process by their
stamp are read again once it moved; an account with filters can still be deleted."""

from __future__ import annotations

from quart.typing import TestClientProtocol as Client

from stgy.domain import filters
from stgy.domain.filters import KeywordChange, Rules
from stgy.services import Services
from storage import renderings as renderings_sql
from tests.conftest import make_user


async def _stamp(services: Services, account_id: int | None) -> int | None:
    """The viewer's stamp as a page statement reads it (an empty page will do)."""
    async with services.pool.acquire() as conn:
        page = await renderings_sql.page_of(conn, post_ids=[], viewer_id=account_id)
    return page.filters_stamp


async def _keywords(services: Services, account_id: int) -> list[str]:
    stamp = await _stamp(services, account_id)
    assert stamp is not None
    kept = await filters.filters_at_stamp(services, account_id, stamp)
    return sorted(k.keyword for f in kept for k in f.keywords)


async def test_every_change_moves_the_stamp_and_the_kept_filters_follow(
    client: Client, services: Services
) -> None:
    alice = await make_user(client)
    me = int(alice.id)
    assert await _stamp(services, None) is None  # nobody: nothing to read
    assert await _stamp(services, me) == 0  # never had a filter
    assert await filters.filters_at_stamp(services, me, 0) == []

    seen: list[int | None] = [0]

    async def moved() -> None:
        stamp = await _stamp(services, me)
        assert stamp not in seen, f"the stamp stayed at {stamp}"
        seen.append(stamp)

    made = await filters.create_filter(
        services,
        me,
        Rules(title="words", context=["home"]),
        [KeywordChange(None, "first", True)],
    )
    await moved()
    assert await _keywords(services, me) == ["first"]

    second = await filters.add_keyword(services, me, made.id, "second", False)
    await moved()
    assert await _keywords(services, me) == ["first", "second"]

    await filters.update_keyword(services, me, second.id, "changed", None)
    await moved()
    assert await _keywords(services, me) == ["changed", "first"]

    await filters.delete_keyword(services, me, second.id)
    await moved()
    assert await _keywords(services, me) == ["first"]

    await filters.update_filter(services, me, made.id, Rules(action="hide"), [])
    await moved()
    stamp = await _stamp(services, me)
    assert stamp is not None
    [kept] = await filters.filters_at_stamp(services, me, stamp)
    assert kept.action == "hide"

    posted = await client.post("/api/posts", json={"text": "pick me"}, headers=alice.auth)
    assert posted.status_code == 201
    post_id = int((await posted.get_json())["id"])
    chosen = await filters.add_post(services, me, made.id, post_id)
    await moved()
    await filters.delete_post(services, me, chosen.id)
    await moved()

    await filters.delete_filter(services, me, made.id)
    await moved()
    assert await _keywords(services, me) == []


async def test_an_account_with_filters_can_be_deleted(client: Client, services: Services) -> None:
    bob = await make_user(client)
    bob_id = int(bob.id)
    await filters.create_filter(
        services, bob_id, Rules(title="t", context=["home"]), [KeywordChange(None, "w", True)]
    )
    async with services.pool.acquire() as conn:
        # The cascade takes the filters and the stamp; the triggers stamp nothing then.
        await conn.execute("DELETE FROM accounts WHERE id = $1", bob_id)
        left = await conn.fetchval(
            "SELECT count(*) FROM filter_stamps WHERE account_id = $1", bob_id
        )
    assert left == 0
