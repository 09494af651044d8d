"""Object storage for media: one small interface, a local-disk and an S3 backend.

Keys are relative paths of ASCII letters, digits, `.`, `_`, `-` and `/`
(`media/1234/small.jpg`); `url` is where a browser fetches a key. Uploads that
wait for processing live under `incoming/` and are never served.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

INCOMING = "incoming/"
_KEY_RE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$")
# Content types by the extensions our keys end with (mimetypes varies between systems).
CONTENT_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
}
# Renditions never change under a key (a new upload gets new keys): cache for a year.
CACHE_CONTROL = "public, max-age=31536000, immutable"


class BlobError(Exception):
    """The store refused or failed an operation."""


def valid_key(key: str) -> bool:
    """A key we make and serve: no empty, `.`-led or `..` segments, no absolute paths."""
    return len(key) <= 512 and _KEY_RE.match(key) is not None


def content_type_of(key: str) -> str:
    suffix = os.path.splitext(key)[1].lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


def incoming_key(media_id: int) -> str:
    """Where a raw upload waits: unguessable, as a public bucket would serve it."""
    return f"{INCOMING}{media_id}-{secrets.token_hex(16)}"


@dataclass(frozen=True)
class LocalFile:
    """A stored file on local disk, for serving: its path, size and modification time."""

    path: Path
    size: int
    mtime_ns: int

    @property
    def etag(self) -> str:
        return f"{self.size:x}-{self.mtime_ns:x}"


class BlobStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def delete(self, keys: list[str]) -> None: ...

    def url(self, key: str) -> str: ...

    async def close(self) -> None: ...


class LocalBlobStore:
    """Files under a folder, served by the app itself at `{base_url}/media/{key}`."""

    def __init__(self, root: Path, base_url: str) -> None:
        self.root = root
        self.base_url = base_url.rstrip("/")

    def _path(self, key: str) -> Path:
        if not valid_key(key):
            raise BlobError(f"invalid key {key!r}")
        return self.root / key

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed, so a reader never sees half a file.
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, keys: list[str]) -> None:
        def remove() -> None:
            for key in keys:
                self._path(key).unlink(missing_ok=True)

        await asyncio.to_thread(remove)

    def url(self, key: str) -> str:
        return f"{self.base_url}/media/{key}"

    def find(self, key: str) -> LocalFile | None:
        """A servable file: never one under incoming/, never outside the folder."""
        if not valid_key(key) or key.startswith(INCOMING):
            return None
        path = self.root / key
        try:
            resolved = path.resolve(strict=True)
            if not resolved.is_relative_to(self.root.resolve()):
                return None
            stat = resolved.stat()
        except (OSError, RuntimeError):
            return None
        if not resolved.is_file():
            return None
        return LocalFile(resolved, stat.st_size, stat.st_mtime_ns)

    async def close(self) -> None:
        return None


class S3BlobStore:
    """Objects in an S3-compatible bucket; boto3 is synchronous, so calls run in threads."""

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None,
        region: str | None,
        access_key: str | None,
        secret_key: str | None,
        public_url: str | None,
    ) -> None:
        import boto3
        from botocore.config import Config as BotoConfig

        self.bucket = bucket
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None,
            config=BotoConfig(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
            ),
        )
        if public_url:
            self.public_base = public_url.rstrip("/")
        elif endpoint_url:
            self.public_base = f"{endpoint_url.rstrip('/')}/{bucket}"
        else:
            self.public_base = f"https://{bucket}.s3.amazonaws.com"

    async def _call(self, method: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return await asyncio.to_thread(getattr(self.client, method), **kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if method == "get_object" and code in ("NoSuchKey", "404"):
                return None
            raise BlobError(f"s3 {method} failed: {code or exc}") from exc
        except BotoCoreError as exc:
            raise BlobError(f"s3 {method} failed: {type(exc).__name__}") from exc

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        if not valid_key(key):
            raise BlobError(f"invalid key {key!r}")
        await self._call(
            "put_object",
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType=content_type,
            CacheControl=CACHE_CONTROL,
        )

    async def get(self, key: str) -> bytes | None:
        found = await self._call("get_object", Bucket=self.bucket, Key=key)
        if found is None:
            return None
        body = found["Body"]
        try:
            data: bytes = await asyncio.to_thread(body.read)
        finally:
            body.close()
        return data

    async def delete(self, keys: list[str]) -> None:
        # DeleteObjects takes at most 1000 keys; deleting a missing key succeeds.
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            await self._call(
                "delete_objects", Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
            )

    def url(self, key: str) -> str:
        return f"{self.public_base}/{key}"

    async def close(self) -> None:
        await asyncio.to_thread(self.client.close)
