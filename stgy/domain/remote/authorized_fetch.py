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
from stgy.domain.remote.remote_keys import SenderKeys, host_of, is_blocked
from stgy.services import Services

# The keyId (draft-cavage Signature) or keyid (RFC 9421 Signature-Input) parameter. Only a
# hint to look the sender up before verifying (which parses the header properly).
_KEY_ID_RE = re.compile(r'keyid="([^"]*)"', re.IGNORECASE)


def claimed_key_id(headers: dict[str, str]) -> str | None:
    """The key id a request says it is signed with, before anything is checked."""
    value = headers.get("signature-input") or headers.get("signature")
    found = _KEY_ID_RE.search(value) if value else None
    return found.group(1) if found else None


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
    host = host_of(claimed) if claimed else None
    if claimed is None or host is None:
        raise Unauthorized("this instance requires signed fetches (authorized fetch)")
    sender = await SenderKeys.look_up(services, host, claimed)
    if sender.blocked:
        raise Forbidden("this instance is blocked")
    try:
        verified = await signatures.verify_request(
            method, path_with_query, lowered, None, sender.resolve, now=now, scheme=scheme
        )
    except SignatureError as exc:
        raise Unauthorized(exc.reason) from None
    if verified.key_id != claimed:
        # Only when the key verified is not the one first claimed (several signatures).
        signer_host = host_of(verified.key_id)
        if signer_host is None or await is_blocked(services, signer_host):
            raise Forbidden("this instance is blocked")
    return verified.key_id
