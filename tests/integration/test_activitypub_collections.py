"""ActivityPub read side, part two."""

from __future__ import annotations

from quart import Quart
from quart.typing import TestClientProtocol as Client

from federation.vocab import PUBLIC
from stgy.app import create_app
from stgy.config import Config
from stgy.services import Services
from tests.conftest import make_user
from tests.integration.test_activitypub_read import (
    BASE,
    BROWSER,
    LD,
    actor_url,
    expands_cleanly,
    fetch,
    public_pem,
    webfinger,
    write,
)


async def test_notes_by_visibility(client: Client) -> None:
    alice, bob = await make_user(client), await make_user(client)
    url = actor_url(alice)
    text = f"Hello @{bob.handle} #Fedi"
    public = await write(client, alice, text, language="en", summary="cw")
    status, doc = await fetch(client, f"/users/{alice.handle}/posts/{public['id']}")
    assert status == 200
    assert doc["id"] == public["ap_id"] == f"{url}/posts/{public['id']}"
    assert doc["type"] == "Note" and doc["attributedTo"] == url
    assert doc["url"] == f"{BASE}/@{alice.handle}/{public['id']}"
    assert doc["content"] == public["html"] and doc["contentMap"] == {"en": public["html"]}
    assert doc["source"] == {"content": text, "mediaType": "text/markdown"}
    assert doc["summary"] == "cw" and doc["sensitive"] is True and doc["inReplyTo"] is None
    assert doc["to"] == [PUBLIC] and doc["cc"] == [f"{url}/followers", actor_url(bob)]
    assert doc["tag"] == [
        {"type": "Mention", "href": actor_url(bob), "name": f"@{bob.handle}@localhost:8000"},
        {"type": "Hashtag", "href": f"{BASE}/tags/fedi", "name": "#fedi"},
    ]
    assert doc["replies"] == f"{public['ap_id']}/replies"
    assert doc["interactionPolicy"]["canLike"]["always"] == [PUBLIC]
    expands_cleanly(doc)

    unlisted = await write(client, alice, "quiet", visibility="unlisted", allow_likes=False)
    status, doc = await fetch(client, f"/users/{alice.handle}/posts/{unlisted['id']}", LD)
    assert doc["to"] == [f"{url}/followers"] and doc["cc"] == [PUBLIC]
    assert doc["interactionPolicy"]["canLike"]["always"] == [url]

    reply = await write(client, bob, "a reply", reply_to=public["id"])
    status, doc = await fetch(client, f"/users/{bob.handle}/posts/{reply['id']}")
    assert doc["inReplyTo"] == public["ap_id"]
    status, replies = await fetch(client, f"/users/{alice.handle}/posts/{public['id']}/replies")
    assert replies["totalItems"] == 1
    status, page = await fetch(client, replies["first"])
    assert page["orderedItems"] == [reply["ap_id"]] and "next" not in page

    status, create = await fetch(client, f"/users/{alice.handle}/posts/{public['id']}/activity")
    assert create["type"] == "Create" and create["id"] == f"{public['ap_id']}/activity"
    assert create["object"]["id"] == public["ap_id"] and create["actor"] == url

    # Anonymous fetches see neither followers-only, direct nor local-only posts.
    for visibility in ("followers", "direct", "local"):
        hidden = await write(client, alice, f"@{bob.handle} only", visibility=visibility)
        for suffix in ("", "/activity", "/replies"):
            status, error = await fetch(
                client, f"/users/{alice.handle}/posts/{hidden['id']}{suffix}"
            )
            assert status == 404 and error["error"] == "not_found", (visibility, suffix)

    # Another account's handle, a share's id as a Note, and junk ids are not found.
    for path in (
        f"/users/{bob.handle}/posts/{public['id']}",
        f"/users/{alice.handle}/posts/abc",
        f"/users/{alice.handle}/posts/0",
        f"/users/{alice.handle}/posts/99999999999999999999",
        f"/users/{alice.handle}/posts/-1/activity",
        f"/users/{alice.handle}/posts/\u00b3",
    ):
        assert (await fetch(client, path))[0] == 404, path

    response = await client.delete(f"/api/posts/{public['id']}", headers=alice.auth)
    assert response.status_code == 200
    for suffix, object_id in (("", public["ap_id"]), ("/activity", f"{public['ap_id']}/activity")):
        status, doc = await fetch(client, f"/users/{alice.handle}/posts/{public['id']}{suffix}")
        assert status == 410 and doc["type"] == "Tombstone" and doc["id"] == object_id


async def test_outbox(client: Client) -> None:
    alice, bob = await make_user(client), await make_user(client)
    original = await write(client, bob, "share me")
    first = await write(client, alice, "first")
    await write(client, alice, "hidden", visibility="followers")
    await write(client, alice, "direct", visibility="direct")
    await write(client, alice, "local", visibility="local")
    second = await write(client, alice, "second", visibility="unlisted")
    response = await client.put(f"/api/posts/{original['id']}/share", headers=alice.auth)
    assert response.status_code == 200
    share = (await (await client.get(f"/api/accounts/{alice.id}/posts")).get_json())["posts"][0]

    outbox_url = f"{actor_url(alice)}/outbox"
    status, outbox = await fetch(client, f"/users/{alice.handle}/outbox")
    assert outbox["type"] == "OrderedCollection" and outbox["id"] == outbox_url
    assert outbox["totalItems"] == 3 and outbox["first"] == f"{outbox_url}?page=true"
    status, page = await fetch(client, outbox["first"])
    assert page["type"] == "OrderedCollectionPage" and page["partOf"] == outbox_url
    items = page["orderedItems"]
    assert [item["type"] for item in items] == ["Announce", "Create", "Create"]
    assert items[0]["id"] == share["ap_id"] and items[0]["object"] == original["ap_id"]
    assert items[0]["to"] == [PUBLIC] and actor_url(bob) in items[0]["cc"]
    assert [item["object"]["id"] for item in items[1:]] == [second["ap_id"], first["ap_id"]]
    assert "next" not in page
    expands_cleanly(page)
    status, announce = await fetch(client, f"/users/{alice.handle}/posts/{share['id']}/activity")
    assert announce == {"@context": page["@context"], **items[0]}
    assert (await fetch(client, f"/users/{alice.handle}/posts/{share['id']}"))[0] == 404

    for i in range(20):
        await write(client, alice, f"post {i}")
    status, page = await fetch(client, f"{outbox_url}?page=true")
    assert (
        len(page["orderedItems"]) == 20
        and page["orderedItems"][0]["object"]["content"] == "<p>post 19</p>"
    )
    status, older = await fetch(client, page["next"])
    assert [item["id"] for item in older["orderedItems"]] == [
        share["ap_id"],
        f"{second['ap_id']}/activity",
        f"{first['ap_id']}/activity",
    ]
    status, newer = await fetch(client, older["prev"])
    assert [i["id"] for i in newer["orderedItems"]] == [i["id"] for i in page["orderedItems"]]
    for cursor in ("max_id=x", "min_id=%C2%B3", "max_id=99999999999999999999"):
        status, error = await fetch(client, f"{outbox_url}?page=true&{cursor}")
        assert status == 400 and error["detail"]["field"] == cursor.split("=")[0], cursor

    response = await client.delete(f"/api/posts/{original['id']}/share", headers=alice.auth)
    assert response.status_code == 200
    status, doc = await fetch(client, f"/users/{alice.handle}/posts/{share['id']}/activity")
    assert status == 410 and doc["type"] == "Tombstone" and doc["id"] == share["ap_id"]
    assert (await fetch(client, outbox_url))[1]["totalItems"] == 22


async def test_followers_following_and_featured(client: Client) -> None:
    alice, bob, carol = await make_user(client), await make_user(client), await make_user(client)
    for follower in (bob, carol):
        response = await client.put(f"/api/accounts/{alice.id}/follow", headers=follower.auth)
        assert response.status_code == 204
    status, followers = await fetch(client, f"/users/{alice.handle}/followers")
    assert followers["id"] == f"{actor_url(alice)}/followers" and followers["totalItems"] == 2
    status, page = await fetch(client, followers["first"])
    assert sorted(page["orderedItems"]) == sorted([actor_url(bob), actor_url(carol)])
    status, following = await fetch(client, f"/users/{bob.handle}/following")
    assert following["totalItems"] == 1
    status, page = await fetch(client, f"/users/{bob.handle}/following?page=true")
    assert page["orderedItems"] == [actor_url(alice)]
    status, featured = await fetch(client, f"/users/{alice.handle}/collections/featured")
    assert featured["type"] == "OrderedCollection" and featured["totalItems"] == 0
    # AS2 Core: an empty array is omitted, never served as [].
    assert (
        "orderedItems" not in featured
        and featured["id"] == f"{actor_url(alice)}/collections/featured"
    )


async def test_instance_actor(client: Client, services: Services) -> None:
    status, first = await fetch(client, "/actor")
    assert status == 200 and first["type"] == "Application"
    assert first["id"] == f"{BASE}/actor" and first["preferredUsername"] == "localhost:8000"
    assert first["inbox"] == f"{BASE}/actor/inbox" and first["manuallyApprovesFollowers"] is True
    key = first["publicKey"]
    assert key["id"] == f"{BASE}/actor#main-key" and key["owner"] == first["id"]
    async with services.pool.acquire() as conn:
        private_pem = await conn.fetchval(
            "SELECT value FROM instance_secrets WHERE name = 'instance_actor_key'"
        )
    assert key["publicKeyPem"] == public_pem(private_pem)
    assert (await fetch(client, "/actor", BROWSER))[1] == first
    status, outbox = await fetch(client, "/actor/outbox")
    assert outbox["totalItems"] == 0 and "orderedItems" not in outbox
    status, jrd = await webfinger(client, "acct:localhost:8000@localhost:8000")
    assert status == 200 and jrd["links"][-1]["href"] == f"{BASE}/actor"
    assert (await webfinger(client, f"{BASE}/actor"))[1] == jrd


async def test_kept_out_of_the_native_api_document(client: Client) -> None:
    paths = (await (await client.get("/api/openapi.json")).get_json())["paths"]
    assert not [p for p in paths if p.startswith(("/users", "/.well-known", "/nodeinfo", "/actor"))]


async def test_federation_disabled(config: Config) -> None:
    app: Quart = create_app(config.replace("federation", enabled=False))
    async with app.test_app():
        client = app.test_client()
        user = await make_user(client)
        assert (await fetch(client, f"/users/{user.handle}"))[0] == 404
        assert (await fetch(client, "/actor"))[0] == 404
        assert (await webfinger(client, f"acct:{user.handle}@localhost:8000"))[0] == 404
        for inbox in ("/inbox", f"/users/{user.handle}/inbox"):
            response = await client.post(inbox, json={"type": "Follow"})
            assert response.status_code == 404
            assert "federation is disabled" in (await response.get_json())["detail"]
        assert (await client.get("/nodeinfo/2.1")).status_code == 200
