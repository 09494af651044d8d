"""/api/v1/timelines: home, list, public and tag timelines, assembled from the same renderings
as the native API's pages (a second format: stgy/mastodon/status_entities.py)."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response

from stgy.domain import oauth, timelines
from stgy.domain.errors import Unauthorized
from stgy.domain.renderings import RenderedPage
from stgy.http.context import services
from stgy.mastodon.auth import bearer_token, current_viewer, scoped
from stgy.mastodon.errors import TokenInvalid
from stgy.mastodon.filtered import filter_page, viewer_matcher
from stgy.mastodon.pagination import PageRequest, link_header, page_request
from stgy.mastodon.params import bool_param, id_param, list_param, read_params
from stgy.mastodon.status_entities import page_json
from stgy.mastodon.statuses import _reader, renderer

# Extra tags a tag timeline takes in each of any[], all[], none[] (Mastodon: 4 each).
MAX_EXTRA_TAGS = 4

bp = Blueprint("mastodon_timelines", __name__, url_prefix="/api/v1/timelines")


async def _answer(rendered: RenderedPage, page: PageRequest, context: str) -> Response:
    # The Link leads on from the page as read, whatever the viewer's filters hid.
    body = page_json(rendered)
    if rendered.body:
        body = filter_page(body, await viewer_matcher(context, rendered.filters_stamp))
    response = Response(body, mimetype="application/json")
    link = link_header(page, list(rendered.ids))
    if link is not None:
        response.headers["Link"] = link
    return response


def _origin_flags(params: dict[str, Any]) -> dict[str, bool]:
    """The public and tag timelines' filters: local, remote, only_media."""
    return {
        "local_only": bool(bool_param(params, "local", False)),
        "remote_only": bool(bool_param(params, "remote", False)),
        "only_media": bool(bool_param(params, "only_media", False)),
    }


@bp.get("/home", strict_slashes=False)
@scoped("read:statuses", recent=True)
async def home() -> Response:
    # The page's statement checks that the token's session is live: one round trip for
    # the token seen lately (as the native home page, stgy/api/timelines.py).
    viewer = current_viewer()
    params = await read_params()
    page = page_request(params)
    try:
        rendered = await timelines.home(
            services(),
            renderer(),
            viewer.account_id,
            viewer.session_id,
            since=page.since,
            until=page.until,
            limit=page.limit,
            ascending=page.ascending,
        )
    except Unauthorized:
        oauth.forget_holder(bearer_token() or "")
        raise TokenInvalid() from None
    return await _answer(rendered, page, "home")


@bp.get("/public", strict_slashes=False)
async def public() -> Response:
    params = await read_params()
    page = page_request(params)
    rendered = await timelines.public(
        services(),
        renderer(),
        await _reader(),
        since=page.since,
        until=page.until,
        limit=page.limit,
        ascending=page.ascending,
        **_origin_flags(params),
    )
    return await _answer(rendered, page, "public")


@bp.get("/tag/<hashtag>", strict_slashes=False)
async def tag(hashtag: str) -> Response:
    params = await read_params()
    page = page_request(params)
    tags = {name: list_param(params, name)[:MAX_EXTRA_TAGS] for name in ("any", "all", "none")}
    rendered = await timelines.tagged(
        services(),
        renderer(),
        await _reader(),
        hashtag,
        since=page.since,
        until=page.until,
        limit=page.limit,
        ascending=page.ascending,
        any_of=tags["any"],
        all_of=tags["all"],
        none_of=tags["none"],
        **_origin_flags(params),
    )
    return await _answer(rendered, page, "public")


@bp.get("/list/<list_id>", strict_slashes=False)
@scoped("read:lists")
async def list_timeline(list_id: str) -> Response:
    page = page_request(await read_params())
    rendered = await timelines.list_timeline(
        services(),
        renderer(),
        current_viewer().account_id,
        id_param(list_id, "id"),
        since=page.since,
        until=page.until,
        limit=page.limit,
        ascending=page.ascending,
    )
    # Mastodon applies the filters of the home context to lists too.
    return await _answer(rendered, page, "home")
