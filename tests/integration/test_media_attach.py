"""Media on posts and profiles: attaching, STGY's size syntax, ActivityPub, cleanup."""

from __future__ import annotations

from typing import Any

from quart.typing import TestClientProtocol as Client

from stgy.config import Config
from stgy.domain.media import media_cleanup
from stgy.services import Services
from tests.conftest import User, make_user
from tests.integration.media_support import photo, upload, uploaded

AP = {"Accept": "application/activity+json"}


async def create(client: Client, user: User, **fields: Any) -> tuple[int, Any]:
    response = await client.post("/api/posts", json={"text": "x", **fields}, headers=user.auth)
    return response.status_code, await response.get_json()


async def test_post_with_media_shows_attachments_and_federates_them(
    client: Client, config: Config
) -> None:
    user = await make_user(client)
    first = await uploaded(client, user, description="stripes", focus="0.1,0.2")
    second = await uploaded(client, user, photo(200, 100, exif=False))
    text = f"look ![one]({first}){{size=small}} and ![two]({second}) ![ext](https://e.example/a.png){{size=large}}"
    status, body = await create(client, user, text=text, media_ids=[first, second])
    assert status == 201, body
    attached = body["media"]
    assert [m["id"] for m in attached] == [first, second]
    one = attached[0]
    assert one["description"] == "stripes" and one["focus"] == {"x": 0.1, "y": 0.2}
    assert one["url"] and one["preview_url"] and one["blurhash"]
    assert (one["width"], one["height"]) == (300, 400)
    html = body["html"]
    assert f'src="{one["preview_url"]}"' in html
    assert f'src="{attached[1]["large_url"]}"' in html
    assert 'src="https://e.example/a.png"' in html and "{size=" not in html

    response = await client.get(f"/users/{user.handle}/posts/{body['id']}", headers=AP)
    note = await response.get_json()
    assert note["attachment"][0] == {
        "type": "Document",
        "mediaType": "image/jpeg",
        "url": one["url"],
        "name": "stripes",
        "blurhash": one["blurhash"],
        "focalPoint": [0.1, 0.2],
        "width": 300,
        "height": 400,
    }
    assert note["attachment"][1]["name"] is None

    # Edits keep the attachments unless media_ids is given; [] removes them.
    response = await client.patch(
        f"/api/posts/{body['id']}", json={"text": "edited"}, headers=user.auth
    )
    assert [m["id"] for m in (await response.get_json())["media"]] == [first, second]
    response = await client.patch(
        f"/api/posts/{body['id']}", json={"media_ids": [second]}, headers=user.auth
    )
    assert [m["id"] for m in (await response.get_json())["media"]] == [second]
    # The one taken off may go on another post.
    status, other = await create(client, user, media_ids=[first])
    assert status == 201 and other["media"][0]["id"] == first
    response = await client.patch(
        f"/api/posts/{body['id']}", json={"media_ids": []}, headers=user.auth
    )
    assert (await response.get_json())["media"] == []


async def test_attaching_refuses_what_is_not_yours_or_not_ready(
    client: Client, services: Services
) -> None:
    user, other = await make_user(client), await make_user(client)
    theirs = await uploaded(client, other)
    mine = await uploaded(client, user)
    avatar = await uploaded(client, user, purpose="avatar")
    status, processing = await upload(client, user, photo(1300, 900))
    assert status == 202
    for ids, code, field in (
        ([theirs], 400, "media_ids.0"),
        (["99999999999"], 400, "media_ids.0"),
        (["abc"], 400, "media_ids.0"),
        ([mine, mine], 400, "media_ids"),
        ([mine] * 5, 400, "media_ids"),
        ([avatar], 400, "media_ids.0"),
        ([mine, processing["id"]], 422, "media_ids.1"),
    ):
        status, body = await create(client, user, media_ids=ids)
        assert status == code and body["detail"]["field"] == field, (ids, body)
    # Nothing was attached by the refused posts.
    async with services.pool.acquire() as conn:
        attached = await conn.fetchval(
            "SELECT count(*) FROM media WHERE account_id = $1 AND post_id IS NOT NULL",
            int(user.id),
        )
    assert attached == 0
    status, body = await create(client, user, media_ids=[mine])
    assert status == 201
    status, again = await create(client, user, media_ids=[mine])
    assert status == 400 and "another post" in again["detail"]["reason"]


async def test_avatar_and_header_show_on_the_account_and_actor(client: Client) -> None:
    user = await make_user(client)
    avatar = await uploaded(client, user, photo(400, 300), purpose="avatar")
    header = await uploaded(client, user, photo(600, 200, exif=False), purpose="header")
    attachment = await uploaded(client, user)
    response = await client.patch(
        "/api/accounts/me", json={"avatar_media_id": attachment}, headers=user.auth
    )
    assert response.status_code == 400
    assert "purpose=avatar" in (await response.get_json())["detail"]["reason"]
    response = await client.patch(
        "/api/accounts/me",
        json={"avatar_media_id": avatar, "header_media_id": header, "bio": "pictures"},
        headers=user.auth,
    )
    assert response.status_code == 200
    account = await response.get_json()
    avatar_json = await (await client.get(f"/api/media/{avatar}", headers=user.auth)).get_json()
    assert avatar_json["width"] == avatar_json["height"] == 300
    assert account["avatar_url"] == avatar_json["url"] and account["header_url"].endswith(".jpg")
    actor = await (await client.get(f"/users/{user.handle}", headers=AP)).get_json()
    assert actor["icon"] == {"type": "Image", "url": avatar_json["url"], "mediaType": "image/jpeg"}
    assert actor["image"]["url"] == account["header_url"]
    response = await client.patch(
        "/api/accounts/me", json={"avatar_media_id": None}, headers=user.auth
    )
    assert (await response.get_json())["avatar_url"] is None


async def test_unattached_media_are_removed_after_a_day(
    client: Client, config: Config, services: Services
) -> None:
    user = await make_user(client)
    loose = await uploaded(client, user)
    kept = await uploaded(client, user)
    avatar = await uploaded(client, user, purpose="avatar")
    fresh = await uploaded(client, user)
    status, _ = await create(client, user, media_ids=[kept])
    assert status == 201
    response = await client.patch(
        "/api/accounts/me", json={"avatar_media_id": avatar}, headers=user.auth
    )
    assert response.status_code == 200
    async with services.pool.acquire() as conn:
        await conn.execute(
            "UPDATE media SET created_at = now() - interval '25 hours'"
            " WHERE id = ANY($1::bigint[])",
            [int(loose), int(kept), int(avatar)],
        )
    root = config.path(config.storage.path)
    assert (root / f"media/{loose}/original.jpg").exists()
    assert await media_cleanup.sweep(services) >= 1
    assert not (root / f"media/{loose}").exists() or not any((root / f"media/{loose}").iterdir())
    response = await client.get(f"/api/media/{loose}", headers=user.auth)
    assert response.status_code == 404
    for media_id in (kept, avatar, fresh):
        response = await client.get(f"/api/media/{media_id}", headers=user.auth)
        assert response.status_code == 200, media_id
        assert (root / f"media/{media_id}/original.jpg").exists()
