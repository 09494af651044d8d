"""A fake OpenAI-compatible model server on loopback: records what it is asked and
answers scripted JSON (chat) and word-hash vectors (embeddings)."""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DIMS = 64


def embedding_of(text: str, dims: int = DIMS) -> list[float]:
    """A bag of words hashed into `dims` buckets: texts sharing words come out close."""
    vector = [0.0] * dims
    for word in re.findall(r"\w+", text.lower()):
        bucket = int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "big") % dims
        vector[bucket] += 1.0
    if not any(vector):
        vector[0] = 1.0
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector]


@dataclass
class Reply:
    """One scripted answer: a status, the message content (None: no choices), a delay."""

    content: str | None = None
    status: int = 200
    delay: float = 0.0
    finish_reason: str = "stop"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeModel:
    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)
    # Scripted answers by schema name ("decision", "post_summary"); when none is left,
    # `default` answers decisions and summaries are made from the text.
    script: dict[str, deque[Reply]] = field(default_factory=dict)
    default: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, name: str, *replies: Reply | dict[str, Any]) -> None:
        queue = self.script.setdefault(name, deque())
        for reply in replies:
            queue.append(reply if isinstance(reply, Reply) else Reply(json.dumps(reply)))

    def chats(self, name: str | None = None) -> list[dict[str, Any]]:
        return [
            r
            for r in self.requests
            if r["path"].endswith("/chat/completions")
            and (name is None or r["body"]["response_format"]["json_schema"]["name"] == name)
        ]

    def prompt(self, index: int = -1, name: str = "decision") -> str:
        messages = self.chats(name)[index]["body"]["messages"]
        return "\n".join(m["content"] for m in messages)

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.authorizations.clear()
            self.script.clear()
            self.default = {}

    def _next(self, name: str, body: dict[str, Any]) -> Reply:
        with self.lock:
            queue = self.script.get(name)
            if queue:
                return queue.popleft()
        if name == "post_summary":
            text = body["messages"][-1]["content"]
            return Reply(json.dumps({"summary": text[:80], "tags": ["topic"]}))
        default = self.default or {
            "posts": [],
            "accounts": [],
            "new_post": "",
            "interests": "",
            "interest_tags": [],
        }
        return Reply(json.dumps(default))


def start_fake_model() -> tuple[FakeModel, ThreadingHTTPServer]:
    fake = FakeModel()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def _send(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length))
            with fake.lock:
                fake.requests.append({"path": self.path, "body": body})
                fake.authorizations.append(self.headers.get("Authorization", ""))
            if self.path.endswith("/embeddings"):
                inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
                data = [
                    {"object": "embedding", "index": i, "embedding": embedding_of(text)}
                    for i, text in enumerate(inputs)
                ]
                usage = {"prompt_tokens": 3 * len(inputs), "total_tokens": 3 * len(inputs)}
                self._send(200, {"object": "list", "data": data, "usage": usage}, {})
                return
            name = body["response_format"]["json_schema"]["name"]
            reply = fake._next(name, body)
            if reply.delay:
                time.sleep(reply.delay)
            if reply.status != 200:
                self._send(reply.status, {"error": {"message": "scripted"}}, reply.headers)
                return
            choices = []
            if reply.content is not None:
                choices.append(
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply.content},
                        "finish_reason": reply.finish_reason,
                    }
                )
            usage = {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
            self._send(200, {"id": "x", "choices": choices, "usage": usage}, reply.headers)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server
