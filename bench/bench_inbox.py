"""Signed activities taken at the inbox per second, against a bare Quart POST endpoint.

A pool of distinct Create(Note) activities from a few remote actors whose keys are
already stored (cached on their account rows, as after a first fetch) is signed up front
(draft-cavage rsa-sha256, as Mastodon signs; the Date window is 12 h). wrk sends them
over 32 connections, each request prepared with its own body and headers, to stgy's
shared inbox (size limit, signature check, digest check, dedupe, store, outbox event,
enqueue, 202) and then to `bench/hello_app.py`'s `POST /inbox` (reads the body, 202)
under the same Hypercorn settings, the two taking turns (`--rounds`, each round with
activities of its own; each figure is the median of its rounds). Prints req/s,
p50/p99, their ratio, and RSA-2048 verifies per second measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402 - needs the repo root on sys.path
    STGY_SERVE,
    VAR_DIR,
    bench_config,
    free_port,
    hello_argv,
    prepare_database,
    report,
    say,
    start_server,
)
from bench.load import Load, interleaved, profiled, run_load  # noqa: E402
from federation import signatures  # noqa: E402
from storage import remote_accounts as remote_sql  # noqa: E402

REMOTE = "https://remote.bench.example"
ACTORS = 8
AS = "https://www.w3.org/ns/activitystreams"
LUA = """-- Sends the prepared requests of {path}, each thread its own share, in turn.
local total = {threads}
local setup_n = 0
function setup(thread)
  thread:set("id", setup_n)
  setup_n = setup_n + 1
end
local reqs = {{}}
local i = 0
function init(args)
  local k = 0
  for line in io.lines("{path}") do
    if k % total == id then
      local fields = {{}}
      for f in string.gmatch(line, "[^\\t]+") do fields[#fields + 1] = f end
      local headers = {{}}
      for j = 2, #fields - 1 do
        local name, value = string.match(fields[j], "^([^:]+): (.*)$")
        headers[name] = value
      end
      reqs[#reqs + 1] = wrk.format("POST", fields[1], headers, fields[#fields])
    end
    k = k + 1
  end
end
function request()
  i = i + 1
  if i > #reqs then i = 1 end
  return reqs[i]
end
"""


def _key_pair() -> tuple[str, str]:
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


async def store_actors(database_url: str) -> list[tuple[str, str]]:
    """Remote actors with their keys on their rows: (actor id, private PEM) each."""
    actors = []
    conn = await asyncpg.connect(database_url)
    try:
        for n in range(ACTORS):
            private, public = _key_pair()
            actor_id = f"{REMOTE}/users/bench{n}"
            row = remote_sql.RemoteActorRow(
                ap_id=actor_id,
                domain="remote.bench.example",
                handle=f"bench{n}",
                display_name=f"Bench {n}",
                bio_html="",
                url=None,
                inbox_url=f"{actor_id}/inbox",
                shared_inbox_url=f"{REMOTE}/inbox",
                outbox_url=None,
                followers_url=f"{actor_id}/followers",
                following_url=None,
                featured_url=None,
                public_key_id=f"{actor_id}#main-key",
                public_key_pem=public,
                locked=False,
                bot=False,
                fetched_at=datetime.now(UTC),
            )
            await remote_sql.upsert_remote_account(conn, row)
            actors.append((actor_id, private))
    finally:
        await conn.close()
    return actors


def sign_pool(url: str, actors: list[tuple[str, str]], count: int, run: str) -> list[str]:
    """`count` signed requests as lines: path, headers, body, tab-separated."""
    path = "/inbox"
    lines = []
    for i in range(count):
        actor_id, private = actors[i % len(actors)]
        note_id = f"{actor_id}/statuses/{run}{i}"
        activity = {
            "@context": AS,
            "id": f"{note_id}/activity",
            "type": "Create",
            "actor": actor_id,
            "published": "2026-01-01T00:00:00Z",
            "to": [f"{AS}#Public"],
            "cc": [f"{actor_id}/followers"],
            "object": {
                "id": note_id,
                "type": "Note",
                "attributedTo": actor_id,
                "published": "2026-01-01T00:00:00Z",
                "to": [f"{AS}#Public"],
                "cc": [f"{actor_id}/followers"],
                "content": f"<p>benchmark post {i}</p>",
            },
        }
        body = orjson.dumps(activity)
        headers = {"Content-Type": "application/activity+json"}
        headers |= signatures.sign_request(
            "POST", url, headers, body, f"{actor_id}#main-key", private
        )
        fields = [path, *(f"{name}: {value}" for name, value in headers.items()), body.decode()]
        lines.append("\t".join(fields))
    return lines


def raw_requests(lines: list[str], authority: str) -> list[bytes]:
    """The same requests as raw HTTP/1.1, for the asyncio load generator."""
    out = []
    for line in lines:
        path, *headers, body = line.split("\t")
        data = body.encode()
        head = "".join(f"{h}\r\n" for h in headers if not h.lower().startswith("host:"))
        out.append(
            f"POST {path} HTTP/1.1\r\nHost: {authority}\r\n{head}"
            f"Content-Length: {len(data)}\r\n\r\n".encode()
            + data
        )
    return out


def rsa_verifies_per_second(seconds: float = 1.0) -> float:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    data = b"(request-target): post /inbox\nhost: example\ndate: now\ndigest: x"
    signature = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    public = key.public_key()
    done = 0
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        for _ in range(100):
            public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        done += 100
    return done / (time.perf_counter() - started)


async def stored_rows(database_url: str, run: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        n: int = await conn.fetchval(
            "SELECT count(*) FROM inbox_activities WHERE ap_id LIKE $1", f"%/statuses/{run}%"
        )
    finally:
        await conn.close()
    return n


def write_pool(name: str, lines: list[str], threads: int) -> Path:
    data = VAR_DIR / f"{name}.tsv"
    data.parent.mkdir(parents=True, exist_ok=True)
    data.write_text("\n".join(lines) + "\n")
    script = VAR_DIR / f"{name}.lua"
    script.write_text(LUA.format(path=data, threads=threads))
    return script


def warm_up(base: str, script: Path, prepared: list[bytes], args: argparse.Namespace) -> Load:
    say(f"warm-up on {base}/inbox")
    return run_load(
        f"{base}/inbox", args.connections, 2, args.threads, warmup=0,
        script=script, prepared=prepared,
    )  # fmt: skip


def rounds_of(
    base: str,
    pools: list[tuple[Path, list[bytes]]],
    args: argparse.Namespace,
    pid: int | None = None,
) -> Callable[[], Load]:
    """A load that sends the next round's pool on each call (the first one profiled
    when --profile is given and `pid` is the server's)."""
    left = list(pools)

    def load() -> Load:
        script, prepared = left.pop(0)
        profile = args.profile if pid is not None and len(left) == len(pools) - 1 else None
        with profiled(pid or 0, args.duration, profile):
            return run_load(
                f"{base}/inbox", args.connections, args.duration, args.threads, warmup=0,
                script=script, prepared=prepared,
            )  # fmt: skip

    return load


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=5, help="seconds per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of stgy and baseline")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--pool", type=int, default=30000, help="signed activities to send")
    parser.add_argument(
        "--profile",
        type=Path,
        help="py-spy flame graph (SVG) of the server; folded stacks if it ends in .txt",
    )
    args = parser.parse_args(argv)

    # The instance's domain is the address it listens on: the signed Host must be ours.
    listen = f"127.0.0.1:{free_port()}"
    bench = bench_config(server_bind=listen, instance_domain=listen)
    say(f"preparing database {bench.config.database.url.rsplit('/', 1)[-1]}")
    prepare_database(bench.env)
    actors = asyncio.run(store_actors(bench.config.database.url))
    run = secrets.token_hex(4)
    warm_count = max(1000, args.pool // 15)
    say(f"signing {args.pool + warm_count} activities")
    started = time.perf_counter()
    lines = sign_pool(f"{bench.base_url}/inbox", actors, args.pool + warm_count, run)
    say(f"signed in {time.perf_counter() - started:.1f} s")
    warm, timed = lines[:warm_count], lines[warm_count:]
    authority = bench.config.server.bind
    per_round = len(timed) // args.rounds
    chunks = [timed[n * per_round : (n + 1) * per_round] for n in range(args.rounds)]
    pools = [
        (write_pool(f"inbox-{n}", chunk, args.threads), raw_requests(chunk, authority))
        for n, chunk in enumerate(chunks)
    ]
    warm_script = write_pool("inbox-warm", warm, args.threads)
    warm_prepared = raw_requests(warm, authority)

    bind = f"127.0.0.1:{free_port()}"
    hello_base = f"http://{bind}"
    with (
        start_server(
            STGY_SERVE, bench.env, f"{bench.base_url}/healthz", log=VAR_DIR / "stgy-inbox.log"
        ) as server,
        start_server(
            hello_argv(bind), bench.env, f"{hello_base}/", log=VAR_DIR / "hello-inbox.log"
        ),
    ):
        warmed = warm_up(bench.base_url, warm_script, warm_prepared, args)
        warm_up(hello_base, warm_script, warm_prepared, args)
        got = interleaved(
            {
                "stgy": rounds_of(bench.base_url, pools, args, server.pid),
                "hello": rounds_of(hello_base, pools, args),
            },
            args.rounds,
        )
    stgy, hello = got["stgy"], got["hello"]
    stored = asyncio.run(stored_rows(bench.config.database.url, run))
    verifies = rsa_verifies_per_second()

    report("inbox_rps", stgy.rps, "req/s", hello.rps)
    report("inbox_p50", stgy.p50_ms, "ms", hello.p50_ms)
    report("inbox_p99", stgy.p99_ms, "ms", hello.p99_ms)
    report("inbox_errors", stgy.errors, "responses", hello.errors)
    report("inbox_stored", stored, "activities")
    report("rsa2048_verify", verifies, "verifies/s")
    sent = warmed.requests + stgy.requests
    if stored != sent:
        say(f"{stored} activities stored for {sent} requests")
    if stgy.requests > len(timed) or warmed.requests > len(warm):
        say(f"the pool of {len(timed)} ran out: raise --pool (later requests were duplicates)")
    if stgy.errors or hello.errors:
        say(f"errors: stgy {stgy.errors} of {stgy.requests}, baseline {hello.errors}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
