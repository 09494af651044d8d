"""fediverse-pasture (from PyPI, in .venv-pasture) against a live stgy.

`verify_actor` fetches our actor as six test actors (signed and unsigned),
posts to our inbox with and without a signature and checks WebFinger;
`http_signature` checks the signatures of requests we make to it. We read
their JSON answers and assert on what they report.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest

from federation.deliver import deliver
from federation.fetch import FetchError, Signer, fetch_json
from stgy.domain.remote.activitypub import InstanceKey, instance_key
from stgy.services import Services
from tests.conftest import LiveInstance
from tests.interop.conftest import register
from tests.interop.pasture import PastureServer, pasture_server


@pytest.fixture(scope="module")
def verify_actor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PastureServer]:
    with pasture_server("verify_actor", tmp_path_factory.mktemp("verify_actor")) as server:
        yield server


@pytest.fixture(scope="module")
def http_signature(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PastureServer]:
    with pasture_server("http_signature", tmp_path_factory.mktemp("http_signature")) as server:
        yield server


@pytest.fixture
async def live_key(interop_instance: LiveInstance) -> AsyncIterator[InstanceKey]:
    """The live instance's own actor key (the one its signed GETs use)."""
    services = await Services.start(interop_instance.config)
    try:
        yield await instance_key(services)
    finally:
        await services.close()


class RecordingTransport(httpx.AsyncBaseTransport):
    """Keeps each answer's status and the part of its body the client read.

    It reads no more of an answer than the client does: whether an answer is read
    to its end decides whether httpx keeps its connection for the next request, and
    that is the code under test's to decide (`deliver` leaves a refusal unread).
    """

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.answers: list[tuple[int, bytes]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_RecordedStream(response.status_code, response.stream, self.answers),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


class _RecordedStream(httpx.AsyncByteStream):
    def __init__(
        self, status: int, inner: httpx.AsyncByteStream, answers: list[tuple[int, bytes]]
    ) -> None:
        self.status = status
        self.inner = inner
        self.answers = answers
        self.read = bytearray()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.inner:
            self.read += chunk
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()
        self.answers.append((self.status, bytes(self.read)))


def steps(body: bytes) -> list[str]:
    report = orjson.loads(body)
    assert "x error" not in report, report["x error"]
    found: list[str] = report["steps"]
    return found


async def run_verify_actor(server: PastureServer, actor_uri: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=120) as client:
        answer = await client.post(
            server.url + "/", data={"actor_uri": actor_uri}, headers={"Accept": "application/json"}
        )
    assert answer.status_code == 200, answer.text
    report: dict[str, Any] = answer.json()
    return report


@pytest.mark.parametrize("form", ["actor id", "acct URI"])
async def test_verify_actor_finds_our_actor_consistent_and_our_inbox_closed_to_unsigned(
    interop_instance: LiveInstance, verify_actor: PastureServer, form: str
) -> None:
    user = await register(interop_instance)
    host = interop_instance.config.instance.domain
    uri = user.actor_id if form == "actor id" else f"acct:{user.handle}@{host}"
    report = await run_verify_actor(verify_actor, uri)
    result, messages = report["result"], json.loads(report["messages"])["steps"]

    assert result["webfinger"] is True, messages
    assert "webfinger result matches expectations" in messages
    assert f"Retrieved id {user.actor_id} using webfinger" in messages
    # alice and dean post unsigned: we must refuse them.
    for name in ("alice", "dean"):
        assert result[name] == {"get_actor": True, "post_inbox": False}, (name, messages)
    # Its unsigned POST is `{"type": "EchoRequest"}`, not an activity (no id, no actor),
    # so it is refused as such (400) before the signature check would (401).
    unsigned = [m for m in messages if str(m).endswith("for unsigned POST")]
    assert unsigned == ["Got 400 for unsigned POST"] * 2
    # bob signs his POST; claire also wants our key fetch of her actor signed.
    for name in ("bob", "claire"):
        assert result[name] == {"get_actor": True, "post_inbox": True}, (name, messages)
    assert messages.count("Successfully posted to inbox with result") == 2
    assert messages.count(202) == 2
    # emily and frank are bob and claire without a preferredUsername (so without
    # WebFinger): we take no actor that has no handle, as docs/federation.md says, and
    # answer their signed POSTs 401.
    for name in ("emily", "frank"):
        assert result[name] == {"get_actor": True, "post_inbox": False}, (name, messages)
    assert sum("status=401" in str(m) for m in messages) == 2


async def test_http_signature_accepts_our_signed_get(
    http_signature: PastureServer, live_key: InstanceKey
) -> None:
    recorder = RecordingTransport()
    async with httpx.AsyncClient(transport=recorder) as client:
        with pytest.raises(FetchError) as refused:
            await fetch_json(
                client,
                http_signature.url + "/",
                signer=Signer(live_key.key_id, live_key.private_pem),
                allow_private=True,
            )
    # The checker answers with its report, which is no ActivityPub object: that is all
    # our fetch holds against it.
    assert refused.value.status is None and "id" in refused.value.reason
    [(status, body)] = recorder.answers
    assert status == 200
    report = steps(body)
    assert "Got fields (request-target), host, date" in report
    assert report[-1] == "SUCCESS!!!"


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
async def test_http_signature_accepts_our_signed_post(
    http_signature: PastureServer, live_key: InstanceKey, scheme: str
) -> None:
    activity = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": live_key.key_id.replace("#main-key", "#pasture-check"),
        "type": "Like",
        "actor": live_key.key_id.split("#")[0],
        "object": http_signature.url + "/",
    }
    recorder = RecordingTransport()
    async with httpx.AsyncClient(transport=recorder) as client:
        result = await deliver(
            client,
            http_signature.url + "/",
            orjson.dumps(activity),
            key_id=live_key.key_id,
            private_key_pem=live_key.private_pem,
            scheme=scheme,  # type: ignore[arg-type]
            allow_private=True,
        )
    assert result.accepted and result.status == 202, (result, recorder.answers)
    # It checks draft-cavage only: an RFC 9421 POST is refused, and the double knock
    # sends the draft-cavage one that it takes. The refusal comes off the headers,
    # often before our body has arrived, and Hypercorn then closes that connection
    # without a word: the second knock must go out on a new one (docs/federation.md).
    assert result.scheme_used == "cavage"
    assert [status for status, _ in recorder.answers] == (
        [202] if scheme == "cavage" else [401, 202]
    )
    report = steps(recorder.answers[-1][1])
    assert "Got fields (request-target), host, date, digest, content-type" in report
    assert report[-1] == "SUCCESS!!!"
