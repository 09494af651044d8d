"""The HTTP app: health, metrics, and JSON errors for every failure."""

from __future__ import annotations

import gc
import re
from collections.abc import AsyncIterator

import pytest
from quart import Blueprint, Quart, jsonify
from quart.typing import TestClientProtocol as Client

from stgy.app import create_app
from stgy.config import Config
from stgy.domain.jobs.outbox import enqueue_events, record_event
from stgy.http.body import read_json_object
from stgy.runtime import GC_THRESHOLDS
from stgy.services import Services
from tests.conftest import serving
from tests.integration.test_outbox import KIND, drain

echo = Blueprint("echo", __name__)


@echo.post("/_test/echo")
async def echo_json() -> object:
    return jsonify(await read_json_object())


@pytest.fixture
async def echo_app(config: Config) -> AsyncIterator[Quart]:
    """The app with a route that reads a JSON body, to exercise body errors."""
    application = create_app(config)
    application.register_blueprint(echo)
    async with application.test_app():
        yield application


async def test_healthz_ok_when_postgresql_and_redis_answer(client: Client) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    body = await response.get_json()
    assert body["status"] == "ok"
    assert body["checks"] == {"postgresql": "ok", "redis": "ok"}


async def test_healthz_503_names_redis_when_it_is_down(config: Config) -> None:
    dead = config.replace("redis", url="redis://127.0.0.1:1/0")
    application = create_app(dead)
    async with application.test_app():
        response = await application.test_client().get("/healthz")
        assert response.status_code == 503
        body = await response.get_json()
        assert body["checks"]["postgresql"] == "ok"
        assert body["checks"]["redis"].startswith("unreachable")
        assert body["error"] == "unavailable"
        assert "redis" in body["detail"]
        # /metrics still answers, with the queue depth unknown.
        metrics = await application.test_client().get("/metrics")
        assert metrics.status_code == 200
        text = await metrics.get_data(as_text=True)
        assert re.search(r'^stgy_queue_depth\{queue="[^"]+"\} -1\.0$', text, re.M), text
        assert re.search(r"^stgy_outbox_pending [0-9]+\.0$", text, re.M), text


async def test_a_started_app_collects_garbage_at_the_server_thresholds(config: Config) -> None:
    gc.set_threshold(700, 10, 10)  # the interpreter's defaults
    async with serving(config):
        assert gc.get_threshold() == GC_THRESHOLDS


async def test_unknown_route_is_json_404(client: Client) -> None:
    response = await client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.content_type == "application/json"
    body = await response.get_json()
    assert body["error"] == "not_found"
    assert body["detail"]


async def test_wrong_method_is_json_405(client: Client) -> None:
    response = await client.delete("/healthz")
    assert response.status_code == 405
    assert (await response.get_json())["error"] == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


async def test_malformed_json_is_400(echo_app: Quart) -> None:
    client = echo_app.test_client()
    response = await client.post(
        "/_test/echo", data=b'{"a": 1,', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    body = await response.get_json()
    assert body["error"] == "malformed_body"
    assert "not valid JSON" in body["detail"]
    response = await client.post("/_test/echo", json=[1, 2])
    assert response.status_code == 400
    assert "must be a JSON object" in (await response.get_json())["detail"]
    response = await client.post("/_test/echo", data=b"a=1", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    response = await client.post("/_test/echo", json={"ok": True})
    assert response.status_code == 200 and await response.get_json() == {"ok": True}


async def test_body_over_limit_is_413(echo_app: Quart, config: Config) -> None:
    client = echo_app.test_client()
    big = b'{"a": "' + b"x" * config.limits.request_body_bytes + b'"}'
    for headers in (
        {"Content-Type": "application/json"},
        {"Content-Type": "application/json", "Content-Length": str(len(big))},
    ):
        response = await client.post("/_test/echo", data=big, headers=headers)
        assert response.status_code == 413
        body = await response.get_json()
        assert body["error"] == "request_entity_too_large"
        assert str(config.limits.request_body_bytes) in body["detail"]


async def queue_depth(client: Client, services: Services) -> float:
    text = await (await client.get("/metrics")).get_data(as_text=True)
    found = re.search(
        rf'^stgy_queue_depth{{queue="{re.escape(services.jobs.name)}"}} ([0-9.]+)$', text, re.M
    )
    assert found is not None, text[-2000:]
    return float(found.group(1))


async def test_metrics_count_requests_jobs_and_queue_depth(
    client: Client, services: Services
) -> None:
    await client.get("/healthz")
    await client.get("/no/such/thing")
    await drain(services)  # jobs other tests left behind
    # Retries other tests left scheduled for later still count as waiting.
    waiting = await queue_depth(client, services)
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            event_id = await record_event(conn, KIND, {"label": "metrics"})
    await enqueue_events(services.jobs, [event_id])
    assert await queue_depth(client, services) == waiting + 1
    async with services.pool.acquire() as conn:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS outbox_test_effects (event_id bigint, label text)"
        )
    await drain(services)

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    text = await response.get_data(as_text=True)
    assert 'stgy_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'stgy_http_requests_total{method="GET",route="unmatched",status="404"}' in text
    assert 'stgy_http_request_duration_seconds_bucket{le="0.005",route="/healthz"}' in text
    assert 'stgy_jobs_total{name="handle_outbox_event",outcome="complete"}' in text
    assert f'stgy_queue_depth{{queue="{services.jobs.name}"}} 0.0' in text


async def test_writes_are_rate_limited_per_address(config: Config) -> None:
    application = create_app(config.replace("limits", rate_limit_requests_per_minute=3))
    async with application.test_app():
        client = application.test_client()
        where = {"client": ("10.7.0.1", 5000)}
        statuses = [
            (await client.post("/api/accounts", json={}, scope_base=where)).status_code
            for _ in range(4)
        ]
        assert statuses == [400, 400, 400, 429]
        # Reads are not counted; other addresses have their own window.
        assert (await client.get("/healthz", scope_base=where)).status_code == 200
        other = await client.post("/api/accounts", json={}, scope_base={"client": ("10.7.0.2", 1)})
        assert other.status_code == 400


def gauge(text: str, name: str) -> float:
    found = re.search(rf"^{name} (-?[0-9.e+]+)$", text, re.M)
    assert found is not None, text[-2000:]
    return float(found.group(1))


async def test_metrics_show_the_outbox_backlog_and_failing_instances(
    client: Client, services: Services
) -> None:
    async with services.pool.acquire() as conn:
        async with conn.transaction():
            event_id = await record_event(conn, KIND, {"label": "backlog"})
        # An hour old and never enqueued: what an operator must see.
        await conn.execute(
            "UPDATE outbox_events SET created_at = now() - interval '1 hour' WHERE id = $1",
            event_id,
        )
        await conn.execute(
            "INSERT INTO instances (domain, failures, unavailable_since)"
            " VALUES ('down.example', 12, now()), ('flaky.example', 2, NULL)"
            " ON CONFLICT (domain) DO UPDATE SET failures = excluded.failures,"
            " unavailable_since = excluded.unavailable_since"
        )
    try:
        text = await (await client.get("/metrics")).get_data(as_text=True)
        assert gauge(text, "stgy_outbox_pending") >= 1
        assert gauge(text, "stgy_outbox_oldest_pending_seconds") >= 3600
        assert gauge(text, "stgy_instances_failing") >= 2
        assert gauge(text, "stgy_instances_unavailable") >= 1
    finally:
        async with services.pool.acquire() as conn:
            await conn.execute("UPDATE outbox_events SET done_at = now() WHERE id = $1", event_id)
            await conn.execute(
                "DELETE FROM instances WHERE domain IN ('down.example', 'flaky.example')"
            )
