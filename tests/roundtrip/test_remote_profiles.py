"""Round trips (issue 14): a remote account looks the same on our side as on its own —
avatar, header, profile fields, bio hashtags, and posts fetched by the outbox backfill
with their images and their text — and an `Update(Person)` changes each."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import urlsplit

from PIL import Image

from tests.proxied import proxied_src
from tests.roundtrip.conftest import Peer, Person, eventually


def png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "PNG")
    return out.getvalue()


async def upload(person: Person, purpose: str, colour: tuple[int, int, int]) -> dict[str, Any]:
    response = await person.call(
        "POST",
        "/api/media",
        files={"file": ("pic.png", png(colour), "image/png")},
        data={"purpose": purpose, "description": f"a {purpose}"},
    )
    assert response.status_code == 201, response.text  # small: processed in the request
    found: dict[str, Any] = response.json()
    return found


async def account_on(peer: Peer, other: Person) -> dict[str, Any]:
    acct = f"{other.handle}@{other.instance.live.config.instance.domain}"
    response = await peer.http.get(f"/api/accounts/@{acct}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_profile_and_backfilled_posts_arrive_whole(pair: tuple[Peer, Peer]) -> None:
    a, b = pair
    bob = await b.register("bob")
    avatar, header = (
        await upload(bob, "avatar", (200, 0, 0)),
        await upload(bob, "header", (0, 0, 200)),
    )
    profile = {
        "bio": "Gardener, #tomatoes grower",
        "fields": [
            {"name": "Site", "value": "https://bob.example"},
            {"name": "Likes", "value": "<soil> & sun"},
        ],
        "avatar_media_id": avatar["id"],
        "header_media_id": header["id"],
    }
    changed = await bob.call("PATCH", "/api/accounts/me", json=profile)
    assert changed.status_code == 200, changed.text
    mine = changed.json()
    assert f"{b.base_url}/tags/tomatoes" in mine["bio_html"]  # local bios link hashtags too
    photo = await upload(bob, "attachment", (0, 160, 0))
    post = await bob.post("Our **pond** at dawn", media_ids=[photo["id"]])
    assert post["media"], post

    # Alice's instance looks bob up (WebFinger, actor): his profile as he has it.
    seen = await account_on(a, bob)
    assert seen["avatar_url"] == mine["avatar_url"] and seen["avatar_url"] is not None
    assert seen["header_url"] == mine["header_url"] and seen["header_url"] is not None
    assert [(f["name"], f["value"]) for f in seen["fields"]] == [
        ("Site", "https://bob.example"),
        ("Likes", "<soil> & sun"),
    ]
    assert seen["fields"][1]["value_html"] == "&lt;soil&gt; &amp; sun"
    assert 'href="https://bob.example"' in seen["fields"][0]["value_html"]
    assert f"{b.base_url}/tags/tomatoes" in seen["bio_html"]

    # The lookup backfilled his outbox: the post keeps its image, and its text.
    async def backfilled() -> dict[str, Any] | None:
        response = await a.http.get(f"/api/accounts/{seen['id']}/posts")
        if response.status_code != 200:
            return None
        posts = [p for p in response.json()["posts"] if p["ap_id"] == post["ap_id"]]
        return posts[0] if posts and posts[0]["media"] else None

    copy = await eventually(backfilled)
    (medium,) = copy["media"]
    assert medium["url"] == post["media"][0]["url"] and medium["description"] == "a attachment"
    assert copy["text"] == "Our **pond** at dawn"
    assert "<strong>pond</strong>" in copy["html"]

    # Update(Person) reaches the instances of his followers: alice follows, he changes all.
    alice = await a.register("alice")
    follow = await alice.call("PUT", f"/api/accounts/{seen['id']}/follow")
    assert follow.status_code == 202, follow.text

    async def accepted() -> bool:
        state = await a.value(
            "SELECT state FROM follows WHERE follower_id = $1 AND followee_id = $2",
            int(alice.id),
            int(seen["id"]),
        )
        return state == "accepted"

    await eventually(accepted)
    new_avatar = await upload(bob, "avatar", (250, 250, 0))
    changed = await bob.call(
        "PATCH",
        "/api/accounts/me",
        json={
            "avatar_media_id": new_avatar["id"],
            "header_media_id": None,
            "fields": [{"name": "Now", "value": "#ponds"}],
        },
    )
    assert changed.status_code == 200, changed.text
    now = changed.json()

    async def updated() -> dict[str, Any] | None:
        response = await alice.call("GET", f"/api/accounts/{seen['id']}")
        account: dict[str, Any] = response.json()
        return account if account["avatar_url"] == now["avatar_url"] else None

    account = await eventually(updated)
    assert account["avatar_url"] != seen["avatar_url"]
    assert account["header_url"] is None
    assert [(f["name"], f["value"]) for f in account["fields"]] == [("Now", "#ponds")]

    # Her instance's web profile shows them.
    page = await a.http.get(f"/@{bob.handle}@{b.live.config.instance.domain}")
    assert page.status_code == 200
    # The avatar loads through her instance's media proxy: the same image bob's serves.
    shown = proxied_src(page.text, now["avatar_url"])
    assert shown, "the new avatar is not on the page"
    through_proxy = await a.http.get(shown)
    assert through_proxy.status_code == 200, through_proxy.text
    direct = await b.http.get(urlsplit(now["avatar_url"]).path)
    assert direct.status_code == 200 and through_proxy.content == direct.content
    assert through_proxy.headers["content-type"] == "image/png"
    assert "<dt>Now</dt><dd>#ponds</dd>" in page.text
