"""ActivityPub inboxes: `POST /inbox` (shared) and `POST /users/{handle}/inbox`.

An accepted activity is stored and answered 202 with an empty body; a job applies it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from quart import Blueprint, Response, request
from quart_schema import hide

from stgy.domain.errors import NotFound
from stgy.domain.remote import activitypub, inbox
from stgy.http.body import MalformedBody
from stgy.http.context import config, services
from stgy.http.errors import error_response

bp = Blueprint("inbox", __name__)


def _path_with_query() -> str:
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")


async def _take() -> Response:
    body = await request.get_data(as_text=False)
    assert isinstance(body, bytes)  # noqa: S101 - as_text=False gives bytes
    settings = config()
    if not settings.federation.enabled:
        raise NotFound("federation is disabled on this instance")
    limit = settings.limits.request_body_bytes
    if len(body) > limit:
        return error_response(
            413,
            "request_entity_too_large",
            f"request body exceeds the limit of {limit} bytes (limits.request_body_bytes)",
        )
    if b"\\u0000" in body:
        # PostgreSQL cannot store NUL in text or jsonb.
        raise MalformedBody("NUL characters (\\u0000) are not accepted")
    try:
        activity: Any = inbox.parse_activity(body)
    except ValueError as exc:
        raise MalformedBody(f"request body is not valid JSON: {exc}") from None
    if not isinstance(activity, dict):
        raise MalformedBody(f"request body must be a JSON object, not {type(activity).__name__}")
    signed = inbox.SignedRequest(
        method=request.method,
        path_with_query=_path_with_query(),
        headers=list(request.headers.items()),
        body=body,
        scheme=settings.instance.scheme,
    )
    await inbox.receive(services(), activity, signed, now=datetime.now(UTC))
    return Response("", status=202)


@bp.post("/inbox")
@hide
async def shared_inbox() -> Response:
    return await _take()


@bp.post("/users/<handle>/inbox")
@hide
async def actor_inbox(handle: str) -> Response:
    if not config().federation.enabled:
        raise NotFound("federation is disabled on this instance")
    await activitypub.live_actor(services(), handle)
    return await _take()
