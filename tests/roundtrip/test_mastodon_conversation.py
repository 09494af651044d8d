"""A conversation between two live instances, each side through its Mastodon API: a
follow across servers, a mention arriving as a notification and in the home timeline,
a reply and a favourite going back. The answers are checked against Mastodon's entities."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.mastodon.conftest import authorise, register_app, register_person, token_for, web_log_in
from tests.mastodon.entities import (
    NOTIFICATION,
    RELATIONSHIP,
    STATUS,
    assert_entities,
    assert_entity,
)
from tests.roundtrip.conftest import Peer, eventually


class MastodonUser:
    """A person of one instance with a Mastodon app's token for it."""

    def __init__(self, peer: Peer, prefix: str) -> None:
        self.peer = peer
        with httpx.Client(base_url=peer.live.url, timeout=30) as browser:
            self.person = register_person(browser, prefix)
            web_log_in(browser, self.person)
            app = register_app(browser)
            code = authorise(browser, app)["code"][0]
            answer = token_for(browser, app, code)
            assert answer.status_code == 200, answer.text
            token = answer.json()["access_token"]
        self.http = httpx.AsyncClient(
            base_url=peer.live.url, timeout=30, headers={"Authorization": f"Bearer {token}"}
        )

    @property
    def acct(self) -> str:
        return f"{self.person.handle}@{self.peer.live.config.instance.domain}"

    async def get(self, path: str, **params: Any) -> Any:
        answer = await self.http.get(path, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def post(self, path: str, **data: Any) -> Any:
        answer = await self.http.post(path, data=data)
        assert answer.status_code == 200, answer.text
        return answer.json()


async def test_a_conversation_between_two_instances_over_the_mastodon_api(
    pair: tuple[Peer, Peer],
) -> None:
    a, b = pair
    alice = await asyncio.to_thread(MastodonUser, a, "ma")
    bob = await asyncio.to_thread(MastodonUser, b, "mb")
    try:
        # Alice finds Bob on his server (resolve) and follows him; his server accepts.
        found = await alice.get("/api/v1/accounts/search", q=bob.acct, resolve="true")
        assert [x["acct"] for x in found] == [bob.acct]
        bob_on_a = found[0]["id"]
        relation = await alice.post(f"/api/v1/accounts/{bob_on_a}/follow")
        assert_entity(relation, RELATIONSHIP)

        async def accepted() -> bool:
            rels = await alice.get("/api/v1/accounts/relationships", **{"id[]": bob_on_a})
            return bool(rels[0]["following"])

        await eventually(accepted)

        # Bob mentions Alice: his status reaches her home timeline and her notifications.
        said = await bob.post("/api/v1/statuses", status=f"Hello @{alice.acct} **there**")

        async def in_home() -> list[dict[str, Any]]:
            home = await alice.get("/api/v1/timelines/home")
            return [s for s in home if s["uri"] == said["uri"]]

        (seen,) = await eventually(in_home)
        assert_entity(seen, STATUS)
        assert seen["account"]["acct"] == bob.acct and "<strong>there</strong>" in seen["content"]
        assert [m["acct"] for m in seen["mentions"]] == [alice.person.handle]

        async def mentioned() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = await alice.get(
                "/api/v1/notifications", **{"types[]": "mention"}
            )
            return found

        notes = await eventually(mentioned)
        assert_entities(notes, NOTIFICATION)
        assert notes[0]["status"]["uri"] == said["uri"]

        # Alice replies and favourites; both go back to Bob's server.
        reply = await alice.post(
            "/api/v1/statuses", status=f"@{bob.acct} hi back", in_reply_to_id=seen["id"]
        )
        assert reply["in_reply_to_id"] == seen["id"]
        liked = await alice.post(f"/api/v1/statuses/{seen['id']}/favourite")
        assert liked["favourited"] is True

        async def replied() -> list[dict[str, Any]]:
            context = await bob.get(f"/api/v1/statuses/{said['id']}/context")
            return [s for s in context["descendants"] if s["uri"] == reply["uri"]]

        (back,) = await eventually(replied)
        assert_entity(back, STATUS)
        assert back["account"]["acct"] == alice.acct and back["in_reply_to_id"] == said["id"]

        async def bob_notified() -> set[str]:
            notes = await bob.get("/api/v1/notifications")
            kinds = {n["type"] for n in notes}
            return kinds if {"mention", "favourite", "follow"} <= kinds else set()

        await eventually(bob_notified)
        shown = await bob.get(f"/api/v1/statuses/{said['id']}")
        assert shown["favourites_count"] == 1 and shown["replies_count"] == 1
    finally:
        await alice.http.aclose()
        await bob.http.aclose()
