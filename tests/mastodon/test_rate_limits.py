"""The Mastodon API's rate limits as Mastodon sets them: X-RateLimit-* headers that
count down, 429 over a limit, a counter per token and one for media uploads; reads
counted in the process between round trips to Redis, exactly all the same."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import requests

from stgy.app import create_app
from stgy.config import Config
from stgy.domain import ratelimit
from stgy.http.context import SERVICES_KEY
from tests.conftest import LiveInstance
from tests.mastodon.test_mastodon_py import logged_in_api


def test_mastodon_py_reads_the_rate_limit_headers(
    live_instance: LiveInstance, session: requests.Session, logged_in: httpx.Client
) -> None:
    api = logged_in_api(live_instance, session, logged_in)
    api.timeline_home(limit=1)
    before = api.ratelimit_remaining
    api.timeline_home(limit=1)
    assert api.ratelimit_remaining == before - 1
    assert api.ratelimit_limit == 1000000  # the test instances' setting
    assert api.ratelimit_reset > datetime.now(UTC).timestamp() - 1


def test_a_persons_apps_share_one_count(
    live_instance: LiveInstance, session: requests.Session, logged_in: httpx.Client
) -> None:
    # As Mastodon: requests count for the person behind the token, whichever app sends
    # them (an unknown token counts by itself, see below).
    first = logged_in_api(live_instance, session, logged_in)
    second = logged_in_api(live_instance, session, logged_in)
    assert first.access_token != second.access_token
    first.timeline_home(limit=1)
    before = first.ratelimit_remaining
    second.account_verify_credentials()
    assert second.ratelimit_remaining == before - 1
    first.timeline_home(limit=1)
    assert first.ratelimit_remaining == before - 2


def _reset(value: str) -> datetime:
    assert value.endswith("Z"), value
    return datetime.fromisoformat(value)


async def test_rate_limit_headers_count_down_to_429(config: Config) -> None:
    limited = config.replace(
        "limits",
        mastodon_requests=3,
        mastodon_window_seconds=300,
        mastodon_media_uploads=1,
        rate_limit_requests_per_minute=1000,
    )
    application = create_app(limited)
    address = f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    where = {"client": (address, 5000)}
    async with application.test_app():
        client = application.test_client()
        seen = []
        for _ in range(3):
            answer = await client.get("/api/v1/instance", scope_base=where)
            assert answer.status_code == 200
            assert answer.headers["X-RateLimit-Limit"] == "3"
            seen.append(int(answer.headers["X-RateLimit-Remaining"]))
            reset = _reset(answer.headers["X-RateLimit-Reset"])
            assert datetime.now(UTC) < reset <= datetime.now(UTC) + timedelta(seconds=301)
        assert seen == [2, 1, 0]
        over = await client.get("/api/v1/instance", scope_base=where)
        assert over.status_code == 429
        assert await over.get_json() == {"error": "Too many requests"}
        assert over.headers["X-RateLimit-Remaining"] == "0"
        assert over.headers["X-RateLimit-Limit"] == "3"
        assert 0 < int(over.headers["Retry-After"]) <= 300
        # Writes are refused the same way, in the Mastodon shape.
        write = await client.post("/api/v1/statuses", scope_base=where)
        assert write.status_code == 429 and (await write.get_json())["error"] == "Too many requests"
        # A token has a counter of its own (per token, not per address); the native
        # API and the web UI are not counted by these limits.
        token = {"Authorization": "Bearer " + uuid.uuid4().hex}
        with_token = await client.get("/api/v1/instance", scope_base=where, headers=token)
        assert with_token.status_code == 200
        assert with_token.headers["X-RateLimit-Remaining"] == "2"
        native = await client.get("/healthz", scope_base=where)
        assert native.status_code == 200 and "X-RateLimit-Limit" not in native.headers
        # Media uploads: their own, smaller, limit.
        upload = await client.post("/api/v2/media", scope_base=where, headers=token)
        assert upload.status_code == 401
        assert upload.headers["X-RateLimit-Limit"] == "1"
        assert upload.headers["X-RateLimit-Remaining"] == "0"
        again = await client.post("/api/v2/media", scope_base=where, headers=token)
        assert again.status_code == 429 and again.headers["X-RateLimit-Limit"] == "1"


async def test_reads_counted_in_the_process_count_exactly(config: Config) -> None:
    limit = 3 * ratelimit.SYNC_HITS
    limited = config.replace("limits", mastodon_requests=limit, mastodon_window_seconds=300)
    application = create_app(limited)
    token = uuid.uuid4().hex
    headers = {"Authorization": "Bearer " + token}
    digest = hashlib.sha256(token.encode()).hexdigest()[:32]
    key = f"{limited.namespace}:rate:mastodon:token:{digest}"
    async with application.test_app():
        client = application.test_client()
        redis = application.extensions[SERVICES_KEY].redis

        async def read(times: int) -> list[int]:
            left = []
            for _ in range(times):
                answer = await client.get("/api/v1/instance", headers=headers)
                assert answer.status_code == 200
                left.append(int(answer.headers["X-RateLimit-Remaining"]))
            return left

        async def in_redis() -> int:
            return int(await redis.get(key) or 0)

        # The first read makes the round trip; the next ones are counted here, and
        # added in Redis with the round trip of the SYNC_HITS-th.
        seen = await read(ratelimit.SYNC_HITS)
        assert await in_redis() == 1
        seen += await read(1)
        assert await in_redis() == ratelimit.SYNC_HITS + 1
        # A pause of SYNC_SECONDS: the next read sends what was counted here.
        seen += await read(3)
        assert await in_redis() == ratelimit.SYNC_HITS + 1
        await asyncio.sleep(ratelimit.SYNC_SECONDS + 0.05)
        seen += await read(1)
        assert await in_redis() == ratelimit.SYNC_HITS + 5
        # Near the limit every read makes the round trip: the limit holds to the hit.
        seen += await read(limit - len(seen))
        assert seen == list(range(limit - 1, -1, -1))  # every hit, one by one
        assert await in_redis() == limit
        over = await client.get("/api/v1/instance", headers=headers)
        assert over.status_code == 429
        assert over.headers["X-RateLimit-Remaining"] == "0"
        assert await in_redis() == limit + 1
