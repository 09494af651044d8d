"""`federation.authorized_fetch`: GETs of actors, objects and collections need a valid
signature (draft-cavage or RFC 9421) from an instance we do not block; the instance
actor, WebFinger and NodeInfo stay public, and browsers still get redirected."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from quart.typing import TestClientProtocol as Client

from federation import rfc9421, signatures
from stgy.app import create_app
from stgy.config import Config, load_config
from stgy.services import Services
from storage import inbox as inbox_sql
from tests.conftest import config_env, make_user
from tests.integration.fetch_peer import Peer, fed_services, peer

AP_JSON = "application/activity+json"


@pytest.fixture
def fed_config(database_url: str, tmp_root: Path) -> Config:
    return load_config(
        environ=config_env(
            database_url,
            tmp_root,
            STGY_FEDERATION_ALLOW_PRIVATE_ADDRESSES="true",
            STGY_FEDERATION_AUTHORIZED_FETCH="true",
        )
    )


@pytest.fixture
async def secure_client(fed_config: Config) -> AsyncIterator[Client]:
    app = create_app(fed_config)
    async with app.test_app():
        yield app.test_client()


def cavage_get(config: Config, peer: Peer, handle: str, path: str) -> dict[str, str]:
    headers = {"Accept": AP_JSON}
    return headers | signatures.sign_request(
        "GET", f"{config.instance.base_url}{path}", headers, None,
        f"{peer.actor_id(handle)}#main-key", peer.keys[handle],
    )  # fmt: skip


def rfc9421_get(config: Config, peer: Peer, handle: str, path: str) -> dict[str, str]:
    headers = {"Accept": AP_JSON, "Host": config.instance.domain}
    return headers | rfc9421.sign_request(
        "GET", f"{config.instance.base_url}{path}", headers, None,
        f"{peer.actor_id(handle)}#main-key", peer.keys[handle],
    )  # fmt: skip


async def known_accounts(services: Services, domain: str) -> int:
    async with services.pool.acquire() as conn:
        n: int = await conn.fetchval("SELECT count(*) FROM accounts WHERE domain = $1", domain)
    return n


async def test_unsigned_gets_are_401_but_bootstrap_documents_stay_public(
    secure_client: Client,
) -> None:
    alice = await make_user(secure_client)
    for path in (
        f"/users/{alice.handle}",
        f"/users/{alice.handle}/outbox",
        f"/users/{alice.handle}/followers",
        f"/users/{alice.handle}/collections/featured",
    ):
        response = await secure_client.get(path, headers={"Accept": AP_JSON})
        assert response.status_code == 401, path
        body = await response.get_json()
        assert body["error"] == "unauthorized" and "signed" in body["detail"]
    for path in ("/actor", "/.well-known/nodeinfo", "/nodeinfo/2.1"):
        assert (await secure_client.get(path)).status_code == 200, path
    webfinger = await secure_client.get(
        f"/.well-known/webfinger?resource=acct:{alice.handle}@localhost:8000"
    )
    assert webfinger.status_code == 200
    browser = await secure_client.get(f"/users/{alice.handle}", headers={"Accept": "text/html"})
    assert browser.status_code == 302


async def test_signed_gets_are_answered(
    secure_client: Client, fed_config: Config, fed_services: Services, peer: Peer
) -> None:
    alice = await make_user(secure_client)
    peer.add_actor("bob")
    post = await secure_client.post("/api/posts", json={"text": "hi"}, headers=alice.auth)
    post_path = f"/users/{alice.handle}/posts/{(await post.get_json())['id']}"
    for path in (f"/users/{alice.handle}", f"/users/{alice.handle}/outbox?page=true", post_path):
        headers = cavage_get(fed_config, peer, "bob", path)
        response = await secure_client.get(path, headers=headers)
        assert response.status_code == 200, (path, await response.get_data(as_text=True))
    headers = rfc9421_get(fed_config, peer, "bob", post_path)
    response = await secure_client.get(post_path, headers=headers)
    assert response.status_code == 200, await response.get_data(as_text=True)
    assert (await response.get_json())["type"] == "Note"
    # The signer's key was fetched once (signed by us: the peer refuses unsigned GETs).
    assert peer.count("/users/bob") == 1 and peer.refused == []
    assert await known_accounts(fed_services, peer.host) == 1


async def test_a_bad_signature_is_401(
    secure_client: Client, fed_config: Config, peer: Peer
) -> None:
    alice = await make_user(secure_client)
    peer.add_actor("carol")
    path = f"/users/{alice.handle}"
    headers = cavage_get(fed_config, peer, "carol", path)
    # Signed for another path: the signature does not cover this request.
    response = await secure_client.get(f"{path}/following", headers=headers)
    assert response.status_code == 401
    assert (await response.get_json())["detail"] == "signature does not verify"


async def test_a_blocked_instance_is_403_and_its_key_never_fetched(
    secure_client: Client, fed_config: Config, fed_services: Services, peer: Peer
) -> None:
    alice = await make_user(secure_client)
    peer.add_actor("dora")
    async with fed_services.pool.acquire() as conn:
        await inbox_sql.set_blocked(conn, domain=peer.host, blocked=True)
    try:
        path = f"/users/{alice.handle}"
        response = await secure_client.get(path, headers=cavage_get(fed_config, peer, "dora", path))
        assert response.status_code == 403
        assert (await response.get_json())["error"] == "forbidden"
        assert peer.requests == []
        assert await known_accounts(fed_services, peer.host) == 0
    finally:
        async with fed_services.pool.acquire() as conn:
            await inbox_sql.set_blocked(conn, domain=peer.host, blocked=False)
