"""Search v2 with `resolve=true` across two live instances: a `@user@host` unknown to
the searching instance is looked up on its server (WebFinger, then the actor), as the
native search does; without `resolve` only what the instance already has is searched."""

from __future__ import annotations

import asyncio

from tests.mastodon.entities import ACCOUNT, SEARCH, assert_entity
from tests.roundtrip.conftest import Peer
from tests.roundtrip.test_mastodon_conversation import MastodonUser


async def test_search_v2_resolves_an_account_of_another_instance(
    pair: tuple[Peer, Peer],
) -> None:
    a, b = pair
    alice = await asyncio.to_thread(MastodonUser, a, "sa")
    bob = await b.register("sb", display_name="Bob of B")
    acct = f"{bob.handle}@{b.live.config.instance.domain}"

    unknown = await alice.get("/api/v2/search", q=f"@{acct}", type="accounts")
    assert unknown["accounts"] == []

    found = await alice.get("/api/v2/search", q=f"@{acct}", resolve="true")
    assert_entity(found, SEARCH)
    assert [x["acct"] for x in found["accounts"]] == [acct]
    assert_entity(found["accounts"][0], ACCOUNT)
    assert found["accounts"][0]["display_name"] == "Bob of B"

    # Now known here: found without resolve, by its URL too.
    again = await alice.get("/api/v2/search", q=acct, type="accounts")
    assert [x["id"] for x in again["accounts"]] == [found["accounts"][0]["id"]]
    by_url = await alice.get("/api/v2/search", q=bob.actor_url, type="accounts")
    assert [x["acct"] for x in by_url["accounts"]] == [acct]
    await alice.http.aclose()
