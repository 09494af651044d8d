"""ActivityPub objects over HTTP: actors, posts, activities and collections (read side).

Actors and posts are content-negotiated: ActivityStreams JSON for servers,
a redirect to the web page for browsers. The rest is JSON for everyone.
Every answer carries `Vary: Accept`, since the same URL serves both.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import orjson
from quart import Blueprint, Response, request
from quart_schema import hide

from federation import vocab
from stgy.domain.errors import Invalid, NotFound
from stgy.domain.remote import activitypub
from stgy.domain.remote import authorized_fetch as authorized
from stgy.domain.remote.activitypub import Document
from stgy.http.context import config, services
from stgy.http.validation import parse_cursor, parse_id

bp = Blueprint("activitypub", __name__)

CONTENT_TYPE = f"{vocab.ACTIVITY_JSON}; charset=utf-8"


def _activity_json(answer: Document | dict[str, Any]) -> Response:
    document = answer if isinstance(answer, Document) else Document(answer)
    return Response(orjson.dumps(document.body), status=document.status, content_type=CONTENT_TYPE)


def _redirect(location: str) -> Response:
    return Response("", status=302, headers={"Location": location})


def _wants_activity_json() -> bool:
    return vocab.prefers_activity_json(request.headers.get("Accept"))


def _post_id(value: str) -> int:
    # parse_id alone would pass non-ASCII digits such as "³" on to int(), which refuses them.
    if not value.isascii():
        raise NotFound("no such post")
    return parse_id(value, "post")


def _cursor(name: str) -> int | None:
    value = request.args.get(name)
    if value is not None and not value.isascii():
        raise Invalid(name, "must be an id (a decimal string)")
    return parse_cursor(value, name)


def _page() -> bool:
    return request.args.get("page", "false").lower() not in ("", "false", "0")


# Public even with authorized fetch: other servers fetch the instance actor to verify
# the signatures of our own fetches, so it must answer them unsigned.
_ALWAYS_PUBLIC = frozenset({"activitypub.instance_actor", "activitypub.instance_outbox"})
# Content-negotiated: a browser is redirected to the web page, which needs no signature.
_NEGOTIATED = frozenset({"activitypub.actor", "activitypub.post"})


@bp.before_request
async def federation_enabled() -> None:
    if not config().federation.enabled:
        raise NotFound("federation is disabled on this instance")


@bp.before_request
async def authorized_fetch() -> None:
    """With `federation.authorized_fetch`, only signed GETs of servers not blocked."""
    if not config().federation.authorized_fetch or request.endpoint in _ALWAYS_PUBLIC:
        return
    if request.endpoint in _NEGOTIATED and not _wants_activity_json():
        return
    query = request.query_string.decode("latin-1")
    await authorized.check_signed_get(
        services(),
        method=request.method,
        path_with_query=request.path + (f"?{query}" if query else ""),
        headers=list(request.headers.items()),
        scheme=urlsplit(config().instance.base_url).scheme,
        now=datetime.now(UTC),
    )


@bp.after_request
async def vary_on_accept(response: Response) -> Response:
    response.vary.add("Accept")
    return response


@bp.get("/actor")
@hide
async def instance_actor() -> Response:
    return _activity_json(await activitypub.instance_actor(services()))


@bp.get("/actor/outbox")
@hide
async def instance_outbox() -> Response:
    return _activity_json(activitypub.instance_outbox(services()))


@bp.get("/users/<handle>")
@hide
async def actor(handle: str) -> Response:
    if not _wants_activity_json():
        return _redirect(await activitypub.profile_url(services(), handle))
    return _activity_json(await activitypub.actor_document(services(), handle))


@bp.get("/users/<handle>/posts/<post_id>")
@hide
async def post(handle: str, post_id: str) -> Response:
    number = _post_id(post_id)
    if not _wants_activity_json():
        return _redirect(await activitypub.post_url(services(), handle, number))
    return _activity_json(await activitypub.note_document(services(), handle, number))


@bp.get("/users/<handle>/posts/<post_id>/activity")
@hide
async def post_activity(handle: str, post_id: str) -> Response:
    number = _post_id(post_id)
    return _activity_json(await activitypub.activity_document(services(), handle, number))


@bp.get("/users/<handle>/posts/<post_id>/replies")
@hide
async def post_replies(handle: str, post_id: str) -> Response:
    number = _post_id(post_id)
    after = _cursor("after")
    return _activity_json(
        await activitypub.replies(services(), handle, number, page=_page(), after=after)
    )


@bp.get("/users/<handle>/outbox")
@hide
async def outbox(handle: str) -> Response:
    max_id = _cursor("max_id")
    min_id = _cursor("min_id")
    return _activity_json(
        await activitypub.outbox(services(), handle, page=_page(), max_id=max_id, min_id=min_id)
    )


@bp.get("/users/<handle>/followers")
@hide
async def followers(handle: str) -> Response:
    max_id = _cursor("max_id")
    return _activity_json(
        await activitypub.follow_collection(
            services(), handle, "followers", page=_page(), max_id=max_id
        )
    )


@bp.get("/users/<handle>/following")
@hide
async def following(handle: str) -> Response:
    max_id = _cursor("max_id")
    return _activity_json(
        await activitypub.follow_collection(
            services(), handle, "following", page=_page(), max_id=max_id
        )
    )


@bp.get("/users/<handle>/collections/featured")
@hide
async def featured(handle: str) -> Response:
    return _activity_json(await activitypub.featured(services(), handle))
