"""The client of an OpenAI-compatible model server: chat answers as validated JSON, embeddings.

One protocol (`POST {base_url}/chat/completions`, `POST {base_url}/embeddings`) serves
OpenAI, Ollama, vLLM, llama.cpp's server and LM Studio. Every call has a timeout
(`ai.timeout`), waits for a slot (`ai.concurrency` at once, `ai.requests_per_minute`
per process), and is tried again with a growing wait when the server answers 429 or
5xx or the connection fails (`ai.retries` more times; a `Retry-After` is honoured up to
a minute). A chat answer must be JSON valid against the schema that was asked for
(`response_format` with a JSON schema), else the call fails with ModelError. The API
key goes in the Authorization header only and is never logged.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx
import orjson
from pydantic import BaseModel, ValidationError

from stgy.config import AiConfig

log = logging.getLogger("stgy.agents")

M = TypeVar("M", bound=BaseModel)

# An answer longer than this many characters per token asked for is refused as too long.
CHARS_PER_TOKEN = 8
MAX_RETRY_AFTER = 60.0


class ModelError(Exception):
    """A model call gave nothing usable: `kind` is one of timeout, unavailable, http,
    empty, too_long, invalid."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
        )


@dataclass(frozen=True)
class Answer(Generic[M]):
    value: M
    usage: Usage


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The schema sent as `response_format` and checked against: pydantic's, from the
    same model that validates the answer."""
    return model.model_json_schema()


def _usage(body: dict[str, Any]) -> Usage:
    usage = body.get("usage")
    if not isinstance(usage, dict):
        return Usage()
    prompt = usage.get("prompt_tokens")
    completion = usage.get("completion_tokens")
    return Usage(
        prompt if isinstance(prompt, int) else 0,
        completion if isinstance(completion, int) else 0,
    )


class RequestPacer:
    """At most `per_minute` call starts a minute in this process, evenly spaced."""

    def __init__(self, per_minute: int) -> None:
        self.spacing = 60.0 / per_minute
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.spacing
        if start > now:
            await asyncio.sleep(start - now)


class ModelClient:
    """Chat and embedding calls to the configured server; made once per process."""

    def __init__(self, config: AiConfig, http: httpx.AsyncClient | None = None) -> None:
        self.config = config
        headers = {"Content-Type": "application/json"}
        if config.api_key:
            headers["Authorization"] = f"Bearer {config.api_key}"
        self._owns_http = http is None
        self.http = http or httpx.AsyncClient(
            base_url=config.base_url.rstrip("/") + "/",
            timeout=httpx.Timeout(config.timeout),
            headers=headers,
        )
        self._slots = asyncio.Semaphore(config.concurrency)
        self._pacer = RequestPacer(config.requests_per_minute)

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    async def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST JSON, trying again on 429/5xx and failed connections; the answer's JSON."""
        content = orjson.dumps(payload)
        attempt = 0
        while True:
            wait: float | None = None
            async with self._slots:
                await self._pacer.wait()
                try:
                    response = await self.http.post(path, content=content)
                except httpx.TimeoutException:
                    raise ModelError(
                        "timeout", f"{path}: no answer in {self.config.timeout:g} s"
                    ) from None
                except httpx.TransportError as exc:
                    failure = ModelError("unavailable", f"{path}: {type(exc).__name__}")
                else:
                    status = response.status_code
                    if status == 200:
                        try:
                            body = orjson.loads(response.content)
                        except orjson.JSONDecodeError:
                            raise ModelError("http", f"{path}: answer is not JSON") from None
                        if not isinstance(body, dict):
                            raise ModelError("http", f"{path}: answer is not a JSON object")
                        return body
                    failure = ModelError("http", f"{path}: status {status}")
                    if status != 429 and status < 500:
                        raise failure
                    wait = _retry_after(response.headers.get("Retry-After"))
            if attempt >= self.config.retries:
                raise failure
            attempt += 1
            if wait is None:
                wait = min(30.0, 0.5 * 2**attempt) * (0.5 + random.random() / 2)  # noqa: S311
            log.info("model_retry path=%s attempt=%d wait_s=%.1f", path, attempt, wait)
            await asyncio.sleep(wait)

    async def chat(self, *, system: str, user: str, schema: type[M], name: str) -> Answer[M]:
        """Ask for one JSON answer valid against `schema`; ModelError when there is none."""
        payload = {
            "model": self.config.chat_model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
            "max_tokens": self.config.max_tokens,
            "temperature": 0.7,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": name, "strict": True, "schema": json_schema(schema)},
            },
        }
        body = await self._post("chat/completions", payload)
        usage = _usage(body)
        choices = body.get("choices")
        choice = choices[0] if isinstance(choices, list) and choices else None
        message = choice.get("message") if isinstance(choice, dict) else None
        text = message.get("content") if isinstance(message, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise ModelError("empty", f"{name}: no content")
        if (isinstance(choice, dict) and choice.get("finish_reason") == "length") or len(
            text
        ) > self.config.max_tokens * CHARS_PER_TOKEN:
            raise ModelError("too_long", f"{name}: answer cut at max_tokens")
        try:
            value = schema.model_validate_json(text)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "answer"
            raise ModelError("invalid", f"{name}: {where}: {first.get('msg', '')}") from None
        return Answer(value, usage)

    async def embed(self, texts: list[str]) -> tuple[list[list[float]], Usage]:
        """One unit-length embedding per text, in order."""
        if not texts:
            return [], Usage()
        body = await self._post(
            "embeddings", {"model": self.config.embedding_model, "input": texts}
        )
        data = body.get("data")
        if not isinstance(data, list) or len(data) != len(texts):
            raise ModelError("invalid", "embeddings: not one vector per input")
        vectors: list[list[float]] = []
        for item in sorted(data, key=lambda d: d.get("index", 0) if isinstance(d, dict) else 0):
            vector = item.get("embedding") if isinstance(item, dict) else None
            if not isinstance(vector, list) or not vector:
                raise ModelError("invalid", "embeddings: a vector is missing")
            try:
                floats = [float(x) for x in vector]
            except (TypeError, ValueError):
                raise ModelError("invalid", "embeddings: a vector holds a non-number") from None
            vectors.append(normalised(floats))
        return vectors, _usage(body)


def normalised(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    if not norm or not math.isfinite(norm):
        raise ModelError("invalid", "embeddings: a zero or non-finite vector")
    return [x / norm for x in vector]


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(0.0, min(seconds, MAX_RETRY_AFTER)) if math.isfinite(seconds) else None
