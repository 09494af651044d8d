"""HTTP Signatures: draft-cavage-12 signing and verification, and the dispatch between schemes.

`verify_request` is the one entry point for incoming requests: it reads RFC 9421
signatures (`Signature-Input` present, see `federation.rfc9421`) and
draft-cavage ones (a lone `Signature` header). The pieces both schemes share
live in `federation.httpsig`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from federation import rfc9421
from federation.digests import make_digest
from federation.httpsig import (
    MAX_AGE,
    MAX_FUTURE,
    REQUIRED_HEADERS,
    KeyResolver,
    PublicKey,
    SignatureError,
    VerifiedSignature,
    check_body_digests,
    check_expires,
    check_time,
    load_private_key,
    lowercase_headers,
    normalized_authority,
    parse_http_date,
    parse_timestamp,
    required_for,
    verify_with_key_refresh,
)

__all__ = [
    "MAX_AGE",
    "MAX_FUTURE",
    "REQUIRED_HEADERS",
    "CavageSignature",
    "KeyResolver",
    "SignatureError",
    "VerifiedSignature",
    "http_date",
    "parse_signature_header",
    "sign_request",
    "verify_request",
]

_SUPPORTED_ALGORITHMS = ("rsa-sha256", "hs2019")


@dataclass(frozen=True, slots=True)
class CavageSignature:
    """A parsed draft-cavage `Signature` header.

    `algorithm` is lowercased and None when absent; `headers` is the lowercased
    covered list, defaulted as Mastodon does ("(created)" for hs2019, else "date").
    `created` and `expires` keep their text, which the signing string repeats.
    """

    key_id: str
    algorithm: str | None
    headers: tuple[str, ...]
    signature: bytes
    created: str | None = None
    expires: str | None = None


# ---- draft-cavage: signing --------------------------------------------------


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key_pem: str,
    *,
    now: datetime | None = None,
    signed_headers: Sequence[str] | None = None,
) -> dict[str, str]:
    """The headers to add to a request to sign it the draft-cavage way, as Mastodon expects.

    Returns Host, Date (unless `headers` has one), Digest (when there is a
    body) and Signature. The signature covers "(request-target) host date",
    plus "digest content-type" with a body or "accept" without one, each when
    present; `signed_headers` overrides that list. RSA keys sign rsa-sha256,
    Ed25519 keys hs2019.
    """
    if '"' in key_id:
        raise ValueError("a draft-cavage keyId cannot hold a double quote")
    key = load_private_key(private_key_pem)
    given = lowercase_headers(headers)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    added = {"Host": given.get("host") or normalized_authority(parts.scheme, parts.netloc)}
    if "date" not in given:
        added["Date"] = http_date(now or datetime.now(UTC))
    if body is not None:
        added["Digest"] = make_digest(body)
    values = given | lowercase_headers(added)
    if signed_headers is None:
        wanted = ["(request-target)", "host", "date"]
        wanted += ["digest", "content-type"] if body is not None else ["accept"]
        covered = [name for name in wanted if name.startswith("(") or name in values]
    else:
        covered = [name.lower() for name in signed_headers]
    lines = []
    for name in covered:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target}")
        elif name in values:
            lines.append(f"{name}: {values[name]}")
        else:
            raise ValueError(f"cannot sign {name}: the request has no such header")
    data = "\n".join(lines).encode("utf-8")
    if isinstance(key, rsa.RSAPrivateKey):
        algorithm, raw = "rsa-sha256", key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        algorithm, raw = "hs2019", key.sign(data)
    else:
        raise ValueError("draft-cavage signing needs an RSA or Ed25519 key")
    added["Signature"] = (
        f'keyId="{key_id}",algorithm="{algorithm}",headers="{" ".join(covered)}",'
        f'signature="{base64.b64encode(raw).decode("ascii")}"'
    )
    return added


def http_date(moment: datetime) -> str:
    """An IMF-fixdate (RFC 7231), e.g. "Sun, 05 Jan 2014 21:31:40 GMT"."""
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


# ---- draft-cavage: parsing --------------------------------------------------

_NAME = re.compile(r"[A-Za-z0-9_-]+")
_TOKEN = re.compile(r"[^\s,\"]+")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPED = re.compile(r"\\(.)")
_INTEGER = re.compile(r"\d{1,15}")
_NUMBER = re.compile(r"\d{1,15}(?:\.\d{1,9})?")


def parse_signature_header(value: str) -> CavageSignature:
    """Parse a draft-cavage `Signature` header value; SignatureError if it is malformed."""
    params = _parse_params(value)
    key_id = params.get("keyid")
    if not key_id:
        raise SignatureError("malformed signature header", "keyId missing")
    encoded = params.get("signature")
    if not encoded:
        raise SignatureError("malformed signature header", "signature missing")
    try:
        signature = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise SignatureError("malformed signature header", "signature is not base64") from error
    algorithm = params["algorithm"].lower() if "algorithm" in params else None
    if "headers" in params:
        headers = tuple(params["headers"].lower().split())
        if not headers:
            raise SignatureError("malformed signature header", "headers is empty")
    else:
        headers = ("(created)",) if algorithm in (None, "hs2019") else ("date",)
    created, expires = params.get("created"), params.get("expires")
    if created is not None and not _INTEGER.fullmatch(created):
        raise SignatureError("malformed signature header", "created is not an integer")
    if expires is not None and not _NUMBER.fullmatch(expires):
        raise SignatureError("malformed signature header", "expires is not a number")
    return CavageSignature(key_id, algorithm, headers, signature, created, expires)


def _parse_params(value: str) -> dict[str, str]:
    params: dict[str, str] = {}
    position, end = 0, len(value)
    while True:
        while position < end and value[position] in " \t":
            position += 1
        if position >= end:
            break
        name = _NAME.match(value, position)
        if name is None or name.end() >= end or value[name.end()] != "=":
            raise SignatureError("malformed signature header", f"expected name= at {position}")
        position = name.end() + 1
        quoted = _QUOTED.match(value, position)
        if quoted is not None:
            text = quoted.group(1)
            if "\\" in text:
                text = _ESCAPED.sub(r"\1", text)
        elif (token := _TOKEN.match(value, position)) is not None:
            quoted, text = token, token.group(0)
        else:
            raise SignatureError("malformed signature header", f"no value at {position}")
        key = name.group(0).lower()
        if key in params:
            raise SignatureError("malformed signature header", f"{name.group(0)} repeated")
        params[key] = text
        position = quoted.end()
        while position < end and value[position] in " \t":
            position += 1
        if position < end:
            if value[position] != ",":
                raise SignatureError("malformed signature header", f"expected , at {position}")
            position += 1
    return params


# ---- verification -----------------------------------------------------------


async def verify_request(
    method: str,
    path_with_query: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: bytes | None,
    key_resolver: KeyResolver,
    *,
    now: datetime,
    max_age: timedelta = MAX_AGE,
    max_future: timedelta = MAX_FUTURE,
    required_headers: Sequence[str] | None = None,
    scheme: str = "https",
) -> VerifiedSignature:
    """Verify an incoming request's HTTP signature, RFC 9421 or draft-cavage.

    `headers` may be any mapping (looked up case-insensitively) or the raw
    (name, value) pairs. `body` is the raw body; pass it for every request that
    has one, since the digest checks need it. `required_headers` defaults to
    "(request-target) host date", plus "digest" for a non-empty body; "date"
    is also met by a signed created time and "digest" by Content-Digest.
    The signed time must lie within [now - max_age, now + max_future].
    `scheme` is what the request arrived over, for RFC 9421's @target-uri.
    The public key comes from `key_resolver` (see KeyResolver), asked again
    with refresh=True, once, when the signature does not verify with it.
    Raises SignatureError naming what failed.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    lowered = lowercase_headers(headers)
    if "signature-input" in lowered:
        return await rfc9421.verify_request(
            method,
            path_with_query,
            lowered,
            body,
            key_resolver,
            now=now,
            max_age=max_age,
            max_future=max_future,
            required_headers=required_headers,
            scheme=scheme,
        )
    if "signature" not in lowered:
        raise SignatureError("no signature")
    required = required_for(body, required_headers)
    signature = parse_signature_header(lowered["signature"])
    algorithm = signature.algorithm or "hs2019"
    if algorithm not in _SUPPORTED_ALGORITHMS:
        raise SignatureError("unsupported algorithm", algorithm)
    covered = set(signature.headers)
    for name in required:
        if not _is_covered(name, covered):
            raise SignatureError(f"header {name} not signed")
    data = _signing_string(signature, algorithm, method, path_with_query, lowered)
    _check_cavage_times(signature, lowered, now=now, max_age=max_age, max_future=max_future)
    check_body_digests(lowered, body)

    def verifies(key: PublicKey) -> bool:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature.signature, data, padding.PKCS1v15(), hashes.SHA256())
            return True
        if isinstance(key, ed25519.Ed25519PublicKey) and algorithm == "hs2019":
            key.verify(signature.signature, data)
            return True
        return False

    await verify_with_key_refresh(signature.key_id, key_resolver, verifies)
    return VerifiedSignature(signature.key_id, "cavage", algorithm, signature.headers)


def _is_covered(name: str, covered: set[str]) -> bool:
    if name == "date":
        return "date" in covered or "(created)" in covered
    if name == "digest":
        return "digest" in covered or "content-digest" in covered
    return name in covered


def _signing_string(
    signature: CavageSignature,
    algorithm: str,
    method: str,
    path_with_query: str,
    headers: Mapping[str, str],
) -> bytes:
    lines = []
    for name in signature.headers:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {path_with_query}")
        elif name in ("(created)", "(expires)"):
            value = signature.created if name == "(created)" else signature.expires
            if algorithm != "hs2019":
                raise SignatureError(f"{name} not allowed with {algorithm}")
            if value is None:
                raise SignatureError(f"{name} signed without its parameter")
            lines.append(f"{name}: {value}")
        elif name in headers:
            lines.append(f"{name}: {headers[name]}")
        else:
            raise SignatureError(f"header {name} missing")
    return "\n".join(lines).encode("utf-8")


def _check_cavage_times(
    signature: CavageSignature,
    headers: Mapping[str, str],
    *,
    now: datetime,
    max_age: timedelta,
    max_future: timedelta,
) -> None:
    if "date" in signature.headers:
        date = parse_http_date(headers["date"])
        check_time(date, "date", now=now, max_age=max_age, max_future=max_future)
    if "(created)" in signature.headers and signature.created is not None:
        created = parse_timestamp(signature.created, "created")
        check_time(created, "created", now=now, max_age=max_age, max_future=max_future)
    if "(expires)" in signature.headers and signature.expires is not None:
        expires = parse_timestamp(signature.expires, "expires")
        check_expires(expires, now=now, max_future=max_future)
