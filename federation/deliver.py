"""Delivering an activity to a remote inbox: guarded, signed, double-knocked, and classified.

`deliver` makes one delivery attempt (two requests at most: see the double
knock) and says what the caller should do next; retries with backoff, and
remembering which scheme a peer accepts, are the caller's job.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import httpx

from federation import rfc9421, signatures
from federation.ssrf import AllowPrivate, Resolver, UnsafeTarget, check_url

__all__ = ["ACTIVITY_JSON", "MAX_ANSWER", "DeliveryResult", "Scheme", "classify", "deliver"]

Scheme = Literal["cavage", "rfc9421"]
ACTIVITY_JSON = "application/activity+json"
MAX_ANSWER = 64 * 1024
"""How much of an inbox's answer we read before hanging up."""

_KNOCK_AGAIN = frozenset({400, 401})


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What came of a delivery.

    `status` is the HTTP status of the request reported (None when no answer
    came: refused by the SSRF guard, timeout, connection error). `scheme_used`
    is the signature scheme of that request: when `accepted`, remember it for
    the peer's instance. `retry` means try again later (429, 5xx, timeouts,
    connection errors); `gone` means stop delivering to this inbox (410, or 404
    for an actor's own inbox). `error` says what went wrong, for logs.
    """

    status: int | None
    scheme_used: Scheme
    retry: bool
    gone: bool
    accepted: bool
    error: str | None = None


async def deliver(
    client: httpx.AsyncClient,
    inbox_url: str,
    body: bytes,
    *,
    key_id: str,
    private_key_pem: str,
    scheme: Scheme,
    allow_private: AllowPrivate,
    timeout: float = 10.0,
    shared_inbox: bool = False,
    resolver: Resolver | None = None,
) -> DeliveryResult:
    """POST `body` (an activity, as JSON) to `inbox_url`, signed by `key_id` with `scheme`.

    The "double knock": when the inbox answers 400 or 401 to the chosen scheme,
    the same activity is sent once more signed with the other one. The result
    reported is the second request's when it was accepted or is worth retrying,
    else the first's. `timeout` bounds each request, reading the answer included.
    """
    try:
        await check_url(inbox_url, allow_private=allow_private, resolver=resolver)
    except UnsafeTarget as error:
        return DeliveryResult(None, scheme, False, False, False, f"unsafe target: {error.reason}")
    first = await _post(
        client, inbox_url, body, key_id, private_key_pem, scheme, timeout, shared_inbox
    )
    if first.status not in _KNOCK_AGAIN:
        return first
    other: Scheme = "rfc9421" if scheme == "cavage" else "cavage"
    second = await _post(
        client, inbox_url, body, key_id, private_key_pem, other, timeout, shared_inbox
    )
    return second if second.accepted or second.retry else first


def classify(status: int, scheme: Scheme, *, shared_inbox: bool) -> DeliveryResult:
    """What an inbox's HTTP status means for the delivery."""
    if 200 <= status < 300:
        return DeliveryResult(status, scheme, retry=False, gone=False, accepted=True)
    if status == 410 or (status == 404 and not shared_inbox):
        return DeliveryResult(status, scheme, False, True, False, "inbox gone")
    if status in (408, 429) or status >= 500:
        return DeliveryResult(status, scheme, True, False, False, f"HTTP {status}")
    return DeliveryResult(status, scheme, False, False, False, f"HTTP {status}")


def signed_headers(
    inbox_url: str, body: bytes, key_id: str, private_key_pem: str, scheme: Scheme
) -> dict[str, str]:
    """The headers of a delivery POST signed with `scheme`, Content-Type included."""
    headers = {"Content-Type": ACTIVITY_JSON}
    if scheme == "cavage":
        # (request-target) host date digest content-type, with a legacy Digest.
        return headers | signatures.sign_request(
            "POST", inbox_url, headers, body, key_id, private_key_pem
        )
    headers["Date"] = signatures.http_date(datetime.now(UTC))
    # "@method" "@target-uri" "content-digest", with created and an RFC 9530 Content-Digest.
    return headers | rfc9421.sign_request("POST", inbox_url, headers, body, key_id, private_key_pem)


async def _post(
    client: httpx.AsyncClient,
    inbox_url: str,
    body: bytes,
    key_id: str,
    private_key_pem: str,
    scheme: Scheme,
    timeout: float,
    shared_inbox: bool,
) -> DeliveryResult:
    headers = signed_headers(inbox_url, body, key_id, private_key_pem, scheme)
    try:
        async with asyncio.timeout(timeout):
            request = client.build_request(
                "POST", inbox_url, content=body, headers=headers, timeout=timeout
            )
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                # Only a 2xx is read. Any other answer is left unread, which closes
                # its connection rather than pooling it: a server may refuse a request
                # off its headers, before reading its body, and must then close the
                # connection (RFC 9112 §9.3). Hypercorn does, without the `close`
                # option §9.6 asks for; pooled, that connection would carry the double
                # knock's second request (or the next delivery to the host) into the
                # server's close, and that request would fail unanswered
                # (RemoteProtocolError).
                if response.is_success:
                    await _drain(response)
            finally:
                await response.aclose()
    except UnsafeTarget as error:
        return DeliveryResult(None, scheme, False, False, False, f"unsafe target: {error.reason}")
    except (TimeoutError, httpx.TimeoutException):
        return DeliveryResult(None, scheme, True, False, False, "timed out")
    except httpx.TransportError as error:
        return DeliveryResult(None, scheme, True, False, False, f"{type(error).__name__}")
    return classify(response.status_code, scheme, shared_inbox=shared_inbox)


async def _drain(response: httpx.Response) -> None:
    # The status is the answer; the body is read (up to MAX_ANSWER) only so the
    # exchange ends cleanly and the connection can carry the next request, and a
    # peer that breaks off while sending it has still answered.
    read = 0
    try:
        async for chunk in response.aiter_raw():
            read += len(chunk)
            if read >= MAX_ANSWER:
                return
    except httpx.TransportError:
        return
