"""A bare inbox for delivery benchmarks: any POST is answered 202 at once (keep-alive).

`python bench/inbox_receiver.py PORT` serves every host name on 127.0.0.1:PORT (the
benchmarks use `i{n}.localhost:PORT`, one instance per name). `GET /count` answers
`{"posts": N, "hosts": H, "first": t0, "last": t1}` (monotonic clock times of the first and
last POST) and `DELETE /count` resets it. Kept minimal so that it is not the bottleneck.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

ACCEPTED = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"


class Counts:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.posts = 0
        self.hosts: set[bytes] = set()
        self.first = 0.0
        self.last = 0.0


COUNTS = Counts()


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            method = lines[0].split(b" ", 1)[0]
            length, host = 0, b""
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                lowered = name.strip().lower()
                if lowered == b"content-length":
                    length = int(value)
                elif lowered == b"host":
                    host = value.strip()
            if length:
                await reader.readexactly(length)
            if method == b"POST":
                now = time.monotonic()
                COUNTS.first = COUNTS.first or now
                COUNTS.last = now
                COUNTS.posts += 1
                COUNTS.hosts.add(host)
                writer.write(ACCEPTED)
            else:
                if method == b"DELETE":
                    COUNTS.reset()
                body = json.dumps(
                    {
                        "posts": COUNTS.posts,
                        "hosts": len(COUNTS.hosts),
                        "first": COUNTS.first,
                        "last": COUNTS.last,
                    }
                ).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                    + str(len(body)).encode()
                    + b"\r\n\r\n"
                    + body
                )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(int(sys.argv[1])))
