"""The Mastodon public and tag timelines' origin and media filters (`local`, `remote`,
`only_media`) on an instance that holds posts of its own and posts delivered from a
second live instance, and min_id paging over the remote-only page."""

from __future__ import annotations

import secrets
from typing import Any

from tests.roundtrip.conftest import Peer, Person, eventually, following, local_copy
from tests.roundtrip.test_remote_profiles import upload


async def _post_with_picture(person: Person, text: str) -> dict[str, Any]:
    photo = await upload(person, "attachment", (0, 120, 200))
    return await person.post(text, media_ids=[photo["id"]])


async def test_public_and_tag_timelines_filter_by_origin_and_media(
    pair: tuple[Peer, Peer],
) -> None:
    a, b = pair
    alice = await a.register("pfa")
    bob = await b.register("pfb")
    await following(alice, bob)
    tag = "pf" + secrets.token_hex(4)
    remote_plain = await bob.post(f"remote, words only #{tag}")
    remote_pictured = await _post_with_picture(bob, f"remote, with a picture #{tag}")
    # The copies' ids are their arrival times here: wait for them, then post locally.
    plain_on_a = str(await eventually(lambda: local_copy(a, remote_plain["ap_id"])))
    pictured_on_a = str(await eventually(lambda: local_copy(a, remote_pictured["ap_id"])))
    local_plain = await alice.post(f"local, words only #{tag}")
    local_pictured = await _post_with_picture(alice, f"local, with a picture #{tag}")
    ours = {plain_on_a, pictured_on_a, local_plain["id"], local_pictured["id"]}

    async def shown(path: str, **params: str) -> list[str]:
        answer = await a.http.get(path, params={"limit": "40", **params})
        assert answer.status_code == 200, answer.text
        return [s["id"] for s in answer.json() if s["id"] in ours]

    # Deliveries may arrive in either order: the remote copies sort by arrival.
    remote = sorted([plain_on_a, pictured_on_a], key=int, reverse=True)
    newest_first = [local_pictured["id"], local_plain["id"], *remote]
    for path in ("/api/v1/timelines/public", f"/api/v1/timelines/tag/{tag}"):
        assert await shown(path) == newest_first
        assert await shown(path, local="true") == [local_pictured["id"], local_plain["id"]]
        assert await shown(path, remote="true") == remote
        assert await shown(path, only_media="true") == [local_pictured["id"], pictured_on_a]
        assert await shown(path, remote="true", only_media="true") == [pictured_on_a]
        assert await shown(path, local="true", only_media="true") == [local_pictured["id"]]
        # Both origins asked for: all of them, as Mastodon reads it.
        assert await shown(path, local="true", remote="true") == newest_first
        # min_id over the remote page: the remote post just above the older one (not
        # the local ones above it, which are newer still).
        assert await shown(path, remote="true", min_id=remote[1], limit="1") == [remote[0]]
