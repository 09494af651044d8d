"""Media: renditions per second, upload-to-ready latency, and serving from local storage.

1. `images.render` of a 12-megapixel JPEG (original re-encoded, `large`, `small`, blurhash)
   in this one process, against a bare Pillow decode + JPEG encode of the same image.
2. Upload-to-ready p50 through the API (`stgy serve` and one `stgy worker`): from the start
   of `POST /api/media` to the first `GET /api/media/{id}` that says ready, against the
   in-process render time of step 1.
3. Bytes per second served from `/media/...` against the same file served as a static file
   (`/static/...`) by the same Hypercorn app, in the same run. The copy is put in
   `stgy/web/static/` for the run and removed after.
"""

from __future__ import annotations

import argparse
import io
import secrets
import shutil
import statistics
import subprocess  # noqa: S404 - the benchmark runs our own worker
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402 - needs the repo root on sys.path
    REPO_ROOT,
    STGY_SERVE,
    VAR_DIR,
    bench_config,
    prepare_database,
    report,
    say,
    start_server,
)
from bench.load import run_load  # noqa: E402
from stgy.domain.media import images  # noqa: E402

STATIC_DIR = REPO_ROOT / "stgy" / "web" / "static"


def twelve_megapixels() -> bytes:
    """A 4000x3000 photo-like JPEG: smooth gradients with detail, as cameras make them."""
    small = Image.effect_mandelbrot((400, 300), (-2.2, -1.2, 1.0, 1.2), 60).convert("RGB")
    image = small.resize((4000, 3000), Image.Resampling.BICUBIC)
    noise = Image.effect_noise((4000, 3000), 24).convert("RGB")
    image = Image.blend(image, noise, 0.15)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def render_rate(data: bytes, rounds: int) -> tuple[float, float, float]:
    """Renders per second, seconds per render, and bare decode+encode per second."""
    sizes = images.Sizes(large=1280, small=400, avatar=400, jpeg_quality=85)
    started = time.perf_counter()
    for _ in range(rounds):
        images.render(data, purpose="attachment", focus=(0, 0), sizes=sizes, max_pixels=50_000_000)
    per_render = (time.perf_counter() - started) / rounds
    started = time.perf_counter()
    for _ in range(rounds):
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            image.save(io.BytesIO(), "JPEG", quality=85)
    bare = (time.perf_counter() - started) / rounds
    return 1 / per_render, per_render, 1 / bare


def login(base: str) -> dict[str, str]:
    handle = f"bench_{secrets.token_hex(4)}"
    password = "bench media passphrase"  # noqa: S105 - a throw-away account
    registered = httpx.post(
        f"{base}/api/accounts",
        json={"handle": handle, "password": password, "email": f"{handle}@example.com"},
    )
    registered.raise_for_status()
    token = httpx.post(f"{base}/api/auth/login", json={"handle": handle, "password": password})
    token.raise_for_status()
    return {"Authorization": f"Bearer {token.json()['token']}"}


def upload_to_ready(base: str, auth: dict[str, str], data: bytes, timeout: float = 120) -> float:
    started = time.perf_counter()
    response = httpx.post(
        f"{base}/api/media",
        files={"file": ("photo.jpg", data, "image/jpeg")},
        headers=auth,
        timeout=60,
    )
    response.raise_for_status()
    body = response.json()
    while body["state"] == "processing":
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"media {body['id']} not ready in {timeout:.0f} s")
        time.sleep(0.02)
        body = httpx.get(f"{base}/api/media/{body['id']}", headers=auth, timeout=10).json()
    if body["state"] != "ready":
        raise RuntimeError(f"media {body['id']} failed: {body['error']}")
    return time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="renders timed in step 1")
    parser.add_argument("--uploads", type=int, default=8, help="uploads timed in step 2")
    parser.add_argument("--duration", type=float, default=8, help="seconds of load in step 3")
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args(argv)

    data = twelve_megapixels()
    say(f"12-megapixel JPEG of {len(data)} bytes; rendering {args.rounds} times")
    rate, per_render, bare_rate = render_rate(data, args.rounds)

    bench = bench_config()
    prepare_database(bench.env)
    base = bench.base_url
    static_name = f"bench-{secrets.token_hex(4)}.jpg"
    created_static = not STATIC_DIR.exists()
    STATIC_DIR.mkdir(parents=True, exist_ok=True)
    worker = None
    try:
        # The app makes its /static/ route only if the folder exists when it starts.
        (STATIC_DIR / static_name).write_bytes(b"")
        with start_server(STGY_SERVE, bench.env, f"{base}/healthz", log=VAR_DIR / "media.log"):
            log = (VAR_DIR / "media-worker.log").open("wb")
            worker = subprocess.Popen(
                [sys.executable, "-m", "stgy", "worker"],
                env=bench.env,
                cwd=REPO_ROOT,
                stdout=log,
                stderr=log,
            )
            auth = login(base)
            say(f"{args.uploads} uploads through the API, each waited for until ready")
            upload_to_ready(base, auth, data)  # warm-up
            latencies = sorted(upload_to_ready(base, auth, data) for _ in range(args.uploads))

            response = httpx.get(
                f"{base}/api/media/{upload_media(base, auth, data)}", headers=auth
            ).json()
            media_path = response["url"].split("/media/", 1)[1]
            served = httpx.get(f"{base}/media/{media_path}")
            (STATIC_DIR / static_name).write_bytes(served.content)
            size = len(served.content)
            say(f"serving a {size}-byte file: /media/ vs /static/")
            media_load = run_load(f"{base}/media/{media_path}", args.connections, args.duration)
            static_load = run_load(f"{base}/static/{static_name}", args.connections, args.duration)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(15)
        (STATIC_DIR / static_name).unlink(missing_ok=True)
        if created_static:
            shutil.rmtree(STATIC_DIR, ignore_errors=True)

    report("media_renders_12mp", rate, "renders/s", bare_rate)
    report("media_render_12mp", per_render * 1000, "ms")
    report(
        "media_upload_to_ready_p50",
        statistics.median(latencies) * 1000,
        "ms",
        per_render * 1000,
    )
    report(
        "media_served_bytes",
        media_load.rps * size / 1e6,
        "MB/s",
        static_load.rps * size / 1e6,
    )
    if media_load.errors or static_load.errors:
        say(f"errors: media {media_load.errors}, static {static_load.errors}")
        return 1
    return 0


def upload_media(base: str, auth: dict[str, str], data: bytes) -> str:
    """An upload, waited for until ready; its id."""
    response = httpx.post(
        f"{base}/api/media",
        files={"file": ("photo.jpg", data, "image/jpeg")},
        headers=auth,
        timeout=60,
    )
    response.raise_for_status()
    media_id = str(response.json()["id"])
    while httpx.get(f"{base}/api/media/{media_id}", headers=auth).json()["state"] != "ready":
        time.sleep(0.05)
    return media_id


if __name__ == "__main__":
    sys.exit(main())
