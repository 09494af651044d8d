"""The inbox under a flood of rejected requests: bounded memory, bounded fetches, and valid
deliveries still taken.

One actor server on loopback (in this process) answers for any host: `a{n}.localhost:PORT`
are the flood's 1,000 hosts, one key id each; the first half serve their actor (a valid
document whose key never signed anything sent here), the second half answer 404 (unknown
keys). `good.localhost:PORT` serves the one actor whose deliveries are valid. The instance
runs `stgy serve` with `federation.allow_private_addresses` on, so it fetches from there.

Then: valid deliveries one at a time (the idle p50); RSS once idle; `--requests` rejected
requests (default 50,000: a well-formed draft-cavage signature of random bytes, Date and
Digest right, by key ids taken at random) over `--connections` connections, while a
valid delivery is sent every `--every` seconds on a connection of its own; RSS after
`--idle` seconds of quiet. Prints RSS before / peak / after (target: after within 1.5x of
before), the actor documents fetched (counted at the actor server; without the fetch
limits each rejected request made one), the valid deliveries' p50 and p99 during the
flood beside the idle p50, and how many of them were accepted (202; all must be).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import random
import secrets
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_memory import rss_mb  # noqa: E402 - needs the repo root on sys.path
from bench.common import (  # noqa: E402
    STGY_SERVE,
    VAR_DIR,
    bench_config,
    free_port,
    prepare_database,
    report,
    say,
    start_server,
)
from federation import signatures  # noqa: E402

AS = "https://www.w3.org/ns/activitystreams"
HOSTS = 1000
TODAY_FETCHES_PER_REQUEST = 1  # before the fetch limits: one fetch per rejected request


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


# --- the actor server --------------------------------------------------------


class ActorServer:
    """Serves `/users/<name>` for any Host: `k*` and `good` are actors, the rest 404.
    Counts the GETs it answers, by kind."""

    def __init__(self, flood_pem: str, good_pem: str) -> None:
        self.flood_pem = flood_pem
        self.good_pem = good_pem
        self.fetches: Counter[str] = Counter()
        self.hosts: set[str] = set()

    def document(self, host: str, name: str) -> bytes | None:
        if name == "good":
            pem = self.good_pem
        elif name.startswith("k"):
            pem = self.flood_pem
        else:
            return None
        actor_id = f"http://{host}/users/{name}"
        return orjson.dumps(
            {
                "@context": [AS, "https://w3id.org/security/v1"],
                "id": actor_id,
                "type": "Person",
                "preferredUsername": name,
                "inbox": f"{actor_id}/inbox",
                "followers": f"{actor_id}/followers",
                "publicKey": {"id": f"{actor_id}#main-key", "owner": actor_id, "publicKeyPem": pem},
            }
        )

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                host, length = "", 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.lower() == "host":
                        host = value.strip()
                    elif name.lower() == "content-length":
                        length = int(value)
                if length:
                    await reader.readexactly(length)
                name = path.rsplit("/", 1)[-1]
                body = self.document(host, name)
                kind = "good" if name == "good" else ("served" if body else "missing")
                self.fetches[kind] += 1
                self.hosts.add(host)
                if body is None:
                    writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                else:
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/activity+json\r\n"
                        + f"Content-Length: {len(body)}\r\n\r\n".encode()
                        + body
                    )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            return  # the bench is over: stgy's pooled connections are dropped unanswered
        finally:
            writer.close()


# --- requests ----------------------------------------------------------------


def _create(actor_id: str) -> bytes:
    host = urlsplit(actor_id).netloc
    note_id = f"http://{host}/notes/{secrets.token_hex(8)}"
    return orjson.dumps(
        {
            "@context": AS,
            "id": f"{note_id}/activity",
            "type": "Create",
            "actor": actor_id,
            "to": [f"{AS}#Public"],
            "object": {
                "id": note_id,
                "type": "Note",
                "attributedTo": actor_id,
                "to": [f"{AS}#Public"],
                "content": "<p>flood</p>",
            },
        }
    )


def _raw(authority: str, headers: dict[str, str], body: bytes) -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items() if k.lower() != "host")
    return (
        f"POST /inbox HTTP/1.1\r\nHost: {authority}\r\n{head}"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )


def rejected_request(authority: str, actor_id: str) -> bytes:
    """A request signed the draft-cavage way in every respect but its signature's bytes."""
    body = _create(actor_id)
    headers = {
        "Content-Type": "application/activity+json",
        "Date": signatures.http_date(datetime.now(UTC)),
        "Digest": "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode(),
    }
    junk = base64.b64encode(secrets.token_bytes(256)).decode()
    headers["Signature"] = (
        f'keyId="{actor_id}#main-key",algorithm="rsa-sha256",'
        f'headers="(request-target) host date digest content-type",signature="{junk}"'
    )
    return _raw(authority, headers, body)


def valid_request(base_url: str, authority: str, actor_id: str, private_pem: str) -> bytes:
    body = _create(actor_id)
    headers = {"Content-Type": "application/activity+json"}
    headers |= signatures.sign_request(
        "POST", f"{base_url}/inbox", headers, body, f"{actor_id}#main-key", private_pem
    )
    return _raw(authority, headers, body)


async def _status(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """The answer's status, and whether the server closes the connection after it."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status, closing = int(lines[0].split(" ")[1]), False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length" and int(value):
            await reader.readexactly(int(value))
        elif name.lower() == "connection" and value.strip().lower() == "close":
            closing = True
    return status, closing


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def send(self, request: bytes) -> int:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        writer.write(request)
        await writer.drain()
        try:
            status, closing = await _status(reader)
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise
            # Closed by the server before this request was read: send it again.
            self.close()
            return await self.send(request)
        if closing:  # Hypercorn ends a connection after keep_alive_max_requests
            self.close()
        return status

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


# --- the run -----------------------------------------------------------------


async def _valid_deliveries(
    conn: Connection,
    make: Callable[[], bytes],
    every: float,
    stop: asyncio.Event | None,
    count: int | None,
) -> list[tuple[float, int]]:
    """Send valid deliveries one at a time, every `every` s; (ms, status) each, the time
    from sending to the answer (signing comes before)."""
    found: list[tuple[float, int]] = []
    while (stop is None or not stop.is_set()) and (count is None or len(found) < count):
        request = make()
        started = time.perf_counter()
        status = await conn.send(request)
        found.append(((time.perf_counter() - started) * 1000, status))
        if every:
            await asyncio.sleep(every)
    return found


async def _flood(host: str, port: int, requests: list[bytes], connections: int) -> Counter[int]:
    statuses: Counter[int] = Counter()
    queue = list(reversed(requests))

    async def one() -> None:
        conn = Connection(host, port)
        try:
            while queue:
                statuses[await conn.send(queue.pop())] += 1
        finally:
            conn.close()

    await asyncio.gather(*(one() for _ in range(connections)))
    return statuses


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0


async def run(args: argparse.Namespace) -> int:
    actor_port = free_port()
    bench = bench_config(
        federation_allow_private_addresses=True,
        # Logs of every rejected request would measure the log file, not the server.
        server_workers=1,
    )
    say(f"preparing database {bench.config.database.url.rsplit('/', 1)[-1]}")
    prepare_database(bench.env)
    good_private, good_public = _key_pair()
    _, flood_public = _key_pair()
    actors = ActorServer(flood_public, good_public)
    server = await asyncio.start_server(actors.handle, "127.0.0.1", actor_port)
    # Requests go to the server's port, addressed (Host, signed) to the instance's
    # domain: a delivery signed for another host is refused, valid or not.
    authority = bench.config.instance.domain
    host, port = bench.config.server.bind.rsplit(":", 1)
    good_id = f"http://good.localhost:{actor_port}/users/good"
    keys = [
        f"http://a{n}.localhost:{actor_port}/users/{'k' if n < HOSTS // 2 else 'ghost'}{n}"
        for n in range(HOSTS)
    ]
    rng = random.Random(15)  # noqa: S311 - which key a junk request names
    say(f"preparing {args.requests} rejected requests from {HOSTS} key ids")
    flood = [rejected_request(authority, rng.choice(keys)) for _ in range(args.requests)]

    def valid() -> bytes:
        return valid_request(bench.config.instance.base_url, authority, good_id, good_private)

    log = VAR_DIR / "stgy-inbox-flood.log"
    with start_server(STGY_SERVE, bench.env, f"{bench.base_url}/healthz", log=log) as proc:
        conn = Connection(host, int(port))
        idle = await _valid_deliveries(conn, valid, 0.0, None, args.idle_deliveries)
        await asyncio.sleep(2.0)
        rss_before = rss_mb(proc.pid)
        say(f"idle: RSS {rss_before:.1f} MB; flooding")
        fetches_before = sum(actors.fetches.values())
        stop = asyncio.Event()
        peak = rss_before

        async def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, rss_mb(proc.pid))
                await asyncio.sleep(0.5)

        started = time.perf_counter()
        sampler = asyncio.create_task(sample())
        during_task = asyncio.create_task(_valid_deliveries(conn, valid, args.every, stop, None))
        statuses = await _flood(host, int(port), flood, args.connections)
        stop.set()
        during = await during_task
        await sampler
        seconds = time.perf_counter() - started
        say(f"flood of {args.requests} in {seconds:.1f} s; idle {args.idle:.0f} s")
        await asyncio.sleep(args.idle)
        rss_after = rss_mb(proc.pid)
        conn.close()
    server.close()
    await server.wait_closed()

    fetched = sum(actors.fetches.values()) - fetches_before
    idle_ms = [ms for ms, _ in idle]
    during_ms = [ms for ms, _ in during]
    accepted = sum(1 for _, status in during if status == 202)
    say(f"flood answers: {dict(sorted(statuses.items()))}; fetches by kind: {dict(actors.fetches)}")
    report("flood_requests", args.requests, "requests", None)
    report("flood_rate", args.requests / seconds, "req/s")
    report("flood_rss_before", rss_before, "MB")
    report("flood_rss_peak", peak, "MB", rss_before)
    report("flood_rss_after_idle", rss_after, "MB", rss_before)
    report(
        "flood_actor_fetches",
        fetched,
        "fetches",
        args.requests * TODAY_FETCHES_PER_REQUEST,
    )
    report("flood_hosts_fetched", len(actors.hosts) - 1, "hosts")
    report("valid_p50_during_flood", statistics.median(during_ms), "ms", statistics.median(idle_ms))
    report("valid_p99_during_flood", _percentile(during_ms, 99), "ms", _percentile(idle_ms, 99))
    report("valid_accepted_during_flood", accepted, f"of {len(during)}")
    rejected_ok = sum(n for status, n in statuses.items() if 400 <= status < 500)
    report("flood_answered_4xx", rejected_ok, f"of {args.requests}")
    failed = accepted != len(during) or any(s >= 500 for s in statuses)
    if rss_after > 1.5 * rss_before:
        say(f"RSS after the flood is {rss_after / rss_before:.2f}x idle (target 1.5x)")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=50_000, help="rejected requests")
    parser.add_argument("--connections", type=int, default=16, help="flood connections")
    parser.add_argument("--every", type=float, default=0.05, help="s between valid deliveries")
    parser.add_argument("--idle-deliveries", type=int, default=100, help="before the flood")
    parser.add_argument("--idle", type=float, default=10.0, help="s of quiet after the flood")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
