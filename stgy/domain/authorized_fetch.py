"""Authorized fetch (Mastodon's secure mode): with `federation.authorized_fetch`, GETs of
our actors, objects and collections must be signed by a server we do not block.

The signature is checked as at the inbox (draft-cavage or RFC 9421, the key fetched and
cached as the signer's remote account, refetched once on failure). An instance whose
key id names a blocked domain is refused before its key is fetched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from federation import signatures
from federation.httpsig import SignatureError, lowercase_headers
from stgy.domain.errors import Forbidden, Unauthorized
from stgy.domain.remote_keys import host_of, is_blocked, key_resolver
from stgy.services import Services

_KEYID_RE = re.compile(r'keyid="([^"]*)"', re.IGNORECASE)


def claimed_key_id(headers: dict[str, str]) -> str | None:
    """The key id a request says it is signed with, before anything is checked."""
    if "signature-input" in headers:
        found = _KEYID_RE.search(headers["signature-input"])
        return found.group(1) if found else None
    if "signature" in headers:
        try:
            return signatures.parse_signature_header(headers["signature"]).key_id
        except SignatureError:
            return None
    return None


async def _refuse_blocked(services: Services, key_id: str) -> None:
    host = host_of(key_id)
    if host is None:
        raise Unauthorized("the key id is not an http(s) URL")
    if await is_blocked(services, host):
        raise Forbidden("this instance is blocked")


async def check_signed_get(
    services: Services,
    *,
    method: str,
    path_with_query: str,
    headers: Iterable[tuple[str, str]],
    scheme: str,
    now: datetime,
) -> str:
    """The verified key id of a signed GET; Unauthorized (401) when it is unsigned or the
    signature fails, Forbidden (403) when the signer's instance is blocked."""
    lowered = lowercase_headers(list(headers))
    claimed = claimed_key_id(lowered)
    if claimed is None:
        raise Unauthorized("this instance requires signed fetches (authorized fetch)")
    await _refuse_blocked(services, claimed)
    try:
        verified = await signatures.verify_request(
            method,
            path_with_query,
            lowered,
            None,
            key_resolver(services),
            now=now,
            scheme=scheme,
        )
    except SignatureError as exc:
        raise Unauthorized(exc.reason) from None
    await _refuse_blocked(services, verified.key_id)
    return verified.key_id
