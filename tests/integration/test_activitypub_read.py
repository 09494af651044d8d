"""Discovery and the read side of ActivityPub through HTTP, with users made via the API."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from quart import Quart
from quart.typing import TestClientProtocol as Client

from federation import jsonld
from stgy.app import create_app
from stgy.config import Config
from stgy.domain.remote import discovery
from stgy.services import Services
from storage import accounts as accounts_sql
from tests.conftest import User, make_user

BASE = "http://localhost:8000"
AP = {"Accept": "application/activity+json"}
LD = {"Accept": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


async def fetch(client: Client, path: str, headers: dict[str, str] = AP) -> tuple[int, Any]:
    response = await client.get(path, headers=headers)
    assert "Accept" in response.headers.get("Vary", ""), path
    if response.status_code < 300:
        assert response.mimetype == "application/activity+json", path
    return response.status_code, await response.get_json()


async def write(client: Client, user: User, text: str = "hello", **fields: Any) -> dict[str, Any]:
    response = await client.post("/api/posts", json={"text": text, **fields}, headers=user.auth)
    assert response.status_code == 201, await response.get_data(as_text=True)
    body: dict[str, Any] = await response.get_json()
    return body


async def webfinger(client: Client, resource: str, **params: str) -> tuple[int, Any]:
    response = await client.get(
        "/.well-known/webfinger", query_string={"resource": resource, **params}
    )
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    if response.status_code == 200:
        assert response.mimetype == "application/jrd+json"
    return response.status_code, await response.get_json()


def actor_url(user: User) -> str:
    return f"{BASE}/users/{user.handle}"


def public_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def expands_cleanly(document: dict[str, Any]) -> None:
    """JSON-LD expansion with the bundled contexts succeeds and leaves no term undefined."""
    text = repr(jsonld.expand(document))
    assert "'_:" not in text, text


async def suspend(services: Services, user: User) -> None:
    async with services.pool.acquire() as conn:
        await accounts_sql.set_suspended(conn, account_id=int(user.id), suspended=True)


async def delete_account(client: Client, user: User) -> None:
    response = await client.delete(
        "/api/accounts/me", json={"password": user.password}, headers=user.auth
    )
    assert response.status_code == 204


async def test_webfinger(client: Client, services: Services) -> None:
    alice = await make_user(client)
    for resource in (
        f"acct:{alice.handle}@localhost:8000",
        f"acct:{alice.handle.upper()}@localhost",
        f"{alice.handle}@LOCALHOST:8000",
        actor_url(alice),
        f"{BASE}/@{alice.handle}",
    ):
        status, jrd = await webfinger(client, resource)
        assert status == 200, resource
        assert jrd == {
            "subject": f"acct:{alice.handle}@localhost:8000",
            "aliases": [actor_url(alice), f"{BASE}/@{alice.handle}"],
            "links": [
                {
                    "rel": "http://webfinger.net/rel/profile-page",
                    "type": "text/html",
                    "href": f"{BASE}/@{alice.handle}",
                },
                {"rel": "self", "type": "application/activity+json", "href": actor_url(alice)},
                {
                    "rel": "http://ostatus.org/schema/1.0/subscribe",
                    "template": f"{BASE}/authorize_interaction?uri={{uri}}",
                },
            ],
        }
    status, jrd = await webfinger(client, f"acct:{alice.handle}@localhost:8000", rel="self")
    assert [link["rel"] for link in jrd["links"]] == ["self"]

    for bad in ("", "nonsense", "mailto:a@localhost:8000", "acct:a b@localhost:8000"):
        status, error = await webfinger(client, bad)
        assert status == 400 and error["error"] == "invalid", bad
        assert error["detail"]["field"] == "resource"
    response = await client.get("/.well-known/webfinger")
    assert response.status_code == 400 and response.headers["Access-Control-Allow-Origin"] == "*"

    bob, carol = await make_user(client), await make_user(client)
    await delete_account(client, bob)
    await suspend(services, carol)
    for resource in (
        f"acct:{alice.handle}@elsewhere.example",
        "acct:nobody_at_all@localhost:8000",
        "acct:not.a.handle@localhost:8000",
        f"acct:{bob.handle}@localhost:8000",
        f"acct:{carol.handle}@localhost:8000",
        f"{BASE}/tags/x",
        f"{BASE}/users/{alice.handle}/outbox",
    ):
        status, error = await webfinger(client, resource)
        assert status == 404 and error["error"] == "not_found", resource


async def test_webfinger_after_a_handle_change(client: Client) -> None:
    user = await make_user(client)
    old = user.handle
    new = f"{old}_new"
    response = await client.patch("/api/accounts/me", json={"handle": new}, headers=user.auth)
    assert response.status_code == 200
    for handle in (old, new):
        status, jrd = await webfinger(client, f"acct:{handle}@localhost:8000")
        assert status == 200 and jrd["subject"] == f"acct:{new}@localhost:8000"
        # The actor keeps the id it was created with.
        assert jrd["links"][1]["href"] == f"{BASE}/users/{old}"
    for handle in (old, new):
        status, doc = await fetch(client, f"/users/{handle}")
        assert status == 200 and doc["id"] == f"{BASE}/users/{old}"
        assert doc["preferredUsername"] == new


async def test_host_meta_and_nodeinfo(client: Client, services: Services) -> None:
    response = await client.get("/.well-known/host-meta")
    assert response.status_code == 200 and response.mimetype == "application/xrd+xml"
    text = await response.get_data(as_text=True)
    assert f'template="{BASE}/.well-known/webfinger?resource={{uri}}"' in text

    response = await client.get("/.well-known/nodeinfo")
    links = await response.get_json()
    assert links == {
        "links": [
            {
                "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
                "href": f"{BASE}/nodeinfo/2.1",
            }
        ]
    }

    async def nodeinfo() -> Any:
        response = await client.get("/nodeinfo/2.1")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == (
            'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"'
        )
        return await response.get_json()

    await services.redis.delete(discovery.usage_cache_key(services))
    before = await nodeinfo()
    assert before["software"]["name"] == "stgy" and before["protocols"] == ["activitypub"]
    assert before["openRegistrations"] is True
    assert before["metadata"] == {"nodeName": "stgy", "nodeDescription": "A small stgy instance"}
    user = await make_user(client)
    await write(client, user)
    await write(client, user, visibility="followers")
    # Counts are kept a few minutes, then computed afresh.
    assert await nodeinfo() == before
    await services.redis.delete(discovery.usage_cache_key(services))
    after = await nodeinfo()
    users, was = after["usage"]["users"], before["usage"]["users"]
    assert users["total"] == was["total"] + 1
    assert users["activeMonth"] == was["activeMonth"] + 1
    assert users["activeHalfyear"] == was["activeHalfyear"] + 1
    assert after["usage"]["localPosts"] == before["usage"]["localPosts"] + 2
    await delete_account(client, user)
    await services.redis.delete(discovery.usage_cache_key(services))
    assert (await nodeinfo())["usage"]["users"]["total"] == was["total"]


async def test_actor_document(client: Client, services: Services) -> None:
    alice = await make_user(
        client, bio="Hi, I am *Alice*", fields=[{"name": "Site", "value": "https://alice.example"}]
    )
    url = actor_url(alice)
    status, doc = await fetch(client, f"/users/{alice.handle}")
    assert status == 200
    assert doc["@context"][:2] == [
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
    ]
    assert doc["id"] == url and doc["type"] == "Person"
    assert doc["preferredUsername"] == alice.handle and doc["name"] == alice.handle.title()
    assert doc["summary"] == "<p>Hi, I am <em>Alice</em></p>"
    assert doc["url"] == f"{BASE}/@{alice.handle}"
    assert doc["inbox"] == f"{url}/inbox" and doc["outbox"] == f"{url}/outbox"
    assert doc["followers"] == f"{url}/followers" and doc["following"] == f"{url}/following"
    assert doc["featured"] == f"{url}/collections/featured"
    assert doc["endpoints"] == {"sharedInbox": f"{BASE}/inbox"}
    assert doc["manuallyApprovesFollowers"] is False and doc["discoverable"] is True
    assert doc["published"].endswith("T00:00:00Z")
    assert doc["attachment"] == [
        {
            "type": "PropertyValue",
            "name": "Site",
            "value": '<a href="https://alice.example" target="_blank"'
            ' rel="nofollow noopener noreferrer me">https://alice.example</a>',
        }
    ]
    key = doc["publicKey"]
    assert key["id"] == f"{url}#main-key" and key["owner"] == doc["id"]
    assert isinstance(
        serialization.load_pem_public_key(key["publicKeyPem"].encode()), rsa.RSAPublicKey
    )
    async with services.pool.acquire() as conn:
        account = await accounts_sql.get_account(conn, account_id=int(alice.id))
        private_pem = await accounts_sql.private_key_of(conn, account_id=int(alice.id))
    assert account is not None and private_pem is not None
    assert key["publicKeyPem"] == account.public_key_pem == public_pem(private_pem)

    for headers in (LD, {"Accept": "application/json"}):
        assert (await fetch(client, f"/users/{alice.handle}", headers))[1] == doc
    expands_cleanly(doc)


async def test_browsers_are_redirected(client: Client) -> None:
    alice = await make_user(client)
    note = await write(client, alice)
    for headers in (BROWSER, {}, {"Accept": "*/*"}):
        response = await client.get(f"/users/{alice.handle}", headers=headers)
        assert response.status_code == 302 and "Accept" in response.headers["Vary"]
        assert response.headers["Location"] == f"{BASE}/@{alice.handle}"
        response = await client.get(f"/users/{alice.handle}/posts/{note['id']}", headers=headers)
        assert response.status_code == 302
        assert response.headers["Location"] == f"{BASE}/@{alice.handle}/{note['id']}"


async def test_gone_and_missing_actors(client: Client, services: Services, config: Config) -> None:
    gone, suspended = await make_user(client), await make_user(client)
    note = await write(client, gone)
    await delete_account(client, gone)
    await suspend(services, suspended)
    status, doc = await fetch(client, f"/users/{gone.handle}")
    assert status == 410 and doc["type"] == "Tombstone" and doc["id"] == actor_url(gone)
    assert doc["formerType"] == "Person" and doc["deleted"].endswith("Z")
    status, doc = await fetch(client, f"/users/{gone.handle}/posts/{note['id']}")
    assert status == 410 and doc["type"] == "Tombstone" and doc["id"] == note["ap_id"]
    # A suspended actor is gone for other servers as a deleted one is (docs/moderation.md).
    status, doc = await fetch(client, f"/users/{suspended.handle}")
    assert status == 410 and doc["type"] == "Tombstone" and doc["formerType"] == "Person"
    for path in (
        f"/users/{gone.handle}/outbox",
        f"/users/{suspended.handle}/followers",
        "/users/nobody_at_all",
        "/users/not.a.handle",
        "/users/%00",
        "/users/" + "x" * 300,
    ):
        status, error = await fetch(client, path)
        assert status == 404 and error["error"] == "not_found", path

    # Accounts waiting for a moderator's approval do not federate yet.
    app: Quart = create_app(config.replace("instance", registrations="approval"))
    async with app.test_app():
        other = app.test_client()
        response = await other.post(
            "/api/accounts",
            json={
                "handle": "pending_ap_user",
                "password": "long enough pass",
                "email": "p@x.example",
            },
        )
        assert response.status_code == 201
        assert (await fetch(other, "/users/pending_ap_user"))[0] == 404
        assert (await webfinger(other, "acct:pending_ap_user@localhost:8000"))[0] == 404
