"""A server on loopback that speaks like Mastodon: its documents, its signatures, its checks.

It serves actors and WebFinger from the Mastodon-shaped fixtures in
`tests/fixtures/mastodon/`, signs the activities it POSTs the way Mastodon
does, and checks the signatures on what is POSTed to its inboxes with
verifiers that are not ours: `tests/interop/cavage.py` (draft-cavage, written
from the draft) and the `http-message-signatures` package (RFC 9421). The
public keys it checks with are read from our actor documents over HTTP, as a
remote server would read them.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from http_message_signatures import (
    HTTPMessageVerifier,
    InvalidSignature,
    MappingKeyResolver,
    algorithms,
)
from hypercorn.asyncio import serve
from hypercorn.config import Config as HypercornConfig
from quart import Quart, Response, request

from stgy.devservices import free_port
from tests.interop import cavage

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "mastodon"
FIXTURE_BASE = "https://mastodon.example"
_KEYID = re.compile(r'keyid="([^"]+)"')


@dataclass
class Received:
    """One POST to one of the peer's inboxes, with what the peer made of its signature."""

    path: str
    activity: dict[str, Any]
    headers: dict[str, str]
    scheme: str | None  # "cavage" or "rfc9421" when it verified
    key_id: str | None
    error: str | None
    status: int


@dataclass(frozen=True)
class _RequestView:
    """The request as http-message-signatures reads it."""

    method: str
    url: str
    headers: dict[str, str]


def fixture(name: str, base: str, handle: str, **values: str) -> dict[str, Any]:
    """A fixture with the placeholders filled in (see tests/fixtures/mastodon/README.md)."""
    text = (FIXTURES / name).read_text()
    text = text.replace(FIXTURE_BASE, base).replace("mastodon.example", urlsplit(base).netloc)
    text = text.replace("HANDLE", handle)
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    document: dict[str, Any] = json.loads(text)
    return document


def new_key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@dataclass
class MastodonPeer:
    base: str
    private_keys: dict[str, str] = field(default_factory=dict)
    public_keys: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    accepted_schemes: set[str] = field(default_factory=lambda: {"cavage", "rfc9421"})
    remote_keys: dict[str, str] = field(default_factory=dict)  # our key ids -> PEM, as fetched

    @property
    def host(self) -> str:
        return urlsplit(self.base).netloc

    def actor_id(self, handle: str) -> str:
        return f"{self.base}/users/{handle}"

    def add_account(self, handle: str) -> str:
        self.private_keys[handle], self.public_keys[handle] = new_key_pair()
        return self.actor_id(handle)

    def actor_document(self, handle: str) -> dict[str, Any]:
        document = fixture("actor.json", self.base, handle)
        document["publicKey"]["publicKeyPem"] = self.public_keys[handle]
        return document

    def follow(self, handle: str, target: str) -> dict[str, Any]:
        return fixture(
            "follow.json", self.base, handle, ACTIVITY_UUID=secrets.token_hex(16), TARGET=target
        )

    def create_note(self, handle: str) -> dict[str, Any]:
        status_id = str(secrets.randbelow(10**17) + 10**17)
        published = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return fixture(
            "create_note.json", self.base, handle, STATUS_ID=status_id, PUBLISHED=published
        )

    async def post(self, url: str, activity: dict[str, Any], handle: str) -> httpx.Response:
        """POST an activity signed as Mastodon signs it, by `handle`'s key."""
        body = orjson.dumps(activity)
        parts = urlsplit(url)
        headers = cavage.sign_post(
            parts.netloc, parts.path, body, f"{self.actor_id(handle)}#main-key",
            self.private_keys[handle],
        )  # fmt: skip
        async with httpx.AsyncClient() as client:
            return await client.post(url, content=body, headers=headers)

    async def wait_for(self, matches: Callable[[Received], bool], timeout: float = 20) -> Received:
        """The first POST received that `matches`, waiting for it to come."""
        async with asyncio.timeout(timeout):
            while True:
                for item in self.received:
                    if matches(item):
                        return item
                await asyncio.sleep(0.05)

    async def _key_for(self, key_id: str) -> str | None:
        # A remote server reads the sender's key from its actor document.
        if key_id not in self.remote_keys:
            async with httpx.AsyncClient() as client:
                answer = await client.get(
                    key_id.split("#", 1)[0], headers={"Accept": "application/activity+json"}
                )
            if answer.status_code != 200:
                return None
            key = answer.json().get("publicKey", {})
            if key.get("id") != key_id:
                return None
            self.remote_keys[key_id] = key["publicKeyPem"]
        return self.remote_keys[key_id]

    async def check_signature(
        self, method: str, url: str, headers: dict[str, str], body: bytes
    ) -> tuple[str, str]:
        """(scheme, key id) of a valid signature; raises ValueError saying what is wrong."""
        lower = {name.lower(): value for name, value in headers.items()}
        if "signature-input" in lower:
            found = _KEYID.search(lower["signature-input"])
            key_id = found.group(1) if found else ""
            pem = await self._key_for(key_id)
            if pem is None:
                raise ValueError(f"no key at {key_id!r}")
            verifier = HTTPMessageVerifier(
                signature_algorithm=algorithms.RSA_V1_5_SHA256,
                key_resolver=MappingKeyResolver(
                    public_keys={key_id: pem.encode()}, private_keys={}
                ),
            )
            try:
                verifier.verify(
                    _RequestView(method, url, headers),
                    body=body,
                    require_components=("@method", "@target-uri", "content-digest"),
                )
            except InvalidSignature as error:
                raise ValueError(f"rfc9421: {error}") from error
            return "rfc9421", key_id
        params = cavage.parse_signature(lower.get("signature", 'keyId="",signature=""'))
        pem = await self._key_for(params["keyId"])
        if pem is None:
            raise ValueError(f"no key at {params['keyId']!r}")
        target = urlsplit(url).path
        try:
            key_id = cavage.verify(
                method, target, headers, body, {params["keyId"]: pem},
                required=cavage.MASTODON_POST_HEADERS,
            )  # fmt: skip
        except cavage.CavageError as error:
            raise ValueError(f"cavage: {error}") from error
        return "cavage", key_id

    def app(self) -> Quart:
        app = Quart("mastodon-peer")

        @app.get("/.well-known/webfinger")
        async def webfinger() -> Response:
            resource = request.args.get("resource", "")
            handle, _, host = resource.removeprefix("acct:").partition("@")
            if host != self.host or handle not in self.public_keys:
                return Response("", status=404)
            jrd = fixture("webfinger.json", self.base, handle)
            return Response(orjson.dumps(jrd), content_type="application/jrd+json")

        @app.get("/users/<handle>")
        async def actor(handle: str) -> Response:
            if handle not in self.public_keys:
                return Response("", status=404)
            return Response(
                orjson.dumps(self.actor_document(handle)),
                content_type="application/activity+json; charset=utf-8",
            )

        @app.post("/inbox")
        @app.post("/users/<handle>/inbox")
        async def inbox(handle: str | None = None) -> Response:
            body = await request.get_data()
            headers = dict(request.headers.items())
            url = self.base + request.path
            status, scheme, key_id, error = 202, None, None, None
            try:
                scheme, key_id = await self.check_signature("POST", url, headers, body)
                if scheme not in self.accepted_schemes:
                    status, error = 401, f"{scheme} not accepted here"
            except ValueError as exc:
                status, error = 401, str(exc)
            activity = orjson.loads(body)
            self.received.append(
                Received(request.path, activity, headers, scheme, key_id, error, status)
            )
            return Response("", status=status)

        return app


@asynccontextmanager
async def running_peer() -> AsyncIterator[MastodonPeer]:
    """A MastodonPeer served by Hypercorn on a free loopback port, for the block's length."""
    port = free_port()
    peer = MastodonPeer(f"http://127.0.0.1:{port}")
    config = HypercornConfig()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.errorlog = None
    stop = asyncio.Event()
    task = asyncio.create_task(serve(peer.app(), config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
    async with httpx.AsyncClient() as probe:
        for _ in range(200):
            try:
                await probe.get(f"{peer.base}/users/nobody")
                break
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    try:
        yield peer
    finally:
        stop.set()
        await task
