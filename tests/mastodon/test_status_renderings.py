"""Mastodon statuses come from renderings as the native pages do: a second format in a
slot of its own (migration 0027), in memory and stored, byte for byte what the renderer
makes of the posts as loaded, and neither face evicts the other's renderings."""

from __future__ import annotations

import orjson
from quart.typing import TestClientProtocol as Client

from stgy.api.serializers import PAGE_RENDERER
from stgy.domain import timelines
from stgy.domain.renderings import PageRenderer, RenderedPage
from stgy.mastodon.status_entities import page_json, status_renderer, statuses_json
from stgy.services import Services
from storage import posts as posts_sql
from tests.conftest import make_user
from tests.integration.timeline_support import create_post
from tests.mastodon.entities import STATUS, assert_entities


async def _page(services: Services, renderer: PageRenderer, tag: str) -> RenderedPage:
    return await timelines.tagged(services, renderer, None, tag, since=None, until=None, limit=10)


async def test_both_faces_keep_their_own_renderings(client: Client, services: Services) -> None:
    author = await make_user(client)
    tag = f"slots{author.id}"
    ids = [await create_post(client, services, author, f"post {n} #{tag}") for n in range(2)]
    mastodon = status_renderer(services.config.instance.base_url, services.config.media.small_size)

    first = await _page(services, mastodon, tag)
    native = await _page(services, PAGE_RENDERER, tag)
    assert list(first.ids) == list(native.ids) == sorted(ids, reverse=True)
    async with services.pool.acquire() as conn:
        slots = await conn.fetch(
            "SELECT post_id, slot, format FROM post_renderings WHERE post_id = ANY($1::bigint[])"
            " ORDER BY post_id, slot",
            ids,
        )
        accounts = await conn.fetchval(
            "SELECT count(*) FROM account_renderings WHERE account_id = $1", int(author.id)
        )
        views = await posts_sql.load_views(conn, post_ids=list(first.ids), viewer_id=None)
    assert [(r["slot"], r["format"]) for r in slots] == [
        (0, PAGE_RENDERER.format),
        (1, mastodon.format),
    ] * 2
    assert accounts == 2

    # The page is what the renderer makes of the posts as loaded, from memory or stored.
    made = statuses_json(mastodon, [views[i] for i in first.ids])
    assert page_json(first) == made
    assert page_json(await _page(services, mastodon, tag)) == made
    services.renderings.clear()
    assert page_json(await _page(services, mastodon, tag)) == made
    statuses = orjson.loads(made)
    assert_entities(statuses, STATUS)
    assert [s["id"] for s in statuses] == [str(i) for i in first.ids]
    assert statuses[0]["favourited"] is False  # nobody's state
    # The native page is unchanged by the Mastodon face's renderings.
    again = await _page(services, PAGE_RENDERER, tag)
    assert again.body == native.body
