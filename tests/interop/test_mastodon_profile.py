"""A Mastodon-shaped actor (tests/fixtures/mastodon/actor.json: `icon`, `image`,
`PropertyValue` fields, a bio with a hashtag) as a live stgy stores and shows it, first
when the peer's signed Follow makes stgy fetch it, then after an `Update(Person)`."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx

from tests.conftest import LiveInstance
from tests.interop.conftest import fetch_value, register
from tests.interop.mastodon_peer import MastodonPeer
from tests.proxied import proxied_src


async def _account(instance: LiveInstance, acct: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=instance.url) as client:
        response = await client.get(f"/api/accounts/@{acct}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def _eventually_processed(instance: LiveInstance, activity_id: str) -> None:
    async with asyncio.timeout(20):
        while True:
            done = await fetch_value(
                instance,
                "SELECT processed_at IS NOT NULL FROM inbox_activities WHERE ap_id = $1",
                activity_id,
            )
            if done:
                break
            await asyncio.sleep(0.1)
    error = await fetch_value(
        instance, "SELECT error FROM inbox_activities WHERE ap_id = $1", activity_id
    )
    assert error is None, error


async def test_avatar_header_fields_and_bio_of_a_mastodon_actor(
    interop_instance: LiveInstance, peer: MastodonPeer
) -> None:
    user = await register(interop_instance)
    actor_id = peer.add_account("fay")
    follow = peer.follow("fay", user.actor_id)
    assert (await peer.post(f"{user.actor_id}/inbox", follow, "fay")).status_code == 202
    await _eventually_processed(interop_instance, follow["id"])

    account = await _account(interop_instance, f"fay@{peer.host}")
    assert account["avatar_url"] == f"{peer.base}/system/accounts/avatars/fay.png"
    assert account["header_url"] == f"{peer.base}/system/accounts/headers/fay.jpg"
    homepage, pronouns = account["fields"]
    assert homepage["name"] == "Homepage" and homepage["value"] == "https://homepage.example"
    assert 'href="https://homepage.example"' in homepage["value_html"]
    assert "translate" not in homepage["value_html"]  # not on the sanitiser's list
    assert pronouns == {"name": "Pronouns", "value": "they/them", "value_html": "they/them"}
    # The bio's hashtag was linked by Mastodon already: it keeps that link.
    assert f'href="{peer.base}/tags/fediverse"' in account["bio_html"]

    # The profile page shows them.
    async with httpx.AsyncClient(base_url=interop_instance.url) as client:
        page = await client.get(f"/@fay@{peer.host}")
    assert page.status_code == 200
    # Remote images load through this instance's proxy, never from the other server.
    assert proxied_src(page.text, account["avatar_url"])
    assert proxied_src(page.text, account["header_url"])
    assert f'src="{peer.base}' not in page.text
    assert "<dt>Pronouns</dt><dd>they/them</dd>" in page.text
    assert '<a href="https://homepage.example"' in page.text

    # Update(Person): a new avatar, no header, other fields, an unlinked hashtag.
    document = peer.actor_document("fay")
    document["icon"] = {"type": "Image", "url": f"{peer.base}/avatars/new.png"}
    del document["image"]
    document["attachment"] = [
        {"type": "PropertyValue", "name": "Code", "value": "<b>git</b><script>x()</script>"}
    ]
    document["summary"] = "<p>Now about #gardening</p>"
    update = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor_id}#updates/{secrets.token_hex(4)}",
        "type": "Update",
        "actor": actor_id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": document,
    }
    assert (await peer.post(f"{interop_instance.url}/inbox", update, "fay")).status_code == 202
    await _eventually_processed(interop_instance, update["id"])
    account = await _account(interop_instance, f"fay@{peer.host}")
    assert account["avatar_url"] == f"{peer.base}/avatars/new.png"
    assert account["header_url"] is None
    assert account["fields"] == [{"name": "Code", "value": "git", "value_html": "git"}]
    tags_url = f"{interop_instance.config.instance.base_url}/tags/gardening"
    assert f'href="{tags_url}"' in account["bio_html"]
