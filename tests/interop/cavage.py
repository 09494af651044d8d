"""draft-cavage-http-signatures-12, written from the draft for the test peer: not our code.

The peer signs like Mastodon (rsa-sha256 over "(request-target) host date
digest content-type", a legacy `Digest: SHA-256=...`) and checks what we send
with this verifier, so a mistake in `federation/signatures.py` cannot hide
behind the same mistake on both sides.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

MASTODON_POST_HEADERS = ("(request-target)", "host", "date", "digest", "content-type")
_PARAM = re.compile(r'\s*([A-Za-z]+)="([^"]*)"\s*(?:,|$)')


class CavageError(Exception):
    """Why a request's draft-cavage signature was not accepted."""


def body_digest(body: bytes) -> str:
    """RFC 3230 `Digest` value with SHA-256, as Mastodon sends and checks it."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def signing_string(
    method: str, target: str, headers: Mapping[str, str], names: tuple[str, ...]
) -> bytes:
    """Section 2.3: each covered name, lowercased, `name: value`, joined by newlines."""
    lower = {key.lower(): value for key, value in headers.items()}
    lines = []
    for name in names:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target}")
        elif name in lower:
            lines.append(f"{name}: {lower[name].strip()}")
        else:
            raise CavageError(f"covered header {name} is missing")
    return "\n".join(lines).encode()


def sign_post(
    url_host: str, target: str, body: bytes, key_id: str, private_pem: str
) -> dict[str, str]:
    """The headers Mastodon puts on an inbox POST (app/lib/request.rb's shape)."""
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    headers = {
        "Host": url_host,
        "Date": format_datetime(datetime.now(UTC), usegmt=True),
        "Digest": body_digest(body),
        "Content-Type": "application/activity+json",
    }
    data = signing_string("POST", target, headers, MASTODON_POST_HEADERS)
    signature = base64.b64encode(key.sign(data, padding.PKCS1v15(), hashes.SHA256())).decode()
    headers["Signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",'
        f'headers="{" ".join(MASTODON_POST_HEADERS)}",signature="{signature}"'
    )
    return headers


def parse_signature(value: str) -> dict[str, str]:
    """Section 2.1: comma-separated `name="value"` parameters."""
    params: dict[str, str] = {}
    position = 0
    while position < len(value):
        match = _PARAM.match(value, position)
        if match is None:
            raise CavageError(f"malformed Signature header at {position}")
        params[match.group(1)] = match.group(2)
        position = match.end()
    for required in ("keyId", "signature"):
        if required not in params:
            raise CavageError(f"Signature has no {required}")
    return params


def verify(
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: bytes | None,
    public_pem_for: Mapping[str, str],
    *,
    required: tuple[str, ...],
    now: datetime | None = None,
) -> str:
    """Check a request as a Mastodon-like server would; return the key id that signed it."""
    lower = {key.lower(): value for key, value in headers.items()}
    if "signature" not in lower:
        raise CavageError("no Signature header")
    params = parse_signature(lower["signature"])
    if params.get("algorithm", "rsa-sha256") not in ("rsa-sha256", "hs2019"):
        raise CavageError(f"algorithm {params['algorithm']} not supported")
    names = tuple(params.get("headers", "date").lower().split())
    missing = [name for name in required if name not in names]
    if missing:
        raise CavageError(f"not covered: {' '.join(missing)}")
    if body is not None and lower.get("digest") != body_digest(body):
        raise CavageError("Digest does not match the body")
    sent = parsedate_to_datetime(lower["date"])
    if abs(((now or datetime.now(UTC)) - sent).total_seconds()) > 3600:
        raise CavageError("Date is more than an hour off")
    pem = public_pem_for.get(params["keyId"])
    if pem is None:
        raise CavageError(f"unknown keyId {params['keyId']}")
    key = serialization.load_pem_public_key(pem.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    data = signing_string(method, target, headers, names)
    try:
        key.verify(base64.b64decode(params["signature"]), data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as error:
        raise CavageError("signature does not verify") from error
    return params["keyId"]
