"""Live processes: a real Hypercorn server and SAQ worker; `stgy run` supervising both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx

from stgy.devservices import free_port
from stgy.domain.jobs.outbox import enqueue_events, record_event
from stgy.services import Services
from tests.conftest import LiveInstance, config_env, wait_for
from tests.integration.test_outbox import KIND


async def test_live_instance_serves_health_and_metrics(live_instance: LiveInstance) -> None:
    async with httpx.AsyncClient(base_url=live_instance.url) as http:
        health = await http.get("/healthz")
        assert health.status_code == 200
        assert health.json()["checks"] == {"postgresql": "ok", "redis": "ok"}
        missing = await http.get("/nothing-here")
        assert missing.status_code == 404 and missing.json()["error"] == "not_found"
        metrics = (await http.get("/metrics")).text
    assert 'route="/healthz",status="200"' in metrics
    assert "stgy_queue_depth" in metrics
    missing_line = "method=GET path=/nothing-here route=unmatched status=404"

    async def logged() -> bool:
        # Log lines are written in batches, at most a second after the request.
        return missing_line in live_instance.log.read_text()

    await wait_for(logged)
    assert "method=GET path=/healthz route=/healthz status=200" in live_instance.log.read_text()


async def test_live_worker_runs_outbox_jobs(live_instance: LiveInstance) -> None:
    services = await Services.start(live_instance.config)
    try:
        await _enqueue_and_watch(live_instance, services)
    finally:
        await services.close()


async def _enqueue_and_watch(live_instance: LiveInstance, services: Services) -> None:
    # The event kind is registered in this test process only, so the live worker takes
    # the job, finds no handler and records that on the event: the whole path ran.
    async with services.pool.acquire() as conn:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS outbox_test_effects (event_id bigint, label text)"
        )
        async with conn.transaction():
            event_id = await record_event(conn, KIND, {"label": "live"})
    await enqueue_events(services.jobs, [event_id])

    async def attempted() -> bool:
        conn = await asyncpg.connect(live_instance.database_url)
        try:
            error = await conn.fetchval(
                "SELECT last_error FROM outbox_events WHERE id = $1", event_id
            )
        finally:
            await conn.close()
        logged = f"job=handle_outbox_event key=outbox:{event_id} outcome=retry"
        return (
            error is not None
            and error.startswith("UnknownEventKind: test.record\n")
            and logged in live_instance.log.read_text()
        )

    await wait_for(attempted, timeout=15)


def _start_run(tmp_path: Path, database_url: str) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    env = {
        **os.environ,
        **config_env(database_url, tmp_path, STGY_SERVER_BIND=f"127.0.0.1:{port}"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "stgy", "run"], env=env, stderr=subprocess.PIPE, text=True
    )
    return process, port


def _read_until(process: subprocess.Popen[str], needle: str, timeout: float = 30) -> str:
    assert process.stderr is not None
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if needle in line:
            return "".join(seen)
    raise AssertionError(f"{needle!r} not printed; got:\n{''.join(seen)}")


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(p) for p in out.stdout.split()]


def test_run_starts_both_and_stops_cleanly_on_sigterm(tmp_path: Path, database_url: str) -> None:
    process, port = _start_run(tmp_path, database_url)
    try:
        _read_until(process, "stgy: ready: http://localhost:8000")
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
        children = _children(process.pid)
        assert len(children) == 2
        process.send_signal(signal.SIGTERM)
        rest = _read_until(process, "stgy: stopped")
        assert "stopping server and worker" in rest
        assert process.wait(timeout=20) == 0
        for child in children:
            assert not os.path.exists(f"/proc/{child}") or _is_zombie(child)
    finally:
        _reap(process)


def test_run_stops_with_an_error_when_a_child_crashes(tmp_path: Path, database_url: str) -> None:
    process, _port = _start_run(tmp_path, database_url)
    try:
        _read_until(process, "stgy: ready")
        worker = next(
            pid
            for pid in _children(process.pid)
            if "worker" in Path(f"/proc/{pid}/cmdline").read_text()
        )
        os.kill(worker, signal.SIGKILL)
        rest = _read_until(process, "stgy: stopped")
        assert "worker exited with code -9; stopping the rest" in rest
        assert process.wait(timeout=20) == 1
    finally:
        _reap(process)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except FileNotFoundError:
        return True


def _reap(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()
    if process.stderr is not None:
        process.stderr.close()
