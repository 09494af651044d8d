"""Body digests: the legacy `Digest` header (RFC 3230) and RFC 9530 `Content-Digest`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable

import http_sf

# Algorithms we compute, by their lowercase name in both headers.
_ALGORITHMS: dict[str, Callable[[bytes], bytes]] = {
    "sha-256": lambda body: hashlib.sha256(body).digest(),
    "sha-512": lambda body: hashlib.sha512(body).digest(),
}


def make_digest(body: bytes) -> str:
    """The `Digest` header value Mastodon sends and checks: `SHA-256=<base64>`."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def make_content_digest(body: bytes) -> str:
    """The RFC 9530 `Content-Digest` header value: `sha-256=:<base64>:`."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def verify_digest(value: str, body: bytes) -> bool:
    """Whether a `Digest` header value matches the body.

    Every algorithm we know that the header lists must match; algorithms we do
    not know are skipped, and a header listing none we know does not match.
    """
    checked = False
    for entry in value.split(","):
        name, equals, encoded = entry.strip().partition("=")
        if not equals:
            return False
        compute = _ALGORITHMS.get(name.strip().lower())
        if compute is None:
            continue
        try:
            claimed = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        if not hmac.compare_digest(claimed, compute(body)):
            return False
        checked = True
    return checked


def verify_content_digest(value: str, body: bytes) -> bool:
    """Whether a `Content-Digest` header value (a structured dictionary) matches the body.

    The same rule as `verify_digest`: each known algorithm present must match,
    unknown ones are skipped, and at least one known one must be present.
    """
    try:
        members = http_sf.parse(value.encode("ascii"), tltype="dictionary")
    except (ValueError, UnicodeEncodeError):
        return False
    if not isinstance(members, dict):
        return False
    checked = False
    for name, member in members.items():
        compute = _ALGORITHMS.get(name)
        if compute is None:
            continue
        claimed = member[0] if isinstance(member, tuple) else member
        if not isinstance(claimed, bytes) or not hmac.compare_digest(claimed, compute(body)):
            return False
        checked = True
    return checked
